"""The compiled catalogue answers exactly what the domain's match answers, on any catalogue and profile."""
from hypothesis import given, settings

from beuwi.domain import Combination, Profile, Programme, Requirements, Scheme, SubjectList, match
from beuwi.search.compiled import CompiledCatalogue

from .strategies import catalogues, profiles

S = SubjectList.default()


def answer(result):
    return ([p.id for p in result.eligible],
            [(n.programme.id, n.scheme.label, n.missing.as_dict()) for n in result.near_misses],
            [(s.kind, str(s.ref), str(s.replaces), s.unlocks) for s in result.suggestions])


@settings(max_examples=150, deadline=None)
@given(catalogues(max_size=15), profiles())
def test_the_compiled_catalogue_agrees_with_the_domain(programmes, profile):
    compiled = CompiledCatalogue(programmes)
    assert answer(compiled.match(profile)) == answer(match(programmes, profile))
    assert answer(compiled.match(profile, suggestions=1000)) == answer(match(programmes, profile, suggestions=1000))


@settings(max_examples=200, deadline=None)
@given(catalogues(max_size=10, max_mandatory=3, max_combinations=3, max_options=5, max_need=3), profiles(max_size=12))
def test_it_agrees_on_small_requirements_where_near_misses_and_suggestions_abound(programmes, profile):
    compiled = CompiledCatalogue(programmes)
    assert answer(compiled.match(profile, suggestions=1000)) == answer(match(programmes, profile, suggestions=1000))


def test_repeated_references_count_as_the_domain_counts_them():
    chemistry = S.ref("Chemistry (CAPE)")
    graded = S.ref("Chemistry (CAPE:II)")
    programmes = [
        Programme("twice", "Twice", "Science", schemes=(Scheme(Requirements(mandatory=(chemistry, graded))),)),
        Programme("repeat", "Repeat", "Science", schemes=(Scheme(Requirements(
            combinations=(Combination(2, (chemistry, chemistry, S.ref("Biology (CAPE)"))),))),)),
        Programme("passes", "Passes", "Science", schemes=(Scheme(Requirements(cape_passes=1, mandatory=(chemistry,))),)),
        Programme("units", "Units", "Science", schemes=(Scheme(Requirements(
            mandatory=(S.ref("Chemistry (CAPE U1:II)"), S.ref("Chemistry (CAPE U2)"), chemistry))),)),
    ]
    for profile in (Profile(), Profile.from_refs([S.ref("Chemistry (CAPE:IV)")]), Profile.from_refs([graded]),
                    Profile.from_refs([S.ref("Chemistry (CAPE U1:III)")]), Profile.from_refs([S.ref("Chemistry (GCE A:C)")])):
        assert answer(CompiledCatalogue(programmes).match(profile, 1000)) == answer(match(programmes, profile, 1000))


def test_near_misses_can_be_capped_and_counted():
    programmes = [Programme(f"p{i}", f"P{i}", "Science", schemes=(Scheme(Requirements.from_text(
        S, mandatory=["Mathematics (CSEC)"])),)) for i in range(5)]
    compiled = CompiledCatalogue(programmes)
    capped = compiled.match(Profile(), near_misses=2)
    assert [n.programme.id for n in capped.near_misses] == ["p0", "p1"]
    assert capped.near_misses_total == 5


def test_an_empty_catalogue_and_requirement_free_programmes():
    assert answer(CompiledCatalogue([]).match(Profile())) == ([], [], [])
    free = [Programme("open", "Open", "Arts")]
    assert answer(CompiledCatalogue(free).match(Profile())) == (["open"], [], [])
