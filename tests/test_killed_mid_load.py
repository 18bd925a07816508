"""A graph server killed in the middle of a load: the load fails with GraphUnavailable, and after a restart the
previous active version is still the one served, whole, with no trace of the half-written one in any listing; a purge
removes its id and nodes."""
import os
import signal
import threading
import time

import pytest

from beuwi.bench import generate
from beuwi.graph import EMBEDDED, open_store
from beuwi.graph.store import GraphError
from beuwi.search.active import Snapshot

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
