"""The GraphStore contract, run against every adapter on its real server."""
import socket
import time
from datetime import datetime

import pytest

from beuwi.domain import Profile, Programme, Requirements, SubjectList
from beuwi.graph import cypher, open_store
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.graph.neo4j_store import Neo4jStore
from beuwi.graph.store import CatalogueConflict, CatalogueNotFound, GraphError, GraphUnavailable

S = SubjectList.default()


def programme(pid, name=None, faculty="Science", **req):
    return Programme(pid, name or pid.title(), faculty, requirements=Requirements.from_text(S, **req))


FULL = Programme(
    "SCI-CS", "Computer Science", "Science and Technology", department="Computing", degree="BSc", campus="Mona",
    full_time=True, part_time=False, evening=True, duration="3 years", url="https://example.edu/cs",
    description="Programs, proofs and “systems”.", careers=("Developer", "Analyst"),
    requirements=Requirements.from_text(
        S, 5, 2, ["English A (CSEC)", "Chemistry (CAPE:II)"],
        ["1 of Pure Mathematics (CAPE:III) | Computer Science (CAPE)", "2 of Biology (CSEC) | Physics (CSEC) | Chemistry (CSEC)"]),
)
CATALOGUE = [FULL, programme("open"), programme("maths", mandatory=["Mathematics (CSEC)"])]


def count(store, label, version):
    return store.run(f"MATCH (n:{label}) WHERE n.catalogue = $id RETURN count(n)", {"id": version})[0][0]


def test_load_creates_an_inactive_ready_version(store):
    version = store.load(CATALOGUE, source="sample.csv")
    assert (version.programmes, version.source, version.active) == (3, "sample.csv", False)
    assert datetime.fromisoformat(version.created).utcoffset().total_seconds() == 0
    assert store.versions() == [version]
    assert store.active_version() is None


def test_programmes_round_trip_every_field_in_order(store):
    version = store.load(CATALOGUE)
    assert store.programmes(version.id) == CATALOGUE


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
    store.delete(gone.id)
    for label in ("Programme", "Subject", "Combination", "Catalogue"):
        assert count(store, label, gone.id) == 0
    assert store.run("MATCH (c:Catalogue {id: $id}) RETURN count(c)", {"id": gone.id})[0][0] == 0
    assert store.programmes(kept.id) == CATALOGUE
    assert count(store, "Combination", kept.id) == 2


def test_delete_refuses_the_active_version_and_unknown_ids(store):
    active = store.activate(store.load(CATALOGUE).id)
    with pytest.raises(CatalogueConflict):
        store.delete(active.id)
    with pytest.raises(CatalogueNotFound):
        store.delete("nope")
    with pytest.raises(CatalogueNotFound):
        store.programmes("nope")


def test_a_version_id_cannot_be_reused(store):
    store.load(CATALOGUE, version_id="upload-1")
    with pytest.raises(CatalogueConflict):
        store.load(CATALOGUE, version_id="upload-1")


def test_a_failed_load_leaves_nothing_behind(store, monkeypatch):
    active = store.activate(store.load(CATALOGUE).id)
    real_run = store.run
    calls = []

    def failing(query, params=None, *, write=False):
        if query == cypher.CREATE_COMBINATIONS:
            calls.append(params["id"])
            raise GraphError("injected failure")
        return real_run(query, params, write=write)

    monkeypatch.setattr(store, "run", failing)
    with pytest.raises(GraphError, match="injected"):
        store.load(CATALOGUE, version_id="broken")
    monkeypatch.undo()
    assert calls == ["broken"]
    assert [v.id for v in store.versions()] == [active.id]
    for label in ("Programme", "Subject", "Combination"):
        assert count(store, label, "broken") == 0
    assert store.active_version() == active.id


def test_eligible_ids_in_catalogue_order(store):
    version = store.load(CATALOGUE)
    profile = Profile.from_refs(S.ref(t) for t in [
        "English A (CSEC)", "Chemistry (CAPE:I)", "Computer Science (CAPE)", "Biology (CSEC)", "Physics (CSEC)",
        "Mathematics (CSEC)", "Spanish (CSEC)", "Pure Mathematics (CAPE)"])
    assert store.eligible_ids(version.id, profile) == ["SCI-CS", "open", "maths"]
    assert store.eligible_ids(version.id, Profile()) == ["open"]


def test_text_is_data_never_query(store):
    nasty = "O'Brien \"Law\" \\ '}) MATCH (n) DETACH DELETE n //"
    version = store.load([programme("x", name=nasty, faculty=nasty), *CATALOGUE])
    [first, *rest] = store.programmes(version.id)
    assert (first.name, first.faculty) == (nasty, nasty)
    assert rest == CATALOGUE


def test_ping(store):
    store.ping()


def test_falkordb_has_an_index_for_every_lookup(graph_store):
    graph_store.load(CATALOGUE)
    indexed = {(row[0], prop) for row in graph_store.run("CALL db.indexes()") for prop in row[1]}
    assert set(cypher.INDEXES) <= indexed
    graph_store.create_indexes()  # again: nothing to do, no error


def test_falkordb_reads_cannot_write(graph_store):
    graph_store.load(CATALOGUE)
    with pytest.raises(GraphError):
        graph_store.run("CREATE (:Intruder)")


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_is_graph_unavailable_quickly():
    store = open_store({"GRAPH_URI": f"falkordb://127.0.0.1:{closed_port()}", "GRAPH_TIMEOUT": 1}, write=False)
    for call in (store.ping, store.active_version, store.versions):
        with pytest.raises(GraphUnavailable):
            call()
    store.close()
    with pytest.raises(GraphUnavailable):
        open_store({"GRAPH_URI": f"falkordb://127.0.0.1:{closed_port()}", "GRAPH_TIMEOUT": 1})


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
