"""The GraphStore contract, run against every adapter on its real server."""
import logging
import math
import socket
import threading
import time
import uuid
from contextlib import closing
from datetime import datetime

import neo4j.exceptions
import pytest
import redis.exceptions

from beuwi.domain import Profile, Programme, Requirements, Scheme, SubjectList
from beuwi.graph import cypher, cypher_store, open_store
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.graph.neo4j_store import Neo4jStore
from beuwi.graph.store import CatalogueConflict, CatalogueIncomplete, CatalogueNotFound, GraphError, GraphUnavailable
from beuwi.ports import free_port

S = SubjectList.default()


def programme(pid, name=None, faculty="Science", **req):
    return Programme(pid, name or pid.title(), faculty, schemes=(Scheme(Requirements.from_text(S, **req)),))


FULL = Programme(
    "SCI-CS", "Computer Science", "Science and Technology", department="Computing", degree="BSc", campus="Mona",
    full_time=True, part_time=False, evening=True, duration="3 years", url="https://example.edu/cs",
    description="Programs, proofs and “systems”.", careers=("Developer", "Analyst"),
    schemes=(
        Scheme(Requirements.from_text(
            S, 5, 2, ["English A (CSEC)", "Chemistry (CAPE:II)"],
            ["1 of Pure Mathematics (CAPE:III) | Computer Science (CAPE)",
             "2 of Biology (CSEC) | Physics (CSEC) | Chemistry (CSEC)"]), "A", ("Interview",)),
        Scheme(Requirements.from_text(
            S, 0, 0, ["Pure Mathematics (CAPE U1:III)", "Associate Degree (GPA:2.5)"], [], 4,
            ["Caribbean Studies (CAPE)"]), "B"),
    ),
)
CATALOGUE = [FULL, programme("open"), programme("maths", mandatory=["Mathematics (CSEC)"])]


VERSION_LABELS = ("Programme", "Scheme", "Subject", "Combination")


def count(store, label, version):
    return store.run(f"MATCH (n:{label}) WHERE n.catalogue = $id RETURN count(n)", {"id": version})[0][0]


def catalogue_nodes(store, version):
    return store.run("MATCH (c:Catalogue {id: $id}) RETURN count(c)", {"id": version})[0][0]


def indexed(store):
    """(label, property) of every single-label index, asked the server's own way."""
    if isinstance(store, Neo4jStore):
        query = ("SHOW INDEXES YIELD labelsOrTypes, properties WHERE size(labelsOrTypes) = 1 "
                 "RETURN labelsOrTypes[0], properties")
    else:
        query = "CALL db.indexes()"
    return {(row[0], prop) for row in store.run(query) for prop in row[1]}


def test_load_creates_an_inactive_ready_version(store):
    version = store.load(CATALOGUE, source="sample.csv")
    assert (version.programmes, version.source, version.active) == (3, "sample.csv", False)
    assert datetime.fromisoformat(version.created).utcoffset().total_seconds() == 0
    assert store.versions() == [version]
    assert store.active_version() is None


def test_programmes_round_trip_every_field_in_order(store):
    version = store.load(CATALOGUE)
    assert store.programmes(version.id) == CATALOGUE


def test_large_catalogues_are_read_page_by_page_in_order(store, monkeypatch):
    monkeypatch.setattr(cypher_store, "READ_PAGE", 4)
    programmes = [programme(f"p{i:02d}", mandatory=["Mathematics (CSEC)"]) for i in range(11)]
    version = store.load(programmes)
    assert store.programmes(version.id) == programmes


def test_versions_newest_first_and_one_active(store):
    first = store.load(CATALOGUE[:1])
    second = store.load(CATALOGUE)
    assert [v.id for v in store.versions()] == [second.id, first.id]
    assert store.activate(first.id).active
    assert store.active_version() == first.id
    store.activate(second.id)
    assert [(v.id, v.active) for v in store.versions()] == [(second.id, True), (first.id, False)]
    store.activate(first.id)  # rolling back is activating an older version
    assert store.active_version() == first.id
    store.activate(first.id)  # idempotent
    assert [v.active for v in store.versions()] == [False, True]


