"""The files in uploads/: a realistic sample that loads cleanly, and broken files that fail the right way."""
from collections import Counter
from pathlib import Path

import pytest

from beuwi.csv_catalogue import CatalogueFileError, parse_catalogue

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"


def test_sample_catalogue_is_realistic_and_clean():
    result = parse_catalogue((UPLOADS / "sample-catalogue.csv").read_bytes())
    assert result.errors == []
    programmes = result.programmes
    assert 95 <= len(programmes) <= 120
    assert len({p.id for p in programmes}) == len(programmes)
    faculties = Counter(p.faculty for p in programmes)
    assert len(faculties) >= 7 and min(faculties.values()) >= 5
    assert all(p.url.startswith("https://") and p.description and p.careers for p in programmes)
    graded = [p for p in programmes if any(r.min_grade for r in p.requirements.mandatory)]
    with_combinations = [p for p in programmes if p.requirements.combinations]
    assert len(graded) >= 10 and len(with_combinations) >= 50
    assert {p.requirements.cape_passes for p in programmes} >= {0, 1, 2, 3}


def test_row_errors_file_reports_each_kind_and_loads_the_rest():
    result = parse_catalogue((UPLOADS / "broken" / "row-errors.csv").read_bytes())
    assert [p.id for p in result.programmes] == ["SCI-BSC-CS", "sociology", "AGR-BSC-AGRI"]
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "mandatory"), (4, "combinations"), (5, "combinations"), (6, "csec_passes"),
        (8, "programme"), (9, "programme"), (10, "evening"),
    ]


@pytest.mark.parametrize("name, fragment", [
    ("missing-column.csv", "missing required column(s): faculty"),
    ("empty.csv", "empty"),
    ("not-csv.csv", "not a CSV file"),
])
def test_broken_files_are_rejected_whole(name, fragment):
    with pytest.raises(CatalogueFileError) as err:
        parse_catalogue((UPLOADS / "broken" / name).read_bytes())
    assert fragment in str(err.value)
