"""The files in uploads/: a realistic v2 sample that loads cleanly, the v1 sample it replaced, and broken files that
fail the right way, each mistake on its own row and column."""
import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest

from beuwi.csv_catalogue import CatalogueFileError, parse_catalogue
from beuwi.domain import Profile, SubjectList, eligible, route

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
BROKEN = UPLOADS / "broken"
CAMPUSES = {"Mona", "St. Augustine", "Cave Hill", "Five Islands", "Open Campus"}
GENERAL = {"Caribbean Studies (CAPE)", "Communication Studies (CAPE)"}  # the one-unit subjects offers often exclude
FIVE_CSEC = ("English A (CSEC)", "Mathematics (CSEC)", "Biology (CSEC)", "Chemistry (CSEC)", "Physics (CSEC)")


@pytest.fixture(scope="module")
def sample():
    return parse_catalogue((UPLOADS / "sample-catalogue.csv").read_bytes())


@pytest.fixture(scope="module")
def by_id(sample):
    return {p.id: p for p in sample.programmes}


def schemes(programmes):
    return [s for p in programmes for s in p.schemes]


def labels(refs):
    return {str(r) for r in refs}


def profile(*names):
    subjects = SubjectList.default()
    return Profile([subjects.ref(name) for name in names])


def test_sample_catalogue_loads_with_zero_errors(sample):
    assert sample.errors == [] and sample.error_count == 0
    assert 100 <= len(sample.programmes) <= 130
    assert len({p.id for p in sample.programmes}) == len(sample.programmes)
    rows = list(csv.DictReader(io.StringIO((UPLOADS / "sample-catalogue.csv").read_text("utf-8"))))
    assert len(rows) == len(schemes(sample.programmes)) > len(sample.programmes)  # one row per scheme


def test_sample_catalogue_spans_faculties_campuses_degrees_and_modes(sample):
    programmes = sample.programmes
    faculties = Counter(p.faculty for p in programmes)
    assert len(faculties) >= 7 and min(faculties.values()) >= 5
    assert {p.campus for p in programmes} == CAMPUSES and len({p.department for p in programmes}) >= 30
    assert {"BSc", "BA", "LLB", "MBBS", "BEd", "Certificate", "AS"} <= {p.degree for p in programmes}
    assert all(p.full_time or p.part_time for p in programmes)
    assert any(p.evening for p in programmes) and any(p.part_time for p in programmes)
    assert all(p.name and p.department and p.campus and p.duration and p.description and p.careers for p in programmes)
    assert all(re.fullmatch(r"[1-9] years?", p.duration) for p in programmes)  # as a person writes it


def test_sample_catalogue_codes_and_urls_follow_the_house_style(sample):
    for p in sample.programmes:
        assert re.fullmatch(r"[A-Z]+-[A-Z]+(-[A-Z0-9]+)*", p.id), p.id
        assert p.url == f"https://example.edu/programmes/{p.id.lower()}"


def test_sample_catalogue_requirements_are_varied_and_plausible(sample):
    programmes = sample.programmes
    reqs = [s.requirements for s in schemes(programmes)]
    graded = [r for r in reqs if any(m.min_grade for m in r.mandatory)]
    assert len(graded) >= 10 and sum(1 for r in reqs if r.combinations) >= 50
    assert {r.cape_passes for r in reqs} >= {0, 1, 2, 3} and all(r.csec_passes in (4, 5) for r in reqs)
    assert sum(1 for p in programmes if "English A (CSEC)" in labels(p.schemes[0].requirements.mandatory)) >= 90
    for p in programmes:
        if p.degree in ("Certificate", "AA", "AS"):
            assert all(s.requirements.cape_passes <= 1 and s.requirements.cape_units <= 2 for s in p.schemes), p.id


def test_sample_catalogue_has_alternative_schemes_with_distinct_labels(sample):
    routed = [p for p in sample.programmes if len(p.schemes) > 1]
    assert len(routed) >= 8
    for p in routed:
        names = [s.label for s in p.schemes]
        assert all(names) and len(set(names)) == len(names), p.id
    assert all(p.schemes[0].label == "" for p in sample.programmes if len(p.schemes) == 1)


