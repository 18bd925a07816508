"""The embedded FalkorDB: started on demand, shared per data dir, stopped by its owner, data kept."""
import json
import os
import subprocess
import sys

import pytest

from beuwi.domain import Programme
from beuwi.graph import open_store
from beuwi.graph.embedded import EmbeddedServer
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.graph.store import GraphUnavailable


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def server(tmp_path):
    started = EmbeddedServer.ensure(tmp_path)
    yield started
    started.stop()


def test_a_second_command_reuses_the_running_server(server, tmp_path):
    assert server.owned
    record = json.loads((tmp_path / "graph" / "server.json").read_text())
    assert record == {"pid": server.pid, "port": server.port}
    again = EmbeddedServer.ensure(tmp_path)
    assert (again.port, again.pid, again.owned) == (server.port, server.pid, False)
    again.stop()  # not the owner: the server keeps running
    FalkorDBStore.from_uri(server.uri).ping()


def test_the_owner_stops_it_and_the_data_persists(tmp_path):
    server = EmbeddedServer.ensure(tmp_path)
    store = FalkorDBStore.from_uri(server.uri)
    store.create_indexes()
    version = store.activate(store.load([Programme("law", "Law", "Law", careers=("Attorney",))]).id)
    store.close()
    server.stop()
    assert not alive(server.pid)
    assert not (tmp_path / "graph" / "server.json").exists()

    restarted = EmbeddedServer.ensure(tmp_path)
    try:
        assert restarted.owned and restarted.pid != server.pid
        store = FalkorDBStore.from_uri(restarted.uri)
        assert store.active_version() == version.id
        assert store.programmes(version.id) == [Programme("law", "Law", "Law", careers=("Attorney",))]
        store.close()
    finally:
        restarted.stop()


def dead_pid():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


@pytest.mark.parametrize("pid", [dead_pid, os.getpid], ids=["dead pid", "live pid, no server on the port"])
def test_a_stale_record_is_ignored(tmp_path, pid):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "server.json").write_text(json.dumps({"pid": pid(), "port": 1}))
    server = EmbeddedServer.ensure(tmp_path)
    try:
        assert server.owned and server.port != 1
        assert json.loads((tmp_path / "graph" / "server.json").read_text()) == {"pid": server.pid, "port": server.port}
        FalkorDBStore.from_uri(server.uri).ping()
    finally:
        server.stop()


def test_open_store_without_a_uri_starts_and_stops_the_embedded_server(tmp_path):
    store = open_store({"DATA_DIR": str(tmp_path)})
    pid = json.loads((tmp_path / "graph" / "server.json").read_text())["pid"]
    store.ping()
    store.close()
    assert not alive(pid)
    assert not (tmp_path / "graph" / "server.json").exists()


def test_open_store_stops_the_embedded_server_it_started_when_setup_fails(tmp_path, monkeypatch):
    started = []

    def unavailable(store):
        started.append(json.loads((tmp_path / "graph" / "server.json").read_text())["pid"])
        raise GraphUnavailable("injected")

    monkeypatch.setattr(FalkorDBStore, "create_indexes", unavailable)
    with pytest.raises(GraphUnavailable, match="injected"):
        open_store({"DATA_DIR": str(tmp_path)})
    assert len(started) == 1 and not alive(started[0])


def test_processes_starting_at_once_share_one_server(tmp_path):
    code = ("import sys; from beuwi.graph.embedded import EmbeddedServer; "
            "s = EmbeddedServer.ensure(sys.argv[1]); print(s.port, s.pid, s.owned, flush=True); sys.stdin.read(); s.stop()")
    processes = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        lines = [p.stdout.readline().split() for p in processes]
    finally:
        for p in sorted(processes, key=lambda p: p.pid, reverse=True):
            p.stdin.close()
        for p in processes:
            p.wait(timeout=60)
    assert len({(port, pid) for port, pid, _ in lines}) == 1
    assert sorted(owned for _, _, owned in lines) == ["False", "False", "True"]
    assert not alive(int(lines[0][1]))  # the owner stopped it on the way out
    assert not (tmp_path / "graph" / "server.json").exists()
