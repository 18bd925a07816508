"""The embedded Neo4j's faults, on real JVMs: each gives one line naming the cause and the fix, and no Java stack
trace reaches the screen (the launcher's output goes to <data>/neo4j/server.log).

One server of this module's own serves the tests that need one running (three JVM starts in all, with the one whose
store is locked and the restart), so the session's shared Neo4j is never stopped or locked out.
"""
import json
import shutil
import socket
import subprocess
from contextlib import closing

import pytest

from beuwi.graph import neo4j_server, open_store
from beuwi.graph.neo4j_server import EmbeddedNeo4j
from beuwi.graph.store import GraphUnavailable

from .test_graph_store import CATALOGUE


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A Neo4j of this module's own, with a catalogue loaded; the last test stops and restarts it."""
    server = EmbeddedNeo4j.ensure(tmp_path_factory.mktemp("own"))
    with closing(open_store(settings_of(server))) as store:
        version = store.activate(store.load(CATALOGUE).id).id
    yield server, version
    server.stop()


def settings_of(server, password=None) -> dict:
    return {**server.connection, **({"GRAPH_PASSWORD": password} if password else {}), "GRAPH_TIMEOUT": 10}


def refused(capfd, call) -> str:
    """The GraphUnavailable message of `call`, checked to be one line with nothing of Java's on the screen."""
    with pytest.raises(GraphUnavailable) as caught:
        call()
    message = str(caught.value)
    out, err = capfd.readouterr()
    assert "\n" not in message
    for trace in ("Exception", "\tat ", "Traceback"):
        assert trace not in out + err + message
    return message


def test_a_second_ensure_reuses_the_running_server_without_building(own, monkeypatch):
    server, _ = own
    monkeypatch.setattr(neo4j_server, "build", lambda *a, **k: pytest.fail("built again"))
    again = EmbeddedNeo4j.ensure(server.directory.parent)
    assert (again.pid, again.port, again.owned) == (server.pid, server.port, False)
    again.stop()  # not its to stop
    with closing(open_store(settings_of(again), write=False)) as store:
        store.ping()


def test_wrong_credentials_name_them(own, capfd):
    """Twice only: after 3 wrong passwords in a row Neo4j refuses even the right one for 5 s (that answer is
    mapped the same way, but would slow the tests after this one)."""
    server, _ = own
    wrong = settings_of(server, password="not-the-password")
    for call in (lambda: open_store(wrong), lambda: open_store(wrong, write=False).active_version()):
        message = refused(capfd, call)
        assert message.startswith("Neo4j refused the credentials (BEUWI_GRAPH_USER, BEUWI_GRAPH_PASSWORD): ")


def test_a_store_in_use_by_another_neo4j_says_so(own, tmp_path, capfd):
    """A second launcher started on the running server's store (a data dir whose store is the same directory)."""
    server, _ = own
    (tmp_path / "neo4j").mkdir()
    (tmp_path / "neo4j" / "store").symlink_to(server.directory / "store")
    message = refused(capfd, lambda: EmbeddedNeo4j.ensure(tmp_path))
    assert f"the Neo4j store in {tmp_path / 'neo4j' / 'store'} is in use by another process" in message
    assert "stop it or use another data dir" in message
    assert "error: " in (tmp_path / "neo4j" / "server.log").read_text()  # what the launcher said, kept in its log
    assert not (tmp_path / "neo4j" / "server.json").exists()


def test_a_taken_bolt_port_is_named(tmp_path, capfd):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        message = refused(capfd, lambda: EmbeddedNeo4j.ensure(tmp_path, port=port))
    assert message.startswith(f"Bolt port {port} is already taken by another program")


def test_java_missing_names_java_and_the_fix(tmp_path, monkeypatch, capfd):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    message = refused(capfd, lambda: EmbeddedNeo4j.ensure(tmp_path))
    assert message.startswith("Java is not installed: the embedded Neo4j runs in a JVM; install a Java 17")
    assert "BEUWI_EMBEDDED_GRAPH=falkordb" in message


def test_maven_missing_when_the_launcher_is_not_built_names_maven(tmp_path, monkeypatch, capfd):
    launcher = tmp_path / "neo4j_launcher"  # the sources only, as in a fresh clone
    shutil.copytree(neo4j_server.LAUNCHER, launcher, ignore=shutil.ignore_patterns("target", "*.log", ".build.lock"))
    for name, path in (("LAUNCHER", launcher), ("JAR", launcher / "target" / neo4j_server.JAR.name),
                       ("CLASSPATH", launcher / "target" / "classpath.txt"), ("PLUGINS", launcher / "target" / "plugins")):
        monkeypatch.setattr(neo4j_server, name, path)
    bin_dir = tmp_path / "bin"  # Java, but no Maven
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(neo4j_server._java())
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    message = refused(capfd, lambda: EmbeddedNeo4j.ensure(tmp_path / "data"))
    assert message.startswith("Maven is not installed: the embedded Neo4j's launcher is built with it once "
                              "(apt-get install maven)")
    assert not (launcher / "target").exists()


def test_too_many_wrong_passwords_still_name_the_credentials(own, capfd):
    """After 3 wrong passwords in a row Neo4j refuses any for 5 s, with a ClientError of its own (it was a
    'query failed' GraphError). The next test restarts the server, which forgets the count."""
    server, _ = own
    with closing(open_store(settings_of(server, password="not-the-password"), write=False)) as store:
        for _ in range(4):
            assert refused(capfd, store.ping).startswith("Neo4j refused the credentials (BEUWI_GRAPH_USER, ")


def test_sigterm_stops_it_cleanly_and_a_stale_record_gives_a_new_server_with_the_data(own, capfd):
    server, version = own
    process, log = server._process, server.directory / "server.log"
    server.stop()
    assert process.returncode == 143  # the JVM's own exit after its shutdown hook ran (128 + SIGTERM), not a kill
    assert log.read_text().rstrip().endswith("stopped: the store is closed")
    debug = (server.directory / "store" / "logs" / "debug.log").read_text()
    assert "Stopped 'DatabaseId{" in debug and "[neo4j]}' successfully" in debug  # its only shutdown

    dead = subprocess.Popen(["true"])
    dead.wait()
    (server.directory / "server.json").write_text(json.dumps({"pid": dead.pid, "port": server.port, "apoc": False}))
    lines = []
    restarted = EmbeddedNeo4j.ensure(server.directory.parent, progress=lines.append)
    try:
        assert lines[0] == (f"graph: the Neo4j recorded in {server.directory / 'server.json'} (pid {dead.pid}) is gone; "
                            "starting a new one")
        assert restarted.pid != server.pid and restarted.owned
        with closing(open_store(settings_of(restarted), write=False)) as store:
            assert store.active_version() == version
            assert store.programmes(version) == CATALOGUE
    finally:
        restarted.stop()
