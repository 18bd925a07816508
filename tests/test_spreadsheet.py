"""Catalogues as .xlsx workbooks (built here with openpyxl): the same programmes, row errors and row numbers as their
CSV, cells read as a spreadsheet shows them, and every hostile or unreadable workbook a file-level error."""
import csv
import datetime as dt
import io
import re
import json
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from beuwi import workbook
from beuwi.cli import main
from beuwi.csv_catalogue import CatalogueFileError, parse_catalogue

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
CSV_FILES = ["sample-catalogue.csv", "v1/sample-catalogue.csv", "broken/row-errors.csv", "broken/v2-errors.csv",
             "encodings/windows-1252.csv"]
HEADER = ["code", "programme", "faculty", "csec_passes", "cape_passes", "full_time", "description", "mandatory"]
SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows, *, title="programmes", before=(), edit=None) -> bytes:
    """A workbook whose sheet `title` holds rows (None: an empty cell, []: an empty row), after sheets `before`;
    edit(xml) -> xml rewrites the sheet's XML, for what openpyxl cannot write (a formula's saved value...)."""
    book = openpyxl.Workbook()
    book.active.title = title
    for name in before:
        book.create_sheet(name, 0).append(["not", "this", "sheet"])
    for row in rows:
        book[title].append(row)
    out = io.BytesIO()
    book.save(out)
    return rezip(out.getvalue(), {SHEET if not before else f"xl/worksheets/sheet{len(before) + 1}.xml": edit})


