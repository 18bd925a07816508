"""Catalogue CSV format v1: the public contract administrators write to."""
import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings

from beuwi.csv_catalogue import COLUMNS, CatalogueFileError, errors_csv, parse_catalogue

from .strategies import catalogues

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
HEADER = "code,programme,faculty,csec_passes,cape_passes,mandatory,combinations,evening"


def parse(text: str, **options):
    return parse_catalogue(text.encode("utf-8"), **options)


def errors(text: str):
    return [(e.row, e.column, e.value) for e in parse(text).errors]


def test_a_full_row_becomes_a_programme():
    text = (
        "Code,Programme,Faculty,Department,Degree,Campus,Full_Time,Part_Time,Evening,Duration,URL,Description,"
        "Careers,CSEC_Passes,CAPE_Passes,Mandatory,Combinations\n"
        "SCI-CS,Computer Science,Science and Technology,Computing,BSc,Mona,yes,N,TRUE,3 years,"
        "https://example.edu/cs,Programs and proofs.,Developer; Analyst ;,5,2,"
        "English A (CSEC); mathematics (csec),1 of Pure Mathematics (CAPE:III) | Computer Science (CAPE); "
        "2 of Biology (CSEC) | Chemistry (CSEC) | Physics (CSEC)\n"
    )
    result = parse(text)
    assert result.errors == []
    [p] = result.programmes
    assert (p.id, p.name, p.faculty, p.department, p.degree, p.campus) == (
        "SCI-CS", "Computer Science", "Science and Technology", "Computing", "BSc", "Mona")
    assert (p.full_time, p.part_time, p.evening) == (True, False, True)
    assert (p.duration, p.url, p.description) == ("3 years", "https://example.edu/cs", "Programs and proofs.")
    assert p.careers == ("Developer", "Analyst")
    assert p.requirements.as_text() == {
        "csec_passes": 5, "cape_passes": 2,
        "mandatory": ["English A (CSEC)", "Mathematics (CSEC)"],
        "combinations": ["1 of Pure Mathematics (CAPE:III) | Computer Science (CAPE)",
                         "2 of Biology (CSEC) | Chemistry (CSEC) | Physics (CSEC)"],
    }


def test_only_programme_and_faculty_are_required_and_blanks_default():
    [p] = parse("programme,faculty\nLaw,Law\n").programmes
    assert (p.id, p.full_time, p.part_time, p.evening, p.careers) == ("law", False, False, False, ())
    assert p.requirements.as_text() == {"csec_passes": 0, "cape_passes": 0, "mandatory": [], "combinations": []}


def test_unknown_columns_are_ignored_and_cells_are_trimmed():
    [p] = parse("programme , faculty,notes\n  Law  ,  Law ,anything\n").programmes
    assert (p.name, p.faculty) == ("Law", "Law")


def test_every_problem_in_a_row_is_reported_and_the_row_skipped():
    text = HEADER + "\n" + "\n".join([
        "A,Good,Science,5,2,Mathematics (CSEC),,no",
        "B,Bad,Science,-1,x,Chemestry (CSEC),3 of Biology (CAPE) | Physics (CAPE),maybe",
        "C,Also good,Science,,,,1 of Biology (CAPE) | Physics (CAPE),",
    ]) + "\n"
    result = parse(text)
    assert [p.id for p in result.programmes] == ["A", "C"]
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "mandatory", "Chemestry (CSEC)"),
        (3, "csec_passes", "-1"),
        (3, "cape_passes", "x"),
        (3, "combinations", "3 of Biology (CAPE) | Physics (CAPE)"),
        (3, "evening", "maybe"),
    ]
    messages = [e.message for e in result.errors]
    assert "did you mean Chemistry (CSEC)" in messages[0]
    assert "negative" in messages[1] and "whole number" in messages[2]
    assert "needs 3 but lists only 2" in messages[3]


@pytest.mark.parametrize("cell, fragment", [
    ("2 Physics (CAPE) | Biology (CAPE)", "is not a combination"),
    ("0 of Physics (CAPE) | Biology (CAPE)", "at least 1"),
    ("1 of Physics (CAPE) | Physics (CAPE)", "same subject twice"),
    ("1 of Physics (CAPE) | Chemistry (CAPE:VI)", "must be a pass grade"),
    ("1 of Physics | Chemistry (CAPE)", "is not a subject reference"),
])
def test_malformed_combinations(cell, fragment):
    [error] = parse(f"programme,faculty,combinations\nX,Y,{cell}\n").errors
    assert (error.row, error.column, error.value) == (2, "combinations", cell)
    assert fragment in error.message


