"""What a new catalogue changes: each kind of change reported once, named as the admin API names it."""
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from beuwi.domain import Combination, Programme, Requirements, Scheme, SubjectList
from beuwi.domain.diff import FieldChange, diff

from .strategies import catalogues

LIST = SubjectList.default()
ref = LIST.ref


def combination(text):
    need, options = text.split(" of ")
    return Combination(int(need), tuple(ref(o) for o in options.split(" | ")))


BASE = Requirements(5, 2, (ref("English A (CSEC:III)"), ref("Mathematics (CSEC:II)")),
                    (combination("2 of Biology (CAPE) | Chemistry (CAPE) | Physics (CAPE)"),), 4,
                    (LIST.subject("Caribbean Studies", "CAPE"),))
PROGRAMME = Programme("MED", "Medicine", "Medical Sciences", campus="Mona", full_time=True, careers=("Doctor",),
                      schemes=(Scheme(BASE, "", ("Interview",)),))


def changes(after: Programme, before: Programme = PROGRAMME) -> list[FieldChange]:
    found = diff([before], [after])
    assert not found.added and not found.removed
    return [] if not found.changed else list(found.changed[0].fields)


def rescheme(**fields) -> Programme:
    return replace(PROGRAMME, schemes=(Scheme(replace(BASE, **fields), "", ("Interview",)),))


def test_identical_catalogues_change_nothing():
    found = diff([PROGRAMME], [PROGRAMME])
    assert (found.added, found.removed, found.changed, found.unchanged) == ((), (), (), 1)


def test_added_and_removed_programmes_by_id_with_their_summaries():
    other = Programme("LAW", "Law", "Law")
    found = diff([PROGRAMME], [other])
    assert found.as_dict() == {"added": [other.summary()], "removed": [PROGRAMME.summary()], "changed": [],
                               "unchanged": 0}


def test_programme_fields_are_named_with_their_values():
    after = replace(PROGRAMME, name="Medicine and Surgery", full_time=False, part_time=True)
    assert changes(after) == [FieldChange("name", None, "Medicine", "Medicine and Surgery"),
                              FieldChange("full_time", None, True, False),
                              FieldChange("part_time", None, False, True)]
    assert diff([PROGRAMME], [after]).as_dict()["changed"][0]["name"] == "Medicine and Surgery"


def test_careers_one_entry_per_item():
    after = replace(PROGRAMME, careers=("Doctor", "Surgeon"))
    assert changes(after) == [FieldChange("careers", None, None, "Surgeon")]


def test_counts():
    assert changes(rescheme(csec_passes=6, cape_units=0)) == [FieldChange("csec_passes", "", 5, 6),
                                                              FieldChange("cape_units", "", 4, 0)]


def test_a_mandatory_reference_added_removed_or_regraded():
    english, maths = BASE.mandatory
    assert changes(rescheme(mandatory=(english,))) == [
        FieldChange("mandatory", "", "Mathematics (CSEC:II)", None)]
    assert changes(rescheme(mandatory=(english, maths, ref("Physics (CSEC)")))) == [
        FieldChange("mandatory", "", None, "Physics (CSEC)")]
    assert changes(rescheme(mandatory=(english, ref("Mathematics (CSEC:III)")))) == [
        FieldChange("mandatory", "", "Mathematics (CSEC:II)", "Mathematics (CSEC:III)")]
    assert changes(rescheme(mandatory=(maths, english))) == []  # order is not a change


