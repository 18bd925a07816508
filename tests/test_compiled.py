"""The compiled catalogue answers exactly what the domain's match answers, on any catalogue and profile."""
from hypothesis import given, settings

from beuwi.domain import Combination, Profile, Programme, Requirements, SubjectList, match
from beuwi.search.compiled import CompiledCatalogue

from .strategies import catalogues, profiles

S = SubjectList.default()


def answer(result):
    return ([p.id for p in result.eligible], [(n.programme.id, str(n.missing)) for n in result.near_misses],
            [(str(s.subject), s.unlocks) for s in result.suggestions])


@settings(max_examples=300, deadline=None)
@given(catalogues(max_size=15), profiles())
def test_the_compiled_catalogue_agrees_with_the_domain(programmes, profile):
    compiled = CompiledCatalogue(programmes)
    assert answer(compiled.match(profile)) == answer(match(programmes, profile))
    assert answer(compiled.match(profile, suggestions=1000)) == answer(match(programmes, profile, suggestions=1000))


@settings(max_examples=150, deadline=None)
@given(catalogues(max_size=10, max_mandatory=3, max_combinations=3, max_options=5, max_need=3), profiles(max_size=12))
def test_it_agrees_on_small_requirements_where_near_misses_and_suggestions_abound(programmes, profile):
    compiled = CompiledCatalogue(programmes)
    assert answer(compiled.match(profile, suggestions=1000)) == answer(match(programmes, profile, suggestions=1000))


def test_repeated_references_count_as_the_domain_counts_them():
    chemistry = S.ref("Chemistry (CAPE)")
    graded = S.ref("Chemistry (CAPE:II)")
    programmes = [
        Programme("twice", "Twice", "Science", requirements=Requirements(mandatory=(chemistry, graded))),
        Programme("repeat", "Repeat", "Science", requirements=Requirements(
            combinations=(Combination(2, (chemistry, chemistry, S.ref("Biology (CAPE)"))),))),
        Programme("passes", "Passes", "Science", requirements=Requirements(cape_passes=1, mandatory=(chemistry,))),
    ]
    for profile in (Profile(), Profile.from_refs([S.ref("Chemistry (CAPE:IV)")]), Profile.from_refs([graded])):
        assert answer(CompiledCatalogue(programmes).match(profile, 1000)) == answer(match(programmes, profile, 1000))


def test_near_misses_can_be_capped_and_counted():
    programmes = [Programme(f"p{i}", f"P{i}", "Science", requirements=Requirements.from_text(
        S, mandatory=["Mathematics (CSEC)"])) for i in range(5)]
    compiled = CompiledCatalogue(programmes)
    capped = compiled.match(Profile(), near_misses=2)
    assert [n.programme.id for n in capped.near_misses] == ["p0", "p1"]
    assert capped.near_misses_total == 5


def test_an_empty_catalogue_and_requirement_free_programmes():
    assert answer(CompiledCatalogue([]).match(Profile())) == ([], [], [])
    free = [Programme("open", "Open", "Arts")]
    assert answer(CompiledCatalogue(free).match(Profile())) == (["open"], [], [])
