"""The student Programme Search page in headless Chromium, against the real engine on the sample catalogue (and, for
answers the sample need not give, on tests/data/student-page-catalogue.csv). The page is held to what the engine
answers, field by field, never to counts of the sample data."""
from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections import Counter

import pytest

from tests.browser import PROFILE, SCREENSHOTS, screenshot, search_url
from beuwi.ports import free_port

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_script_errors")

# Meets Cave Hill's MBBS by its Scheme B (issue 12, must-hold 3), and programmes with conditions and named schemes.
SCHEME_PROFILE = ["Mathematics (CSEC)", "English A (CSEC)", "Biology (CSEC)", "Chemistry (CSEC)", "Spanish (CSEC)",
                  "Physics (CSEC)", "Chemistry (CAPE)", "Biology (CAPE)", "Economics (CAPE)"]
# On the student-page catalogue: a better grade of Mathematics and the other unit of Sociology are suggested.
UNIT_AND_GRADE_PROFILE = ["Economics (CAPE)", "Sociology (CAPE U1)", "Mathematics (CSEC:III)"]
WIDTHS = pytest.mark.parametrize("width", [360, 1280], ids=["phone", "desktop"])
REF = re.compile(r"^(?P<name>.+) \((?P<level>CSEC|CAPE|GCE [OA])(?: U(?P<unit>[12]))?(?::(?P<grade>[^)]+))?\)$")


def engine_search(site, subjects):
    """What the engine itself answers, to hold the page to."""
    query = urllib.parse.urlencode([("subject", s) for s in subjects])
    with urllib.request.urlopen(f"{site.engine}/api/search?{query}", timeout=10) as response:
        return json.load(response)


def engine_get(site, path):
    with urllib.request.urlopen(site.engine + path, timeout=10) as response:
        return json.load(response)


def readable(label: str) -> str:
    """A requirement's reference as the page words it: "Chemistry (CAPE) grade II or better", "Sociology (CAPE) Unit 2"."""
    ref = REF.match(label)
    if not ref:
        return label
    unit = f" Unit {ref['unit']}" if ref["unit"] else ""
    grade = f" grade {ref['grade']} or better" if ref["grade"] else ""
    return f"{ref['name']} ({ref['level']}){unit}{grade}"


def without_grade(label: str) -> str:
    return re.sub(r":[^)]+\)$", ")", label)


def plural(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def scheme_name(label: str) -> str:
    return f"Scheme {label}" if re.fullmatch(r"[A-Z0-9]{1,2}", label) else f"{label} route"


def conditions_phrase(conditions) -> str:
    words = [c[0].lower() + c[1:] for c in conditions]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def add_subject(page, typed, label):
    box = page.get_by_test_id("subject-input")
    box.fill(typed)
    page.locator(f'#subject-listbox [role=option][data-subject="{label}"]').click()
    expect(page.locator(f'[data-testid=chip][data-subject="{label}"]')).to_be_visible()


def chip(page, label):
    return page.locator(f'[data-testid=chip][data-subject="{label}"]')


def card(page, programme_id, kind="programme-card"):
    return page.locator(f'[data-testid={kind}][data-programme-id="{programme_id}"]')


def url_params(page) -> dict:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)


def show_everything(page):
    """Unfold every "Show all" list, as a student reading all of them would."""
    more = page.get_by_test_id("show-more")
    while more.count():
        more.first.click()


def narrowed(answer, **filters):
    """The answer as the page's filters should leave it (campus, faculty, degree exact; mode one of the three)."""
    modes = {"full-time": "full_time", "part-time": "part_time", "evening": "evening"}

    def keep(p):
        return all(p[modes[v]] if k == "mode" else p[k] == v for k, v in filters.items())

    eligible = [p for p in answer["eligible"] if keep(p)]
    near = [p for p in answer["near_misses"] if keep(p)]
    counts = Counter(p["faculty"] for p in eligible)
    faculties = [{"faculty": f["faculty"], "eligible": counts[f["faculty"]]} for f in answer["faculties"] if counts[f["faculty"]]]
    return {**answer, "eligible": eligible, "near_misses": near, "near_misses_total": len(near), "faculties": faculties}


def expect_results_match(page, answer):
    """Groups in the engine's faculty order, with its counts and exactly its eligible and nearly-there programmes."""
    groups = page.get_by_test_id("faculty-group")
    expect(groups).to_have_count(len(answer["faculties"]))
    assert [g.get_attribute("data-faculty") for g in groups.all()] == [f["faculty"] for f in answer["faculties"]]
    for entry in answer["faculties"]:
        group = page.locator(f'[data-testid=faculty-group][data-faculty="{entry["faculty"]}"]')
        expect(group.get_by_test_id("faculty-count")).to_have_text(str(entry["eligible"]))
        expected = sorted(p["id"] for p in answer["eligible"] if p["faculty"] == entry["faculty"])
        ids = group.get_by_test_id("programme-card").evaluate_all("cards => cards.map(c => c.dataset.programmeId)")
        assert sorted(ids) == expected
    if answer["eligible"]:
        expect(page.get_by_test_id("eligible-count")).to_have_text(plural(len(answer["eligible"]), "programme"))
    near = page.get_by_test_id("near-miss").evaluate_all("cards => cards.map(c => c.dataset.programmeId)")
    assert sorted(near) == sorted(p["id"] for p in answer["near_misses"])


