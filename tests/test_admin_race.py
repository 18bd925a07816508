"""Two `beuwi serve admin` processes on one data dir (local) or one Firebase project (the emulators) and one graph:
racing activations and deletes, and admins killed with -9 mid-activation and mid-schedule."""
import itertools
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
import requests

from beuwi.admin.app import BACKENDS
from beuwi.graph import open_store
from beuwi.ports import free_port

from .processes import RestartableGraph, get_json, kill_group, start_service, stop, wait_until, wait_until_live
from .test_admin_api import ROW_ERRORS, SAMPLE, auth, backend, who  # noqa: F401

CHECK_SECONDS = 0.2  # each admin's scheduler, and the engine's look at the active version


class Deployment:
    """A graph of its own, an engine and admin processes on the backend's stores, each one a `beuwi serve`."""

    def __init__(self, tmp_path, backend, auth):
        self.tmp_path, self.auth = tmp_path, auth
        self.graph = RestartableGraph(tmp_path / "graph")
        self.settings = {**{k: v for k, v in backend.items() if k != "TESTING"}, **self.graph.settings,
                         "SCHEDULE_CHECK_SECONDS": CHECK_SECONDS, "ACTIVE_CHECK_SECONDS": CHECK_SECONDS}
        self.meta = BACKENDS[backend["BACKEND"]]()[1].from_settings(backend)
        self.processes, self.logs, self.names = [], [], itertools.count()
        self.engine = self.start("search")

    def start(self, service: str = "admin") -> str:
        port, log = free_port(), self.tmp_path / f"{service}-{next(self.names)}.log"
        process = start_service(service, port, log, **self.settings)
        self.processes.append(process)
        self.logs.append(log)
        wait_until_live(process, port, log, "/api/health" if service == "admin" else "/api/health/live")
        return f"http://127.0.0.1:{port}"

    def kill(self, url: str) -> None:
        """SIGKILL the gunicorn master and worker serving `url` at once."""
        kill_group(self.processes[self.urls().index(url)])

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p.args[p.args.index('--port') + 1]}" for p in self.processes]

    def call(self, method: str, url: str, **kwargs) -> tuple[int, dict]:
        response = requests.request(method, url, headers=self.auth, timeout=60, **kwargs)
        return response.status_code, response.json()

    def upload(self, admin: str, data: bytes) -> str:
        status, body = self.call("POST", f"{admin}/api/uploads", files={"file": ("catalogue.csv", data)})
        assert status == 201, body
        return body["id"]

    def active(self) -> str | None:
        with closing(open_store({**self.settings, "GRAPH_TIMEOUT": 30})) as store:
            return store.active_version()

    def versions(self) -> set[str]:
        with closing(open_store({**self.settings, "GRAPH_TIMEOUT": 30})) as store:
            return {v.id for v in store.versions()}

    def agree(self, expected: str) -> None:
        """The graph, the engine, the metadata and every admin process say `expected` is the active version."""
        assert self.active() == expected
        wait_until(lambda: get_json(f"{self.engine}/api/health")[1].get("catalogue") == expected,
                   f"the engine serves {expected}", 30)
        assert [u.id for u in self.meta.list() if u.active] == [expected]
        for admin in self.urls()[1:]:
            if self.processes[self.urls().index(admin)].poll() is None:
                listed = self.call("GET", f"{admin}/api/uploads")[1]["uploads"]
                assert [u["id"] for u in listed if u["active"]] == [expected]

    def close(self) -> None:
        for process in self.processes:
            stop(process)
        self.graph.stop()
        for log in self.logs:
            text = log.read_text(errors="replace")
            assert "Traceback" not in text, text


@pytest.fixture
def deployment(tmp_path, backend, auth):
    deployed = Deployment(tmp_path, backend, auth)
    try:
        yield deployed
    finally:
        deployed.close()