def test_missing_names_duplicates_codes_and_urls():
    text = "code,programme,faculty,mandatory,url\n" + "\n".join([
        "LAW,Law,Law,,",
        ",,Law,,",
        "X2,Nursing,,,",
        "X3,  LAW ,law,,",
        "LAW,Law,Humanities,,",
        "bad code!,Music,Arts,,",
        "X7,Art,Arts,Biology (CSEC); biology (csec),",
        "X8,Dance,Arts,,ftp://example.edu",
    ]) + "\n"
    result = parse(text)
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "programme"), (4, "faculty"), (5, "programme"), (6, "code"), (7, "code"), (8, "mandatory"), (9, "url"),
    ]
    assert "duplicate of row 2" in result.errors[2].message
    assert [p.id for p in result.programmes] == ["LAW"]


def test_ids_are_slugs_made_unique_by_faculty_then_number():
    text = "programme,faculty\nÉtudes Françaises,Humanities\nEtudes francaises,Arts\nLaw,A\nLaw,B\nLaw,C\n"
    ids = [p.id for p in parse(text).programmes]
    assert ids == ["etudes-francaises", "etudes-francaises-arts", "law", "law-b", "law-c"]


def test_blank_lines_keep_spreadsheet_row_numbers():
    text = "programme,faculty,csec_passes\nA,F,1\n\n,,\nB,F,-2\n"
    assert errors(text) == [(5, "csec_passes", "-2")]


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"  \n\n", "empty"),
    (b"programme,faculty\n", "no programme rows"),
    (b"programme,faculty\n,\n", "no programme rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV"),
    (b"programme,department\nLaw,Law\n", "missing required column(s): faculty (columns found: programme, department)"),
    (b'programme,faculty\n"Law,Law\n', "not a readable CSV"),
])
def test_whole_file_rejections_have_one_clear_message(data, fragment):
    with pytest.raises(CatalogueFileError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_catalogue(data)


def test_size_limit_is_checked_before_parsing():
    with pytest.raises(CatalogueFileError, match="limit is 0.0001 MB"):
        parse_catalogue(b"programme,faculty\n" + b"A,B\n" * 100, max_bytes=100)


def test_utf8_bom_and_windows_1252_files_parse():
    bom = parse_catalogue((UPLOADS / "encodings" / "utf8-bom.csv").read_bytes())
    assert [p.name for p in bom.programmes] == ["Nursing"] and bom.errors == []
    excel = parse_catalogue((UPLOADS / "encodings" / "windows-1252.csv").read_bytes())
    assert [p.name for p in excel.programmes] == ["Français", "Español"]
    assert "Haïti" in excel.programmes[0].description and "–" in excel.programmes[0].description


def test_errors_csv_round_trips():
    result = parse(HEADER + "\nB,Bad,Science,-1,,\"Chemestry (CSEC)\",,\n")
    rows = list(csv.DictReader(io.StringIO(errors_csv(result.errors).decode("utf-8"))))
    assert rows == [{"row": str(e.row), "column": e.column, "value": e.value, "message": e.message}
                    for e in result.errors]
    assert len(rows) == 2


def test_columns_are_the_documented_ones():
    readme = (UPLOADS.parent / "README.md").read_text()
    for column in COLUMNS:
        assert f"`{column}`" in readme


@settings(max_examples=60, deadline=None)
@given(catalogues(max_size=6, max_mandatory=5, max_combinations=4, max_options=6, max_need=4))
def test_requirements_written_as_text_parse_back_equal(programmes):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["programme", "faculty", "csec_passes", "cape_passes", "mandatory", "combinations"])
    for p in programmes:
        text = p.requirements.as_text()
        writer.writerow([p.name, p.faculty, text["csec_passes"], text["cape_passes"],
                         "; ".join(text["mandatory"]), "; ".join(text["combinations"])])
    result = parse(out.getvalue())
    assert result.errors == []
    assert [p.requirements for p in result.programmes] == [p.requirements for p in programmes]
