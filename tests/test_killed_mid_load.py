"""A graph server killed in the middle of a load: the load fails with GraphUnavailable, and after a restart the
previous active version is still the one served, whole, with no trace of the half-written one in any listing; a purge
removes its id and nodes. An admin app killed with -9 in the middle of an upload leaves no half-visible catalogue and
no upload record, and the restarted one purges what is left."""
import csv
import io
import os
import signal
import threading
import time

import pytest
import requests

from beuwi.admin import uploads
from beuwi.admin.app import build_stores
from beuwi.admin.stores import NotFound
from beuwi.bench import generate
from beuwi.graph import EMBEDDED, open_store
from beuwi.graph.store import GraphError
from beuwi.ports import free_port
from beuwi.search.active import Snapshot

from .emulators import sign_up
from .processes import kill_group, start_service, stop, wait_until, wait_until_live
from .test_admin_api import ROW_ERRORS, SAMPLE, TOKEN


def settings_of(server) -> dict:
    return {**server.connection, "GRAPH_TIMEOUT": 5}


def written(store, version_id: str) -> int:
    return store.run("MATCH (p:Programme) WHERE p.catalogue = $id RETURN count(p)", {"id": version_id})[0][0]


@pytest.mark.parametrize("kind", EMBEDDED)
def test_a_server_killed_mid_load_keeps_the_previous_version_active(kind, tmp_path):
    server = EMBEDDED[kind].ensure(tmp_path)
    port = server.port
    kept = generate.original("L1", 200, seed=3, prefix="KEPT")
    try:
        store = open_store(settings_of(server))
        active = store.activate(store.load(kept, source="kept").id).id
        spare = store.load(kept, source="spare").id
        failure: list[BaseException] = []

        def load_big():
            try:
                store.load(generate.original("L3", 5_000, seed=4, prefix="BIG"), source="big", version_id="big")
            except BaseException as exc:  # collected for the assertion below
                failure.append(exc)

        loader = threading.Thread(target=load_big)
        loader.start()
        watcher = open_store(settings_of(server), write=False)
        deadline = time.monotonic() + 120
        while written(watcher, "big") == 0:  # the new version is half written: kill the server now
            assert loader.is_alive() and time.monotonic() < deadline, "the load ended before it could be interrupted"
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        loader.join(timeout=120)
        assert not loader.is_alive()
        assert failure and isinstance(failure[0], GraphError), failure
        watcher.close()
        store.close()
    finally:
        server.stop()

    restarted = EMBEDDED[kind].ensure(tmp_path, port=port)
    try:
        store = open_store(settings_of(restarted))
        assert store.active_version() == active
        assert [v.id for v in store.versions()] == [spare, active]  # the half-written version is never listed
        store.delete(spare)  # an inactive version restored from disk can be deleted (FalkorDB: NOT c.active)
        assert [v.id for v in store.versions()] == [active]
        # ... but its id and nodes linger, loading, until a purge removes them.
        assert [(v.id, v.status) for v in store.unfinished_versions()] == [("big", "loading")]
        assert written(store, "big") > 0
        store.purge("big")
        assert store.unfinished_versions() == [] and written(store, "big") == 0
        assert store.run("MATCH (n) WHERE n.catalogue = $id OR n.id = $id RETURN count(n)", {"id": "big"}) == [[0]]
        assert Snapshot.build(active, store.programmes(active)).version == active
        assert store.programmes(active) == kept
        # The next load of the same catalogue works as if nothing had happened.
        again = store.activate(store.load(kept, source="kept again").id)
        assert store.programmes(again.id) == kept
        store.close()
    finally:
        restarted.stop()


def copies(data: bytes, times: int) -> bytes:
    """The catalogue CSV `times` over, each copy's programmes made distinct by a suffix on their code and name."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for i in range(times):
        writer.writerows({**row, "code": row["code"] and f"{row['code']}-{i}", "programme": f"{row['programme']} {i}"}
                         for row in rows)
    return out.getvalue().encode()


@pytest.fixture(params=["local", "firebase"])
def admin_settings(request, falkordb_store, tmp_path):
    """BEUWI_* settings of an admin app on each backend and a clean FalkorDB graph, and the header a publisher sends."""
    settings = {"DATA_DIR": str(tmp_path), "BACKEND": request.param, "ADMIN_TOKEN": TOKEN,
                "GRAPH_URI": falkordb_store.uri, "GRAPH_NAME": falkordb_store.name}
    if request.param == "local":
        return settings, {"Authorization": f"Bearer {TOKEN}"}
    settings.update(request.getfixturevalue("firebase_env"), ADMIN_EMAILS="publisher@example.org")
    token = sign_up(os.environ["FIREBASE_AUTH_EMULATOR_HOST"], "publisher@example.org", "password-123")
    return settings, {"Authorization": f"Bearer {token}"}


def test_an_admin_app_killed_mid_upload_leaves_nothing_half_visible_and_its_restart_purges_the_rest(admin_settings,
                                                                                                    tmp_path):
    settings, auth = admin_settings
    stores = build_stores(settings)
    kept = uploads.upload(stores, ROW_ERRORS, "kept.csv", "alice", 10 * 1024 * 1024)[0]
    uploads.activate(stores, kept.id, "alice")
    port, log = free_port(), tmp_path / "admin.log"
    admin = start_service("admin", port, log, **settings)
    try:
        wait_until_live(admin, port, log, "/api/health")
        big = copies(SAMPLE, 60)  # about 6,000 programmes: seconds of graph writes to be killed in

        def post():
            try:
                requests.post(f"http://127.0.0.1:{port}/api/uploads", files={"file": ("big.csv", big)}, headers=auth,
                              timeout=120)
            except requests.ConnectionError:
                pass  # the admin app was killed under it

        sender = threading.Thread(target=post)
        sender.start()
        deadline = time.monotonic() + 120
        while not any(written(stores.graph, v.id) for v in stores.graph.unfinished_versions()):
            assert sender.is_alive() and time.monotonic() < deadline, "the upload ended before it could be killed"
            time.sleep(0.02)
        kill_group(admin)
        sender.join(timeout=120)
    finally:
        stop(admin)
    [left] = stores.graph.unfinished_versions()
    # Nothing half-visible: the graph lists and serves only the kept version, and no record points at the rest.
    assert [(v.id, v.active) for v in stores.graph.versions()] == [(kept.id, True)]
    assert [u.id for u in uploads.listing(stores)] == [kept.id]
    assert stores.files.get(f"uploads/{left.id}/source.csv") == big  # stored before its version was loaded

    restarted = start_service("admin", port, log, **settings, LOADING_GRACE_SECONDS=0)
    try:
        wait_until_live(restarted, port, log, "/api/health")
        wait_until(lambda: [(e.who, e.action, e.upload_id) for e in stores.meta.audit_log(1)] == [
            ("scheduler", "purge", left.id)], "the restarted admin app purges the version")
    finally:
        stop(restarted)
    assert stores.graph.unfinished_versions() == []
    assert written(stores.graph, left.id) == 0
    assert stores.graph.run("MATCH (n) WHERE n.catalogue = $id OR n.id = $id RETURN count(n)", {"id": left.id}) == [[0]]
    with pytest.raises(NotFound):
        stores.files.get(f"uploads/{left.id}/source.csv")
    assert [u.id for u in uploads.listing(stores)] == [kept.id] and stores.graph.active_version() == kept.id
    stores.graph.close()
