"""The graph catalogue: the GraphStore port, its two adapters, and the one place that picks the graph.

The graph is the configured server (`BEUWI_GRAPH_URI`), or else the embedded one `BEUWI_EMBEDDED_GRAPH` names,
started (or found running) under the data dir.
"""
from __future__ import annotations

from typing import Mapping

from .embedded import EmbeddedServer
from .neo4j_server import EmbeddedNeo4j
from .store import GraphStore

SCHEMES = {"falkordb": "FalkorDB", "bolt": "Neo4j", "neo4j": "Neo4j", "neo4j+s": "Neo4j", "neo4j+ssc": "Neo4j",
           "bolt+s": "Neo4j", "bolt+ssc": "Neo4j"}
EMBEDDED = {"falkordb": EmbeddedServer, "neo4j": EmbeddedNeo4j}


def embedded_server(settings: Mapping, **options) -> EmbeddedServer | EmbeddedNeo4j:
    """The embedded server of the settings' data dir, ready to answer."""
    kind = (settings.get("EMBEDDED_GRAPH") or "falkordb").lower()
    if kind not in EMBEDDED:
        raise ValueError(f"BEUWI_EMBEDDED_GRAPH={kind!r}: use one of {', '.join(EMBEDDED)}")
    return EMBEDDED[kind].ensure(settings.get("DATA_DIR") or "var", **options)


def connect(settings: Mapping) -> tuple[dict, EmbeddedServer | EmbeddedNeo4j | None]:
    """The settings with the graph to use filled in (URI and credentials), and the embedded server started for them,
    if there is one (the caller stops it when done; it stops only if this process started it)."""
    if settings.get("GRAPH_URI"):
        return dict(settings), None
    server = embedded_server(settings)
    return {**settings, **server.connection}, server


def open_store(settings: Mapping, *, write: bool = True) -> GraphStore:
    """The configured store (stopping, at close(), an embedded server that this call started).

    `write` creates the indexes; the read-only engine passes False.
    """
    settings, server = connect(settings)
    uri, timeout = settings["GRAPH_URI"], float(settings.get("GRAPH_TIMEOUT", 5.0))
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in SCHEMES:
        raise ValueError(f"BEUWI_GRAPH_URI {uri!r}: use falkordb://host:port, bolt://, neo4j:// or neo4j+s://")
    on_close = server.stop if server else None
    if SCHEMES[scheme] == "Neo4j":
        from .neo4j_store import Neo4jStore

        store = Neo4jStore(uri, user=settings.get("GRAPH_USER", ""), password=settings.get("GRAPH_PASSWORD", ""),
                           timeout=timeout, on_close=on_close)
    else:
        from .falkordb_store import FalkorDBStore

        store = FalkorDBStore.from_uri(uri, graph=settings.get("GRAPH_NAME") or "beuwi",
                                       password=settings.get("GRAPH_PASSWORD") or None, timeout=timeout,
                                       on_close=on_close)
    if write:
        try:
            store.create_indexes()
        except BaseException:
            store.close()  # and stops the embedded server this call started
            raise
    return store