def test_the_three_medical_schools_say_what_each_campus_asks(by_id):
    cave_hill, st_augustine, mona = by_id["MED-MBBS-CH"], by_id["MED-MBBS-STA"], by_id["MED-MBBS-MONA"]
    a, b = cave_hill.schemes
    assert (a.label, b.label) == ("A", "B")
    assert labels(a.requirements.mandatory) >= {"Chemistry (CAPE)", "Biology (CAPE)"}
    assert [str(c) for c in a.requirements.combinations] == ["1 of Physics (CAPE) | Pure Mathematics (CAPE)"]
    assert labels(b.requirements.mandatory) >= {"Chemistry (CAPE)", "Biology (CAPE)", "Physics (CSEC)"}
    assert [str(c) for c in b.requirements.combinations] == ["1 of History (CAPE) | Sociology (CAPE) | Economics (CAPE)"]
    # "Passes in both units of Chemistry, Biology and any other subject at CAPE": three whole subjects
    [scheme] = st_augustine.schemes
    assert scheme.requirements.cape_passes == 3
    assert labels(scheme.requirements.mandatory) >= {"Chemistry (CAPE)", "Biology (CAPE)"}
    assert labels(mona.schemes[0].requirements.mandatory) >= {"Chemistry (CAPE:II)", "Biology (CAPE:II)"}
    for p in (cave_hill, st_augustine, mona):
        assert p.degree == "MBBS" and "Interview" in p.conditions
        assert all(labels(s.requirements.not_counted) == GENERAL for s in p.schemes), p.id
    assert {p.campus for p in (cave_hill, st_augustine, mona)} == {"Cave Hill", "St. Augustine", "Mona"}


def test_cave_hill_medicine_takes_a_non_science_student_through_scheme_b(by_id):
    student = profile(*FIVE_CSEC, "Chemistry (CAPE)", "Biology (CAPE)", "Economics (CAPE)")
    assert eligible(by_id["MED-MBBS-CH"], student) and route(by_id["MED-MBBS-CH"], student).scheme.label == "B"
    assert not eligible(by_id["MED-MBBS-MONA"], student)  # Mona wants Physics or Pure Mathematics at CAPE
    general = [*FIVE_CSEC, "Chemistry (CAPE)", "Biology (CAPE)", "Caribbean Studies (CAPE)",
               "Communication Studies (CAPE)"]
    assert not eligible(by_id["MED-MBBS-STA"], profile(*general))  # the general subjects are not a third pass
    assert eligible(by_id["MED-MBBS-STA"], profile(*general, "Sociology (CAPE)"))


def test_associate_degree_routes_at_mona_cave_hill_and_st_augustine_law(sample, by_id):
    gpas = {p.id: {str(r) for s in p.schemes for r in s.requirements.mandatory if r.min_gpa is not None}
            for p in sample.programmes}
    routed = {code: found for code, found in gpas.items() if found}
    assert len(routed) >= 4
    assert routed["LAW-LLB-STA"] == {"Associate Degree (GPA:3.5)"} and by_id["LAW-LLB-STA"].campus == "St. Augustine"
    for code, p in by_id.items():
        if routed.get(code) and p.campus in ("Mona", "Cave Hill"):
            assert routed[code] == {"Associate Degree (GPA:2.5)"}, code
    assert {by_id[code].campus for code in routed} >= {"Mona", "Cave Hill", "St. Augustine"}
    for code in routed:  # the degree is a scheme of its own, next to a CAPE route
        assert [s.label for s in by_id[code].schemes] == ["CAPE", "Associate Degree"], code
    assert eligible(by_id["SOC-BSC-ACC"], profile(*FIVE_CSEC, "Associate Degree (GPA:2.8)"))
    assert not eligible(by_id["SOC-BSC-ACC"], profile(*FIVE_CSEC, "Associate Degree (GPA:2.4)"))
    assert not eligible(by_id["LAW-LLB-STA"], profile(*FIVE_CSEC, "Associate Degree (GPA:3.2)"))
    assert eligible(by_id["LAW-LLB-STA"], profile(*FIVE_CSEC, "Associate Degree (GPA:3.5)"))


