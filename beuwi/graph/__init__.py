"""The graph catalogue: the GraphStore port, its two adapters, and the one place that picks between them."""
from __future__ import annotations

from typing import Mapping

from .embedded import EmbeddedServer
from .store import GraphStore

SCHEMES = {"falkordb": "FalkorDB", "bolt": "Neo4j", "neo4j": "Neo4j", "neo4j+s": "Neo4j", "neo4j+ssc": "Neo4j",
           "bolt+s": "Neo4j", "bolt+ssc": "Neo4j"}


def open_store(settings: Mapping, *, write: bool = True) -> GraphStore:
    """The configured store; with no GRAPH_URI, the embedded FalkorDB under DATA_DIR (stopped by close() if we started it).

    `write` creates the indexes; the read-only engine passes False.
    """
    uri = settings.get("GRAPH_URI") or ""
    timeout = float(settings.get("GRAPH_TIMEOUT", 5.0))
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if uri and scheme not in SCHEMES:
        raise ValueError(f"BEUWI_GRAPH_URI {uri!r}: use falkordb://host:port, bolt://, neo4j:// or neo4j+s://")
    if SCHEMES.get(scheme) == "Neo4j":
        from .neo4j_store import Neo4jStore

        store = Neo4jStore(uri, user=settings.get("GRAPH_USER", ""), password=settings.get("GRAPH_PASSWORD", ""),
                           timeout=timeout)
    else:
        from .falkordb_store import FalkorDBStore

        server = None if uri else EmbeddedServer.ensure(settings.get("DATA_DIR") or "var")
        store = FalkorDBStore.from_uri(
            uri or server.uri, graph=settings.get("GRAPH_NAME") or "beuwi",
            password=settings.get("GRAPH_PASSWORD") or None, timeout=timeout,
            on_close=server.stop if server else None)
    if write:
        try:
            store.create_indexes()
        except BaseException:
            store.close()  # and stops the embedded server this call started
            raise
    return store