def test_search_with_chips_from_the_autocomplete_shows_results_grouped_by_faculty(site, page):
    page.goto(search_url(site))
    expect(page.get_by_test_id("intro")).to_be_visible()
    for typed, label in [("maths", "Mathematics (CSEC)"), ("english a", "English A (CSEC)"),
                         ("biol csec", "Biology (CSEC)"), ("chem", "Chemistry (CSEC)"), ("span", "Spanish (CSEC)"),
                         ("chemistry cape", "Chemistry (CAPE)"), ("bio", "Biology (CAPE)")]:
        add_subject(page, typed, label)
    chip(page, "Chemistry (CAPE)").get_by_label("Grade for Chemistry (CAPE)").select_option("II")

    expect(page.get_by_test_id("intro")).to_be_hidden()
    answer = engine_search(site, PROFILE)
    expect_results_match(page, answer)
    first = answer["eligible"][0]
    shown = card(page, first["id"])
    expect(shown).to_contain_text(first["degree"])
    expect(shown).to_contain_text(first["department"])
    shown.get_by_text("Why you qualify").click()
    checks = shown.get_by_test_id("check")
    expect(checks).to_have_count(len(first["checks"]))
    assert checks.evaluate_all("items => items.map(i => i.dataset.kind)") == [c["kind"] for c in first["checks"]]
    for check in first["checks"]:
        if check["kind"] == "subject":
            expect(shown).to_contain_text(readable(check["subject"]))
    assert url_params(page)["s"] == PROFILE


def test_eligible_cards_say_which_scheme_and_which_conditions(site, page):
    answer = engine_search(site, SCHEME_PROFILE)
    via = [p for p in answer["eligible"] if p["scheme"]]
    conditional = [p for p in answer["eligible"] if p["conditions"]]
    assert any(re.fullmatch(r"[A-Z]", p["scheme"]) for p in via), "the sample has a programme with Schemes A and B"
    assert any(len(p["conditions"]) > 1 for p in conditional), "the sample has a programme with two conditions"
    page.goto(search_url(site, SCHEME_PROFILE))
    expect_results_match(page, answer)
    for p in via:
        scheme = p["scheme"]
        said = f"via Scheme {scheme}" if re.fullmatch(r"[A-Z0-9]{1,2}", scheme) else f"via the {scheme} route"
        expect(card(page, p["id"]).get_by_test_id("route")).to_have_text(said)
    for p in conditional:
        expect(card(page, p["id"]).get_by_test_id("conditions")).to_have_text(
            f"Eligible, subject to {conditions_phrase(p['conditions'])}")
    plain = [p for p in answer["eligible"] if not p["scheme"] and not p["conditions"]]
    for p in plain[:3]:
        expect(card(page, p["id"]).get_by_test_id("route")).to_have_count(0)
        expect(card(page, p["id"]).get_by_test_id("conditions")).to_have_count(0)
    mbbs = next(p for p in via if re.fullmatch(r"[A-Z]", p["scheme"]))
    shown = card(page, mbbs["id"])
    show_everything(page)
    shown.get_by_text("Why you qualify").click()
    expect(shown.get_by_test_id("check")).to_have_count(len(mbbs["checks"]))
    expect(shown.locator("[data-testid=check][data-met=false]")).to_have_count(0)


def test_the_autocomplete_matches_aliases_and_skips_chosen_subjects(site, page):
    page.goto(search_url(site))
    add_subject(page, "add maths", "Additional Mathematics (CSEC)")
    page.get_by_test_id("subject-input").fill("additional")
    expect(page.locator('#subject-listbox [data-subject="Additional Mathematics (CSEC)"]')).to_have_count(0)
    page.get_by_test_id("subject-input").fill("zzzz")
    expect(page.locator("#subject-listbox")).to_contain_text("No subject matches")