def test_a_combination_by_its_option_set():
    sciences = "Biology (CAPE) | Chemistry (CAPE) | Physics (CAPE)"
    assert changes(rescheme(combinations=(combination(f"1 of {sciences}"),))) == [
        FieldChange("combination", "", f"2 of {sciences}", f"1 of {sciences}")]
    regraded = "2 of Biology (CAPE:II) | Chemistry (CAPE) | Physics (CAPE)"
    assert changes(rescheme(combinations=(combination(regraded),))) == [
        FieldChange("combination", "", f"2 of {sciences}", regraded)]
    extra = combination("1 of French (CSEC) | Spanish (CSEC)")
    assert changes(rescheme(combinations=(*BASE.combinations, extra))) == [
        FieldChange("combination", "", None, "1 of French (CSEC) | Spanish (CSEC)")]
    assert changes(rescheme(combinations=())) == [FieldChange("combination", "", f"2 of {sciences}", None)]
    reordered = combination("2 of Physics (CAPE) | Biology (CAPE) | Chemistry (CAPE)")
    assert changes(rescheme(combinations=(reordered,))) == []


def test_not_counted_and_conditions_per_item():
    requirements = replace(BASE, not_counted=(LIST.subject("Communication Studies", "CAPE"),))
    after = replace(PROGRAMME, schemes=(Scheme(requirements, "", ("Interview", "Portfolio")),))
    assert changes(after) == [FieldChange("not_counted", "", "Caribbean Studies (CAPE)", None),
                              FieldChange("not_counted", "", None, "Communication Studies (CAPE)"),
                              FieldChange("conditions", "", None, "Portfolio")]


def test_a_scheme_added_or_removed_by_label_with_its_text():
    evening = Scheme(Requirements(5, 0, (ref("English A (CSEC)"),)), "B", ())
    before = replace(PROGRAMME, schemes=(Scheme(BASE, "A", ("Interview",)),))
    after = replace(before, schemes=(*before.schemes, evening))
    assert changes(after, before) == [
        FieldChange("scheme", "B", None, "5 CSEC passes · mandatory English A (CSEC)")]
    assert changes(before, after) == [
        FieldChange("scheme", "B", "5 CSEC passes · mandatory English A (CSEC)", None)]
    assert changes(replace(after, schemes=(evening, *before.schemes)), after) == []


def test_each_change_once_among_many():
    after = replace(rescheme(cape_passes=1, mandatory=BASE.mandatory[:1]), campus="Cave Hill")
    found = diff([PROGRAMME, Programme("LAW", "Law", "Law")], [after, Programme("LAW", "Law", "Law")])
    assert [(f.field, f.scheme) for f in found.changed[0].fields] == [
        ("campus", None), ("cape_passes", ""), ("mandatory", "")]
    assert found.unchanged == 1


SMALL = {"max_size": 6, "max_mandatory": 4, "max_combinations": 3, "max_options": 5}  # as telling, and quick to draw


@settings(max_examples=40, deadline=None)
@given(catalogues(**SMALL), catalogues(**SMALL))
def test_no_change_is_an_empty_diff_and_added_one_way_is_removed_the_other(a, b):
    assert diff(a, a).as_dict() == {"added": [], "removed": [], "changed": [], "unchanged": len(a)}
    forth, back = diff(a, b), diff(b, a)
    assert forth.added == back.removed and forth.removed == back.added
    assert forth.unchanged == back.unchanged
    assert len(forth.changed) + forth.unchanged == len({p.id for p in a} & {p.id for p in b})


@settings(max_examples=40, deadline=None)
@given(catalogues(**SMALL), st.data())
def test_a_changed_programme_shows_up_changed(a, data):
    """Replacing one programme's schemes with another's: changed exactly when the schemes differ."""
    victim, donor = data.draw(st.sampled_from(a)), data.draw(st.sampled_from(a))
    after = [replace(p, schemes=donor.schemes) if p is victim else p for p in a]
    found = diff(a, after)
    assert bool(found.changed) == (_unordered(victim) != _unordered(donor))


def _unordered(programme):
    return {s.label: (frozenset(s.requirements.mandatory), frozenset(
        (c.need, frozenset(c.options)) for c in s.requirements.combinations), s.requirements.csec_passes,
        s.requirements.cape_passes, s.requirements.cape_units, frozenset(s.requirements.not_counted),
        frozenset(s.conditions)) for s in programme.schemes}