def test_activating_an_unknown_version_changes_nothing(store):
    active = store.activate(store.load(CATALOGUE).id)
    with pytest.raises(CatalogueNotFound):
        store.activate("nope")
    assert store.active_version() == active.id


def test_loading_never_touches_the_active_version(store):
    active = store.activate(store.load(CATALOGUE).id)
    store.load([programme("other")])
    assert store.active_version() == active.id
    assert store.programmes(active.id) == CATALOGUE


def test_delete_removes_every_node_of_the_version_only(store):
    kept = store.activate(store.load(CATALOGUE).id)
    gone = store.load(CATALOGUE)
    before = {label: count(store, label, gone.id) for label in VERSION_LABELS}
    assert before == {"Programme": 3, "Scheme": 4, "Subject": 9, "Combination": 2}
    store.delete(gone.id)
    assert {label: count(store, label, gone.id) for label in VERSION_LABELS} == dict.fromkeys(VERSION_LABELS, 0)
    assert catalogue_nodes(store, gone.id) == 0
    assert [v.id for v in store.versions()] == [kept.id]
    assert store.programmes(kept.id) == CATALOGUE
    assert {label: count(store, label, kept.id) for label in VERSION_LABELS} == before


def test_delete_refuses_the_active_version_and_unknown_ids(store):
    active = store.activate(store.load(CATALOGUE).id)
    with pytest.raises(CatalogueConflict):
        store.delete(active.id)
    with pytest.raises(CatalogueNotFound):
        store.delete("nope")
    with pytest.raises(CatalogueNotFound):
        store.programmes("nope")


def test_a_version_id_cannot_be_reused(store):
    first = store.load(CATALOGUE, version_id="upload-1")
    with pytest.raises(CatalogueConflict):
        store.load(CATALOGUE[:1], version_id="upload-1")
    assert store.versions() == [first]
    assert count(store, "Programme", "upload-1") == 3


def fail_on(monkeypatch, store, query: str, fails) -> None:
    """Make store.run raise GraphError("injected failure") on `query` whenever fails(params) is true."""
    real_run = store.run

    def run(sent, params=None, *, write=False):
        if sent == query and fails(params):
            raise GraphError("injected failure")
        return real_run(sent, params, write=write)

    monkeypatch.setattr(store, "run", run)


def test_a_failed_load_leaves_nothing_behind(store, monkeypatch):
    active = store.activate(store.load(CATALOGUE).id)
    calls = []
    fail_on(monkeypatch, store, cypher.CREATE_COMBINATIONS, lambda params: calls.append(params["id"]) or True)
    with pytest.raises(GraphError, match="injected"):
        store.load(CATALOGUE, version_id="broken")
    monkeypatch.undo()
    assert calls == ["broken"]
    assert [v.id for v in store.versions()] == [active.id]
    for label in ("Programme", "Subject", "Combination"):
        assert count(store, label, "broken") == 0
    assert store.active_version() == active.id
    assert store.programmes(active.id) == CATALOGUE


def test_a_half_loaded_version_is_invisible_and_a_failing_batch_removes_the_earlier_ones(store, monkeypatch):
    """With one row per batch, the second programme batch fails after the first one was written."""
    active = store.activate(store.load(CATALOGUE).id)
    monkeypatch.setattr(cypher_store, "BATCH", 1)
    seen = []

    def second_batch(_params) -> bool:
        seen.append(count(store, "Programme", "half"))
        if len(seen) < 2:
            return False
        assert [v.id for v in store.versions()] == [active.id]
        with pytest.raises(CatalogueNotFound):
            store.activate("half")
        with pytest.raises(CatalogueNotFound):
            store.programmes("half")
        return True

    fail_on(monkeypatch, store, cypher.CREATE_PROGRAMMES, second_batch)
    with pytest.raises(GraphError, match="injected"):
        store.load(CATALOGUE, version_id="half")
    monkeypatch.undo()
    assert seen == [0, 1]  # the first batch had been written
    for label in VERSION_LABELS:
        assert count(store, label, "half") == 0
    assert catalogue_nodes(store, "half") == 0
    assert store.active_version() == active.id
    assert store.programmes(active.id) == CATALOGUE
    store.load(CATALOGUE[:1], version_id="half")  # the id is free again