def test_the_autocomplete_offers_the_likely_subject_first(site, page):
    """Physics (CSEC) for "phys", not Physical Education and Sport (CAPE): names starting with the word first, common
    subjects before rare ones, CSEC before CAPE before GCE."""
    subjects = engine_get(site, "/api/subjects")["subjects"]
    common = Counter()
    for s in subjects:
        common[s["name"]] += s.get("programmes", 0)
    assert common["Physics"] > common["Physical Education and Sport"]
    page.goto(search_url(site))
    box = page.get_by_test_id("subject-input")
    expect(box).to_be_enabled()
    options = page.locator("#subject-listbox [role=option]")

    box.fill("phys")
    labels = options.evaluate_all("items => items.map(i => i.dataset.subject)")
    physics = [label for label in labels if label.startswith("Physics (")]
    assert physics == ["Physics (CSEC)", "Physics (CAPE)", "Physics (GCE O)", "Physics (GCE A)"]
    assert labels.index("Physics (GCE A)") < labels.index("Physical Education and Sport (CSEC)")
    box.press("Enter")
    expect(chip(page, "Physics (CSEC)")).to_be_visible()

    box.fill("spanish")
    box.press("Enter")
    expect(chip(page, "Spanish (CSEC)")).to_be_visible()
    expect(page.get_by_test_id("chip")).to_have_count(2)

    box.fill("bio")
    names = [label.split(" (")[0] for label in options.evaluate_all("items => items.map(i => i.dataset.subject)")]
    starting = [name.lower().startswith("bio") for name in names]
    assert not all(starting), names  # Human and Social Biology contains "bio"
    assert starting == sorted(starting, reverse=True), names  # every name starting with it comes first


