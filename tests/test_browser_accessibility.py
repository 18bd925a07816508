"""What both pages promise every user, checked in headless Chromium: WCAG 2.1 AA (names, roles, labels and ARIA by
axe-core from npm; text contrast by our own check, which also judges the gradients and translucent layers axe leaves
undecided), and results that arrive without pushing the page around."""
from __future__ import annotations

import pytest

from tests.browser import PROFILE, ROOT, changed_sample, search_url, sign_in

# A chip of every kind: a CAPE unit (with its unit and grade choices), a GCE A-Level, an associate degree.
EVERY_KIND = [*PROFILE, "Sociology (CAPE U1:II)", "Chemistry (GCE A:B)", "Associate Degree (GPA:2.8)"]

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_script_errors")

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # installed by `npm ci` (package.json)
AXE_RUN = """async () => (await axe.run(document, {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
})).violations.map((v) => ({ rule: v.id, help: v.help, where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }))"""

# Every visible text node against the colour behind it: the first opaque background up the tree, with translucent
# ones and the element's own opacity blended in (over a gradient, its worst stop). Large text (24 px, or 18.66 px
# bold) needs 3:1, the rest 4.5:1; disabled controls are exempt (WCAG 1.4.3). Text over an image cannot be judged.
CONTRAST = """() => {
  const rgba = (value) => {
    const parts = (value.match(/rgba?\\(([^)]*)\\)/) || [, ""])[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return parts.length < 3 ? null : { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
                                   b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
  const luminance = ({ r, g, b }) => [r, g, b].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = (element) => {  // the possible colours behind: one, or each stop of a gradient
    const layers = [];
    let bottoms = [{ r: 255, g: 255, b: 255, a: 1 }];
    for (let node = element; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none") {
        if (style.backgroundImage.includes("url(")) return null;
        bottoms = style.backgroundImage.match(/rgba?\\([^)]*\\)/g).map(rgba);
        break;
      }
      const colour = rgba(style.backgroundColor);
      if (colour && colour.a > 0) { layers.push(colour); if (colour.a >= 1) break; }
    }
    return bottoms.map((bottom) => layers.reduceRight((below, top) => over(top, below), bottom));
  };
  const opacity = (element) => {
    let product = 1;
    for (let node = element; node; node = node.parentElement) product *= Number(getComputedStyle(node).opacity);
    return product;
  };
  const failures = [], unjudged = [];
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const element = text.parentElement;
    if (!text.textContent.trim() || !element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (element.closest(":disabled, [aria-disabled=true]")) continue;
    const range = document.createRange();
    range.selectNodeContents(text);
    if (!range.getClientRects().length) continue;
    const backgrounds = behind(element);
    if (!backgrounds) { unjudged.push(text.textContent.trim()); continue; }
    const style = getComputedStyle(element);
    const colour = rgba(style.color);
    const ratio = Math.min(...backgrounds.map((background) => {
      const foreground = over({ ...colour, a: colour.a * opacity(element) }, background);
      const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
      return (light + 0.05) / (dark + 0.05);
    }));
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    checked += 1;
    if (ratio < needed) failures.push({ text: text.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                                        needed, colour: style.color, behind: JSON.stringify(backgrounds) });
  }
  return { checked, failures, unjudged };
}"""

