"""The Programme Admin Dashboard in headless Chromium, against the real admin app and engine started by `beuwi dev`."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import uuid
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.browser import (CHANGED_SENTENCE, ROOT, SCREENSHOTS, changed_sample, dev_site, role_token, screenshot,
                           sign_in)
from tests.emulators import BUCKET, PROJECT, sign_up
from tests.emulators import sign_in as id_token

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

SAMPLE = ROOT / "uploads" / "sample-catalogue.csv"
ROW_ERRORS = ROOT / "uploads" / "broken" / "row-errors.csv"
V2_ERRORS = ROOT / "uploads" / "broken" / "v2-errors.csv"
EMPTY = ROOT / "uploads" / "broken" / "empty.csv"
REGISTRAR, PASSWORD = "registrar@example.edu", "correct horse battery"
AUDITOR = "auditor@example.edu"  # granted the viewer role with `beuwi admin grant`


def admin_call(site, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(site.admin + path, method=method, data=data,
                                     headers={"Authorization": f"Bearer {site.admin_token}",
                                              **({"Content-Type": "application/json"} if data else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def engine_programmes(site) -> int:
    request = urllib.request.Request(site.engine + "/api/programmes", headers={"Cache-Control": "no-cache"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return len(json.load(response)["programmes"])


def engine_faculties(site) -> list:
    with urllib.request.urlopen(site.engine + "/api/faculties", timeout=10) as response:
        return json.load(response)["faculties"]


def expect_student_faculties(page, site, names):
    """A student's browser (its own HTTP cache: the engine lets answers be cached) browses exactly these faculties."""
    student = page.context.browser.new_context()
    search = student.new_page()
    search.goto(site.url + "search/")
    faculties = search.get_by_test_id("browse-faculty")
    expect(faculties).to_have_count(len(names))
    assert [faculties.nth(i).get_attribute("data-faculty") for i in range(len(names))] == names
    student.close()


def expect_engine_programmes(site, page, count):
    """The engine notices a new active version within a second or so.

    Each engine worker checks on its own (BEUWI_ACTIVE_CHECK_SECONDS, 1 s in `beuwi dev`), so after one answers the
    new count, wait one more check period: a student page fetching from a lagging worker would cache the old answer.
    """
    for _ in range(40):
        if engine_programmes(site) == count:
            page.wait_for_timeout(1500)
            return
        page.wait_for_timeout(250)
    assert engine_programmes(site) == count


pytestmark = pytest.mark.usefixtures("no_script_errors")


@pytest.fixture
def sample_restored(site):
    """Whatever happens in a test, the other browser tests find the sample catalogue (102 programmes) served."""
    yield
    uploads = admin_call(site, "GET", "/api/uploads")["uploads"]
    if any(u["active"] and u["filename"] == SAMPLE.name for u in uploads):
        return
    sample = next((u for u in uploads if u["filename"] == SAMPLE.name and u["status"] == "parsed"), None)
    if sample is None:
        pytest.fail("the sample catalogue upload is gone; later browser tests would see another catalogue")
    admin_call(site, "POST", f"/api/uploads/{sample['id']}/activate")


def upload(page, path: Path):
    """Pick a file; returns the id the page shows for the new upload (newest first, so the first row)."""
    before = page.get_by_test_id("upload-row").count()
    page.get_by_test_id("file-input").set_input_files(str(path))
    expect(page.get_by_test_id("upload-result")).to_contain_text(path.name)
    expect(page.get_by_test_id("upload-row")).to_have_count(before + 1)
    return page.get_by_test_id("upload-row").first.get_attribute("data-upload-id")


def row(page, upload_id):
    return page.locator(f'[data-testid=upload-row][data-upload-id="{upload_id}"]')


def confirm(page):
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("confirm-dialog")).not_to_be_visible()


def confirmed(page, upload_id, action):
    """Click an upload's action (activate, delete) and confirm it."""
    row(page, upload_id).get_by_test_id(action).click()
    confirm(page)


def test_a_wrong_token_is_refused_with_the_api_message(site, page):
    page.goto(site.url + "admin/")
    expect(page.get_by_test_id("uploads-table")).not_to_be_visible()
    page.get_by_test_id("token").fill("not-the-token")
    page.get_by_test_id("signin-button").click()
    expect(page.get_by_test_id("signin-error")).to_have_text("invalid admin token")
    expect(page.get_by_test_id("uploads-table")).not_to_be_visible()

    page.get_by_test_id("token").fill(site.admin_token)
    page.get_by_test_id("signin-button").click()
    expect(page.get_by_test_id("uploads-table")).to_be_visible()
    expect(page.get_by_test_id("signin-error")).to_be_hidden()

    page.reload()  # the session survives a reload of the tab
    expect(page.get_by_test_id("uploads-table")).to_be_visible()
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("token")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("token")).to_be_visible()