def race(deployment, attempts: list[tuple[str, str, str, str]]) -> list[tuple[str, str, int, dict]]:
    """Send every (admin, method, path, upload id) at once, each from a thread of its own; their answers."""
    answers = []
    start = threading.Barrier(len(attempts))

    def attempt(admin, method, path, upload_id):
        start.wait()
        status, body = deployment.call(method, admin + path)
        answers.append((method, upload_id, status, body))

    threads = [threading.Thread(target=attempt, args=each) for each in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_admin_processes_racing_activations_and_deletes_leave_one_version_active_and_every_attempt_audited(
        deployment):
    admins = [deployment.start(), deployment.start()]
    ids = [deployment.upload(admins[n % 2], data) for n, data in enumerate((SAMPLE, ROW_ERRORS, ROW_ERRORS, SAMPLE))]
    audited_before = len(deployment.meta.audit_log(limit=1000))
    mixed = [(admins[n % 2], "POST", f"/api/uploads/{upload_id}/activate", upload_id)
             for n, upload_id in enumerate(ids * 3)] + [
        (admins[n % 2], "DELETE", f"/api/uploads/{upload_id}", upload_id) for n, upload_id in enumerate(ids[2:] * 2)]
    answers = race(deployment, mixed)
    statuses = sorted((method, status) for method, _, status, _ in answers)
    assert ("POST", 200) in statuses, statuses
    kept = [u.id for u in deployment.meta.list()]
    for n in range(8):  # then pairs of activations, one to each process at the same moment
        pair = [(admins[side], "POST", f"/api/uploads/{kept[(n + side) % len(kept)]}/activate",
                 kept[(n + side) % len(kept)]) for side in (0, 1)]
        answers += race(deployment, pair)
        assert [u.id for u in deployment.meta.list() if u.active] == [deployment.active()], answers[-2:]

    assert {(method, status) for method, _, status, _ in answers} <= {
        ("POST", 200), ("POST", 409), ("POST", 404), ("DELETE", 200), ("DELETE", 409), ("DELETE", 404)}, answers
    busy = [body for *_, status, body in answers if status == 409 and "in progress" in body["error"]]
    assert all(body == {"error": "another activation is in progress; try again"} for body in busy)
    entries = list(reversed(deployment.meta.audit_log(limit=1000)))[audited_before:]
    expected = {("POST", 200): "activate", ("POST", 409): "activate-refused", ("DELETE", 200): "delete",
                ("DELETE", 409): "delete-refused"}
    sent = sorted((expected[method, status], upload_id) for method, upload_id, status, _ in answers if status != 404)
    assert sorted((e.action, e.upload_id) for e in entries) == sent  # every attempt, once; a 404 found no upload
    activated = [e.upload_id for e in entries if e.action == "activate"]
    deployment.agree(activated[-1])  # the last activation the lease let through is the one served
    deleted = {e.upload_id for e in entries if e.action == "delete"}
    assert deleted and deleted.isdisjoint(activated[-1:])
    assert set(kept) == set(ids) - deleted == deployment.versions()


def soon(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).astimezone(timezone(timedelta(hours=-4))) \
        .isoformat()


def until(at: str, extra: float = 0.0) -> None:
    time.sleep(max(0.0, (datetime.fromisoformat(at) - datetime.now(timezone.utc)).total_seconds() + extra))


def audited(deployment, action: str, upload_id: str) -> int:
    return sum(1 for e in deployment.meta.audit_log(limit=1000) if (e.action, e.upload_id) == (action, upload_id))


def test_admins_killed_mid_schedule_and_mid_activation_leave_a_consistent_state_and_each_schedule_fires_once(
        deployment):
    first_admin, second_admin = deployment.start(), deployment.start()
    first, second, third = (deployment.upload(first_admin, data) for data in (SAMPLE, ROW_ERRORS, SAMPLE))
    assert deployment.call("POST", f"{first_admin}/api/uploads/{first}/activate")[0] == 200

    # Due while no admin process runs: the one started afterwards carries it out.
    at = soon(3)
    assert deployment.call("POST", f"{second_admin}/api/uploads/{second}/activate", json={"at": at})[0] == 202
    deployment.kill(first_admin)
    deployment.kill(second_admin)
    until(at, 0.5)
    assert deployment.active() == first
    restarted = deployment.start()
    wait_until(lambda: deployment.active() == second, "the schedule fires after the restart", 30)
    deployment.agree(second)

    # Killed while carrying a schedule out (holding the lease, its graph call unanswered): the other process does
    # it once the lease of the killed one expires.
    other = deployment.start()
    at = soon(3)
    assert deployment.call("POST", f"{restarted}/api/uploads/{third}/activate", json={"at": at})[0] == 202
    deployment.kill(other)  # so that `restarted` is the one to take the schedule
    until(at, -0.3)
    with deployment.graph.paused():
        until(at, 1.5)
        deployment.kill(restarted)
    survivor = deployment.start()
    wait_until(lambda: deployment.active() == third, "the schedule fires once the killed one's lease expires", 60)
    deployment.agree(third)

    # Killed mid-activation: until its lease expires, attempts are refused (and audited), then one goes through.
    answers = []

    def activate_first():
        try:
            answers.append(deployment.call("POST", f"{survivor}/api/uploads/{first}/activate"))
        except requests.ConnectionError:
            answers.append("cut")

    with deployment.graph.paused():
        caller = threading.Thread(target=activate_first)
        caller.start()
        time.sleep(1.0)
        deployment.kill(survivor)
    caller.join()
    assert answers == ["cut"]  # killed before it answered
    admin = deployment.start()
    wait_until(lambda: deployment.call("POST", f"{admin}/api/uploads/{first}/activate")[0] == 200,
               "an activation goes through once the killed admin's lease expires", 60)
    deployment.agree(first)
    assert (audited(deployment, "activate-scheduled", second), audited(deployment, "activate-scheduled", third)) == (
        1, 1)
    assert audited(deployment, "activate", first) == 2
    assert [u.scheduled_at for u in deployment.meta.list()] == [None, None, None]