def crashed_load(monkeypatch, store, version_id: str) -> None:
    """Leave a version half-written and loading, as a loader killed between two writes does: it never cleans up."""
    fail_on(monkeypatch, store, cypher.CREATE_COMBINATIONS, lambda _params: True)
    monkeypatch.setattr(store, "_delete_nodes", lambda _id: None)
    with pytest.raises(GraphError, match="injected"):
        store.load(CATALOGUE, source=f"{version_id}.csv", version_id=version_id)
    monkeypatch.undo()


def test_a_version_left_loading_by_a_crash_is_listed_as_unfinished_and_purged_with_all_its_nodes(store, monkeypatch):
    active = store.activate(store.load(CATALOGUE).id)
    crashed_load(monkeypatch, store, "crashed")
    assert [v.id for v in store.versions()] == [active.id]
    [loading] = store.unfinished_versions()
    assert (loading.id, loading.source, loading.programmes, loading.active, loading.status) == (
        "crashed", "crashed.csv", 3, False, "loading")
    assert datetime.fromisoformat(loading.created).utcoffset().total_seconds() == 0
    assert count(store, "Programme", "crashed") == 3  # what a crash leaves behind

    store.purge("crashed")
    for label in VERSION_LABELS:
        assert count(store, label, "crashed") == 0
    assert catalogue_nodes(store, "crashed") == 0 and store.unfinished_versions() == []
    assert store.active_version() == active.id and store.programmes(active.id) == CATALOGUE
    with pytest.raises(CatalogueNotFound):
        store.purge("crashed")
    store.load(CATALOGUE[:1], version_id="crashed")  # the id is free again


def test_purge_refuses_finished_versions_and_unknown_ids(store):
    ready = store.load(CATALOGUE)
    active = store.activate(store.load(CATALOGUE).id)
    for version in (ready, active):
        with pytest.raises(CatalogueConflict, match="is ready, not unfinished"):
            store.purge(version.id)
    with pytest.raises(CatalogueNotFound):
        store.purge("never-loaded")
    assert {v.id for v in store.versions()} == {ready.id, active.id}
    assert store.programmes(ready.id) == CATALOGUE and store.active_version() == active.id


def test_a_delete_a_crash_left_half_done_is_listed_as_unfinished_and_purged(store, monkeypatch):
    version = store.load(CATALOGUE, source="old.csv")
    fail_on(monkeypatch, store, cypher.DELETE_BATCH.format(label="Programme"), lambda _params: True)
    with pytest.raises(GraphError, match="injected"):
        store.delete(version.id)
    monkeypatch.undo()
    assert store.versions() == [] and [(v.id, v.status) for v in store.unfinished_versions()] == [
        (version.id, "deleting")]
    store.purge(version.id)
    assert store.unfinished_versions() == [] and catalogue_nodes(store, version.id) == 0
    for label in VERSION_LABELS:
        assert count(store, label, version.id) == 0


def test_a_loader_still_writing_a_version_being_purged_can_never_make_it_ready(store, monkeypatch):
    """A slow loader outlives the grace period: the purge marks its version first, so the load fails and leaves
    nothing, instead of finishing a version whose nodes are being deleted."""
    def purge_starts(_params) -> bool:
        assert store.run(cypher.MARK_PURGING, {"id": "slow"}, write=True) == [["slow"]]
        return False

    fail_on(monkeypatch, store, cypher.CREATE_COMBINATIONS, purge_starts)
    with pytest.raises(CatalogueIncomplete, match="purged while it loaded"):
        store.load(CATALOGUE, version_id="slow")
    monkeypatch.undo()
    assert store.versions() == [] and store.unfinished_versions() == []
    for label in VERSION_LABELS:
        assert count(store, label, "slow") == 0
    assert catalogue_nodes(store, "slow") == 0