def test_upload_errors_activate_roll_back_and_delete(site, page, sample_restored):
    sign_in(page, site)

    # The sample catalogue as an upload of its own, so there is something to roll back to.
    sample = upload(page, SAMPLE)
    expect(page.get_by_test_id("upload-result")).to_contain_text("Loaded 102 programmes")
    expect(page.get_by_test_id("progress")).to_have_attribute("value", "100")

    broken = upload(page, ROW_ERRORS)
    result = page.get_by_test_id("upload-result")
    expect(result).to_contain_text("Loaded 3 programmes")
    expect(result).to_contain_text("7 rows had errors")
    expect(page.get_by_test_id("upload-row").first).to_have_attribute("data-upload-id", broken)
    expect(row(page, broken).get_by_test_id("read-status")).to_have_text("Parsed")
    expect(row(page, broken).get_by_test_id("programmes")).to_have_text("3")
    expect(row(page, broken).get_by_test_id("errors")).to_have_text("7")

    # The row errors, listed in the page exactly as the API's errors CSV has them.
    row(page, broken).get_by_test_id("view-errors").click()
    dialog = page.get_by_test_id("errors-dialog")
    expect(dialog).to_be_visible()
    errors_csv = urllib.request.urlopen(urllib.request.Request(
        f"{site.admin}/api/uploads/{broken}/errors", headers={"Authorization": f"Bearer {site.admin_token}"}), timeout=10)
    expected = list(csv.DictReader(errors_csv.read().decode("utf-8-sig").splitlines()))
    assert len(expected) == 7
    # The download keeps a value a spreadsheet would run as a formula as text; the page shows it as uploaded.
    assert [e["value"] for e in expected if e["column"] == "csec_passes"] == ["'-1"]
    assert expected[1]["message"].startswith("''2 Physics (CAPE)")  # a quote that starts a cell is escaped too
    rows = dialog.get_by_test_id("error-row")
    expect(rows).to_have_count(7)
    for i, error in enumerate(expected):
        expect(rows.nth(i).get_by_test_id("error-line")).to_have_text(error["row"])
        expect(rows.nth(i).get_by_test_id("error-column")).to_have_text(error["column"])
        expect(rows.nth(i).get_by_test_id("error-value")).to_have_text(error["value"].removeprefix("'") or "(empty)")
        expect(rows.nth(i).get_by_test_id("error-message")).to_have_text(error["message"].removeprefix("'"))
    # A message holding quotes and commas survived the CSV parsing.
    expect(dialog).to_contain_text("evening must be yes or no (also y/n, true/false, 1/0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-errors.png"))  # the viewport: the dialog over the dashboard
    page.get_by_test_id("errors-close").click()
    expect(dialog).not_to_be_visible()

    # Activate the broken file's 3 programmes: cancelling does nothing, confirming switches the student page.
    row(page, broken).get_by_test_id("activate").click()
    expect(page.get_by_test_id("confirm-dialog")).to_be_visible()
    page.get_by_test_id("confirm-cancel").click()
    expect(row(page, broken).get_by_test_id("active-badge")).to_have_count(0)
    assert engine_programmes(site) == 102

    confirmed(page, broken, "activate")
    expect(page.get_by_test_id("status")).to_have_text(f"Activated {broken}: students now see 3 programmes.")
    expect_engine_programmes(site, page, 3)
    active = row(page, broken)
    expect(active.get_by_test_id("active-badge")).to_have_text("Active")
    expect(active.get_by_test_id("activate")).to_have_count(0)
    expect(active.get_by_test_id("delete")).to_have_count(0)
    expect(page.get_by_test_id("active-badge")).to_have_count(1)

    expect_student_faculties(page, site, ["Food and Agriculture", "Science and Technology", "Social Sciences"])

    # Roll back to the older upload.
    row(page, sample).get_by_test_id("activate").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text(f"Roll back to {sample}?")
    confirm(page)
    expect(page.get_by_test_id("status")).to_have_text(f"Activated {sample}: students now see 102 programmes.")
    expect_engine_programmes(site, page, 102)
    expect(row(page, sample).get_by_test_id("active-badge")).to_be_visible()
    expect(row(page, broken).get_by_test_id("active-badge")).to_have_count(0)
    expect_student_faculties(page, site, [f["faculty"] for f in engine_faculties(site)])
    screenshot(page, "admin-desktop.png")

    # Delete the file that is no longer active.
    row(page, broken).get_by_test_id("delete").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text(f"Delete {broken}?")
    confirm(page)
    expect(page.get_by_test_id("status")).to_have_text(f"Deleted {broken} ({ROW_ERRORS.name}).")
    expect(row(page, broken)).to_have_count(0)
    assert broken not in {u["id"] for u in admin_call(site, "GET", "/api/uploads")["uploads"]}
    expect(row(page, sample).get_by_test_id("active-badge")).to_be_visible()
    expect(row(page, sample).get_by_test_id("delete")).to_have_count(0)


