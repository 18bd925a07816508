"""The student Programme Search page in headless Chromium, against the real engine on the sample catalogue."""
from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request

import pytest

from tests.browser import PROFILE, SCREENSHOTS, screenshot, search_url
from beuwi.ports import free_port

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_script_errors")


def engine_search(site, subjects):
    """What the engine itself answers, to hold the page to."""
    query = urllib.parse.urlencode([("subject", s) for s in subjects])
    with urllib.request.urlopen(f"{site.engine}/api/search?{query}", timeout=10) as response:
        return json.load(response)


def engine_get(site, path):
    with urllib.request.urlopen(site.engine + path, timeout=10) as response:
        return json.load(response)


def add_subject(page, typed, label):
    box = page.get_by_test_id("subject-input")
    box.fill(typed)
    page.locator(f'#subject-listbox [role=option][data-subject="{label}"]').click()
    expect(page.locator(f'[data-testid=chip][data-subject="{label}"]')).to_be_visible()


def chip(page, label):
    return page.locator(f'[data-testid=chip][data-subject="{label}"]')


def expect_results_match(page, answer):
    """Groups in the engine's faculty order, with its counts and exactly its eligible programmes."""
    groups = page.get_by_test_id("faculty-group")
    expect(groups).to_have_count(len(answer["faculties"]))
    assert [g.get_attribute("data-faculty") for g in groups.all()] == [f["faculty"] for f in answer["faculties"]]
    for entry in answer["faculties"]:
        group = page.locator(f'[data-testid=faculty-group][data-faculty="{entry["faculty"]}"]')
        expect(group.get_by_test_id("faculty-count")).to_have_text(str(entry["eligible"]))
        expected = sorted(p["id"] for p in answer["eligible"] if p["faculty"] == entry["faculty"])
        ids = group.get_by_test_id("programme-card").evaluate_all("cards => cards.map(c => c.dataset.programmeId)")
        assert sorted(ids) == expected
    expect(page.get_by_test_id("eligible-count")).to_have_text(f'{len(answer["eligible"])} programmes')


def test_search_with_chips_from_the_autocomplete_shows_results_grouped_by_faculty(site, page):
    page.goto(search_url(site))
    expect(page.get_by_test_id("intro")).to_be_visible()
    for typed, label in [("maths", "Mathematics (CSEC)"), ("english a", "English A (CSEC)"),
                         ("biol csec", "Biology (CSEC)"), ("chem", "Chemistry (CSEC)"), ("span", "Spanish (CSEC)"),
                         ("chemistry cape", "Chemistry (CAPE)"), ("bio", "Biology (CAPE)")]:
        add_subject(page, typed, label)
    chip(page, "Chemistry (CAPE)").get_by_label("Grade for Chemistry (CAPE)").select_option("II")

    expect(page.get_by_test_id("intro")).to_be_hidden()
    expect_results_match(page, engine_search(site, PROFILE))
    card = page.locator('[data-testid=programme-card][data-programme-id="AGR-BSC-AGRI"]')
    expect(card).to_contain_text("BSc")
    expect(card).to_contain_text("Food Production")
    expect(card).to_contain_text("Full-time")
    card.get_by_text("Why you qualify").click()
    expect(card).to_contain_text("has English A (CSEC)")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["s"] == PROFILE


def test_the_autocomplete_matches_aliases_and_skips_chosen_subjects(site, page):
    page.goto(search_url(site))
    add_subject(page, "add maths", "Additional Mathematics (CSEC)")
    page.get_by_test_id("subject-input").fill("additional")
    expect(page.locator('#subject-listbox [data-subject="Additional Mathematics (CSEC)"]')).to_have_count(0)
    page.get_by_test_id("subject-input").fill("zzzz")
    expect(page.locator("#subject-listbox")).to_contain_text("No subject matches")


def test_a_shared_url_restores_the_search_and_the_back_button_walks_it(site, page):
    page.goto(search_url(site, PROFILE))
    chips = page.get_by_test_id("chip")
    expect(chips).to_have_count(len(PROFILE))
    assert [c.get_attribute("data-subject") for c in chips.all()] == [re.sub(r":\w+\)", ")", s) for s in PROFILE]
    expect(chip(page, "Chemistry (CAPE)").get_by_test_id("chip-grade")).to_have_value("II")
    expect_results_match(page, engine_search(site, PROFILE))

    page.get_by_role("button", name="Remove Spanish (CSEC)").click()
    expect(chips).to_have_count(len(PROFILE) - 1)
    expect_results_match(page, engine_search(site, [s for s in PROFILE if s != "Spanish (CSEC)"]))
    page.go_back()
    expect(chip(page, "Spanish (CSEC)")).to_be_visible()
    expect_results_match(page, engine_search(site, PROFILE))


def test_near_misses_say_exactly_what_is_missing(site, page):
    answer = engine_search(site, PROFILE)
    page.goto(search_url(site, PROFILE))
    near = page.get_by_test_id("near-miss")
    expect(near).to_have_count(len(answer["near_misses"]))
    card = page.locator('[data-testid=near-miss][data-programme-id="ENG-BSC-CHEM"]')
    expect(card).to_contain_text("Chemical and Process Engineering")
    expect(card.get_by_test_id("missing")).to_have_text(["Pure Mathematics (CAPE) grade III or better"])
    for miss in answer["near_misses"]:
        items = page.locator(f'[data-testid=near-miss][data-programme-id="{miss["id"]}"] [data-testid=missing]')
        expect(items).to_have_count(len(miss["missing"]))
    page.get_by_role("button", name=f'Show all {len(answer["near_misses"])} nearly there').click()
    expect(near.last).to_be_visible()


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
    expect(chip(page, best["subject"])).to_be_visible()
    opened = len(answer["eligible"]) + best["unlocks"]
    expect(page.get_by_test_id("eligible-count")).to_have_text(f"{opened} programmes")
    expect_results_match(page, engine_search(site, [*PROFILE, best["subject"]]))


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
    for subject in details["requirements"]["mandatory"]:
        expect(requirements).to_contain_text(subject)
    expect(requirements).to_contain_text("grade III or better")
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


def test_a_programme_link_opens_its_details_with_the_students_standing(site, page):
    page.goto(search_url(site, PROFILE, programme="ENG-BSC-CHEM"))
    detail = page.get_by_test_id("programme-detail")
    expect(detail.get_by_role("heading", level=2)).to_have_text("Chemical and Process Engineering")
    expect(detail.get_by_test_id("standing")).to_contain_text("Pure Mathematics (CAPE) grade III or better")
    detail.get_by_role("button", name="Close programme details").click()
    expect(detail).to_be_hidden()
    expect(page.get_by_test_id("near-miss").first).to_be_visible()


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