@WIDTHS
def test_cape_units_gce_subjects_and_an_associate_degree_are_chips_a_link_keeps(site, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    listing = engine_get(site, "/api/subjects")
    grades = {level["level"]: level["grades"] for level in listing["levels"]}
    one_unit = next(s for s in listing["subjects"] if s["level"] == "CAPE" and s["units"] == 1)
    page.goto(search_url(site))

    add_subject(page, "sociology cape", "Sociology (CAPE)")
    units = chip(page, "Sociology (CAPE)").get_by_label("Units for Sociology (CAPE)")
    expect(units.locator("option")).to_have_text(["Both units", "Unit 1 only", "Unit 2 only"])
    units.select_option(label="Unit 1 only")
    chip(page, "Sociology (CAPE U1)").get_by_label("Grade for Sociology (CAPE U1)").select_option("II")
    add_subject(page, "chemistry gce a", "Chemistry (GCE A)")
    grade = chip(page, "Chemistry (GCE A)").get_by_label("Grade for Chemistry (GCE A)")
    expect(grade.locator("option")).to_have_text(["Any pass", *(f"Grade {g}" for g in grades["GCE A"])])
    grade.select_option("B")
    add_subject(page, one_unit["name"].lower(), one_unit["label"])
    expect(chip(page, one_unit["label"]).get_by_test_id("chip-unit")).to_have_count(0)  # a one-unit subject

    gpa = page.get_by_label("Associate degree GPA")
    gpa.fill("4.5")
    page.get_by_test_id("gpa-add").click()
    expect(page.get_by_test_id("gpa-error")).to_be_visible()
    expect(gpa).to_have_attribute("aria-invalid", "true")
    gpa.fill("2.8")
    gpa.press("Enter")
    expect(page.get_by_test_id("gpa-error")).to_be_hidden()
    expect(chip(page, "Associate Degree")).to_contain_text("GPA 2.8")

    expected = ["Sociology (CAPE U1:II)", "Chemistry (GCE A:B)", one_unit["label"], "Associate Degree (GPA:2.8)"]
    assert url_params(page)["s"] == expected
    answer = engine_search(site, expected)
    assert sorted(answer["subjects"]) == sorted(expected)  # the engine reads every chip as the page meant it
    expect(page.get_by_test_id("input-error")).to_be_hidden()

    page.reload()
    chips = page.get_by_test_id("chip")
    expect(chips).to_have_count(len(expected))
    assert [c.get_attribute("data-subject") for c in chips.all()] == [
        "Sociology (CAPE U1)", "Chemistry (GCE A)", one_unit["label"], "Associate Degree"]
    expect(chip(page, "Sociology (CAPE U1)").get_by_test_id("chip-unit")).to_have_value("1")
    expect(chip(page, "Sociology (CAPE U1)").get_by_test_id("chip-grade")).to_have_value("II")
    expect(chip(page, "Chemistry (GCE A)").get_by_test_id("chip-grade")).to_have_value("B")
    expect(chip(page, "Associate Degree")).to_contain_text("GPA 2.8")
    assert url_params(page)["s"] == expected

    gpa.fill("3.25")  # a student has one associate degree: a new GPA takes the old one's place
    page.get_by_test_id("gpa-add").click()
    expect(chip(page, "Associate Degree")).to_contain_text("GPA 3.25")
    expect(chips).to_have_count(len(expected))
    assert url_params(page)["s"] == [*expected[:-1], "Associate Degree (GPA:3.25)"]


@WIDTHS
def test_filters_narrow_the_results_without_a_new_search_and_a_link_keeps_them(site, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    answer = engine_search(site, PROFILE)
    campus = Counter(p["campus"] for p in answer["eligible"]).most_common(1)[0][0]
    at_campus = narrowed(answer, campus=campus)
    mode = next(m for m, field in [("part-time", "part_time"), ("evening", "evening"), ("full-time", "full_time")]
                if any(p[field] for p in at_campus["eligible"]))
    searches = []
    page.on("request", lambda request: searches.append(request.url) if "/api/search" in request.url else None)
    page.goto(search_url(site, PROFILE))
    expect_results_match(page, answer)
    made = len(searches)

    programmes = answer["eligible"] + answer["near_misses"]
    expect(page.get_by_test_id("filter-campus").locator("option")).to_have_text(
        ["All", *sorted({p["campus"] for p in programmes})])
    expect(page.get_by_test_id("filter-degree").locator("option")).to_have_text(
        ["All", *sorted({p["degree"] for p in programmes})])
    page.get_by_test_id("filter-campus").select_option(campus)
    expect_results_match(page, at_campus)
    page.get_by_test_id("filter-mode").select_option(mode)
    both = narrowed(answer, campus=campus, mode=mode)
    expect_results_match(page, both)
    expect(page.get_by_test_id("filter-note")).to_contain_text(campus)
    assert url_params(page)["campus"] == [campus] and url_params(page)["mode"] == [mode]
    assert len(searches) == made, "filtering asked the engine again"

    page.reload()
    expect(page.get_by_test_id("filter-campus")).to_have_value(campus)
    expect(page.get_by_test_id("filter-mode")).to_have_value(mode)
    expect_results_match(page, both)

    page.get_by_test_id("clear-filters").click()
    expect_results_match(page, answer)
    expect(page.get_by_test_id("clear-filters")).to_be_hidden()
    expect(page.get_by_test_id("filter-campus")).to_have_value("")
    assert "campus" not in url_params(page) and "mode" not in url_params(page)

    first = answer["eligible"][0]
    page.get_by_test_id("filter-faculty").select_option(first["faculty"])
    page.get_by_test_id("filter-degree").select_option(first["degree"])
    expect_results_match(page, narrowed(answer, faculty=first["faculty"], degree=first["degree"]))
    page.go_back()
    expect_results_match(page, narrowed(answer, faculty=first["faculty"]))


def test_a_shared_url_restores_the_search_and_the_back_button_walks_it(site, page):
    page.goto(search_url(site, PROFILE))
    chips = page.get_by_test_id("chip")
    expect(chips).to_have_count(len(PROFILE))
    assert [c.get_attribute("data-subject") for c in chips.all()] == [without_grade(s) for s in PROFILE]
    expect(chip(page, "Chemistry (CAPE)").get_by_test_id("chip-grade")).to_have_value("II")
    expect_results_match(page, engine_search(site, PROFILE))

    page.get_by_role("button", name="Remove Spanish (CSEC)").click()
    expect(chips).to_have_count(len(PROFILE) - 1)
    expect_results_match(page, engine_search(site, [s for s in PROFILE if s != "Spanish (CSEC)"]))
    page.go_back()
    expect(chip(page, "Spanish (CSEC)")).to_be_visible()
    expect_results_match(page, engine_search(site, PROFILE))


def fixes_of(check) -> list[str]:
    """The subjects a near miss's fix buttons add: the missing subject, or each option of a combination not met."""
    if check["kind"] == "subject":
        return [check["subject"]]
    if check["kind"] == "combination":
        return [o for o in check["options"] if o not in check["met_options"]]
    return []


def test_near_misses_say_exactly_what_is_missing(site, page):
    answer = engine_search(site, PROFILE)
    page.goto(search_url(site, PROFILE))
    near = page.get_by_test_id("near-miss")
    expect(near).to_have_count(len(answer["near_misses"]))
    assert {m["missing"][0]["kind"] for m in answer["near_misses"]} >= {"subject", "combination"}
    for miss in answer["near_misses"]:
        (check,) = miss["missing"]
        shown = card(page, miss["id"], "near-miss")
        expect(shown.get_by_test_id("missing")).to_have_count(1)
        expect(shown.get_by_test_id("missing")).to_have_attribute("data-kind", check["kind"])
        if check["kind"] == "subject":
            expect(shown.get_by_test_id("missing-text")).to_contain_text(readable(check["subject"]))
        fixes = shown.get_by_test_id("fix").evaluate_all("buttons => buttons.map(b => b.dataset.subject)")
        assert fixes == fixes_of(check), miss["id"]
        if miss.get("scheme"):
            expect(shown.get_by_test_id("route")).to_have_text(f"Closest: {scheme_name(miss['scheme'])}")
        if miss.get("conditions"):
            expect(shown.get_by_test_id("conditions")).to_have_text(f"Also subject to {conditions_phrase(miss['conditions'])}")
    page.get_by_role("button", name=f'Show all {len(answer["near_misses"])} nearly there').click()
    expect(near.last).to_be_visible()


def test_uncounted_subjects_and_a_subject_held_only_in_part_are_said(site, page):
    """Mona's Social Sciences do not count Caribbean and Communication Studies; one unit of Sociology is not all of it."""
    profile = [*PROFILE[:5], "Caribbean Studies (CAPE)", "Communication Studies (CAPE)", "History (CAPE)",
               "Sociology (CAPE U1)"]
    answer = engine_search(site, profile)
    uncounted = [m for m in answer["near_misses"] if m["missing"][0].get("not_counted")]
    held = [m for m in answer["near_misses"] if m["missing"][0]["kind"] == "subject" and m["missing"][0]["held"]]
    assert uncounted and held, "the sample has both"
    page.goto(search_url(site, profile))
    for miss in uncounted:
        text = card(page, miss["id"], "near-miss").get_by_test_id("missing-text")
        expect(text).to_contain_text("not counted here")
        for label in miss["missing"][0]["not_counted"]:
            expect(text).to_contain_text(readable(label))
    for miss in held:
        check = miss["missing"][0]
        shown = card(page, miss["id"], "near-miss")
        expect(shown.get_by_test_id("missing-text")).to_contain_text(f"you have {without_grade(readable(check['held']))}")
        expect(shown.get_by_test_id("fix")).to_have_text([re.compile(r"^Change to ")])


@pytest.mark.parametrize("kind", ["subject", "combination"])
def test_a_near_miss_fix_adds_what_is_missing_and_the_programme_opens(site, page, kind):
    answer = engine_search(site, PROFILE)
    miss = next(m for m in answer["near_misses"] if m["missing"][0]["kind"] == kind and m["missing"][0].get("short", 1) == 1)
    added = fixes_of(miss["missing"][0])[0]
    page.goto(search_url(site, PROFILE))
    show_everything(page)
    card(page, miss["id"], "near-miss").locator(f'[data-testid=fix][data-subject="{added}"]').click()
    expect(chip(page, without_grade(added))).to_be_visible()
    subjects = url_params(page)["s"]
    assert added in subjects
    expect(card(page, miss["id"])).to_be_visible()  # now among the programmes the student qualifies for
    after = engine_search(site, subjects)
    assert miss["id"] in [p["id"] for p in after["eligible"]]
    expect_results_match(page, after)


def tab_to(page, target, presses: int):
    """Press Tab (at most `presses` times) until `target` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("node => node === document.activeElement"):
            break
    expect(target).to_be_focused()


def test_keyboard_only_search(site, page):
    page.goto(search_url(site))
    box = page.get_by_test_id("subject-input")
    expect(box).to_be_enabled()
    tab_to(page, box, 5)

    page.keyboard.type("chem")
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = page.locator("#" + box.get_attribute("aria-activedescendant"))
    expect(active).to_have_attribute("aria-selected", "true")
    chosen = active.get_attribute("data-subject")
    page.keyboard.press("Enter")
    expect(chip(page, chosen)).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_be_focused()

    page.keyboard.type("engl")
    page.keyboard.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("chip")).to_have_count(2)
    expect(page.get_by_test_id("intro")).to_be_hidden()

    remove = page.get_by_role("button", name=f"Remove {chosen}")
    tab_to(page, remove, 8)
    page.keyboard.press("Enter")
    expect(chip(page, chosen)).to_have_count(0)
    expect(page.get_by_test_id("chip")).to_have_count(1)


def test_a_suggestion_adds_its_subject_and_opens_programmes(site, page):
    answer = engine_search(site, PROFILE)
    best = answer["suggestions"][0]
    page.goto(search_url(site, PROFILE))
    button = page.locator(f'[data-testid=suggestion][data-subject="{best["subject"]}"]')
    expect(button).to_contain_text(f'opens {best["unlocks"]} more programmes')
    button.click()
    expect(chip(page, without_grade(best["subject"]))).to_be_visible()
    opened = len(answer["eligible"]) + best["unlocks"]
    expect(page.get_by_test_id("eligible-count")).to_have_text(f"{opened} programmes")
    expect_results_match(page, engine_search(site, url_params(page)["s"]))


def test_suggestions_raise_a_grade_in_its_chip_and_add_the_other_unit(student_site, page):
    answer = engine_search(student_site, UNIT_AND_GRADE_PROFILE)
    grade = next(s for s in answer["suggestions"] if s["kind"] == "grade")
    page.goto(search_url(student_site, UNIT_AND_GRADE_PROFILE))

    raise_it = page.locator(f'[data-testid=suggestion][data-subject="{grade["subject"]}"]')
    expect(raise_it).to_contain_text(
        f'{without_grade(grade["subject"])} at grade {grade["grade"]} opens {grade["unlocks"]} more programmes')
    raise_it.click()
    held = chip(page, without_grade(grade["replaces"]))
    expect(held.get_by_test_id("chip-grade")).to_have_value(grade["grade"])
    expect(page.get_by_test_id("chip")).to_have_count(len(UNIT_AND_GRADE_PROFILE))
    subjects = url_params(page)["s"]
    assert grade["subject"] in subjects and grade["replaces"] not in subjects
    after = engine_search(student_site, subjects)
    expect_results_match(page, after)
    assert len(after["eligible"]) == len(answer["eligible"]) + grade["unlocks"]

    unit = next(s for s in after["suggestions"] if s["kind"] == "unit")

    add_unit = page.locator(f'[data-testid=suggestion][data-subject="{unit["subject"]}"]')
    expect(add_unit).to_contain_text(f'Add {unit["subject"]} opens {unit["unlocks"]} more programmes')
    add_unit.click()
    whole = re.sub(r" U[12]\)", ")", unit["subject"])  # both units held: one chip for the whole subject
    expect(chip(page, whole).get_by_test_id("chip-unit")).to_have_value("")
    expect(page.get_by_test_id("chip")).to_have_count(len(UNIT_AND_GRADE_PROFILE))
    final = engine_search(student_site, url_params(page)["s"])
    expect_results_match(page, final)
    assert len(final["eligible"]) == len(after["eligible"]) + unit["unlocks"]


def test_an_unknown_subject_in_a_link_is_explained_inline_with_a_fix(site, page):
    page.goto(search_url(site, ["Mathematics (CSEC)", "Chemestry (CSEC)"]))
    error = page.get_by_test_id("input-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Chemestry")
    error.get_by_role("button", name="Use Chemistry (CSEC)").click()
    expect(error).to_be_hidden()
    expect(chip(page, "Chemistry (CSEC)")).to_be_visible()
    expect(chip(page, "Chemestry (CSEC)")).to_have_count(0)


def test_browse_by_faculty_and_open_a_programme(site, page):
    faculties = engine_get(site, "/api/faculties")["faculties"]
    faculty = next(f for f in faculties if f["faculty"] == "Science and Technology")
    details = engine_get(site, "/api/programmes/SCI-BSC-CS")
    page.goto(search_url(site))
    entry = page.locator('[data-testid=browse-faculty][data-faculty="Science and Technology"]')
    toggle = entry.get_by_role("button")
    expect(toggle).to_contain_text(f'{faculty["programmes"]} programmes')
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(entry.get_by_test_id("browse-programme")).to_have_count(faculty["programmes"])

    entry.get_by_role("link", name=details["name"], exact=True).click()
    detail = page.get_by_test_id("programme-detail")
    expect(detail).to_be_visible()
    expect(detail.get_by_role("heading", level=2)).to_have_text(details["name"])
    requirements = detail.get_by_test_id("requirements")
    checks = [c for scheme in details["schemes"] for c in scheme["checks"]]
    expect(requirements.get_by_test_id("check")).to_have_count(len(checks))
    for check in checks:
        if check["kind"] == "subject":
            expect(requirements).to_contain_text(readable(check["subject"]))
    expect(detail.get_by_test_id("standing")).to_have_count(0)  # no subjects: nothing judged
    for career in details["careers"]:
        expect(detail.get_by_test_id("careers")).to_contain_text(career)
    expect(detail.get_by_test_id("programme-url")).to_have_attribute("href", details["url"])
    assert "programme=SCI-BSC-CS" in page.url

    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    assert "programme=" not in page.url
    page.go_forward()
    expect(detail).to_be_visible()
    page.go_back()
    expect(detail).to_be_hidden()


def expect_schemes_judged(detail, details, judged=True):
    """A block per scheme with its heading and verdict, and a tick or cross per requirement, as the engine judged."""
    blocks = detail.get_by_test_id("scheme")
    expect(blocks).to_have_count(len(details["schemes"]))
    for block, scheme in zip(blocks.all(), details["schemes"]):
        name = scheme_name(scheme["label"]) if scheme["label"] else "Requirements"
        verdict = (" — you meet this" if scheme["met"] else " — not yet") if judged else ""
        expect(block.get_by_role("heading", level=4)).to_have_text(name + verdict)
        items = block.get_by_test_id("check")
        expect(items).to_have_count(len(scheme["checks"]))
        assert items.evaluate_all("items => items.map(i => [i.dataset.kind, i.dataset.met])") == [
            [c["kind"], str(c["met"]).lower()] for c in scheme["checks"]]
        if scheme["conditions"]:
            expect(block.get_by_test_id("scheme-conditions")).to_contain_text(conditions_phrase(scheme["conditions"]))


def test_a_programmes_detail_judges_every_scheme_for_the_students_subjects(site, page):
    programmes = engine_get(site, "/api/programmes")["programmes"]
    two = next(p for p in programmes if len(p["schemes"]) >= 2)
    query = urllib.parse.urlencode([("subject", s) for s in SCHEME_PROFILE])
    details = engine_get(site, f"/api/programmes/{two['id']}?{query}")
    assert {s["met"] for s in details["schemes"]} == {True, False}, "one scheme met, one not, for this profile"
    page.goto(search_url(site, SCHEME_PROFILE, programme=two["id"]))
    detail = page.get_by_test_id("programme-detail")
    expect(detail.get_by_role("heading", level=2)).to_have_text(details["name"])
    expect_schemes_judged(detail, details)
    met = next(s for s in details["schemes"] if s["met"])
    expect(detail.get_by_test_id("standing")).to_contain_text("You qualify with your subjects")
    expect(detail.get_by_test_id("standing")).to_contain_text(scheme_name(met["label"]))
    expect(detail.locator("[data-testid=check][data-met=false]").first).to_contain_text("Not met")

    page.goto(search_url(site, programme=two["id"]))
    expect_schemes_judged(detail, engine_get(site, f"/api/programmes/{two['id']}"), judged=False)


def test_a_programme_link_opens_its_details_with_the_students_standing(site, page):
    miss = engine_search(site, PROFILE)["near_misses"][0]
    query = urllib.parse.urlencode([("subject", s) for s in PROFILE])
    details = engine_get(site, f"/api/programmes/{miss['id']}?{query}")
    page.goto(search_url(site, PROFILE, programme=miss["id"]))
    detail = page.get_by_test_id("programme-detail")
    expect(detail.get_by_role("heading", level=2)).to_have_text(miss["name"])
    expect(detail.get_by_test_id("standing")).to_have_text("You are one requirement away")
    expect_schemes_judged(detail, details)
    detail.get_by_role("button", name="Close programme details").click()
    expect(detail).to_be_hidden()
    expect(page.get_by_test_id("near-miss").first).to_be_visible()


def test_durations_read_as_a_person_would(student_site, page):
    """"2" reads "2 years", "1" "1 year", "?" and blank say nothing; "3-4 years" stays as written."""
    said = {"2": "2 years", "1": "1 year", "?": "", "": "", "3-4 years": "3-4 years", "4 years": "4 years",
            "5 years": "5 years"}
    programmes = engine_get(student_site, "/api/programmes")["programmes"]
    assert {"2", "1", "?", ""} <= {p["duration"] for p in programmes}
    page.goto(search_url(student_site))
    faculties = engine_get(student_site, "/api/faculties")["faculties"]
    expect(page.get_by_test_id("browse-faculty")).to_have_count(len(faculties))
    for entry in page.get_by_test_id("browse-faculty").all():
        entry.get_by_role("button").click()
    rows = page.get_by_test_id("browse-programme")
    expect(rows).to_have_count(len(programmes))
    for p in programmes:
        meta = page.locator(f'[data-testid=browse-programme][data-programme-id="{p["id"]}"] .browse-row-meta').inner_text()
        assert "?" not in meta and not meta.endswith("·")
        if said[p["duration"]]:
            assert meta.endswith(" · " + said[p["duration"]]), meta
        else:
            assert not re.search(r"\d", meta), meta

    profile = ["Economics (CAPE)", "Sociology (CAPE)", "Mathematics (CSEC:I)", "Associate Degree (GPA:3.6)"]
    answer = engine_search(student_site, profile)
    assert {"2", "1", "?", ""} <= {p["duration"] for p in answer["eligible"]}
    page.goto(search_url(student_site, profile))
    expect_results_match(page, answer)
    for p in answer["eligible"]:
        duration = card(page, p["id"]).get_by_test_id("duration")
        if said[p["duration"]]:
            expect(duration).to_have_text(said[p["duration"]])
        else:
            expect(duration).to_have_count(0)

    unknown = next(p for p in programmes if p["duration"] == "?")
    page.goto(search_url(student_site, programme=unknown["id"]))
    facts = page.get_by_test_id("programme-detail").locator(".facts")
    expect(facts).to_contain_text("Campus")
    expect(facts).not_to_contain_text("Duration")
    expect(page.get_by_test_id("programme-detail")).not_to_contain_text("null")  # no url: nothing said, not "null"
    two = next(p for p in programmes if p["duration"] == "2")
    page.goto(search_url(student_site, programme=two["id"]))
    expect(facts).to_contain_text("2 years")


@WIDTHS
def test_printing_gives_the_subjects_and_results_without_the_controls(site, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    answer = engine_search(site, PROFILE)
    page.goto(search_url(site, PROFILE))
    expect_results_match(page, answer)
    page.get_by_role("button", name="Print or save as PDF").click()
    assert page.evaluate("window.printed") == 1

    page.emulate_media(media="print")
    for chrome in [".site-header", ".search-panel", "#subject-input", "[data-testid=filters]", "[data-testid=print]",
                   "#suggestions", "#browse", ".site-footer", ".jump"]:
        expect(page.locator(chrome).first).to_be_hidden()
    for button in page.locator("#results button").all():
        expect(button).to_be_hidden()
    head = page.get_by_test_id("print-head")
    expect(head).to_be_visible()
    held = "; ".join(re.sub(r" or better$", "", readable(subject)) for subject in PROFILE)
    expect(head.locator("p")).to_have_text([f"Your subjects: {held}"])
    for group in page.get_by_test_id("faculty-group").all():
        expect(group.get_by_role("heading", level=3)).to_be_visible()
    for p in answer["eligible"]:  # every one, folded or not, with why it qualifies
        shown = card(page, p["id"])
        expect(shown).to_be_visible()
        expect(shown.get_by_test_id("check").first).to_be_visible()
    for miss in answer["near_misses"]:
        expect(card(page, miss["id"], "near-miss").get_by_test_id("missing-text")).to_be_visible()
    screenshot(page, "search-print.png")

    page.emulate_media(media="screen")
    expect(head).to_be_hidden()
    expect(page.locator(".search-panel")).to_be_visible()


def test_an_unreachable_engine_shows_a_friendly_state(site, page):
    closed = f"http://127.0.0.1:{free_port()}"
    page.route("**/config.js", lambda route: route.fulfill(
        content_type="text/javascript", body=f'window.BEUWI_CONFIG = {{"engine": "{closed}", "admin": "{closed}"}};'))
    page.goto(search_url(site, PROFILE))
    error = page.get_by_test_id("engine-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("can’t reach")
    expect(error.get_by_role("button", name="Try again")).to_be_visible()
    expect(page.get_by_test_id("chip")).to_have_count(len(PROFILE))
    expect(page.get_by_test_id("programme-card")).to_have_count(0)


def test_an_engine_that_never_answers_shows_the_friendly_state(site, page):
    page.clock.install()
    page.route(f"{site.engine}/api/search**", lambda route: None)  # held: the engine accepts and never answers
    page.goto(search_url(site, PROFILE))
    expect(page.get_by_test_id("chip")).to_have_count(len(PROFILE))
    page.clock.run_for(9_000)
    expect(page.get_by_test_id("engine-error")).to_be_hidden()
    page.clock.run_for(2_000)
    expect(page.get_by_test_id("engine-error")).to_be_visible()
    expect(page.get_by_test_id("chip")).to_have_count(len(PROFILE))


def test_retry_recovers_when_the_engine_comes_back(site, page):
    page.route(f"{site.engine}/**", lambda route: route.abort())
    page.goto(search_url(site, PROFILE))
    error = page.get_by_test_id("engine-error")
    expect(error).to_be_visible()
    page.unroute(f"{site.engine}/**")
    error.get_by_role("button", name="Try again").click()
    expect(error).to_be_hidden()
    expect_results_match(page, engine_search(site, PROFILE))


def test_no_programmes_match(site, page):
    subjects = ["Physics (CAPE)"]
    assert not engine_search(site, subjects)["eligible"]
    page.goto(search_url(site, subjects))
    expect(page.get_by_test_id("no-results")).to_be_visible()
    expect(page.get_by_test_id("browse-faculty").first).to_be_visible()


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_phone_width_has_no_horizontal_scroll_and_screenshots(site, page):
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(search_url(site))
    expect(page.get_by_test_id("browse-faculty").first).to_be_visible()
    page.get_by_test_id("browse-faculty").first.get_by_role("button").click()
    assert no_horizontal_scroll(page)

    page.goto(search_url(site, PROFILE))
    expect(page.get_by_test_id("programme-card").first).to_be_visible()
    more = page.get_by_test_id("show-more")
    for _ in range(more.count()):
        more.first.click()
    expect(more).to_have_count(0)
    assert no_horizontal_scroll(page)
    page.get_by_test_id("subject-input").fill("a")
    expect(page.locator("#subject-listbox")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.get_by_test_id("subject-input").press("Escape")
    every_kind = [*PROFILE, "Sociology (CAPE U1:II)", "Chemistry (GCE A:B)", "Associate Degree (GPA:2.8)"]
    page.goto(search_url(site, every_kind, mode="full-time"))
    expect(page.get_by_test_id("chip-unit").first).to_be_visible()
    expect(page.get_by_test_id("clear-filters")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.goto(search_url(site, PROFILE))
    expect(page.get_by_test_id("programme-card").first).to_be_visible()
    screenshot(page, "search-phone.png")

    page.goto(search_url(site, PROFILE, programme="SCI-BSC-CS"))
    expect(page.get_by_test_id("requirements")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "detail-phone.png"))  # the modal, as the phone shows it

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(search_url(site, PROFILE))
    expect(page.get_by_test_id("programme-card").first).to_be_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "search-desktop.png")