ELEVEN = [programme(f"p{i:02d}", mandatory=["Mathematics (CSEC)"]) for i in range(11)]


def between_pages(monkeypatch, store, version_id, write) -> None:
    """Read pages of 4 programmes, and run `write` (real writes to the graph) once the first page has been read."""
    monkeypatch.setattr(cypher_store, "READ_PAGE", 4)
    fail_on(monkeypatch, store, cypher.PROGRAMMES,
            lambda params: params["id"] == version_id and params["start"] == 4 and write() and False)


def test_a_version_activated_away_and_deleted_while_read_is_never_returned_half_read(store, monkeypatch):
    """Issue 10, item 3: X is read page by page; meanwhile Y is activated and X deleted (allowed: X is inactive)."""
    x = store.activate(store.load(ELEVEN).id)
    y = store.load(CATALOGUE)
    between_pages(monkeypatch, store, x.id, lambda: store.activate(y.id) and store.delete(x.id))
    with pytest.raises(CatalogueIncomplete, match=rf"catalogue '{x.id}' was deleted while it was read \(4 of its 11"):
        store.programmes(x.id)
    assert store.active_version() == y.id


def test_programmes_missing_from_a_version_fail_the_read(store, monkeypatch):
    version = store.load(ELEVEN)
    between_pages(monkeypatch, store, version.id, lambda: store.run(
        "MATCH (p:Programme {catalogue: $id}) WHERE p.position >= 8 DETACH DELETE p", {"id": version.id}, write=True))
    with pytest.raises(CatalogueIncomplete, match=rf"catalogue '{version.id}': 8 of its 11 programmes read"):
        store.programmes(version.id)


def test_a_programme_changed_under_a_reader_fails_the_checksum(store, monkeypatch):
    version = store.load(ELEVEN)
    between_pages(monkeypatch, store, version.id, lambda: store.run(
        "MATCH (p:Programme {catalogue: $id}) WHERE p.position = 9 SET p.name = 'Changed'", {"id": version.id},
        write=True))
    with pytest.raises(CatalogueIncomplete, match="do not match the checksum recorded at load"):
        store.programmes(version.id)
    monkeypatch.undo()
    with pytest.raises(CatalogueIncomplete, match="checksum"):  # and so does every later read: it is not what was loaded
        store.programmes(version.id)


def test_a_delete_marks_the_version_first_so_a_half_deleted_one_is_never_read(store, monkeypatch):
    """A delete that stops midway (here an injected failure after its first batch of programmes) leaves a version
    that no reader starts on, that cannot be activated, and that deleting again removes."""
    kept = store.activate(store.load(CATALOGUE).id)
    gone = store.load(ELEVEN)
    monkeypatch.setattr(cypher_store, "DELETE_BATCH", 4)
    batches = []
    fail_on(monkeypatch, store, cypher.DELETE_BATCH.format(label="Programme"),
            lambda params: params["id"] == gone.id and (batches.append(1) or len(batches) > 1))
    with pytest.raises(GraphError, match="injected"):
        store.delete(gone.id)
    monkeypatch.undo()
    assert count(store, "Programme", gone.id) == 7
    with pytest.raises(CatalogueNotFound):
        store.programmes(gone.id)
    with pytest.raises(CatalogueNotFound):
        store.activate(gone.id)
    assert [v.id for v in store.versions()] == [kept.id]
    store.delete(gone.id)
    assert count(store, "Programme", gone.id) == 0 and catalogue_nodes(store, gone.id) == 0
    assert store.programmes(kept.id) == CATALOGUE


def test_eligible_ids_in_catalogue_order(store):
    version = store.load(CATALOGUE)
    profile = Profile.from_refs(S.ref(t) for t in [
        "English A (CSEC)", "Chemistry (CAPE:I)", "Computer Science (CAPE)", "Biology (CSEC)", "Physics (CSEC)",
        "Mathematics (CSEC)", "Spanish (CSEC)", "Pure Mathematics (CAPE)"])
    assert store.eligible_ids(version.id, profile) == ["SCI-CS", "open", "maths"]
    assert store.eligible_ids(version.id, Profile()) == ["open"]


