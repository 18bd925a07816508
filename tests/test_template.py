"""The catalogue template (CSV and .xlsx, from `beuwi template` and the admin app) and .xlsx uploads through the admin
API on both backends: the template reads clean and covers every kind of requirement, its notes are README's, and an
uploaded workbook is stored, served back and reported as a CSV is."""
import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from beuwi import template
from beuwi.admin.stores import NotFound
from beuwi.admin.uploads import source_name
from beuwi.cli import main
from beuwi.csv_catalogue import COLUMNS, REQUIRED, parse_catalogue
from beuwi.workbook import MEDIA_TYPE

from .test_admin_api import SAMPLE, auth, backend, client, post_file, stores, who  # noqa: F401 (fixtures)
from .test_search_api import falkordb_only
from .test_spreadsheet import HEADER, from_csv, good, xlsx

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def readme_table(head: str) -> list[list[str]]:
    """The rows of the table under `head` in README's "Catalogue CSV format v2", as plain text."""
    section = README[README.index("## Catalogue CSV format v2"):README.index("## Who is eligible")]
    lines = section[section.index(head):].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("\\|", "|").replace("`", "") for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def sheets(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [tuple(c.value for c in row) for row in sheet.iter_rows()] for sheet in book.worksheets}


def test_every_column_has_the_note_readme_gives_it():
    noted = {}
    for columns, required, meaning in readme_table("| column | required | meaning |"):
        for column in columns.split(", "):
            noted[column] = meaning
            assert (required == "yes") == (column in REQUIRED), column
    assert noted == template.NOTES
    assert set(template.NOTES) == set(COLUMNS)
    assert [tuple(row) for row in readme_table("| reference | means |")] == list(template.REFERENCES)


def test_the_template_reads_clean_and_shows_every_kind_of_requirement():
    parsed = parse_catalogue(template.as_csv())
    assert parsed.errors == [] and len(parsed.programmes) == 5
    schemes = [s for p in parsed.programmes for s in p.schemes]
    refs = [str(r) for s in schemes for r in s.requirements.mandatory]
    assert any(re.search(r"\(CSEC:[IV]+\)", r) for r in refs)  # a mandatory subject with a minimum grade
    assert any(re.search(r"\(CAPE U[12]", r) for r in refs)  # a CAPE unit
    assert any("(GCE O" in r for r in refs) and any("(GCE A" in r for r in refs)
    assert "Associate Degree (GPA:2.5)" in refs
    assert any(s.requirements.combinations for s in schemes)
    assert any(s.requirements.cape_units for s in schemes)
    assert any(s.requirements.not_counted for s in schemes)
    assert any(s.conditions for s in schemes)
    assert {len(p.schemes) for p in parsed.programmes} == {1, 2}
    assert all(s.label for p in parsed.programmes if len(p.schemes) > 1 for s in p.schemes)


def test_the_workbook_is_the_csv_with_the_notes():
    data = template.as_xlsx()
    assert parse_catalogue(data).programmes == parse_catalogue(template.as_csv()).programmes
    assert parse_catalogue(data).errors == []
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["programmes", "notes"]
    header = book["programmes"][1]
    assert [c.value for c in header] == list(COLUMNS)
    assert all(template.NOTES[c.value] in c.comment.text for c in header)
    notes = sheets(data)["notes"]
    assert notes[0] == ("column", "required", "meaning", "example")
    assert [(column, meaning) for column, _, meaning, _ in notes[1:len(COLUMNS) + 1]] == list(template.NOTES.items())
    assert notes[len(COLUMNS) + 2] == ("reference", "means", None, None)


def test_beuwi_template_writes_each_format(tmp_path):
    runner = CliRunner()
    printed = runner.invoke(main, ["template"])
    assert printed.exit_code == 0 and printed.stdout_bytes == template.as_csv()
    path = tmp_path / "catalogue.xlsx"
    written = runner.invoke(main, ["template", "--format", "xlsx", "-o", str(path)])
    assert written.exit_code == 0 and sheets(path.read_bytes()) == sheets(template.as_xlsx())
    checked = runner.invoke(main, ["check", str(path)])
    assert checked.exit_code == 0
    assert f"{path}: 5 programmes ok (2 with alternative schemes), 0 row errors" in checked.output


@falkordb_only
def test_the_admin_app_serves_the_template(client, auth):
    for kind, media_type in (("csv", "text/csv"), ("xlsx", MEDIA_TYPE)):
        response = client.get(f"/api/template.{kind}", headers=auth)
        assert response.status_code == 200 and response.mimetype == media_type
        assert response.headers["Content-Disposition"] == f"attachment; filename=catalogue-template.{kind}"
        assert "no-store" in response.headers["Cache-Control"]
        if kind == "csv":
            assert response.data == CliRunner().invoke(main, ["template"]).stdout_bytes
        else:
            assert sheets(response.data) == sheets(template.as_xlsx())
        assert client.get(f"/api/template.{kind}").status_code == 401


@falkordb_only
def test_an_xlsx_upload_is_stored_served_and_reported_as_a_csv_is(client, stores, auth):
    data = xlsx([HEADER, good(), [], good(code="B", programme="Biology", csec_passes="x")])
    body = post_file(client, data, auth, name="Catálogo 2027.xlsx").get_json()
    assert (body["status"], body["programmes"], body["errors"], body["filename"]) == (
        "parsed", 1, 1, "Catálogo 2027.xlsx")
    source = client.get(f"/api/uploads/{body['id']}/source", headers=auth)
    assert source.data == data and source.mimetype == MEDIA_TYPE
    assert "filename*=UTF-8''Cat%C3%A1logo%202027.xlsx" in source.headers["Content-Disposition"]
    assert stores.files.get(source_name(body["id"], "x.xlsx")) == data  # kept as source.xlsx
    errors = client.get(f"/api/uploads/{body['id']}/errors", headers=auth).data.decode("utf-8-sig")
    assert [(e["row"], e["column"], e["value"]) for e in csv.DictReader(io.StringIO(errors))] == [
        ("4", "csec_passes", "x")]
    sample = post_file(client, from_csv(SAMPLE), auth, name="sample.xlsx").get_json()
    assert sample["programmes"] == post_file(client, SAMPLE, auth).get_json()["programmes"]
    assert client.delete(f"/api/uploads/{body['id']}", headers=auth).status_code == 200
    with pytest.raises(NotFound):
        stores.files.get(source_name(body["id"], "x.xlsx"))


@falkordb_only
def test_an_unreadable_workbook_is_a_failed_upload(client, stores, auth):
    body = post_file(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), auth, name="old.xls").get_json()
    assert body["status"] == "failed" and "save it as .xlsx or CSV" in body["message"]
    assert stores.files.get(source_name(body["id"], "old.xls")).startswith(b"\xd0\xcf")
    before = post_file(client, b"PK\x03\x04 cut short", auth, name="early.xlsx").get_json()["id"]
    stores.files.put(source_name(before), b"PK\x03\x04 cut short")  # where one was kept before workbooks were read
    stores.files.delete(source_name(before, "early.xlsx"))
    assert client.get(f"/api/uploads/{before}/source", headers=auth).data == b"PK\x03\x04 cut short"
    missing = client.post("/api/uploads", headers=auth, data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "CSV or .xlsx" in missing.get_json()["error"]
