"""The engine's per-process snapshot of the active catalogue, over a real FalkorDB and a real Neo4j."""
import logging
import threading
import time

import pytest

from beuwi.graph import cypher, cypher_store, open_store
from beuwi.graph.store import GraphUnavailable
from beuwi.search.active import ActiveCatalogue, NoActiveCatalogue

from tests.processes import wait_until

from .test_search_api import CATALOGUE, graph_of_its_own


class Clock:
    """A hand-moved clock, so the check interval is tested without sleeping."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture(params=["falkordb", "neo4j"])
def own_server(request, tmp_path):
    """A graph server of this test's own, so the test can stop it."""
    with graph_of_its_own(request.param, tmp_path) as (server, store):
        yield server, store


def activate(store, programmes):
    version = store.load(programmes, source="test")
    store.activate(version.id)
    return version.id


def test_nothing_active_raises_no_active_catalogue(graph_store):
    with pytest.raises(NoActiveCatalogue):
        ActiveCatalogue(graph_store, 0).current()


def test_snapshot_holds_the_active_version_with_its_indexes(graph_store):
    graph_store.load([CATALOGUE[0]])  # an inactive version is never served
    version = activate(graph_store, CATALOGUE)
    snapshot = ActiveCatalogue(graph_store, 0).current()
    assert snapshot.version == version
    assert [p.id for p in snapshot.programmes] == [
        "beng", "foundation", "llb", "mbbs", "bsc-chemistry", "bsc-maths", "bsc-physics",
    ]
    assert snapshot.by_id["mbbs"] == CATALOGUE[4]
    science = snapshot.faculties[-1]
    assert (science.name, science.programmes, science.departments) == (
        "Science and Technology", 3, ("Chemistry", "Mathematics", "Physics"),
    )


def test_programmes_are_reloaded_only_when_the_active_version_changes(graph_store):
    activate(graph_store, CATALOGUE)
    clock = Clock()
    active = ActiveCatalogue(graph_store, 1, clock=clock)
    first = active.current()
    clock.now = 1.0
    wait_until(lambda: active._due_in() > 0, "the unchanged version is rechecked", 10)
    assert active.current() is first
    newer = activate(graph_store, CATALOGUE[:2])
    assert active.current() is first  # served until the next check reads the new version in the background
    clock.now = 2.0
    wait_until(lambda: active.current().version == newer, "the new version is served", 10)
    second = active.current()
    assert [p.id for p in second.programmes] == ["foundation", "bsc-maths"]
    assert active.current() is second


def test_an_idle_process_picks_up_a_new_version_without_a_request(graph_store):
    """A worker no request reached since the activation must not answer its first one from the old version."""
    activate(graph_store, CATALOGUE)
    active = ActiveCatalogue(graph_store, 0.2)
    assert len(active.current().programmes) == 7
    newer = activate(graph_store, CATALOGUE[:2])
    wait_until(lambda: active.last.version == newer, "the idle catalogue is refreshed", 10)  # `last` asks nothing
    assert active.current().version == newer


def test_the_watcher_ends_with_its_catalogue(graph_store):
    activate(graph_store, CATALOGUE)
    before = {t for t in threading.enumerate() if t.name == "beuwi-snapshot"}
    active = ActiveCatalogue(graph_store, 0)
    active.current()
    [watcher] = [t for t in threading.enumerate() if t.name == "beuwi-snapshot" and t not in before]
    del active
    watcher.join(10)
    assert not watcher.is_alive()


def test_the_watcher_ends_when_its_store_is_closed_and_says_nothing_more(graph_settings, caplog):
    """A closed store is a shutdown, not an outage: the watcher stops instead of logging "still serving" forever."""
    store = open_store(graph_settings)
    activate(store, CATALOGUE)
    before = {t for t in threading.enumerate() if t.name == "beuwi-snapshot"}
    active = ActiveCatalogue(store, 0)
    active.current()
    [watcher] = [t for t in threading.enumerate() if t.name == "beuwi-snapshot" and t not in before]
    store.close()
    watcher.join(10)
    assert not watcher.is_alive()
    assert active.current().version  # requests still get the snapshot it holds
    with caplog.at_level(logging.WARNING, logger="beuwi.search.active"):
        time.sleep(0.3)
    assert "still serving" not in caplog.text