def test_text_is_data_never_query(store):
    active = store.activate(store.load(CATALOGUE).id)
    nasty = "O'Brien \"Law\" \\ '}) MATCH (n) DETACH DELETE n //"
    version = store.load([programme("x", name=nasty, faculty=nasty), *CATALOGUE], source=nasty, version_id=nasty)
    assert (version.id, version.source) == (nasty, nasty)
    [first, *rest] = store.programmes(nasty)
    assert (first.name, first.faculty) == (nasty, nasty)
    assert rest == CATALOGUE
    assert store.programmes(active.id) == CATALOGUE
    store.delete(nasty)
    assert [v.id for v in store.versions()] == [active.id]
    assert store.programmes(active.id) == CATALOGUE


def test_ping(store):
    store.ping()


def test_an_index_for_every_lookup(store):
    store.load(CATALOGUE)
    assert set(cypher.INDEXES) <= indexed(store)
    store.create_indexes()  # again: nothing to do, no error
    assert set(cypher.INDEXES) <= indexed(store)


WRITES = ["CREATE (:Intruder)", "MATCH (n) DETACH DELETE n", "MATCH (c:Catalogue) SET c.active = true",
          "CREATE INDEX FOR (n:Intruder) ON (n.name)"]
# What each server answers a write in a read: Neo4j, to a session in READ access mode; FalkorDB, to GRAPH.RO_QUERY.
REFUSED = {Neo4jStore: (neo4j.exceptions.ClientError, "Neo4j query failed (Neo.ClientError.Statement.AccessMode): "
                        "Writing in read access mode not allowed"),
           FalkorDBStore: (redis.exceptions.ResponseError,
                           "FalkorDB query failed: graph.RO_QUERY is to be executed only on read-only queries")}


def test_the_engines_store_has_its_writes_refused_by_the_server(graph_settings, store):
    """The engine opens its store with write=False and only reads; a write sent through it anyway (a bug, or a query
    built wrongly) is refused by the server itself, and surfaces as GraphError, never as a driver's exception."""
    version = store.activate(store.load(CATALOGUE).id)
    with closing(open_store(graph_settings, write=False)) as engine:
        cause, message = REFUSED[type(engine)]
        for query in WRITES:
            with pytest.raises(GraphError) as refused:
                engine.run(query)
            assert str(refused.value).startswith(message), query
            assert type(refused.value.__cause__) is cause  # the server's answer, not a check made on our side
        assert engine.run("MATCH (n:Intruder) RETURN count(n)") == [[0]]
        assert engine.active_version() == version.id
    assert store.programmes(version.id) == CATALOGUE
    assert set(cypher.INDEXES) == {index for index in indexed(store) if index[0] != "Intruder"}


