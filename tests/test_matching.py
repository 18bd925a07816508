from hypothesis import given, settings

from beuwi.domain import Profile, Programme, Requirements, Scheme, SubjectList, SubjectRef, eligible, match
from beuwi.domain.subjects import PASS_LEVELS

from .strategies import catalogues, profiles

S = SubjectList.default()


def programme(pid, faculty="Science", **req):
    return Programme(pid, pid.title(), faculty, schemes=(Scheme(Requirements.from_text(S, **req)),))


def profile(*texts):
    return Profile.from_refs(S.ref(t) for t in texts)


CATALOGUE = [
    programme("open"),
    programme("maths", mandatory=["Mathematics (CSEC)"]),
    programme("physics", mandatory=["Mathematics (CSEC)", "Physics (CAPE)"]),
    programme("engineering", cape_passes=2, mandatory=["Physics (CAPE)", "Pure Mathematics (CAPE)"]),
    programme("chemistry", combinations=["1 of Physics (CAPE) | Chemistry (CAPE)"]),
]


def test_match_splits_eligible_near_misses_and_suggestions():
    result = match(CATALOGUE, profile("Mathematics (CSEC)", "Pure Mathematics (CAPE)"))
    assert [p.id for p in result.eligible] == ["open", "maths"]
    assert [(n.programme.id, str(n.missing)) for n in result.near_misses] == [
        ("physics", "missing Physics (CAPE)"),
        ("chemistry", "needs 1 more of: Physics (CAPE), Chemistry (CAPE)"),
    ]
    # Physics (CAPE) opens physics, engineering (it is also the second CAPE pass) and chemistry.
    assert [(str(s.subject), s.unlocks) for s in result.suggestions] == [("Physics (CAPE)", 3), ("Chemistry (CAPE)", 1)]


def test_programmes_two_subjects_away_are_not_near_misses_nor_suggested():
    result = match([programme("far", mandatory=["Biology (CAPE)", "Chemistry (CAPE)"])], profile())
    assert result.near_misses == [] and result.suggestions == []


def test_subjects_already_held_are_suggested_only_at_a_better_grade():
    result = match([programme("graded", mandatory=["Chemistry (CAPE:I)"])], profile("Chemistry (CAPE:III)"))
    assert [n.programme.id for n in result.near_misses] == ["graded"]
    assert [(s.kind, str(s.ref), str(s.replaces), s.unlocks) for s in result.suggestions] == [
        ("grade", "Chemistry (CAPE:I)", "Chemistry (CAPE:III)", 1)]


def test_the_weakest_better_grade_that_opens_the_most_is_named():
    catalogue = [programme(f"ii{i}", mandatory=["Mathematics (CSEC:II)"]) for i in range(4)]
    result = match(catalogue, profile("Mathematics (CSEC:III)"))
    assert [(s.kind, str(s.ref), s.unlocks) for s in result.suggestions] == [("grade", "Mathematics (CSEC:II)", 4)]
    result = match([*catalogue, programme("i", mandatory=["Mathematics (CSEC:I)"])], profile("Mathematics (CSEC:III)"))
    assert [(s.kind, str(s.ref), s.unlocks) for s in result.suggestions] == [("grade", "Mathematics (CSEC:I)", 5)]


def test_a_programme_counts_once_however_many_of_its_schemes_one_subject_opens():
    both = Programme("both", "Both", "Science", schemes=(
        Scheme(Requirements.from_text(S, mandatory=["Physics (CAPE)"]), "A"),
        Scheme(Requirements.from_text(S, combinations=["1 of Physics (CAPE) | Chemistry (CAPE)"]), "B")))
    result = match([both], profile())
    assert [(str(s.ref), s.unlocks) for s in result.suggestions] == [("Chemistry (CAPE)", 1), ("Physics (CAPE)", 1)]
    assert [(n.programme.id, n.scheme.label) for n in result.near_misses] == [("both", "A")]


@settings(max_examples=150, deadline=None)
@given(catalogues(max_size=8, max_mandatory=3, max_combinations=3, max_options=5, max_need=3), profiles(max_size=12))
def test_suggestions_count_exactly_what_one_more_subject_opens(programmes, prof):
    """Every single addition a student could make, tried one by one: a subject none of whose units or passes they
    hold (at grade I), the other unit of a unit they hold, or a better grade of a graded entry (the weakest grade
    that opens the most, per entry)."""
    result = match(programmes, prof, suggestions=1000)
    met = {p.id for p in programmes if eligible(p, prof)}
    assert {p.id for p in result.eligible} == met

    def opens(entries):
        after = Profile(entries)
        return sum(1 for p in programmes if p.id not in met and eligible(p, after))

    named = {r.subject: r for p in programmes for r in p.refs if r.subject.level in PASS_LEVELS}
    held = {e.subject for e in prof.entries} | set(prof.csec) | {s for s, _ in prof.units}
    expected = {}
    for subject in set(named) - held:
        expected[("subject", str(subject))] = opens([*prof.entries, SubjectRef(subject, 1)])
    for entry in prof.entries:
        if entry.unit and (entry.subject, 3 - entry.unit) not in prof.units:
            expected[("unit", str(SubjectRef(entry.subject, None, 3 - entry.unit)))] = opens(
                [*prof.entries, SubjectRef(entry.subject, 1, 3 - entry.unit)])
        grades = {r.min_grade for p in programmes for r in p.refs if r.subject == entry.subject and r.min_grade}
        tried = {g: opens([*(e for e in prof.entries if e != entry), entry.with_grade(g)])
                 for g in grades if entry.min_grade and g < entry.min_grade}
        if tried and max(tried.values()):
            weakest = max(g for g, n in tried.items() if n == max(tried.values()))
            expected[("grade", str(entry.with_grade(weakest)))] = tried[weakest]
    assert {(s.kind, str(s.ref)): s.unlocks for s in result.suggestions} == {k: n for k, n in expected.items() if n}
