"""Real servers for the tests: one FalkorDB for the session, a fresh graph per test."""
pytest_plugins = ["tests.emulators", "tests.browser"]
import uuid

import pytest

from beuwi.graph.embedded import EmbeddedServer
from beuwi.graph.falkordb_store import FalkorDBStore


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory):
    server = EmbeddedServer.ensure(tmp_path_factory.mktemp("falkordb"))
    yield server.uri
    server.stop()


@pytest.fixture
def graph_store(falkordb_server):
    store = FalkorDBStore.from_uri(falkordb_server, graph=f"test-{uuid.uuid4().hex[:12]}", timeout=10)
    store.create_indexes()
    yield store
    store.drop()
    store.close()


def neo4j_settings():
    """Where the Neo4j adapter's tests run: NEO4J_URI, else a testcontainers Neo4j 5, else a skip reason."""
    import os

    if os.environ.get("NEO4J_URI"):
        return {"GRAPH_URI": os.environ["NEO4J_URI"], "GRAPH_USER": os.environ.get("NEO4J_USER", "neo4j"),
                "GRAPH_PASSWORD": os.environ.get("NEO4J_PASSWORD", "")}, None
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # any failure means no engine to start a container on
        return None, f"Neo4j adapter not tested: NEO4J_URI is unset and no Docker engine is reachable ({type(exc).__name__})"
    return "container", None


@pytest.fixture(scope="session")
def neo4j_server():
    settings, reason = neo4j_settings()
    if reason:
        pytest.skip(reason)
    if settings != "container":
        yield settings
        return
    from testcontainers.neo4j import Neo4jContainer

    with Neo4jContainer("neo4j:5") as container:
        yield {"GRAPH_URI": container.get_connection_url(), "GRAPH_USER": "neo4j",
               "GRAPH_PASSWORD": container.password}


@pytest.fixture(params=["falkordb", "neo4j"])
def store(request):
    """Every GraphStore adapter, each against its real server."""
    if request.param == "falkordb":
        yield request.getfixturevalue("graph_store")
        return
    from beuwi.graph import open_store

    neo4j = open_store(request.getfixturevalue("neo4j_server"))
    neo4j.drop()
    yield neo4j
    neo4j.drop()
    neo4j.close()