def rezip(data: bytes, edits: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            text = source.read(part)
            if edits.get(part.filename):
                text = edits[part.filename](text.decode()).encode()
            target.writestr(part.filename, text)
    return out.getvalue()


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return out.getvalue()


def from_csv(data: bytes) -> bytes:
    """The CSV's records as sheet rows, blank lines as empty rows, every cell as text."""
    return xlsx(list(csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")))))


def row(**cells) -> list:
    return [cells.get(c, "") for c in HEADER]


def good(**cells) -> list:
    return row(**{"programme": "Computer Science", "faculty": "Science", **cells})


def parse(data: bytes, **options):
    return parse_catalogue(data, filename="catalogue.xlsx", **options)


def refused(data: bytes, filename="catalogue.xlsx", **options) -> str:
    with pytest.raises(CatalogueFileError) as caught:
        parse_catalogue(data, filename=filename, **options)
    return str(caught.value)


@pytest.mark.parametrize("name", CSV_FILES)
def test_a_csv_saved_as_a_workbook_reads_the_same(name):
    data = (UPLOADS / name).read_bytes()
    if name.startswith("encodings"):
        data = data.decode("cp1252").encode()
    as_csv, as_xlsx = parse_catalogue(data), parse(from_csv(data))
    assert as_xlsx.programmes == as_csv.programmes
    assert as_xlsx.errors == as_csv.errors  # the same row numbers, columns, values and messages
    assert as_csv.programmes or as_csv.errors


def test_row_numbers_are_the_sheets_header_row_one():
    parsed = parse(xlsx([HEADER, good(csec_passes="x"), [], good(code="B", programme="Biology", csec_passes="-1")]))
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "csec_passes"), (4, "csec_passes")]
    later = parse(xlsx([[], [None, None], HEADER, good(csec_passes="x")]))
    assert [e.row for e in later.errors] == [4]  # what the sheet shows: its header is on row 3


def test_the_programmes_sheet_is_read_else_the_first():
    named = parse(xlsx([HEADER, good()], title="Programmes ", before=["Read me"]))
    assert [p.name for p in named.programmes] == ["Computer Science"]
    assert "missing required column" in refused(xlsx([HEADER, good()], title="Catalogue", before=["Read me"]))
    assert [p.name for p in parse(xlsx([HEADER, good()], title="Catalogue")).programmes] == ["Computer Science"]


def test_cells_read_as_the_spreadsheet_shows_them():
    parsed = parse(xlsx([HEADER, good(csec_passes=5.0, cape_passes=2, full_time=True, description=dt.date(2027, 9, 1)),
                         good(code="B", programme="Biology", full_time=False,
                              description=dt.datetime(2027, 9, 1, 8, 30), mandatory="Biology (CSEC:II)"),
                         good(code="C", programme="Chemistry", csec_passes=5.5, description=0.1 + 0.2)]))
    cs, biology = parsed.programmes
    requirements = cs.schemes[0].requirements
    assert (requirements.csec_passes, requirements.cape_passes, cs.full_time) == (5, 2, True)
    assert (cs.description, biology.description, biology.full_time) == ("2027-09-01", "2027-09-01T08:30:00", False)
    assert [(e.row, e.column, e.value) for e in parsed.errors] == [(4, "csec_passes", "5.5")]


def formula(cell: str, text: str, saved: str | None = None, kind: str = ""):
    """An edit putting a formula (with its saved value, if any) in a cell, as Excel writes one."""
    value = f"<v>{saved}</v>" if saved is not None else ""
    t = f' t="{kind}"' if kind else ""

    def edit(xml: str) -> str:
        return re.sub(rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)', f'<c r="{cell}"{t}><f>{text}</f>{value}</c>', xml)

    return edit


def test_a_formula_reads_as_its_saved_value():
    parsed = parse(xlsx([HEADER, good(csec_passes=0, programme="x")],
                        edit=lambda xml: formula("D2", "2+3", "5")(formula("B2", 'UPPER("cs")', "CS", "str")(xml))))
    assert parsed.errors == []
    assert [(p.name, p.schemes[0].requirements.csec_passes) for p in parsed.programmes] == [("CS", 5)]


def test_a_formula_without_a_saved_value_or_with_an_error_is_a_row_error_naming_the_cell():
    edit = lambda xml: formula("D2", "2+3")(formula("B3", "1/0", "#DIV/0!", "e")(xml))  # noqa: E731
    parsed = parse(xlsx([HEADER, good(csec_passes=0), good(code="B", programme="x")], edit=edit))
    assert parsed.programmes == []
    (formula_error, division) = parsed.errors
    assert (formula_error.row, formula_error.column, formula_error.value) == (2, "csec_passes", "=2+3")
    assert "cell D2 holds a formula with no saved value" in formula_error.message
    assert (division.row, division.column, division.value) == (3, "programme", "#DIV/0!")
    assert "cell B3 shows the error #DIV/0!" in division.message  # and not also "the programme is missing"


def test_empty_and_merged_rows():
    book = openpyxl.Workbook()
    sheet = book.active
    for values in (HEADER, good(), [], [None] * 8, good(code="B", programme="Biology")):
        sheet.append(values)
    sheet["A3"] = "  "
    sheet.merge_cells("B3:H3")  # an empty merged row
    out = io.BytesIO()
    book.save(out)
    parsed = parse(out.getvalue())
    assert [p.name for p in parsed.programmes] == ["Computer Science", "Biology"] and parsed.errors == []
    assert refused(xlsx([])) == "the sheet is empty"
    assert refused(xlsx([[], HEADER])) == "the file has a header but no programme rows"


def test_cells_merged_down_a_column_each_read_its_value_and_across_columns_are_a_row_error(monkeypatch):
    book = openpyxl.Workbook()
    sheet = book.active
    header = HEADER + ["scheme"]
    sheet.append(header)
    sheet.append(good(code="MED", programme="Medicine", csec_passes=5) + ["A"])
    sheet.append(row(csec_passes=4) + ["B"])
    sheet.append(good(code="B", programme="Biology", description="Plants and animals"))
    for merged in ("A2:A3", "B2:B3", "C2:C4", "G4:H4"):  # code, programme, faculty down; description across
        sheet.merge_cells(merged)
    out = io.BytesIO()
    book.save(out)
    parsed = parse(out.getvalue())
    (medicine,) = parsed.programmes
    assert (medicine.id, medicine.faculty) == ("MED", "Science")
    assert [s.requirements.csec_passes for s in medicine.schemes] == [5, 4]
    assert [(e.row, e.column, e.value) for e in parsed.errors] == [(4, "mandatory", "Plants and animals")]
    assert parsed.errors[0].message.startswith("cell H4 is merged with G4 across columns: unmerge them")
    monkeypatch.setattr(workbook, "MAX_ROWS", 4)  # the sheet's rows, but not the 9 cells it merges
    assert refused(out.getvalue()) == "the sheet merges more than 4 cells"


def test_far_cells_and_many_rows_are_bounded(monkeypatch):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(good())
    sheet.cell(row=2, column=16384, value="far right")  # XFD2: past the columns read, like an unknown column
    sheet.cell(row=1_048_576, column=1, value="")  # the last row Excel has, empty
    out = io.BytesIO()
    book.save(out)
    assert [p.name for p in parse(out.getvalue()).programmes] == ["Computer Science"]
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    assert parse(xlsx([HEADER, good(), good(code="B")])).error_count == 1  # 3 rows: the limit
    assert refused(xlsx([HEADER, good(), good(code="B"), good(code="C")])) == "the sheet has more than 3 rows"


def test_a_zip_bomb_is_refused_before_openpyxl_reads_it():
    bomb = with_part(xlsx([HEADER, good()]), "xl/media/zeros.bin", bytes(3_000_000))  # packs into a few KB
    assert len(bomb) < 100_000
    message = refused(bomb, max_bytes=200_000)
    assert message.startswith("the workbook unpacks to more than 1.91 MB (10 times the upload limit)")
    assert parse(bomb, max_bytes=400_000).programmes  # within 10 times the limit: read


def lie_about_size(data: bytes, part: str, size: int) -> bytes:
    """The zip with `part`'s uncompressed size declared as `size` in its local and central headers."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    patched = bytearray(data)
    struct.pack_into("<I", patched, archive.getinfo(part).header_offset + 22, size)
    central = patched.index(b"PK\x01\x02", archive.start_dir)
    while patched[central + 46:central + 46 + len(part)] != part.encode():
        central = patched.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def test_a_part_larger_than_it_declares_is_never_unpacked_past_its_declared_size():
    bomb = with_part(xlsx([HEADER, good()]), "xl/media/zeros.bin", bytes(50_000_000))
    lying = lie_about_size(bomb, "xl/media/zeros.bin", 1000)
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(lying)).infolist()) < 200_000
    message = refused(lying, max_bytes=1_000_000)
    assert "the file is damaged or encrypted" in message and "save it as .xlsx or CSV" in message


def test_entities_in_the_xml_are_refused():
    laughs = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi")) + "]>")
    bomb = xlsx([HEADER, good(programme="&i;")], edit=lambda xml: laughs + xml.replace("&amp;i;", "&i;"))
    assert "not a readable .xlsx workbook" in refused(bomb)


@pytest.mark.parametrize("data, filename, says", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "catalogue.xls", "password-protected or legacy Excel (.xls)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "catalogue.xlsx", "password-protected or legacy Excel (.xls)"),
    (b"<html><table><tr><td>programme</td></tr></table></html>", "catalogue.xls", "is not an Excel .xlsx workbook"),
    (b"programme,faculty\nCS,Science\n", "catalogue.xlsx", "named 'catalogue.xlsx' but is not an Excel .xlsx"),
    (b"PK\x03\x04" + bytes(100), "catalogue.xlsx", "the file is damaged"),
    (None, "catalogue.xlsx", "the file is damaged"),  # a workbook cut short
    ("zip", "catalogue.xlsx", "a zip file but not an Excel .xlsx workbook"),
    ("docx", "catalogue.xlsx", "not a readable .xlsx workbook"),
])
def test_an_unreadable_workbook_is_a_file_level_error_saying_what_to_do(data, filename, says):
    if data is None:
        data = xlsx([HEADER, good()])[:-200]
    elif data in ("zip", "docx"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("[Content_Types].xml" if data == "docx" else "notes.txt", "<Types/>")
        data = out.getvalue()
    message = refused(data, filename)
    assert says in message and "save it as .xlsx or CSV" in message


def test_a_workbook_over_the_upload_limit_is_refused_like_a_csv():
    data = xlsx([HEADER, good()])
    assert refused(data, max_bytes=len(data) - 1) == refused(b"x" * len(data), "c.csv", max_bytes=len(data) - 1)


def test_beuwi_check_reads_a_workbook(tmp_path):
    path = tmp_path / "catalogue.xlsx"
    path.write_bytes(xlsx([HEADER, good(), good(code="B", programme="Biology", csec_passes="x")]))
    result = CliRunner().invoke(main, ["check", "-q", str(path)])
    assert result.exit_code == 1
    assert "row 3, csec_passes: csec_passes must be a whole number (value: 'x')" in result.output
    assert f"{path}: 1 programmes ok" in result.output
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "password-protected or legacy Excel" in result.output


def test_beuwi_load_loads_a_workbook(falkordb_server, monkeypatch, tmp_path):
    monkeypatch.setenv("BEUWI_GRAPH_URI", falkordb_server)
    monkeypatch.setenv("BEUWI_GRAPH_NAME", f"xlsx-{time.monotonic_ns()}")
    monkeypatch.setenv("BEUWI_DATA_DIR", str(tmp_path))
    path = tmp_path / "sample.xlsx"
    path.write_bytes(from_csv((UPLOADS / "sample-catalogue.csv").read_bytes()))
    loaded = CliRunner().invoke(main, ["load", str(path), "--activate", "--json"])
    assert loaded.exit_code == 0, loaded.output
    summary = json.loads(loaded.output)
    assert (summary["programmes"], summary["errors"], summary["active"]) == (102, [], True)
