"""The real Firebase emulators for the tests: Firestore (gcloud), Storage (PyPI), Auth (firebase-tools).

Each starts once per session on a free loopback port, in its own process group so that stopping it
leaves no java or node process behind. A missing or broken emulator fails the tests, never skips them.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from beuwi.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "demo-beuwi"
BUCKET = f"{PROJECT}.appspot.com"
START_SECONDS = 90  # two slow cores: the Firestore emulator's JVM alone takes about 10 s


class Emulator:
    """One emulator process, its log file and its HTTP port."""

    def __init__(self, name: str, command: list[str], port: int, log: Path, cwd: Path = ROOT):
        self.name, self.port, self.log = name, port, log
        try:
            with open(log, "wb") as out:
                self.process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            pytest.fail(f"{name} emulator cannot start ({' '.join(command)}): {exc}", pytrace=False)

    def wait(self) -> None:
        """Return once the port answers HTTP; fail the tests with the log's tail if it never does."""
        started = time.monotonic()
        while time.monotonic() - started < START_SECONDS:
            if self.process.poll() is not None:
                self.fail(f"exited with status {self.process.returncode}")
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.fail(f"did not answer on port {self.port} within {START_SECONDS} s")

    def fail(self, problem: str):
        self.stop()
        tail = self.log.read_text(errors="replace")[-3000:]
        pytest.fail(f"{self.name} emulator {problem}. Output:\n{tail}", pytrace=False)

    def stop(self) -> None:
        """TERM the whole process group, then KILL whatever is left of it (e.g. the JVM under a script)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(15)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    os.killpg(self.process.pid, 0)
                    time.sleep(0.1)
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                pass


@contextmanager
def running(emulator: Emulator):
    """The emulator once it answers; always stopped afterwards."""
    try:
        emulator.wait()
        yield emulator
    finally:
        emulator.stop()


def firestore_command(port: int) -> list[str]:
    try:
        sdk = subprocess.run(["gcloud", "info", "--format=value(installation.sdk_root)"], capture_output=True,
                             text=True, timeout=60, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"Firestore emulator: the gcloud CLI is needed to find it: {exc}", pytrace=False)
    script = Path(sdk) / "platform" / "cloud-firestore-emulator" / "cloud_firestore_emulator"
    return [str(script), "start", "--host=127.0.0.1", f"--port={port}"]


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory):
    """FIRESTORE_EMULATOR_HOST of Google's Cloud Firestore emulator."""
    port = free_port()
    log = tmp_path_factory.mktemp("firestore") / "emulator.log"
    with running(Emulator("Firestore", firestore_command(port), port, log)):
        yield f"127.0.0.1:{port}"


@pytest.fixture(scope="session")
def storage_emulator(tmp_path_factory):
    """STORAGE_EMULATOR_HOST of gcp-storage-emulator, with the project's bucket created."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    port = free_port()
    script = Path(sys.executable).parent / "gcp-storage-emulator"
    command = [str(script), "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"]
    log = tmp_path_factory.mktemp("storage") / "emulator.log"
    with running(Emulator("Storage", command, port, log)) as emulator:
        host = f"http://127.0.0.1:{port}"
        saved = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = host  # the storage client reads it when created
        try:
            storage.Client(project=PROJECT, credentials=AnonymousCredentials()).create_bucket(BUCKET)
        except Exception as exc:  # noqa: BLE001 - any failure here means the emulator is unusable
            emulator.fail(f"cannot create bucket {BUCKET}: {exc}")
        finally:
            if saved is None:
                del os.environ["STORAGE_EMULATOR_HOST"]
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = saved
        yield host


@pytest.fixture(scope="session")
def auth_emulator(tmp_path_factory):
    """FIREBASE_AUTH_EMULATOR_HOST of the firebase-tools Auth emulator (installed by `npm ci`)."""
    firebase = ROOT / "node_modules" / ".bin" / "firebase"
    if not firebase.exists():
        pytest.fail(f"Auth emulator: {firebase} is missing; run `npm ci` in {ROOT}", pytrace=False)
    port = free_port()
    workdir = tmp_path_factory.mktemp("auth")
    config = workdir / "firebase.json"  # the hub and logger need free ports too, or parallel runs collide
    config.write_text(json.dumps({"emulators": {
        "auth": {"host": "127.0.0.1", "port": port}, "hub": {"host": "127.0.0.1", "port": free_port()},
        "logging": {"host": "127.0.0.1", "port": free_port()}, "ui": {"enabled": False}, "singleProjectMode": True}}))
    command = [str(firebase), "emulators:start", "--only", "auth", "--project", PROJECT, "--config", str(config)]
    with running(Emulator("Auth", command, port, workdir / "emulator.log", cwd=workdir)):
        yield f"127.0.0.1:{port}"


def sign_up(auth_host: str, email: str, password: str) -> str:
    """A new user's Firebase ID token, from the Auth emulator's Identity Toolkit API."""
    response = requests.post(f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=any",
                             json={"email": email, "password": password, "returnSecureToken": True}, timeout=10)
    response.raise_for_status()
    return response.json()["idToken"]


def sign_in(auth_host: str, email: str, password: str) -> str:
    """A fresh ID token for an existing user, carrying the custom claims set since sign-up."""
    response = requests.post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any",
        json={"email": email, "password": password, "returnSecureToken": True}, timeout=10)
    response.raise_for_status()
    return response.json()["idToken"]


@pytest.fixture
def firebase_env(monkeypatch, firestore_emulator, storage_emulator, auth_emulator):
    """Point code under test at the emulators; yields settings with a Firestore prefix unique to the test."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_emulator)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", auth_emulator)
    yield {"BACKEND": "firebase", "FIREBASE_PROJECT": PROJECT, "FIREBASE_BUCKET": BUCKET,
           "FIRESTORE_PREFIX": f"test{uuid.uuid4().hex[:12]}"}