# Layout shifts the user did not cause (https://web.dev/articles/cls), summed since the page started loading.
SHIFTS = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({ type: "layout-shift", buffered: true });
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(total)));
})"""


def expect_accessible(page, what: str):
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(AXE_RUN)
    assert not violations, f"{what}: axe-core finds {violations}"
    found = page.evaluate(CONTRAST)
    assert found["checked"] >= 10, f"{what}: only {found['checked']} texts found"
    assert not found["failures"], f"{what}: text below WCAG AA contrast: {found['failures']}"
    assert not found["unjudged"], f"{what}: text over a background image: {found['unjudged']}"


@pytest.mark.parametrize("width", [360, 1280])
def test_search_page_meets_wcag_aa(site, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(search_url(site))
    expect(page.get_by_test_id("browse-faculty").first).to_be_visible()
    expect_accessible(page, "start page")

    page.goto(search_url(site, PROFILE))
    expect(page.get_by_test_id("programme-card").first).to_be_visible()
    page.get_by_test_id("near-miss").first.scroll_into_view_if_needed()
    expect_accessible(page, "results")

    page.get_by_test_id("subject-input").fill("phys")
    expect(page.locator("#subject-listbox [role=option]").first).to_be_visible()
    expect_accessible(page, "autocomplete")

    page.goto(search_url(site, EVERY_KIND, mode="full-time"))
    expect(page.get_by_test_id("programme-card").first).to_be_visible()
    expect(page.get_by_test_id("clear-filters")).to_be_visible()
    page.get_by_test_id("gpa-input").fill("5")
    page.get_by_test_id("gpa-add").click()
    expect(page.get_by_test_id("gpa-error")).to_be_visible()
    expect_accessible(page, "every kind of chip, a filter and a GPA error")

    page.goto(search_url(site, PROFILE, programme="SCI-BSC-CS"))
    expect(page.get_by_test_id("requirements")).to_be_visible()
    expect(page.get_by_test_id("programme-detail").get_by_test_id("check").first).to_be_visible()
    expect_accessible(page, "programme detail, judged")

    page.emulate_media(media="print")
    page.goto(search_url(site, PROFILE))
    expect(page.get_by_test_id("print-head")).to_be_visible()
    expect_accessible(page, "printout")


@pytest.mark.parametrize("width", [360, 1280])
def test_admin_page_meets_wcag_aa(site, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(site.url + "admin/")
    expect(page.get_by_test_id("token")).to_be_visible()
    page.get_by_test_id("signin-button").click()  # an empty token: the sign-in error is shown too
    expect(page.get_by_test_id("signin-error")).to_be_visible()
    expect_accessible(page, "sign-in")

    sign_in(page, site)
    expect(page.get_by_test_id("upload-row").first).to_be_visible()
    expect(page.get_by_test_id("audit-entry").first).to_be_visible()
    expect_accessible(page, "dashboard")


@pytest.fixture(scope="module")
def changed_upload(site, tmp_path_factory):
    """The changed copy of the sample, uploaded once for these audits (inactive; deleted at the end)."""
    import json
    import urllib.request
    import uuid

    path = changed_sample(tmp_path_factory.mktemp("changed"))
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    auth = {"Authorization": f"Bearer {site.admin_token}"}
    request = urllib.request.Request(site.admin + "/api/uploads", data=body, method="POST",
                                     headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        upload_id = json.load(response)["id"]
    yield upload_id
    urllib.request.urlopen(urllib.request.Request(f"{site.admin}/api/uploads/{upload_id}", method="DELETE",
                                                  headers=auth), timeout=30).close()


@pytest.mark.parametrize("width", [390, 1280])
def test_admin_review_try_and_schedule_meet_wcag_aa(site, page, width, changed_upload):
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, site)
    upload = page.locator(f'[data-testid=upload-row][data-upload-id="{changed_upload}"]')
    upload.get_by_test_id("review").click()
    dialog = page.get_by_test_id("diff-dialog")
    for block in ("diff-added", "diff-removed", "diff-changed"):
        dialog.get_by_test_id(block).locator("summary").click()
    expect(dialog.get_by_test_id("diff-field").first).to_be_visible()
    expect_accessible(page, "what an upload changes")
    dialog.get_by_test_id("diff-close").click()

    upload.get_by_test_id("try").click()
    preview = page.get_by_test_id("preview-dialog")
    for typed in ("english a", "mathem", "biology (csec"):
        preview.get_by_test_id("preview-input").fill(typed)
        preview.get_by_test_id("preview-input").press("Enter")
    expect(preview.get_by_test_id("near-miss").first).to_be_visible()
    preview.get_by_test_id("preview-input").fill("chem")
    expect(preview.locator("[role=option]").first).to_be_visible()
    expect_accessible(page, "try as a student, with the autocomplete open")
    page.get_by_test_id("preview-close").click()

    upload.get_by_test_id("schedule").click()
    expect(page.get_by_test_id("schedule-diff")).not_to_have_text("Working out the changes…")
    page.get_by_test_id("schedule-at").fill("2001-01-01T00:00")
    page.get_by_test_id("schedule-ok").click()
    expect(page.get_by_test_id("schedule-error")).to_have_text("Choose a time in the future.")
    expect_accessible(page, "schedule, with an error")


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("subjects", [PROFILE, []], ids=["shared-search", "start-page"])
def test_pages_load_without_layout_shift(site, page, width, subjects):
    """Chips, results and the faculty list arrive after the first paint; they must not move what is already there."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(search_url(site, subjects))
    expect(page.get_by_test_id("browse-faculty").first).to_be_visible()
    if subjects:
        expect(page.get_by_test_id("programme-card").first).to_be_visible()
    shift = page.evaluate(SHIFTS)
    assert shift < 0.1, f"cumulative layout shift {shift:.3f} (0.1 is the most a page rated good may have)"