def errors_csv(site, upload_id) -> list[dict]:
    request = urllib.request.Request(f"{site.admin}/api/uploads/{upload_id}/errors",
                                     headers={"Authorization": f"Bearer {site.admin_token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(csv.DictReader(response.read().decode("utf-8-sig").splitlines()))


def engine_programme(site, programme_id) -> dict:
    request = urllib.request.Request(f"{site.engine}/api/programmes/{programme_id}",
                                     headers={"Cache-Control": "no-cache"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_a_v2_catalogue_and_a_file_of_v2_mistakes(site, page, sample_restored):
    """CSV format v2 through the dashboard: the sample's 110 scheme rows read as 102 programmes with no error; each v2
    mistake listed on its row and column; the programmes that load are served with their schemes."""
    sign_in(page, site)
    sample = upload(page, SAMPLE)
    result = page.get_by_test_id("upload-result")
    expect(result).to_contain_text("Loaded 102 programmes from sample-catalogue.csv")
    expect(result).to_contain_text("Every row was read.")
    expect(row(page, sample).get_by_test_id("errors")).to_have_text("0")
    expect(row(page, sample).get_by_test_id("view-errors")).to_have_count(0)
    expect(row(page, sample).get_by_test_id("download-errors")).to_be_disabled()

    mistakes = upload(page, V2_ERRORS)
    expect(result).to_contain_text("Loaded 4 programmes from v2-errors.csv")
    expect(result).to_contain_text("11 rows had errors and were left out.")
    expect(row(page, mistakes).get_by_test_id("programmes")).to_have_text("4")
    expect(row(page, mistakes).get_by_test_id("errors")).to_have_text("11")

    row(page, mistakes).get_by_test_id("view-errors").click()
    dialog = page.get_by_test_id("errors-dialog")
    expected = errors_csv(site, mistakes)
    assert [(e["row"], e["column"]) for e in expected] == [
        ("3", "mandatory"), ("4", "mandatory"), ("5", "mandatory"), ("6", "mandatory"), ("7", "mandatory"),
        ("8", "mandatory"), ("9", "cape_units"), ("10", "scheme"), ("11", "campus"), ("12", "not_counted"),
        ("17", "code")]
    rows = dialog.get_by_test_id("error-row")
    expect(rows).to_have_count(len(expected))
    listed = admin_call(site, "GET", f"/api/uploads/{mistakes}/errors.json")  # what the page reads, unescaped
    assert (listed["count"], len(listed["errors"])) == (11, 11)
    for i, error in enumerate(listed["errors"]):
        expect(rows.nth(i).get_by_test_id("error-value")).to_have_text(error["value"] or "(empty)")
        expect(rows.nth(i).get_by_test_id("error-message")).to_have_text(error["message"])
    for i, error in enumerate(expected):
        expect(rows.nth(i).get_by_test_id("error-line")).to_have_text(error["row"])
        expect(rows.nth(i).get_by_test_id("error-column")).to_have_text(error["column"])
        expect(rows.nth(i).get_by_test_id("error-value")).to_have_text(error["value"].removeprefix("'") or "(empty)")
        expect(rows.nth(i).get_by_test_id("error-message")).to_have_text(error["message"].removeprefix("'"))
    # The v2 mistakes as an admin reads them: a unit that does not exist, "A or B" with the combination to write
    # instead, a GPA out of range, a negative unit count (shown as typed, not as a spreadsheet formula), scheme rows
    # that disagree, and the row of the same programme that is left out with them.
    messages = rows.get_by_test_id("error-message")
    expect(rows.nth(0).get_by_test_id("error-value")).to_have_text("Pure Mathematics (CAPE U3)")
    expect(messages.nth(2)).to_contain_text(
        "write it as the combination '1 of Accounting (CAPE) | Economics (CAPE)'")
    expect(messages.nth(4)).to_have_text("GPA '5.1' is not a GPA from 0.0 to 4.3")
    expect(rows.nth(6).get_by_test_id("error-value")).to_have_text("-2")
    expect(messages.nth(7)).to_have_text("not loaded: row 11 of the same programme has errors")
    expect(messages.nth(8)).to_contain_text("its rows may differ only in their requirements")
    expect(dialog.locator("#errors-summary")).to_contain_text("11 rows left out; the other 4 programmes loaded")
    page.get_by_test_id("errors-close").click()

    row(page, mistakes).get_by_test_id("activate").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("Students will see the 4 programmes of v2-errors.csv")
    confirm(page)
    expect(page.get_by_test_id("status")).to_have_text(f"Activated {mistakes}: students now see 4 programmes.")
    expect_engine_programmes(site, page, 4)
    bank = engine_programme(site, "SOC-BSC-BANK")
    assert [(s["label"], [c["kind"] for c in s["checks"]]) for s in bank["schemes"]] == [
        ("CAPE", ["passes", "passes", "subject", "subject", "combination"]),
        ("Associate Degree", ["passes", "subject", "subject", "associate_degree"])]
    statistics = engine_programme(site, "SCI-BSC-STAT")["schemes"][0]["checks"]
    assert {"kind": "units", "needed": 6}.items() <= statistics[2].items()

    confirmed(page, sample, "activate")
    expect_engine_programmes(site, page, 102)
    confirmed(page, mistakes, "delete")
    expect(row(page, mistakes)).to_have_count(0)


def test_a_file_that_cannot_be_read_shows_why(site, page, sample_restored):
    sign_in(page, site)
    failed = upload(page, EMPTY)
    expect(page.get_by_test_id("upload-result")).to_contain_text("the file is empty")
    expect(row(page, failed).get_by_test_id("read-status")).to_have_text("Failed")
    expect(row(page, failed).get_by_test_id("read-message")).to_have_text("the file is empty")
    expect(row(page, failed).get_by_test_id("activate")).to_have_count(0)

    confirmed(page, failed, "delete")
    expect(row(page, failed)).to_have_count(0)


def test_an_upload_whose_version_is_gone_from_the_graph_reads_missing_and_offers_no_activation(site, page,
                                                                                                sample_restored):
    from beuwi import config
    from beuwi.admin import repair
    from beuwi.admin.app import build_stores

    sign_in(page, site)
    gone = upload(page, ROW_ERRORS)
    stores = build_stores({**config.from_env({}), "DATA_DIR": str(site.data)})  # the dev site's own stores and graph
    try:
        stores.graph.delete(gone)  # e.g. a graph restored from a backup taken before the upload
        assert gone in repair.repair(stores).missing
    finally:
        stores.graph.close()
    page.reload()
    expect(row(page, gone).get_by_test_id("read-status")).to_have_text("Missing")
    expect(row(page, gone).get_by_test_id("read-message")).to_contain_text("gone from the graph")
    for action in ("activate", "schedule", "review", "try"):
        expect(row(page, gone).get_by_test_id(action)).to_have_count(0)

    confirmed(page, gone, "delete")
    expect(row(page, gone)).to_have_count(0)


def test_an_upload_with_more_errors_than_kept_says_how_many_are_listed(site, page, tmp_path, sample_restored):
    many = tmp_path / "many-errors.csv"
    many.write_text("programme,faculty,csec_passes\n" + "".join(f"P{n},F,-1\n" for n in range(1200)) + "Law,Law,1\n")
    sign_in(page, site)
    upload_id = upload(page, many)
    expect(row(page, upload_id).get_by_test_id("errors")).to_have_text("1,200")
    row(page, upload_id).get_by_test_id("view-errors").click()
    dialog = page.get_by_test_id("errors-dialog")
    expect(dialog.get_by_test_id("error-row")).to_have_count(1000)
    expect(dialog.locator("#errors-summary")).to_contain_text("the first 1,000 of its 1,200 errors are listed")
    page.get_by_test_id("errors-close").click()
    admin_call(site, "DELETE", f"/api/uploads/{upload_id}")


def test_download_sends_the_token_and_saves_the_exact_file(site, page, sample_restored):
    sign_in(page, site)
    uploads = admin_call(site, "GET", "/api/uploads")["uploads"]
    target = next((u for u in uploads if u["filename"] == SAMPLE.name), None)
    target_id = target["id"] if target else upload(page, SAMPLE)
    with page.expect_download() as info:
        row(page, target_id).get_by_test_id("download-source").click()
    download = info.value
    assert download.suggested_filename == SAMPLE.name
    assert Path(download.path()).read_bytes() == SAMPLE.read_bytes()


def test_phone_layout(site, page, sample_restored):
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(page, site)
    if not any(u["filename"] == SAMPLE.name for u in admin_call(site, "GET", "/api/uploads")["uploads"]):
        upload(page, SAMPLE)
    broken = upload(page, ROW_ERRORS)
    expect(row(page, broken).get_by_test_id("activate")).to_be_visible()
    # No sideways scrolling at phone width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "admin-phone.png")

    row(page, broken).get_by_test_id("delete").click()
    expect(page.get_by_test_id("confirm-ok")).to_be_in_viewport()
    confirm(page)
    expect(row(page, broken)).to_have_count(0)


@pytest.fixture(scope="module")
def firebase_site(tmp_path_factory, firestore_emulator, storage_emulator, auth_emulator):
    """`beuwi dev` with the Firebase backend: Firestore, Storage and Auth emulators, one allow-listed admin."""
    env = {"BEUWI_BACKEND": "firebase", "BEUWI_FIREBASE_PROJECT": PROJECT, "BEUWI_FIREBASE_BUCKET": BUCKET,
           "BEUWI_FIRESTORE_PREFIX": f"browser{uuid.uuid4().hex[:8]}", "BEUWI_ADMIN_EMAILS": REGISTRAR,
           "FIRESTORE_EMULATOR_HOST": firestore_emulator, "STORAGE_EMULATOR_HOST": storage_emulator,
           "FIREBASE_AUTH_EMULATOR_HOST": auth_emulator}
    sign_up(auth_emulator, REGISTRAR, PASSWORD)
    sign_up(auth_emulator, "lecturer@example.edu", PASSWORD)
    sign_up(auth_emulator, AUDITOR, PASSWORD)
    granted = subprocess.run([sys.executable, "-m", "beuwi.cli", "admin", "grant", AUDITOR, "--role", "viewer"],
                             env={**{k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}, **env},
                             capture_output=True, text=True, timeout=60)
    assert granted.returncode == 0, granted.stderr
    with dev_site(tmp_path_factory.mktemp("firebase-site"), env) as running:
        yield running


def firebase_sign_in(page, email, password):
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("signin-button").click()


def test_firebase_admin_signs_in_uploads_activates_rolls_back_and_deletes(firebase_site, page, auth_emulator):
    """The whole admin journey on the Firebase backend: email sign-in through the (emulated) Identity Toolkit,
    files in Storage, records in Firestore, the ID token checked by the admin app."""
    site = firebase_site
    page.goto(site.url + "admin/")
    expect(page.get_by_test_id("token")).to_be_hidden()

    firebase_sign_in(page, REGISTRAR, "wrong password")
    expect(page.get_by_test_id("signin-error")).to_contain_text("password is wrong")
    firebase_sign_in(page, "lecturer@example.edu", PASSWORD)  # a real user, but not an administrator
    expect(page.get_by_test_id("signin-error")).to_contain_text("lecturer@example.edu has no admin role")
    expect(page.get_by_test_id("uploads-table")).not_to_be_visible()

    firebase_sign_in(page, REGISTRAR, PASSWORD)
    expect(page.get_by_test_id("uploads-table")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(REGISTRAR)
    expect(page.get_by_test_id("me-name")).to_have_text(REGISTRAR)
    expect(page.get_by_test_id("me-role")).to_have_text("publisher")
    # `beuwi dev --seed` went in as an upload, so there is an active one to roll back to.
    seed = page.get_by_test_id("upload-row").first.get_attribute("data-upload-id")
    expect(row(page, seed).get_by_test_id("active-badge")).to_be_visible()
    assert engine_programmes(site) == 102

    broken = upload(page, ROW_ERRORS)
    expect(page.get_by_test_id("upload-result")).to_contain_text("7 rows had errors")
    row(page, broken).get_by_test_id("view-errors").click()
    expect(page.get_by_test_id("errors-dialog").get_by_test_id("error-row")).to_have_count(7)
    page.get_by_test_id("errors-close").click()

    confirmed(page, broken, "activate")
    expect(page.get_by_test_id("status")).to_have_text(f"Activated {broken}: students now see 3 programmes.")
    expect_engine_programmes(site, page, 3)
    confirmed(page, seed, "activate")
    expect_engine_programmes(site, page, 102)
    confirmed(page, broken, "delete")
    expect(row(page, broken)).to_have_count(0)
    screenshot(page, "admin-firebase.png")

    # What the page did is what the admin API records, under the signed-in user's name.
    token = id_token(auth_emulator, REGISTRAR, PASSWORD)
    request = urllib.request.Request(site.admin + "/api/audit", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        audit = json.load(response)["entries"]
    assert [(e["who"], e["action"], e["upload_id"]) for e in audit[:4]] == [
        (REGISTRAR, "delete", broken), (REGISTRAR, "activate", seed), (REGISTRAR, "activate", broken),
        (REGISTRAR, "upload", broken)]

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("email")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0

    # A viewer by the Firebase role claim reads everything and changes nothing.
    firebase_sign_in(page, AUDITOR, PASSWORD)
    expect(page.get_by_test_id("me-role")).to_have_text("viewer")
    expect(page.get_by_test_id("upload-row").first).to_be_visible()
    expect(page.get_by_test_id("file-input")).to_be_hidden()
    for control in ("activate", "schedule", "delete"):
        expect(page.get_by_test_id(control)).to_have_count(0)
    expect(page.get_by_test_id("audit-entry").first.get_by_test_id("audit-who")).to_have_text(REGISTRAR)


# ---------- issue 13: who is signed in, what an upload changes, trying it, scheduling it, the audit log ----------

@pytest.fixture
def changed(site, page, tmp_path, sample_restored):
    """Signed in as the publisher `admin`, with the changed copy of the sample uploaded (deleted at the end); the
    browser's console logs no error meanwhile (a failed request, a refused stylesheet)."""
    logged = []
    page.on("console", lambda message: logged.append(message.text) if message.type == "error" else None)
    sign_in(page, site)
    upload_id = upload(page, changed_sample(tmp_path))
    yield upload_id
    assert not logged, logged
    current = {u["id"]: u for u in admin_call(site, "GET", "/api/uploads")["uploads"]}.get(upload_id)
    if current and not current["active"]:
        if current.get("scheduled_at"):
            admin_call(site, "DELETE", f"/api/uploads/{upload_id}/schedule")
        admin_call(site, "DELETE", f"/api/uploads/{upload_id}")


def test_the_publisher_is_named_and_may_do_everything(site, page, sample_restored):
    sign_in(page, site)
    note = page.get_by_test_id("role-note")
    expect(note.get_by_test_id("me-name")).to_have_text("admin")
    expect(note.get_by_test_id("me-role")).to_have_text("publisher")
    expect(page.get_by_test_id("file-input")).to_be_attached()
    assert page.get_by_test_id("file-input").get_attribute("accept").split(",")[:2] == [".csv", ".xlsx"]


def test_a_viewer_sees_no_upload_activate_schedule_or_delete_control(site, page, sample_restored):
    sign_in(page, site, role_token(site, f"viola-{uuid.uuid4().hex[:6]}", "viewer"))
    expect(page.get_by_test_id("me-role")).to_have_text("viewer")
    expect(page.get_by_test_id("upload-row").first).to_be_visible()
    expect(page.get_by_test_id("file-input")).to_be_hidden()
    for control in ("activate", "schedule", "delete", "cancel-schedule", "result-activate"):
        expect(page.get_by_test_id(control)).to_have_count(0)
    expect(page.get_by_test_id("audit-entry").first).to_be_visible()  # a viewer reads the audit log


def test_an_editor_uploads_and_deletes_but_does_not_activate(site, page, sample_restored):
    sign_in(page, site, role_token(site, f"eddie-{uuid.uuid4().hex[:6]}", "editor"))
    expect(page.get_by_test_id("me-role")).to_have_text("editor")
    mine = upload(page, ROW_ERRORS)
    expect(row(page, mine).get_by_test_id("review")).to_be_visible()
    for control in ("activate", "schedule", "result-activate"):
        expect(page.get_by_test_id(control)).to_have_count(0)
    confirmed(page, mine, "delete")
    expect(row(page, mine)).to_have_count(0)


def test_what_an_upload_changes_before_it_is_activated(site, page, changed):
    diff = admin_call(site, "GET", f"/api/uploads/{changed}/diff?against=active")
    assert (len(diff["added"]), len(diff["removed"]), len(diff["changed"]), diff["unchanged"]) == (1, 2, 1, 99)

    row(page, changed).get_by_test_id("review").click()
    dialog = page.get_by_test_id("diff-dialog")
    expect(dialog.get_by_test_id("diff-summary")).to_have_text(CHANGED_SENTENCE)
    expect(dialog.get_by_test_id("diff-against")).to_contain_text(f"Compared with the active upload {diff['against']}")
    added, removed, changes = (dialog.get_by_test_id(t) for t in ("diff-added", "diff-removed", "diff-changed"))
    expect(added.get_by_test_id("diff-programme")).to_be_hidden()  # one click away
    added.locator("summary").click()
    expect(added.get_by_test_id("diff-programme")).to_have_text(re.compile("^Aerospace Engineering"))
    removed.locator("summary").press("Enter")  # and a key away
    assert [removed.get_by_test_id("diff-programme").nth(i).get_attribute("data-programme-id") for i in range(2)] == \
        [p["id"] for p in diff["removed"]]
    changes.locator("summary").click()
    field = changes.locator('[data-testid=diff-field][data-field="csec_passes"]')
    before, after = diff["changed"][0]["fields"][0]["before"], diff["changed"][0]["fields"][0]["after"]
    expect(field).to_have_text(f"CSEC passes: {before} → becomes {after}")  # the arrow, and the words it stands for
    expect(field.get_by_test_id("diff-before")).to_have_text(str(before))
    expect(field.get_by_test_id("diff-after")).to_have_text(str(after))
    screenshot(page, "admin-diff.png", full_page=False)

    # The confirm step says the same numbers; cancelling leaves the catalogue as it was.
    dialog.get_by_test_id("diff-activate").click()
    confirm_dialog = page.get_by_test_id("confirm-dialog")
    expect(confirm_dialog).to_contain_text(CHANGED_SENTENCE)
    page.get_by_test_id("confirm-cancel").click()
    assert engine_programmes(site) == 102
    confirmed(page, changed, "activate")
    expect(page.get_by_test_id("status")).to_have_text(f"Activated {changed}: students now see 101 programmes.")
    expect_engine_programmes(site, page, 101)


def test_try_an_upload_as_a_student(site, page, changed):
    row(page, changed).get_by_test_id("try").click()
    dialog = page.get_by_test_id("preview-dialog")
    expect(dialog).to_contain_text(f"Try {changed} as a student")
    box = dialog.get_by_test_id("preview-input")
    expect(box).to_be_enabled()
    for typed in ("english a", "mathem", "biology (csec", "chemistry (csec", "spanish"):
        box.fill(typed)
        expect(dialog.locator("[role=option]").first).to_be_visible()
        box.press("Enter")
    chips = dialog.get_by_test_id("chip")
    expect(chips).to_have_count(5)
    labels = [chips.nth(i).get_attribute("data-subject") for i in range(5)]
    assert labels[:2] == ["English A (CSEC)", "Mathematics (CSEC)"]
    # The student page's chips: a grade chosen on one is searched with it.
    with page.expect_request(lambda r: r.url.endswith(f"/api/uploads/{changed}/search")) as sent:
        chips.nth(1).get_by_test_id("chip-grade").select_option("I")
    refs = [labels[0], "Mathematics (CSEC:I)", *labels[2:]]
    assert sent.value.post_data_json == {"subjects": refs}
    expected = admin_call(site, "POST", f"/api/uploads/{changed}/search", {"subjects": refs})
    cards = dialog.get_by_test_id("programme-card")
    expect(cards).to_have_count(len(expected["eligible"]))
    shown = {cards.nth(i).get_attribute("data-programme-id") for i in range(cards.count())}
    assert shown == {p["id"] for p in expected["eligible"]}
    near = dialog.get_by_test_id("near-miss")
    expect(near).to_have_count(len(expected["near_misses"]))
    listed = shown | {near.nth(i).get_attribute("data-programme-id") for i in range(near.count())}
    assert "ENG-BSC-CIVIL" not in listed  # this upload's catalogue (Civil Engineering is gone), not the active one
    expect(dialog.get_by_test_id("eligible-count")).to_have_text(f"{len(expected['eligible'])} programmes")
    screenshot(page, "admin-try.png", full_page=False)

    # A suggestion adds its subject, as on the student page.
    if expected["suggestions"]:
        dialog.get_by_test_id("suggestion").first.click()
        expect(chips).to_have_count(6)
    page.get_by_test_id("preview-close").click()
    expect(dialog).to_be_hidden()


def test_schedule_cancel_and_watch_it_fire(site, browser, sample_restored, tmp_path):
    """A registrar in Barbados (UTC-4) schedules in local time; the request carries the offset, the row counts down,
    cancelling stops it, and a schedule seconds ahead activates on its own while the page watches."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/Barbados")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    sign_in(page, site)
    changed = upload(page, changed_sample(tmp_path))

    def schedule(seconds):
        when = datetime.now(timezone(timedelta(hours=-4))).replace(microsecond=0) + timedelta(seconds=seconds)
        row(page, changed).get_by_test_id("schedule").click()
        dialog = page.get_by_test_id("schedule-dialog")
        expect(dialog.get_by_test_id("schedule-diff")).to_have_text(CHANGED_SENTENCE)
        expect(dialog).to_contain_text("America/Barbados")
        dialog.get_by_test_id("schedule-at").fill(when.strftime("%Y-%m-%dT%H:%M:%S"))
        with page.expect_request(lambda r: r.url.endswith("/activate") and r.method == "POST") as sent:
            dialog.get_by_test_id("schedule-ok").click()
        assert sent.value.post_data_json == {"at": when.isoformat()}  # "2026-12-02T03:04:05-04:00"
        expect(dialog).to_be_hidden()
        return when

    schedule(3600)
    scheduled = row(page, changed).get_by_test_id("scheduled")
    expect(scheduled.get_by_test_id("countdown")).to_have_text(re.compile(r"^in (59 min \d\d s|1 h 00 min)$"))
    expect(scheduled).to_contain_text("scheduled by admin")
    expect(row(page, changed).get_by_test_id("activate")).to_have_count(0)
    expect(row(page, changed).get_by_test_id("delete")).to_have_count(0)
    screenshot(page, "admin-scheduled.png")
    scheduled.get_by_test_id("cancel-schedule").click()
    expect(page.get_by_test_id("status")).to_have_text(f"Cancelled the scheduled activation of {changed}.")
    expect(row(page, changed).get_by_test_id("scheduled")).to_have_count(0)
    assert admin_call(site, "GET", f"/api/uploads/{changed}")["scheduled_at"] is None

    schedule(8)
    expect(row(page, changed).get_by_test_id("countdown")).to_have_text(re.compile(r"^in \d s$"))
    expect(row(page, changed).get_by_test_id("active-badge")).to_be_visible(timeout=45_000)
    expect(page.get_by_test_id("status")).to_have_text(
        f"Activated {changed} on schedule: students now see 101 programmes.", timeout=20_000)
    expect_engine_programmes(site, page, 101)
    entries = page.get_by_test_id("audit-entry")
    expect(entries.first.get_by_test_id("audit-action")).to_have_text("activated on schedule")
    actions = [entries.nth(i).get_attribute("data-action") for i in range(4)]
    assert actions == ["activate-scheduled", "schedule", "schedule-cancel", "schedule"]
    context.close()
    assert not errors, errors


def test_the_audit_log_says_who_did_what_when(site, page, sample_restored):
    sign_in(page, site)
    mine = upload(page, ROW_ERRORS)
    confirmed(page, mine, "delete")
    entries = page.get_by_test_id("audit-entry")
    expect(entries.first).to_have_attribute("data-action", "delete")
    first, second = entries.nth(0), entries.nth(1)
    expect(first).to_contain_text(f"admin deleted {mine}")
    expect(second).to_contain_text(f"admin uploaded {mine}")
    api = admin_call(site, "GET", "/api/audit")["entries"][0]
    expect(first.locator("time")).to_have_attribute("datetime", api["at"])


def test_templates_download_and_an_xlsx_upload(site, page, tmp_path, sample_restored):
    sign_in(page, site)
    with page.expect_download() as info:
        page.get_by_test_id("template-csv").click()
    header = Path(info.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("code,programme,faculty")
    with page.expect_download() as info:
        page.get_by_test_id("template-xlsx").click()
    workbook = Path(info.value.path())
    assert workbook.read_bytes()[:2] == b"PK"  # a zip: an Office Open XML workbook

    # The Excel template goes back in through the same file input, as the registrar would fill it in.
    filled = tmp_path / "catalogue-template.xlsx"
    filled.write_bytes(workbook.read_bytes())
    uploaded = upload(page, filled)
    record = admin_call(site, "GET", f"/api/uploads/{uploaded}")
    assert record["status"] == "parsed" and record["programmes"] > 0, record
    expect(page.get_by_test_id("upload-result")).to_contain_text(
        f"Loaded {record['programmes']} programme{'s' if record['programmes'] != 1 else ''} from catalogue-template.xlsx")
    admin_call(site, "DELETE", f"/api/uploads/{uploaded}")


def test_phone_shows_the_new_parts_without_sideways_scrolling(site, page, changed):
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(row(page, changed).get_by_test_id("review")).to_be_visible()
    fits = lambda: page.evaluate("document.documentElement.scrollWidth") <= 390  # noqa: E731
    assert fits()
    row(page, changed).get_by_test_id("review").click()
    dialog = page.get_by_test_id("diff-dialog")
    for block in ("diff-added", "diff-removed", "diff-changed"):
        dialog.get_by_test_id(block).locator("summary").click()
    expect(dialog.get_by_test_id("diff-field")).to_be_visible()
    assert dialog.evaluate("d => d.scrollWidth <= d.clientWidth")
    screenshot(page, "admin-phone-diff.png", full_page=False)
    dialog.get_by_test_id("diff-close").click()

    row(page, changed).get_by_test_id("try").click()
    preview = page.get_by_test_id("preview-dialog")
    preview.get_by_test_id("preview-input").fill("english a")
    preview.get_by_test_id("preview-input").press("Enter")
    expect(preview.get_by_test_id("answer-summary")).to_be_visible()
    assert preview.evaluate("d => d.scrollWidth <= d.clientWidth")
    screenshot(page, "admin-phone-try.png", full_page=False)
    page.get_by_test_id("preview-close").click()

    row(page, changed).get_by_test_id("schedule").click()
    expect(page.get_by_test_id("schedule-ok")).to_be_in_viewport()
    page.get_by_test_id("schedule-cancel").click()
    page.get_by_test_id("audit").scroll_into_view_if_needed()
    assert fits()


def test_the_new_parts_work_from_the_keyboard(site, page, changed):
    """Changes, Try it and Schedule reached and used with the keyboard only; each dialog gives focus back."""
    review = row(page, changed).get_by_test_id("review")
    review.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("diff-dialog")
    expect(dialog.get_by_test_id("diff-summary")).to_have_text(CHANGED_SENTENCE)
    page.keyboard.press("Tab")  # from the close button to the first list
    page.keyboard.press("Enter")
    expect(dialog.get_by_test_id("diff-added").get_by_test_id("diff-programme")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(review).to_be_focused()

    page.keyboard.press("Tab")
    expect(row(page, changed).get_by_test_id("try")).to_be_focused()
    page.keyboard.press("Enter")
    preview = page.get_by_test_id("preview-dialog")
    expect(preview.get_by_test_id("preview-input")).to_be_focused()
    page.keyboard.type("english a")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(preview.get_by_test_id("chip")).to_have_count(1)
    expect(preview.get_by_test_id("answer-summary")).to_be_visible()
    page.keyboard.press("Escape")
    expect(preview).to_be_hidden()

    row(page, changed).get_by_test_id("schedule").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("schedule-at")).to_be_focused()
    page.keyboard.type("01012001")  # a day long past, typed into the date field...
    page.keyboard.press("Enter")    # ...and Enter submits: refused in the page, nothing sent
    expect(page.get_by_test_id("schedule-error")).to_have_text("Choose a time in the future.")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("schedule-dialog")).to_be_hidden()
    assert admin_call(site, "GET", f"/api/uploads/{changed}")["scheduled_at"] is None
