from collections import Counter

from hypothesis import given, settings

from beuwi.domain import Profile, Programme, Requirements, SubjectList, is_eligible, match

from .strategies import catalogues, profiles

S = SubjectList.default()


def programme(pid, faculty="Science", **req):
    return Programme(pid, pid.title(), faculty, requirements=Requirements.from_text(S, **req))


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


def test_subjects_already_held_are_never_suggested():
    result = match([programme("graded", mandatory=["Chemistry (CAPE:I)"])], profile("Chemistry (CAPE:III)"))
    assert [n.programme.id for n in result.near_misses] == ["graded"]
    assert result.suggestions == []


@settings(max_examples=150, deadline=None)
@given(catalogues(max_size=8, max_mandatory=3, max_combinations=3, max_options=5, max_need=3), profiles(max_size=12))
def test_suggestions_count_exactly_what_one_more_subject_opens(programmes, prof):
    result = match(programmes, prof, suggestions=1000)
    eligible = {p.id for p in programmes if is_eligible(p.requirements, prof)}
    assert {p.id for p in result.eligible} == eligible
    referenced = {r.subject for p in programmes for r in p.requirements.mandatory} | {
        o.subject for p in programmes for c in p.requirements.combinations for o in c.options}
    brute = Counter()
    for subject in referenced - set(prof):
        with_it = prof.with_subject(subject, 1)
        brute[subject] = sum(1 for p in programmes if p.id not in eligible and is_eligible(p.requirements, with_it))
    assert {s.subject: s.unlocks for s in result.suggestions} == {s: n for s, n in brute.items() if n}