def test_the_active_version_is_checked_at_most_every_check_seconds(graph_store):
    old = activate(graph_store, CATALOGUE)
    clock = Clock()
    active = ActiveCatalogue(graph_store, 5, clock=clock)
    assert active.current().version == old
    newer = activate(graph_store, CATALOGUE[:1])
    clock.now = 4.9
    assert active.current().version == old
    time.sleep(0.5)
    assert active.current().version == old  # not even asked in the background yet
    clock.now = 5.0
    wait_until(lambda: active.current().version == newer, "the version is rechecked", 10)


def test_no_active_version_is_also_rechecked(graph_store):
    clock = Clock()
    active = ActiveCatalogue(graph_store, 5, clock=clock)
    with pytest.raises(NoActiveCatalogue):
        active.current()
    version = activate(graph_store, CATALOGUE)
    with pytest.raises(NoActiveCatalogue):
        active.current()
    clock.now = 5.0
    assert active.current().version == version


def test_concurrent_readers_all_get_the_snapshot(graph_store):
    version = activate(graph_store, CATALOGUE)
    active = ActiveCatalogue(graph_store, 0)
    seen, errors = [], []

    def read():
        try:
            for _ in range(20):
                seen.append(active.current().version)
        except Exception as exc:  # collected so the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == [version] * 160


def test_when_the_graph_goes_away_a_snapshot_keeps_serving_and_without_one_it_raises(own_server, caplog):
    """One server stopped for both cases: a Neo4j takes seconds to start."""
    server, store = own_server
    version = activate(store, CATALOGUE)
    active = ActiveCatalogue(store, 0)
    snapshot = active.current()
    assert snapshot.version == version

    server.stop()
    with caplog.at_level(logging.WARNING, logger="beuwi.search.active"):
        assert active.current() is snapshot
        never_read = ActiveCatalogue(store, 0)
        with pytest.raises(GraphUnavailable):
            never_read.current()
        with pytest.raises(GraphUnavailable):  # and again: the failure is not remembered as a snapshot
            never_read.current()
        wait_until(lambda: f"still serving catalogue {version}" in caplog.text, "the outage is logged", 30)
        assert active.current() is snapshot


class StuckGraph:
    """A store whose graph stops answering `active_version` until released."""

    def __init__(self, store):
        self.store, self.released = store, threading.Event()

    def active_version(self):
        self.released.wait()
        return self.store.active_version()

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_with_a_snapshot_no_request_waits_on_the_graph(graph_store):
    version = activate(graph_store, CATALOGUE)
    stuck = StuckGraph(graph_store)
    stuck.released.set()
    active = ActiveCatalogue(stuck, 0)
    first = active.current()
    stuck.released.clear()  # the graph hangs from now on
    answers = []
    reader = threading.Thread(target=lambda: answers.extend(active.current() for _ in range(50)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive() and answers == [first] * 50
    stuck.released.set()
    assert active.current().version == version


def test_an_engine_never_swaps_to_a_version_deleted_while_it_reads_it(graph_store, monkeypatch, caplog):
    """Issue 10, item 3: X is activated; while the watcher reads it page by page, Y is activated and X deleted. The
    engine keeps its previous complete snapshot, says why in its log, and then serves Y: never part of X."""
    old = activate(graph_store, CATALOGUE[:1])
    active = ActiveCatalogue(graph_store, 0.2)
    first = active.current()
    monkeypatch.setattr(cypher_store, "READ_PAGE", 2)
    x, y = graph_store.load(CATALOGUE).id, graph_store.load(CATALOGUE[:2]).id
    real_run, deleted = graph_store.run, threading.Event()

    def run(query, params=None, *, write=False):
        if query == cypher.PROGRAMMES and params["id"] == x and params["start"] == 2:  # the first page is in
            graph_store.activate(y)
            graph_store.delete(x)
            deleted.set()
        return real_run(query, params, write=write)

    monkeypatch.setattr(graph_store, "run", run)
    served = []
    with caplog.at_level(logging.INFO, logger="beuwi.search.active"):
        graph_store.activate(x)
        while active.last.version != y:
            served.append(active.current())
            time.sleep(0.001)
            assert len(served) < 20_000, "Y was never served"
    assert deleted.is_set()
    assert {s.version for s in served} <= {old, y} and first in served
    assert f"serving catalogue {x}" not in caplog.text
    assert (f"not serving an incomplete catalogue, still serving catalogue {old}: catalogue '{x}' was deleted while "
            "it was read (2 of its 7 programmes read)") in caplog.text
    assert len(active.current().programmes) == 2
