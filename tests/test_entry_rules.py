"""Issue 12's rules as the university writes them, each held on the domain (the definition), the compiled matcher
and the graph's Cypher query on both graphs."""
import pytest

from beuwi.csv_catalogue import parse_catalogue
from beuwi.domain import Profile, SubjectList, match, route
from beuwi.search.compiled import CompiledCatalogue

S = SubjectList.default()
HEADER = "code,programme,faculty,scheme,csec_passes,cape_passes,cape_units,mandatory,combinations,not_counted,conditions\n"


def catalogue(*rows):
    parsed = parse_catalogue((HEADER + "\n".join(rows) + "\n").encode())
    assert parsed.errors == []
    return parsed.programmes


def profile(*texts):
    return Profile.from_refs(S.ref(t) for t in texts)


def eligible(programmes, prof):
    """The eligible ids, the same from the domain and the compiled matcher (the graph is asked in its own test)."""
    found = [p.id for p in match(programmes, prof).eligible]
    assert [p.id for p in CompiledCatalogue(programmes).match(prof).eligible] == found
    return found


TWO_PASSES = "P,Sociology,Social Sciences,,,2,,,,,"
MBBS = ["MBBS,Medicine,Medical Sciences,A,,,,Chemistry (CAPE); Biology (CAPE),1 of Physics (CAPE) | Pure Mathematics (CAPE),,",
        "MBBS,Medicine,Medical Sciences,B,,,,Chemistry (CAPE); Biology (CAPE); Physics (CSEC),"
        "1 of History (CAPE) | Sociology (CAPE) | Economics (CAPE),,"]
UNCOUNTED = "U,History,Humanities,,,2,,,,Caribbean Studies (CAPE); Communication Studies (CAPE),"
COUNTED = "C,Caribbean History,Humanities,,,2,,,,,"
CASES = [  # (catalogue rows, profile, eligible ids)
    ([TWO_PASSES], ["Economics (CAPE)", "Sociology (CAPE U1)"], []),
    ([TWO_PASSES], ["Economics (CAPE)", "Sociology (CAPE U1)", "Sociology (CAPE U2)"], ["P"]),
    (["U1,Statistics,Science,,,,,Pure Mathematics (CAPE U1),,,", "W,Mathematics,Science,,,,,Pure Mathematics (CAPE),,,"],
     ["Pure Mathematics (CAPE U1:III)"], ["U1"]),
    (MBBS, ["Chemistry (CAPE)", "Biology (CAPE)", "Economics (CAPE)", "Physics (CSEC)"], ["MBBS"]),
    (MBBS, ["Chemistry (CAPE)", "Biology (CAPE)", "Economics (CAPE)"], []),
    ([UNCOUNTED, COUNTED], ["Caribbean Studies (CAPE)", "Communication Studies (CAPE)", "History (CAPE)"], ["C"]),
    (["G,Chemistry,Science,,,,,Chemistry (CAPE:II),,,"], ["Chemistry (GCE A:B)"], ["G"]),
    (["G,Chemistry,Science,,,,,Chemistry (CAPE:II),,,"], ["Chemistry (GCE A:D)"], []),
    (["O,Foundation,Science,,5,,,,,,"], [f"{n} (GCE O:C)" for n in ("Mathematics", "English Language", "Biology",
                                                                    "Chemistry", "Physics")], ["O"]),
    (["O,Foundation,Science,,5,,,,,,"], [f"{n} (GCE O:D)" for n in ("Mathematics", "English Language", "Biology",
                                                                    "Chemistry", "Physics")], []),
    (["I,Architecture,Engineering,,,,,,,,Interview; Portfolio"], [], ["I"]),
    (["AD,Management,Social Sciences,Associate degree,,,,Associate Degree (GPA:2.5),,,"], ["Associate Degree (GPA:2.8)"], ["AD"]),
    (["AD,Management,Social Sciences,Associate degree,,,,Associate Degree (GPA:2.5),,,"], ["Associate Degree (GPA:2.4)"], []),
    (["N,Units,Science,,,,6,,,Caribbean Studies (CAPE),"], ["Biology (CAPE)", "Chemistry (CAPE)", "Physics (CAPE U1)",
                                                           "Caribbean Studies (CAPE)"], []),
    (["N,Units,Science,,,,6,,,Caribbean Studies (CAPE),"], ["Biology (CAPE)", "Chemistry (CAPE)", "Physics (CAPE U1)",
                                                           "Physics (CAPE U2)"], ["N"]),
]


