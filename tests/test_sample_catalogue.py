"""The files in uploads/: a realistic sample that loads cleanly, and broken files that fail the right way."""
import re
from collections import Counter
from pathlib import Path

import pytest

from beuwi.csv_catalogue import CatalogueFileError, parse_catalogue
from beuwi.domain import SubjectList

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
BROKEN = UPLOADS / "broken"


@pytest.fixture(scope="module")
def sample():
    return parse_catalogue((UPLOADS / "sample-catalogue.csv").read_bytes())


def test_sample_catalogue_loads_with_zero_errors(sample):
    assert sample.errors == []
    assert 100 <= len(sample.programmes) <= 110
    assert len({p.id for p in sample.programmes}) == len(sample.programmes)


def test_sample_catalogue_spans_faculties_campuses_degrees_and_modes(sample):
    programmes = sample.programmes
    faculties = Counter(p.faculty for p in programmes)
    assert len(faculties) >= 7 and min(faculties.values()) >= 5
    assert len({p.campus for p in programmes}) >= 3 and len({p.department for p in programmes}) >= 30
    assert {"BSc", "BA", "LLB", "MBBS", "BEd", "Certificate"} <= {p.degree for p in programmes}
    assert all(p.full_time or p.part_time for p in programmes)
    assert any(p.evening for p in programmes) and any(p.part_time for p in programmes)
    assert all(p.name and p.department and p.campus and p.duration and p.description and p.careers for p in programmes)


def test_sample_catalogue_codes_and_urls_follow_the_house_style(sample):
    for p in sample.programmes:
        assert re.fullmatch(r"[A-Z]+-[A-Z]+(-[A-Z0-9]+)*", p.id), p.id
        assert p.url == f"https://example.edu/programmes/{p.id.lower()}"


def test_sample_catalogue_requirements_are_varied_and_plausible(sample):
    programmes = sample.programmes
    reqs = [p.requirements for p in programmes]
    graded = [r for r in reqs if any(m.min_grade for m in r.mandatory)]
    assert len(graded) >= 10 and sum(1 for r in reqs if r.combinations) >= 50
    assert {r.cape_passes for r in reqs} >= {0, 1, 2, 3} and all(r.csec_passes in (4, 5) for r in reqs)
    english = SubjectList.default().ref("English A (CSEC)").subject
    assert sum(1 for r in reqs if english in {m.subject for m in r.mandatory}) >= 90
    medicine = next(p for p in programmes if p.degree == "MBBS")
    assert {str(m) for m in medicine.requirements.mandatory} >= {"Chemistry (CAPE:II)", "Biology (CAPE:II)"}
    for p in programmes:
        if p.degree in ("Certificate", "AA", "AS"):
            assert p.requirements.cape_passes <= 1, p.id


def test_row_errors_file_reports_each_kind_and_loads_the_rest():
    result = parse_catalogue((BROKEN / "row-errors.csv").read_bytes())
    assert [p.id for p in result.programmes] == ["SCI-BSC-CS", "sociology", "AGR-BSC-AGRI"]
    found = [(e.row, e.column, e.value) for e in result.errors]
    assert found == [
        (3, "mandatory", "Chemestry (CAPE)"),
        (4, "combinations", "2 Physics (CAPE) Pure Mathematics (CAPE)"),
        (5, "combinations", "3 of Biology (CAPE) | Physics (CAPE)"),
        (6, "csec_passes", "-1"),
        (8, "programme", ""),
        (9, "programme", "computer  science"),
        (10, "evening", "sometimes"),
    ]
    messages = [e.message for e in result.errors]
    assert "did you mean Chemistry (CAPE)" in messages[0]
    assert "is not a combination" in messages[1] and "needs 3 but lists only 2" in messages[2]
    assert "negative" in messages[3] and "missing" in messages[4]
    assert "duplicate of row 2" in messages[5] and "yes or no" in messages[6]


@pytest.mark.parametrize("name, message", [
    ("missing-column.csv", "missing required column(s): faculty (columns found: code, programme, department)"),
    ("empty.csv", "the file is empty"),
    ("not-csv.csv", "this is not a CSV file (it contains binary data)"),
])
def test_broken_files_are_rejected_whole(name, message):
    with pytest.raises(CatalogueFileError) as raised:
        parse_catalogue((BROKEN / name).read_bytes())
    assert str(raised.value) == message


def test_not_csv_file_is_binary():
    assert b"\x00" in (BROKEN / "not-csv.csv").read_bytes()


def test_utf8_bom_file_parses():
    data = (UPLOADS / "encodings" / "utf8-bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    result = parse_catalogue(data)
    assert result.errors == []
    [nursing] = result.programmes
    assert (nursing.id, nursing.name, nursing.faculty) == ("nursing", "Nursing", "Medical Sciences")
    assert nursing.requirements.csec_passes == 5


def test_windows_1252_file_parses():
    data = (UPLOADS / "encodings" / "windows-1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse_catalogue(data)
    assert result.errors == []
    assert [(p.id, p.name) for p in result.programmes] == [("francais", "Français"), ("espanol", "Español")]
    assert "Haïti" in result.programmes[0].description and "–" in result.programmes[0].description
    assert "República Dominicana" in result.programmes[1].description
