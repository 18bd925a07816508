"""Real servers for the tests: one FalkorDB for the session, a fresh graph per test."""
pytest_plugins = ["tests.emulators", "tests.browser"]
import os
import uuid

import pytest

from beuwi.graph.embedded import EmbeddedServer
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.graph.neo4j_server import EmbeddedNeo4j

NEO4J_IMAGE = "neo4j:5.26-community"  # the line the embedded launcher runs, and docker/compose.yaml


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
        yield {"GRAPH_URI": server.uri, "GRAPH_USER": server.user, "GRAPH_PASSWORD": server.password}
        server.stop()


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