def test_closing_a_store_other_threads_still_query_raises_only_graph_errors(graph_settings):
    """An engine's snapshot watcher may still be asking the graph when its store is closed (a test ends, a process
    stops). Neither client may be closed under a call: the Neo4j driver's close() wrote GOODBYE into connections other
    threads were reading (BufferError "Existing exports of data", once in 30 closes or so), redis-py's closed a socket
    they read (ValueError); so the store's close waits for them, and then refuses calls with GraphUnavailable."""
    for _ in range(30):
        store = open_store({**graph_settings, "GRAPH_TIMEOUT": 5}, write=False)
        store.ping()
        stop, foreign = threading.Event(), []

        def ask():
            while not stop.is_set():
                try:
                    store.active_version()
                except GraphError:
                    time.sleep(0.01)  # closed: what the watcher sees, and it tries again later
                except Exception as exc:  # collected so the assertion below reports it
                    foreign.append(exc)
                    return

        threads = [threading.Thread(target=ask) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        try:
            store.close()
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert foreign == []


# The dialect differences in beuwi/graph/cypher.py's header: each test below fails on the graph whose difference goes
# unhandled (index DDL and listing: test_an_index_for_every_lookup; access modes: the test above).

SENT = {"text": "O'Brien \"Law\" \\ 😀\nnext line", "empty": "", "count": 7, "big": 2**63 - 1, "negative": -3,
        "share": 0.25, "flag": True, "nothing": None, "names": ["a", "b"], "none": [],
        "rows": [{"id": "p", "need": 2, "options": [{"ref": "x|CSEC"}]}]}


def test_parameters_come_back_as_the_python_values_sent(store):
    """Neo4j's driver sends typed values over Bolt; FalkorDB's client writes them into the query text and parses the
    answer. Either way each comes back equal and of its type: an int stays an int, a bool a bool, a map a dict."""
    for name, value in SENT.items():
        [[back]] = store.run("RETURN $value AS value", {"value": value})
        assert back == value and isinstance(back, type(value)), name


@pytest.mark.parametrize("value", [2**63, -2**63 - 1, 10**30])
def test_an_integer_beyond_64_bits_is_refused_not_clamped(store, value):
    """Neo4j's driver raised a bare OverflowError; FalkorDB stored 2**63-1 without a word."""
    with pytest.raises(GraphError, match=r"cannot take (the query's parameters|parameter \$n)"):
        store.run("CREATE (:Intruder {n: $n})", {"n": value}, write=True)
    assert store.run("MATCH (n:Intruder) RETURN count(n)", write=True) == [[0]]


@pytest.mark.parametrize("value, problem", [("a\0b", "a NUL character"), (math.nan, "nan"), (math.inf, "inf"),
                                            (b"bytes", "a bytes"), ({1, 2}, "a set")])
def test_what_falkordbs_query_text_cannot_carry_is_refused_by_name(falkordb_store, value, problem):
    """Neo4j takes these (but a set); in FalkorDB's query text they made an unreadable header ("Invalid input at end
    of input") or, for a set, its str()."""
    with pytest.raises(GraphError, match=rf"^FalkorDB cannot take parameter \$v: {problem}"):
        falkordb_store.run("RETURN $v AS v", {"v": value})


def test_a_graph_nothing_was_written_to_reads_as_empty(graph_settings):
    """FalkorDB answers every read of a graph never written to with "Invalid graph operation on empty key"; the
    session's Neo4j is empty but exists. The engine's reads all mean "no such rows" there, on both."""
    if isinstance(open_store(graph_settings, write=False), FalkorDBStore):
        graph_settings = {**graph_settings, "GRAPH_NAME": f"never-{uuid.uuid4().hex[:12]}"}
    with closing(open_store(graph_settings, write=False)) as engine:
        engine.ping()
        assert engine.versions() == [] and engine.active_version() is None
        assert engine.eligible_ids("v1", Profile()) == []
        with pytest.raises(CatalogueNotFound):
            engine.programmes("v1")


def test_reading_labels_no_write_has_created_logs_no_warning(store, caplog):
    """On a new Neo4j database each of an engine's checks names labels not created yet, and the server adds a "label
    does not exist" notification that the driver logged as a warning: one a second from an idle engine."""
    label = f"Never{uuid.uuid4().hex[:12]}"
    with caplog.at_level(logging.INFO):
        assert store.run(f"MATCH (n:{label}) WHERE n.nowhere = $x RETURN n.nowhere", {"x": 1}) == []
    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.parametrize("query, params, code", [
    ("MATCH (n)\nRETURN (", {}, "Neo.ClientError.Statement.SyntaxError"),
    ("RETURN $missing", {}, "Neo.ClientError.Statement.ParameterMissing"),
    ("CREATE (:Intruder {m: $m})", {"m": {"a": 1}}, "Neo.ClientError.Statement.TypeError"),  # no map properties
])
def test_a_refused_query_is_a_one_line_graph_error_with_the_servers_reason(store, query, params, code):
    """Neo4j's errors carry a code and a message that may span lines (a syntax error points at the column); the
    driver's str() adds GQL status fields. FalkorDB's are one line of text."""
    with pytest.raises(GraphError) as refused:
        store.run(query, params, write=True)
    assert type(refused.value) is GraphError  # the server answered: not GraphUnavailable
    message = str(refused.value)
    assert "\n" not in message and "gql_status" not in message
    assert message.startswith(f"Neo4j query failed ({code}): " if isinstance(store, Neo4jStore)
                              else "FalkorDB query failed: ")
    assert store.run("MATCH (n:Intruder) RETURN count(n)", write=True) == [[0]]


@pytest.fixture
def silent_port():
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.mark.parametrize("scheme", ["falkordb", "bolt"])
def test_an_unreachable_server_is_graph_unavailable(scheme):
    store = open_store({"GRAPH_URI": f"{scheme}://127.0.0.1:{free_port()}", "GRAPH_TIMEOUT": 1}, write=False)
    for call in (store.ping, store.active_version, store.versions):
        with pytest.raises(GraphUnavailable) as unavailable:  # never the driver's own exception
            call()
        assert "\n" not in str(unavailable.value)  # the Neo4j driver's words spanned two lines
    store.close()
    with pytest.raises(GraphUnavailable):
        open_store({"GRAPH_URI": f"{scheme}://127.0.0.1:{free_port()}", "GRAPH_TIMEOUT": 1})


@pytest.mark.parametrize("scheme", ["falkordb", "bolt"])
def test_a_refused_read_fails_at_once_not_after_the_timeout(scheme):
    """A stopped server refuses the connection: a read says so at once, on Neo4j as on FalkorDB, instead of the
    driver retrying it for the whole timeout (7 s per /api/health at the default 5 s, before reads were asked once)."""
    store = open_store({"GRAPH_URI": f"{scheme}://127.0.0.1:{free_port()}", "GRAPH_TIMEOUT": 20}, write=False)
    began = time.monotonic()
    for call in (store.ping, store.active_version, store.versions):
        with pytest.raises(GraphUnavailable):
            call()
    assert time.monotonic() - began < 10  # three refused reads; with retries each took the 20 s timeout or more
    store.close()


@pytest.mark.parametrize("scheme", ["falkordb", "bolt"])
def test_a_server_that_never_answers_is_graph_unavailable(scheme, silent_port):
    store = open_store({"GRAPH_URI": f"{scheme}://127.0.0.1:{silent_port}", "GRAPH_TIMEOUT": 1}, write=False)
    for call in (store.ping, store.active_version):
        with pytest.raises(GraphUnavailable) as unavailable:
            call()
        assert "\n" not in str(unavailable.value)
    store.close()


@pytest.mark.parametrize("uri, adapter", [
    ("falkordb://127.0.0.1:6379", FalkorDBStore),
    ("bolt://localhost:7687", Neo4jStore),
    ("neo4j://localhost:7687", Neo4jStore),
    ("neo4j+s://example.databases.neo4j.io", Neo4jStore),
])
def test_the_uri_scheme_picks_the_adapter(uri, adapter):
    store = open_store({"GRAPH_URI": uri}, write=False)  # neither adapter connects before its first query
    assert type(store) is adapter
    store.close()


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="use falkordb://host:port, bolt://"):
        open_store({"GRAPH_URI": "postgres://localhost"})


def test_a_programme_stored_before_schemes_reads_back_as_one_scheme():
    """Versions loaded by the v1 engine keep their requirements as text lists on the programme node."""
    from beuwi.graph.cypher_store import _programme

    stored = {"id": "old", "name": "Old", "faculty": "Science", "position": 0, "csec_passes": 5, "cape_passes": 1,
              "mandatory": ["Chemistry (CAPE:II)"], "combinations": ["1 of Physics (CSEC) | Biology (CSEC)"]}
    [scheme] = _programme(stored).schemes
    assert scheme.as_text() == {"label": "", "csec_passes": 5, "cape_passes": 1, "cape_units": 0,
                                "mandatory": ["Chemistry (CAPE:II)"],
                                "combinations": ["1 of Physics (CSEC) | Biology (CSEC)"], "not_counted": [],
                                "conditions": []}