def test_cape_units_single_unit_references_and_unit_counts(sample, by_id):
    refs = [r for s in schemes(sample.programmes) for r in s.requirements.refs]
    with_units = [p for p in sample.programmes if any(r.unit for r in p.refs)]
    assert len(with_units) >= 6
    assert {"Pure Mathematics (CAPE U1)", "Sociology (CAPE U1:III)", "Pure Mathematics (CAPE U2)"} <= labels(refs)
    counted = [p for p in sample.programmes if any(s.requirements.cape_units for s in p.schemes)]
    assert len(counted) >= 15
    mona_science = [p for p in sample.programmes if p.campus == "Mona" and p.faculty == "Science and Technology"
                    and p.schemes[0].requirements.cape_units]
    assert len(mona_science) >= 5 and all(p.schemes[0].requirements.cape_units == 6 for p in mona_science)
    # Statistics asks for Unit 1 of Pure Mathematics: one unit meets it, the student needs no Unit 2
    statistics = by_id["SCI-BSC-STAT"]
    base = [*FIVE_CSEC, "Applied Mathematics (CAPE)", "Physics (CAPE)"]
    assert eligible(statistics, profile(*base, "Pure Mathematics (CAPE U1:III)"))
    assert not eligible(statistics, profile(*base, "Sociology (CAPE U1)"))


def test_mona_social_sciences_do_not_count_the_general_subjects(sample, by_id):
    mona = [p for p in sample.programmes if p.faculty == "Social Sciences" and p.campus == "Mona"
            and p.degree == "BSc"]
    assert len(mona) >= 5
    for p in mona:
        assert all(labels(s.requirements.not_counted) == GENERAL for s in p.schemes if s.requirements.cape_passes), p.id
    uncounting = [p for p in sample.programmes if any(s.requirements.not_counted for s in p.schemes)]
    assert len(uncounting) >= 15
    # the general subjects are not two CAPE passes at Mona, and History still needs a second pass
    student = [*FIVE_CSEC, "Caribbean Studies (CAPE)", "Communication Studies (CAPE)", "History (CAPE)"]
    assert not eligible(by_id["SOC-BSC-POL"], profile(*student))
    assert eligible(by_id["SOC-BSC-POL"], profile(*student, "Sociology (CAPE)"))


def test_conditions_no_exam_shows(sample, by_id):
    assert "Audition" in by_id["HUM-BA-MUSIC"].conditions and "Audition" in by_id["HUM-BA-THEATRE"].conditions
    assert "Portfolio" in by_id["ENG-BSC-ARCH"].conditions and "Portfolio" in by_id["HUM-BFA-ART"].conditions
    assert "Interview" in by_id["MED-BSC-NURS"].conditions
    everything = Counter(c for p in sample.programmes for c in p.conditions)
    assert set(everything) == {"Interview", "Audition", "Portfolio", "Minimum age 17"}
    assert 10 <= sum(1 for p in sample.programmes if p.conditions) <= 30  # a handful, not every programme
    # a student with the subjects is eligible; the condition is passed on, never checked
    musician = profile(*FIVE_CSEC, "Music (CSEC)", "Performing Arts (CAPE)", "History (CAPE)")
    assert eligible(by_id["HUM-BA-MUSIC"], musician)


def test_gce_references_are_used_sparingly(sample, by_id):
    gce = [p for p in sample.programmes if any(r.subject.level.startswith("GCE") for r in p.refs)]
    assert 1 <= len(gce) <= 4
    [o_level] = [s for s in by_id["SCI-CERT-IT"].schemes if s.label == "GCE O-Level"]
    assert "English Language (GCE O:C)" in labels(o_level.requirements.mandatory)


