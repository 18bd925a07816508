"""The embedded FalkorDB: started on demand, shared per data dir, stopped by its owner, data kept, back fast."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from beuwi.bench import generate
from beuwi.domain import Programme
from beuwi.graph import open_store
from beuwi.graph.embedded import EmbeddedServer
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.graph.store import GraphUnavailable
from beuwi.ports import free_port

from .processes import wait_until

BEUWI = [sys.executable, "-m", "beuwi.cli"]
SEARCH = ["search", "-s", "Mathematics (CSEC)", "-s", "English A (CSEC)", "--json"]


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


def servers_in(directory: Path) -> list[int]:
    """Pids of every redis-server working in this graph directory, whoever started it (the server rewrites its
    command line, but it moves into its --dir)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if "redis-server" in (proc / "comm").read_text() and (proc / "cwd").resolve() == directory:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def load_generated(data_dir: Path, count: int) -> str:
    """Load and activate `count` generated programmes, as `beuwi load --activate` does; the active version."""
    with_server = EmbeddedServer.ensure(data_dir)
    store = open_store({"GRAPH_URI": with_server.uri, "GRAPH_TIMEOUT": 60})
    try:
        return store.activate(store.load(generate.original("L3", count, 1)).id).id
    finally:
        store.close()
        with_server.stop()


def test_after_a_large_load_and_a_crash_the_next_command_has_the_graph_in_seconds(tmp_path):
    """Issue 10, item 8. Replaying the queries that wrote 3,000 programmes takes about 20 s here (10,000: 237 s);
    a load leaves the graph compacted, so even after the server dies without a shutdown it is back at once."""
    version = load_generated(tmp_path, 3000)
    server = EmbeddedServer.ensure(tmp_path)
    os.kill(server.pid, signal.SIGKILL)  # as a machine restart would: no shutdown, no final save
    server._process.wait()

    began = time.monotonic()
    restarted = EmbeddedServer.ensure(tmp_path)
    took = time.monotonic() - began
    try:
        store = FalkorDBStore.from_uri(restarted.uri, timeout=60)
        assert store.active_version() == version and len(store.programmes(version)) == 3000
        store.close()
    finally:
        restarted.stop()
    assert took < 5, f"the graph took {took:.1f} s to come back"  # 0.1 s when measured

    search = subprocess.run([*BEUWI, *SEARCH, "--data-dir", str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["catalogue"] == version


@pytest.fixture(scope="module")
def written_before_compaction(tmp_path_factory):
    """A data dir as the old persistence left it: 2,000 programmes (and the sample's indexes) as an append-only
    log of every query that wrote them, about 10 s to replay here. Commands here only read, so it stays that way."""
    data_dir = tmp_path_factory.mktemp("uncompacted")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FalkorDBStore, "_written", lambda self: None)
        version = load_generated(data_dir, 2000)
    return data_dir, version


def test_a_command_that_finds_the_graph_loading_waits_with_progress_lines(written_before_compaction):
    data_dir, version = written_before_compaction
    search = subprocess.run([*BEUWI, *SEARCH, "--data-dir", str(data_dir)], capture_output=True, text=True,
                            timeout=300)
    assert search.returncode == 0, search.stderr
    assert "Traceback" not in search.stderr
    lines = search.stderr.splitlines()
    assert lines[0] == f"graph: FalkorDB is still loading the catalogue from {data_dir / 'graph'}; waiting for it"
    assert lines[-1].startswith("graph: loaded after ")
    assert json.loads(search.stdout)["catalogue"] == version
    assert servers_in(data_dir / "graph") == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["INT", "TERM", "KILL"])
def test_a_command_stopped_while_the_graph_loads_leaves_no_server_running(written_before_compaction, sig):
    data_dir, _ = written_before_compaction
    command = subprocess.Popen([*BEUWI, *SEARCH, "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert "still loading" in command.stderr.readline()
        [server] = servers_in(data_dir / "graph")
        command.send_signal(sig)
        command.wait(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
        command.stderr.close()
    wait_until(lambda: not alive(server), "the server it started has stopped", 30)
    assert servers_in(data_dir / "graph") == []


@pytest.mark.parametrize("command", [["serve", "search"], ["serve", "admin"], ["search", "-s", "Biology (CSEC)"]])
def test_a_graph_that_cannot_start_ends_the_command_with_its_reason(tmp_path, command):
    files = tmp_path / "graph" / "appendonlydir"
    files.mkdir(parents=True)
    (files / "appendonly.aof.manifest").write_text("not a manifest\n")
    port = ["--port", str(free_port())] if command[0] == "serve" else []
    ended = subprocess.run([*BEUWI, *command, *port, "--data-dir", str(tmp_path)], capture_output=True, text=True,
                           timeout=120)
    assert ended.returncode == 3, ended.stderr
    assert ended.stderr.startswith("graph: the embedded FalkorDB did not start:\n")
    assert "Traceback" not in ended.stderr
    assert servers_in(tmp_path / "graph") == []


def test_a_server_started_by_a_thread_outlives_the_thread(tmp_path):
    """Only a main thread ties the server's life to its own: a request thread that starts it must not stop it."""
    started = []
    thread = threading.Thread(target=lambda: started.append(EmbeddedServer.ensure(tmp_path)))
    thread.start()
    thread.join()
    try:
        time.sleep(0.5)
        assert alive(started[0].pid)
        FalkorDBStore.from_uri(started[0].uri).ping()
    finally:
        started[0].stop()
