"""Real servers for the tests: one FalkorDB and one Neo4j for the session, a clean graph per test."""
pytest_plugins = ["tests.emulators", "tests.browser"]
import os
import uuid

import pytest

from beuwi.graph import open_store
from beuwi.graph.embedded import EmbeddedServer
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.graph.neo4j_server import EmbeddedNeo4j

NEO4J_IMAGE = "neo4j:5.26-community"  # the line the embedded launcher runs, and docker/compose.yaml


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory):
    server = EmbeddedServer.ensure(tmp_path_factory.mktemp("falkordb"))
    yield server.uri
    server.stop()


def clean_falkordb(uri: str):
    """A graph of its own on the session's FalkorDB, dropped afterwards: its settings and an open store."""
    store = FalkorDBStore.from_uri(uri, graph=f"test-{uuid.uuid4().hex[:12]}", timeout=10)
    store.create_indexes()
    return store


@pytest.fixture
def falkordb_store(falkordb_server):
    """A clean graph on FalkorDB only: for tests of what lies above the graph (HTTP, OpenAPI, the benchmark)."""
    store = clean_falkordb(falkordb_server)
    yield store
    store.drop()
    store.close()


@pytest.fixture(params=["falkordb", "neo4j"])
def graph_settings(request):
    """Settings of a clean graph on each real server, for open_store or a child process's BEUWI_* environment:
    a graph of its own on FalkorDB, or the session's Neo4j emptied (Community has one user database)."""
    if request.param == "falkordb":
        store = clean_falkordb(request.getfixturevalue("falkordb_server"))
        settings = {"GRAPH_URI": store.uri, "GRAPH_NAME": store.name}
    else:
        settings = dict(request.getfixturevalue("neo4j_server"))
        store = open_store({**settings, "GRAPH_TIMEOUT": 30})
        store.drop()
    try:
        yield settings
    finally:
        store.drop()
        store.close()


@pytest.fixture
def graph_store(graph_settings):
    """A clean store on each real graph server (FalkorDB and Neo4j)."""
    store = open_store({**graph_settings, "GRAPH_TIMEOUT": 30})
    yield store
    store.close()


def docker_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # any failure means no engine to start a container on
        return False


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory):
    """Settings of the Neo4j the tests share: NEO4J_URI, else a testcontainers Neo4j 5.26 where a Docker engine runs,
    else the project's embedded Neo4j (with the APOC functions the benchmark's baseline calls), started once."""
    if os.environ.get("NEO4J_URI"):
        yield {"GRAPH_URI": os.environ["NEO4J_URI"], "GRAPH_USER": os.environ.get("NEO4J_USER", "neo4j"),
               "GRAPH_PASSWORD": os.environ.get("NEO4J_PASSWORD", "")}
    elif docker_reachable():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer(NEO4J_IMAGE).with_env("NEO4J_PLUGINS", '["apoc"]') as container:
            yield {"GRAPH_URI": container.get_connection_url(), "GRAPH_USER": "neo4j",
                   "GRAPH_PASSWORD": container.password}
    else:
        server = EmbeddedNeo4j.ensure(tmp_path_factory.mktemp("neo4j"), apoc=True)
        yield server.connection
        server.stop()


@pytest.fixture
def store(graph_store):
    """Every GraphStore adapter, each against its real server."""
    return graph_store
