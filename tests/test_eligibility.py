from hypothesis import given

from beuwi.domain import Profile, Requirements, SubjectList, is_eligible, reasons, unmet

from .strategies import profiles, requirements

S = SubjectList.default()


def profile(*texts):
    return Profile.from_refs(S.ref(t) for t in texts)


def req(csec=0, cape=0, mandatory=(), combinations=()):
    return Requirements.from_text(S, csec, cape, mandatory, combinations)


def explain(requirements, prof):
    return [str(u) for u in unmet(requirements, prof)]


def test_pass_counts_per_level():
    r = req(csec=2, cape=1)
    assert explain(r, profile("Mathematics (CSEC)")) == ["needs 1 more CSEC pass", "needs 1 more CAPE pass"]
    assert explain(r, profile("Biology (CSEC)")) == ["needs 1 more CSEC pass", "needs 1 more CAPE pass"]
    assert explain(req(csec=3), profile()) == ["needs 3 more CSEC passes"]
    assert is_eligible(r, profile("Mathematics (CSEC)", "Biology (CSEC)", "Biology (CAPE)"))


def test_failed_subjects_are_ignored_everywhere():
    r = req(csec=1, mandatory=["Mathematics (CSEC)"])
    failed = profile("Mathematics (CSEC:IV)")
    assert explain(r, failed) == ["needs 1 more CSEC pass", "missing Mathematics (CSEC)"]
    assert is_eligible(r, profile("Mathematics (CSEC:III)"))
    assert not is_eligible(req(cape=1), profile("Physics (CAPE:VI)"))
    assert is_eligible(req(cape=1), profile("Physics (CAPE:V)"))


def test_graded_reference_needs_that_grade_or_better_and_a_grade_at_all():
    r = req(mandatory=["Chemistry (CAPE:II)"])
    assert is_eligible(r, profile("Chemistry (CAPE:I)"))
    assert is_eligible(r, profile("Chemistry (CAPE:II)"))
    assert explain(r, profile("Chemistry (CAPE:III)")) == ["missing Chemistry (CAPE:II)"]
    assert explain(r, profile("Chemistry (CAPE)")) == ["missing Chemistry (CAPE:II)"]
    assert is_eligible(req(mandatory=["Chemistry (CAPE)"]), profile("Chemistry (CAPE:V)"))


def test_levels_are_different_subjects():
    assert explain(req(mandatory=["Chemistry (CAPE)"]), profile("Chemistry (CSEC:I)")) == ["missing Chemistry (CAPE)"]


def test_combination_needs_n_of_its_options():
    r = req(combinations=["2 of Biology (CAPE) | Chemistry (CAPE) | Physics (CAPE:II)"])
    assert explain(r, profile("Biology (CAPE)", "Physics (CAPE:III)")) == [
        "needs 1 more of: Chemistry (CAPE), Physics (CAPE:II)"]
    assert explain(r, profile()) == ["needs 2 more of: Biology (CAPE), Chemistry (CAPE), Physics (CAPE:II)"]
    assert is_eligible(r, profile("Biology (CAPE)", "Physics (CAPE:I)"))


def test_one_subject_counts_toward_several_requirements():
    r = req(csec=1, mandatory=["Mathematics (CSEC)"], combinations=["1 of Mathematics (CSEC) | Physics (CSEC)"])
    assert is_eligible(r, profile("Mathematics (CSEC)"))


def test_duplicate_entries_keep_the_better_grade():
    prof = profile("Chemistry (CAPE:IV)", "Chemistry (CAPE:I)", "Chemistry (CAPE:VI)")
    assert prof.passes["CAPE"] == 1
    assert is_eligible(req(mandatory=["Chemistry (CAPE:I)"]), prof)


def test_no_requirements_means_everyone_is_eligible():
    assert is_eligible(req(), profile())


def test_reasons_explain_what_was_met():
    r = req(csec=1, mandatory=["Mathematics (CSEC)"], combinations=["1 of Biology (CSEC) | Physics (CSEC)"])
    found = reasons(r, profile("Mathematics (CSEC)", "Physics (CSEC)"))
    assert [str(c) for c in found] == [
        "2 CSEC passes (needs 1)", "has Mathematics (CSEC)", "1 of 2 options: Physics (CSEC)"]
    assert [c.as_dict()["kind"] for c in found] == ["passes", "subject", "combination"]
    assert found[1].as_dict() == {"kind": "subject", "met": True, "subject": "Mathematics (CSEC)",
                                  "by": "Mathematics (CSEC)", "held": None, "text": "has Mathematics (CSEC)"}


def test_met_keys_cover_the_grade_and_every_worse_minimum():
    keys = profile("Chemistry (CAPE:III)", "Biology (CSEC)").met_keys()
    graded = {f"chemistry|CAPE{unit}{grade}" for unit in ("", " U1", " U2") for grade in ("", "@3", "@4", "@5", "@6", "@7")}
    assert set(keys) == graded | {"biology|CSEC"}


@given(requirements(), profiles())
def test_met_keys_agree_with_the_rules(r, prof):
    keys = set(prof.met_keys())
    for ref in r.refs:
        if ref.min_gpa is None:  # an associate degree's GPA is compared, not listed
            assert (ref.key in keys) == prof.meets(ref)


@given(requirements(), profiles())
def test_eligible_exactly_when_nothing_is_unmet_and_rules_hold(r, prof):
    gaps = unmet(r, prof)
    excluded = {S.counts_as(s) for s in r.not_counted}
    expected = (
        len([s for s in prof.csec if s not in excluded]) >= r.csec_passes
        and len([s for s in prof.whole if s not in excluded]) >= r.cape_passes
        and len([u for u in prof.units if u[0] not in excluded]) >= r.cape_units
        and all(prof.meets(m) for m in r.mandatory)
        and all(sum(prof.meets(o) for o in c.options) >= c.need for c in r.combinations)
    )
    assert (not gaps) == expected == is_eligible(r, prof)
