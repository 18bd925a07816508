"""Browser-test fixtures: the real engine, admin app and web clients (`beuwi dev`), and headless system Chromium."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from beuwi.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SAMPLE = ROOT / "uploads" / "sample-catalogue.csv"
# A small v2 catalogue whose answers show each thing the student's page renders: a unit and a better grade suggested,
# two schemes, conditions, an associate-degree route, and the durations "2", "1", "?" and blank of the 2019 data.
STUDENT_PAGE_CATALOGUE = ROOT / "tests" / "data" / "student-page-catalogue.csv"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


# A student who nearly meets several programmes: eligible ones in many faculties, near misses and suggestions.
PROFILE = ["Mathematics (CSEC)", "English A (CSEC)", "Biology (CSEC)", "Chemistry (CSEC)", "Spanish (CSEC)",
           "Chemistry (CAPE:II)", "Biology (CAPE)"]


@dataclass(frozen=True)
class Site:
    url: str  # the static site root, ending in /
    engine: str
    admin: str
    admin_token: str  # local backend only
    data: Path  # the data dir, for the CLI (e.g. `beuwi admin token create`)


@contextmanager
def dev_site(data: Path, env: dict, admin_token: str = "", seed: Path = SAMPLE) -> Iterator[Site]:
    """`beuwi dev` on a fresh data dir with a catalogue (the sample one unless told) as its seed, stopped at the end."""
    engine, admin, static = free_port(), free_port(), free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}, **env}
    log = open(data / "dev.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "beuwi.cli", "dev", "--data-dir", str(data), "--port", str(engine),
         "--admin-port", str(admin), "--site-port", str(static), "--seed", str(seed)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    urls = [f"http://127.0.0.1:{engine}/api/health", f"http://127.0.0.1:{admin}/api/health",
            f"http://127.0.0.1:{static}/config.js"]
    deadline = time.monotonic() + 90
    try:
        for url in urls:
            while True:
                try:
                    urllib.request.urlopen(url, timeout=5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"beuwi dev did not start:\n{(data / 'dev.log').read_text()[-3000:]}", pytrace=False)
                    time.sleep(0.2)
        yield Site(f"http://127.0.0.1:{static}/", f"http://127.0.0.1:{engine}", f"http://127.0.0.1:{admin}", admin_token, data)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """What `make run` gives a user: the local backend, signed in with the admin token."""
    token = "browser-test-admin-token-0123456789"  # the admin app wants at least 32 characters
    with dev_site(tmp_path_factory.mktemp("site"), {"BEUWI_ADMIN_TOKEN": token}, token) as running:
        yield running


@pytest.fixture(scope="session")
def student_site(tmp_path_factory):
    """The site on STUDENT_PAGE_CATALOGUE, for answers the sample catalogue need not give."""
    token = "student-page-admin-token-0123456789"
    with dev_site(tmp_path_factory.mktemp("student-site"), {"BEUWI_ADMIN_TOKEN": token}, token,
                  seed=STUDENT_PAGE_CATALOGUE) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("Chromium is not installed (make test installs Debian's chromium package)", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save a PNG of the page (or only the viewport, e.g. a dialog over it) under artifacts/screenshots/ (gitignored;
    CI keeps it as an artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def no_script_errors(page):
    """A browser test also fails on an uncaught error in the page's JavaScript."""
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    yield
    assert not errors, errors


def search_url(site: Site, subjects=(), **params) -> str:
    """The search page with these subjects (and e.g. programme=ID) in its URL, as a shared link would have them."""
    pairs = [("s", s) for s in subjects] + list(params.items())
    return site.url + "search/" + ("?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote) if pairs else "")


def changed_sample(folder: Path) -> Path:
    """The sample catalogue as a registrar's next edit: Civil and Electrical Engineering gone, Aerospace Engineering
    new, Mechanical Engineering asking one more CSEC pass; the other 99 programmes as they were."""
    import csv

    with SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [dict(r) for r in rows if r["code"] not in {"ENG-BSC-CIVIL", "ENG-BSC-ELEC"}]
    mech = next(r for r in kept if r["code"] == "ENG-BSC-MECH")
    mech["csec_passes"] = str(int(mech["csec_passes"]) + 1)
    aero = dict(next(r for r in kept if r["code"] == "ENG-BSC-CHEM"), code="ENG-BSC-AERO",
                programme="Aerospace Engineering", url="https://example.edu/programmes/eng-bsc-aero")
    path = folder / "sample-changed.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*kept, aero])
    return path


CHANGED_SENTENCE = ("Activating this upload will add 1 programme, remove 2 and change the requirements of 1. "
                    "99 programmes stay as they are.")


def role_token(site: Site, name: str, role: str) -> str:
    """A named token of that role, made as an administrator would: `beuwi admin token create NAME --role ROLE`."""
    made = subprocess.run([sys.executable, "-m", "beuwi.cli", "admin", "token", "create", name, "--role", role,
                           "--data-dir", str(site.data)], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")})
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def sign_in(page, site: Site, token: str = "") -> None:
    """Sign in to the dashboard with the admin token (or another person's), as `make run` users do."""
    from playwright.sync_api import expect

    page.goto(site.url + "admin/")
    page.get_by_test_id("token").fill(token or site.admin_token)
    page.get_by_test_id("signin-button").click()
    expect(page.get_by_test_id("uploads-table")).to_be_visible()
