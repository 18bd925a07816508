"""The graph's one-round-trip eligibility query agrees with the pure-Python rules."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beuwi.domain import Profile, Programme, Requirements, SubjectList, is_eligible

from .strategies import catalogues, profiles

S = SubjectList.default()
ORIGINAL_SHAPES = dict(max_mandatory=10, max_combinations=8, max_options=15, max_need=10)
SMALL_SHAPES = dict(max_mandatory=3, max_combinations=3, max_options=5, max_need=3)


def graph_settings(examples):
    """One graph store serves every example; each example loads and deletes its own version."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def expected(programmes, profile):
    return [p.id for p in programmes if is_eligible(p.requirements, profile)]


def check(store, programmes, profile_list):
    version = store.load(programmes)
    try:
        for profile in profile_list:
            assert store.eligible_ids(version.id, profile) == expected(programmes, profile)
    finally:
        store.delete(version.id)


@graph_settings(40)
@given(programmes=catalogues(max_size=10, **ORIGINAL_SHAPES), profile_list=st.lists(profiles(), min_size=1, max_size=4))
def test_original_benchmark_shapes(graph_store, programmes, profile_list):
    check(graph_store, programmes, profile_list)


@graph_settings(40)
@given(programmes=catalogues(max_size=12, **SMALL_SHAPES), profile_list=st.lists(profiles(max_size=10), min_size=1, max_size=4))
def test_small_shapes_where_eligibility_is_common(graph_store, programmes, profile_list):
    check(graph_store, programmes, profile_list)


def test_edge_cases(graph_store):
    def p(pid, **req):
        return Programme(pid, pid, "F", requirements=Requirements.from_text(S, **req))

    programmes = [
        p("none"),
        p("counts", csec_passes=2, cape_passes=1),
        p("graded", mandatory=["Chemistry (CAPE:II)"]),
        p("ungraded", mandatory=["Chemistry (CAPE)"]),
        p("combo", combinations=["2 of Biology (CSEC) | Physics (CSEC:I) | Chemistry (CSEC)"]),
    ]
    profiles_ = [Profile.from_refs(S.ref(t) for t in texts) for texts in [
        [],
        ["Chemistry (CAPE)", "Biology (CSEC)", "Physics (CSEC)"],  # ungraded: not graded refs
        ["Chemistry (CAPE:II)", "Biology (CSEC:I)", "Physics (CSEC:I)"],
        ["Chemistry (CAPE:VI)", "Biology (CSEC:IV)", "Physics (CSEC:I)", "Chemistry (CSEC:III)"],  # failed ignored
    ]]
    check(graph_store, programmes, profiles_)
    assert expected(programmes, profiles_[3]) == ["none", "combo"]
