import pytest

from beuwi.domain import Subject, SubjectError, SubjectList, SubjectRef
from beuwi.domain.subjects import is_pass

subjects = SubjectList.default()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Chemistry (CSEC)", "Chemistry (CSEC)"),
        ("  chemistry   (cape : ii ) ", "Chemistry (CAPE:II)"),
        ("English A (CSEC)", "English A (CSEC)"),
        ("english language (csec)", "English A (CSEC)"),
        ("English  B (CSEC:I)", "English B (CSEC:I)"),
        ("English Literature (CSEC)", "English B (CSEC)"),
        ("English Literature (CAPE)", "Literatures in English (CAPE)"),
        ("Pure Maths (CAPE:III)", "Pure Mathematics (CAPE:III)"),
        ("POA (CSEC)", "Principles of Accounts (CSEC)"),
    ],
)
def test_references_resolve_names_aliases_case_and_spaces(text, expected):
    assert str(subjects.ref(text)) == expected


def test_grade_is_kept_as_a_number():
    assert subjects.ref("Chemistry (CAPE:VII)") == SubjectRef(Subject("Chemistry", "CAPE"), 7)


def test_unknown_subject_suggests_closest_names():
    with pytest.raises(SubjectError) as err:
        subjects.ref("Chemestry (CSEC)")
    assert "Chemestry" in str(err.value)
    assert err.value.suggestions[0] == "Chemistry (CSEC)"


def test_subject_without_level_suggests_every_level():
    with pytest.raises(SubjectError) as err:
        subjects.ref("physics")
    assert set(err.value.suggestions) == {"Physics (CSEC)", "Physics (CAPE)", "Physics (GCE O)", "Physics (GCE A)"}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Chemistry (GCE)", "unknown level 'GCE'"),
        ("Chemistry (CSEC:VII)", "grade 'VII' does not exist at CSEC"),
        ("Chemistry (CAPE:VIII)", "grade 'VIII' does not exist at CAPE"),
        ("Chemistry (CAPE:2)", "grade '2' does not exist"),
        ("Computer Science (CSEC)", "unknown CSEC subject 'Computer Science'"),
    ],
)
def test_bad_references_name_the_problem(text, fragment):
    with pytest.raises(SubjectError, match=fragment.replace("(", r"\(")):
        subjects.ref(text)


def test_pass_grades_per_level():
    assert [is_pass("CSEC", g) for g in range(1, 7)] == [True] * 3 + [False] * 3
    assert [is_pass("CAPE", g) for g in range(1, 8)] == [True] * 5 + [False] * 2
    assert is_pass("CSEC", None)


def test_canonical_list_has_official_subjects_at_each_level():
    names = {str(s) for s in subjects.subjects}
    for expected in ["Mathematics (CSEC)", "English A (CSEC)", "Caribbean Studies (CAPE)", "Communication Studies (CAPE)",
                     "Pure Mathematics (CAPE)", "Computer Science (CAPE)", "Human and Social Biology (CSEC)"]:
        assert expected in names


def test_search_puts_prefix_matches_first_and_filters_level():
    found = [str(s) for s in subjects.search("chem")]
    assert found == ["Chemistry (CSEC)", "Chemistry (CAPE)", "Chemistry (GCE O)", "Chemistry (GCE A)"]
    # Pure Mathematics is what students call "Mathematics" at CAPE, so its alias makes it a prefix match.
    assert [str(s) for s in subjects.search("math", level="CAPE")] == [
        "Pure Mathematics (CAPE)", "Applied Mathematics (CAPE)", "Integrated Mathematics (CAPE)"]
    assert all(s.level == "CSEC" for s in subjects.search("", level="CSEC"))
    assert [str(s) for s in subjects.search("english language")] == ["English A (CSEC)", "English Language (GCE O)"]


def test_unit_1_of_a_one_unit_subject_is_the_whole_subject_and_unit_2_does_not_exist():
    assert subjects.ref("Caribbean Studies (CAPE U1:II)") == subjects.ref("Caribbean Studies (CAPE:II)")
    with pytest.raises(SubjectError, match="one-unit subject"):
        subjects.ref("Caribbean Studies (CAPE U2)")
    assert str(subjects.ref("sociology (cape u2:iii)")) == "Sociology (CAPE U2:III)"