def test_the_v1_sample_is_kept_byte_for_byte_and_still_loads():
    v1 = (UPLOADS / "v1" / "sample-catalogue.csv").read_bytes()
    assert v1.startswith(b"code,programme,faculty,") and b"scheme" not in v1.splitlines()[0]
    result = parse_catalogue(v1)
    assert result.errors == [] and len(result.programmes) == 102
    assert all(len(p.schemes) == 1 and p.schemes[0].label == "" for p in result.programmes)


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


@pytest.fixture(scope="module")
def v2_errors():
    result = parse_catalogue((BROKEN / "v2-errors.csv").read_bytes())
    return result, {(e.row, e.column): e for e in result.errors}


# (row, column, value, words the message must hold): each v2 mistake where an admin would look for it
V2_MISTAKES = [
    (3, "mandatory", "Pure Mathematics (CAPE U3)", ["U1", "U2"]),
    (4, "mandatory", "Caribbean Studies (CAPE U2)", ["one-unit", "Caribbean Studies (CAPE)"]),
    (5, "mandatory", "Accounting or Economics (CAPE)", ["1 of Accounting (CAPE) | Economics (CAPE)"]),
    (6, "mandatory", "Science (CAPE)", ["Science"]),
    (7, "mandatory", "Associate Degree (GPA:5.1)", ["5.1", "4.3"]),
    (8, "mandatory", "Chemistry (GCE O:F)", ["'F'", "GCE O"]),
    (9, "cape_units", "-2", ["negative"]),
    (11, "campus", "Mona", ["row 10", "Cave Hill"]),
    (12, "not_counted", "General Paper (CAPE)", ["General Paper"]),
    (17, "code", "SOC-BSC-MGMT", ["row 16"]),
]


@pytest.mark.parametrize("row, column, value, words", V2_MISTAKES, ids=[f"{m[1]}={m[2]}" for m in V2_MISTAKES])
def test_v2_errors_file_reports_each_mistake_on_its_row_and_column(v2_errors, row, column, value, words):
    _, errors = v2_errors
    error = errors[(row, column)]
    assert error.value == value
    for word in words:
        assert word.casefold() in error.message.casefold(), error.message


def test_v2_errors_file_reports_nothing_else_and_loads_the_good_rows(v2_errors):
    result, errors = v2_errors
    expected = {(row, column) for row, column, _, _ in V2_MISTAKES}
    # The good row of a programme whose other row is wrong may be refused with it; nothing else may be reported.
    assert set(errors) - expected <= {(10, "scheme")}
    assert result.error_count == len(result.errors)
    loaded = {p.id: p for p in result.programmes}
    assert {"SCI-BSC-STAT", "HUM-BA-MUSIC", "SOC-BSC-BANK", "SOC-BSC-MGMT"} <= set(loaded)
    assert not {"SCI-BSC-MATH", "HUM-BA-CULT", "SOC-BSC-ACC", "SCI-BSC-BIOL", "LAW-LLB-STA", "SCI-CERT-IT",
                "ENG-BSC-CIVIL", "SOC-BSC-POL"} & set(loaded)
    assert loaded.get("MED-MBBS-CH") is None or loaded["MED-MBBS-CH"].campus == "Cave Hill"
    assert [s.label for s in loaded["SOC-BSC-BANK"].schemes] == ["CAPE", "Associate Degree"]
    assert loaded["HUM-BA-MUSIC"].conditions == ("Audition",)
    statistics = loaded["SCI-BSC-STAT"].schemes[0].requirements
    assert statistics.cape_units == 6 and labels(statistics.not_counted) == GENERAL
    assert "Pure Mathematics (CAPE U1)" in labels(statistics.mandatory)


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
    assert nursing.schemes[0].requirements.csec_passes == 5


def test_windows_1252_file_parses():
    data = (UPLOADS / "encodings" / "windows-1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse_catalogue(data)
    assert result.errors == []
    assert [(p.id, p.name) for p in result.programmes] == [("francais", "Français"), ("espanol", "Español")]
    assert "Haïti" in result.programmes[0].description and "–" in result.programmes[0].description
    assert "República Dominicana" in result.programmes[1].description