@pytest.mark.parametrize("rows, subjects, expected", CASES)
def test_the_rules_on_the_domain_and_the_compiled_matcher(rows, subjects, expected):
    assert eligible(catalogue(*rows), profile(*subjects)) == expected


@pytest.mark.parametrize("rows, subjects, expected", CASES)
def test_the_graphs_eligibility_query_agrees(graph_store, rows, subjects, expected):
    version = graph_store.load(catalogue(*rows))
    try:
        assert graph_store.eligible_ids(version.id, profile(*subjects)) == expected
    finally:
        graph_store.delete(version.id)


def test_one_more_cape_pass_is_missing_and_the_second_unit_is_suggested():
    result = CompiledCatalogue(catalogue(TWO_PASSES)).match(profile("Economics (CAPE)", "Sociology (CAPE U1)"))
    [near] = result.near_misses
    assert near.missing.as_dict() == {"kind": "passes", "met": False, "level": "CAPE", "needed": 2, "counted": 1,
                                      "short": 1, "not_counted": [], "text": "needs 1 more CAPE pass"}
    assert [(s.kind, str(s.ref), s.unlocks) for s in result.suggestions] == [("unit", "Sociology (CAPE U2)", 1)]


def test_a_whole_subject_is_not_met_by_one_unit_and_says_what_is_held():
    [whole] = catalogue("W,Mathematics,Science,,,,,Pure Mathematics (CAPE),,,")
    [check] = route(whole, profile("Pure Mathematics (CAPE U1:III)")).gaps
    assert (check.as_dict()["subject"], check.as_dict()["held"]) == ("Pure Mathematics (CAPE)",
                                                                     "Pure Mathematics (CAPE U1:III)")


def test_the_scheme_met_is_named_and_a_near_miss_takes_the_closest_scheme():
    programmes = catalogue(*MBBS)
    met = route(programmes[0], profile("Chemistry (CAPE)", "Biology (CAPE)", "Economics (CAPE)", "Physics (CSEC)"))
    assert (met.scheme.label, met.gaps) == ("B", [])
    [near] = match(programmes, profile("Chemistry (CAPE)", "Biology (CAPE)")).near_misses  # B is two short
    assert (near.scheme.label, str(near.missing)) == ("A", "needs 1 more of: Physics (CAPE), Pure Mathematics (CAPE)")
    [near] = match(programmes, profile("Chemistry (CAPE)", "Biology (CAPE)", "Physics (CSEC)")).near_misses
    assert near.scheme.label == "A"  # one requirement short on both: the first of equals


def test_uncounted_subjects_are_named_in_the_count_that_leaves_them_out():
    [uncounted] = catalogue(UNCOUNTED)
    [check] = route(uncounted, profile("Caribbean Studies (CAPE)", "Communication Studies (CAPE)", "History (CAPE)")).gaps
    assert check.as_dict()["counted"] == 1
    assert check.as_dict()["not_counted"] == ["Caribbean Studies (CAPE)", "Communication Studies (CAPE)"]


def test_conditions_come_with_an_eligible_answer_and_the_met_scheme_with_fewest_is_chosen():
    [programme] = catalogue("X,Music,Humanities,A,,,,,,,Audition; Interview", "X,Music,Humanities,B,,,,,,,Audition")
    best = route(programme, profile())
    assert (best.scheme.label, best.scheme.conditions) == ("B", ("Audition",))
    assert programme.conditions == ("Audition", "Interview")


def test_an_associate_degree_gap_states_both_gpas():
    [programme] = catalogue("AD,Management,Social Sciences,,,,,Associate Degree (GPA:2.5),,,")
    [check] = route(programme, profile("Associate Degree (GPA:2.4)")).gaps
    assert check.as_dict() == {"kind": "associate_degree", "met": False, "min_gpa": 2.5, "gpa": 2.4,
                               "text": "needs an associate degree GPA of 2.5 (has 2.4)"}


def test_a_better_grade_is_suggested_when_it_is_the_only_gap():
    programmes = catalogue(*(f"M{i},Maths {i},Science,,,,,Mathematics (CSEC:II),,," for i in range(4)))
    result = CompiledCatalogue(programmes).match(profile("Mathematics (CSEC:III)"))
    assert [(s.kind, str(s.ref), str(s.replaces), s.unlocks) for s in result.suggestions] == [
        ("grade", "Mathematics (CSEC:II)", "Mathematics (CSEC:III)", 4)]
