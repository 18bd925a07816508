"""FalkorDB adapter, over the `falkordb` client's native protocol (never FalkorDB's experimental Bolt port)."""
from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlparse

import redis.exceptions
from falkordb import FalkorDB

from . import cypher
from .calls import Calls
from .cypher_store import CypherStore
from .store import GraphError, GraphUnavailable

log = logging.getLogger(__name__)

COMPACT_TIMEOUT = 600.0  # seconds a load waits for the server to compact its append-only file
INT64 = range(-2**63, 2**63)


class FalkorDBStore(CypherStore):
    def __init__(self, host: str, port: int, *, graph: str = "beuwi", password: str | None = None,
                 timeout: float = 5.0, on_close=None):
        self.uri = f"falkordb://{host}:{port}"
        self._connect = lambda: FalkorDB(host=host, port=port, password=password or None,
                                         socket_timeout=timeout, socket_connect_timeout=timeout)
        self.name = graph
        self._db: FalkorDB | None = None
        self._on_close = on_close
        self._calls = Calls("FalkorDB")

    @property
    def _client(self) -> FalkorDB:
        # The client connects as it is made, so it is made on first use: a store can exist while the server is down.
        if self._db is None:
            self._db = self._connect()
        return self._db

    @property
    def _graph(self):
        return self._client.select_graph(self.name)

    @classmethod
    def from_uri(cls, uri: str, **options) -> "FalkorDBStore":
        parsed = urlparse(uri)
        return cls(parsed.hostname or "127.0.0.1", parsed.port or 6379, **options)

    def run(self, query: str, params: dict | None = None, *, write: bool = False) -> list[list]:
        with self._calls.one():
            return self._run(query, params, write)

    def _run(self, query: str, params: dict | None, write: bool) -> list[list]:
        for name, value in (params or {}).items():
            _check_parameter(name, value)
        try:
            graph = self._graph
            call = graph.query if write else graph.ro_query
            return call(query, params or {}).result_set
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise GraphUnavailable(f"FalkorDB did not answer: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            if not write and "empty key" in str(exc):
                return []  # nothing was ever written to this graph, so a read finds nothing
            raise GraphError(f"FalkorDB query failed: {exc}") from exc
        except redis.exceptions.RedisError as exc:
            raise GraphError(f"FalkorDB query failed: {exc}") from exc

    def _written(self) -> None:
        """Compact the server's append-only file, when it keeps one, and wait until that is done.

        Redis rewrites it as an RDB snapshot of the graph (FalkorDB's own encoding) plus an empty log, so a restart
        reads 10,000 programmes in 0.3 s instead of replaying every query that wrote them (237 s). A failure here
        leaves the data stored, only slower to restart, so it is logged rather than raised.
        """
        try:
            with self._calls.one():
                self._compact(self._client.connection)
        except (redis.exceptions.RedisError, GraphError) as exc:
            log.warning("FalkorDB did not compact its append-only file (a restart will replay it): %s", exc)

    @staticmethod
    def _compact(client) -> None:
        if not client.info("persistence").get("aof_enabled"):
            return
        while True:
            try:
                client.bgrewriteaof()
                break
            except redis.exceptions.ResponseError as exc:  # one already runs, started before our last writes
                if "in progress" not in str(exc) or not _wait_for_rewrite(client):
                    raise
        if not _wait_for_rewrite(client):
            raise GraphError(f"no compaction after {COMPACT_TIMEOUT:.0f} s")
        status = client.info("persistence").get("aof_last_bgrewrite_status")
        if status != "ok":
            raise GraphError(f"the server says {status!r}")

    def create_indexes(self) -> None:
        """FalkorDB has no IF NOT EXISTS and fails on an existing index, so only missing ones are created."""
        existing = {(row[0], prop) for row in self.run("CALL db.indexes()") for prop in row[1]}
        for label, prop in cypher.INDEXES:
            if (label, prop) not in existing:
                self.run(cypher.FALKORDB_INDEX.format(label=label, prop=prop), write=True)

    def drop(self) -> None:
        """Delete the whole graph (tests use one graph each)."""
        try:
            self._graph.delete()  # a test graph: no GraphError mapping needed
        except redis.exceptions.ResponseError:
            pass  # never written to, so it does not exist

    def close(self) -> None:
        self._calls.close()
        if self._db is not None:
            self._db.connection.close()
        if self._on_close:
            self._on_close()


def _check_parameter(name: str, value) -> None:
    """GraphError for a value FalkorDB cannot take. Its client writes parameters into the query text (a header
    `CYPHER name=value ...`, strings quoted and escaped): the server clamps an integer beyond 64 bits to 2**63-1
    without a word, a NUL ends the text, NaN, infinities and bytes are not Cypher literals, and any other type would
    be written as its str(). Strings first: a load's rows are mostly strings (0.06 s for 10,000 programmes' rows;
    the client takes 0.2 s to write them out)."""
    if isinstance(value, str):
        problem = "a NUL character" if "\0" in value else ""
    elif isinstance(value, (list, tuple, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            _check_parameter(name, item)
        return
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        problem = "an integer beyond 64 bits" if value not in INT64 else ""
    elif isinstance(value, float):
        problem = "" if math.isfinite(value) else f"{value} (not a Cypher number)"
    else:
        problem = f"a {type(value).__name__}"
    if problem:
        raise GraphError(f"FalkorDB cannot take parameter ${name}: {problem}")


def _wait_for_rewrite(client) -> bool:
    """Wait until no append-only rewrite runs or is scheduled; False after COMPACT_TIMEOUT."""
    deadline = time.monotonic() + COMPACT_TIMEOUT
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
            return True
        time.sleep(0.05)
    return False
