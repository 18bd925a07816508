"""Real servers for the tests: one FalkorDB for the session, a fresh graph per test."""
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
