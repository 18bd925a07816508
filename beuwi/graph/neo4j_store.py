"""Neo4j 5 adapter, with the official driver (bolt://, neo4j://, neo4j+s://)."""
from __future__ import annotations

import neo4j
import neo4j.exceptions

from . import cypher
from .calls import Calls
from .cypher_store import CypherStore
from .store import GraphError, GraphUnavailable


# After 3 wrong passwords in a row the server refuses even the right one for 5 s, and says so with a plain ClientError.
RATE_LIMITED = "Neo.ClientError.Security.AuthenticationRateLimit"


class Neo4jStore(CypherStore):
    """Thread-safe: the driver is shared, each query has a session of its own, and close() waits for other threads'
    queries (see calls)."""

    def __init__(self, uri: str, *, user: str = "", password: str = "", database: str | None = None,
                 timeout: float = 5.0, on_close=None):
        auth = (user, password) if user else None
        self._on_close = on_close
        self._driver = neo4j.GraphDatabase.driver(
            uri, auth=auth, connection_timeout=timeout, connection_acquisition_timeout=timeout,
            max_transaction_retry_time=timeout,
            # A read of a label or property no write has created yet (any query on a new database) comes back with
            # a "does not exist" notification, which the driver logs as a warning: an idle engine's check, every second.
            notifications_disabled_classifications=[neo4j.NotificationDisabledClassification.UNRECOGNIZED])
        self._database = database or None
        self._calls = Calls("Neo4j")

    def run(self, query: str, params: dict | None = None, *, write: bool = False) -> list[list]:
        with self._calls.one():
            return self._run(query, params, write)

    def _run(self, query: str, params: dict | None, write: bool) -> list[list]:
        mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
        try:
            # A read session is routed to followers and read replicas on a cluster (neo4j:// URIs).
            with self._driver.session(database=self._database, default_access_mode=mode) as session:
                if write:  # retried by the driver on transient failures (a deadlock, a leader switch)
                    return session.execute_write(lambda tx: _rows(tx.run(query, params or {})))
                # Reads are asked once: their callers ask again on their own schedule (the engine every check), and a
                # retried read of a stopped server kept /api/health waiting 7 s where FalkorDB's refused at once.
                return _rows(session.run(query, params or {}))
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired, OSError) as exc:
            raise GraphUnavailable(f"Neo4j did not answer: {_line(exc)}") from exc
        except neo4j.exceptions.Neo4jError as exc:  # its str() adds GQL status fields: only code and message here
            if isinstance(exc, neo4j.exceptions.AuthError) or exc.code == RATE_LIMITED:
                raise GraphUnavailable("Neo4j refused the credentials (BEUWI_GRAPH_USER, BEUWI_GRAPH_PASSWORD): "
                                       f"{_line(exc.message)}") from exc
            raise GraphError(f"Neo4j query failed ({exc.code}): {_line(exc.message)}") from exc
        except neo4j.exceptions.DriverError as exc:
            raise GraphUnavailable(f"Neo4j driver error: {_line(exc)}") from exc
        except (OverflowError, TypeError, ValueError) as exc:  # the driver packs parameters as it sends them
            raise GraphError(f"Neo4j cannot take the query's parameters: {_line(exc)}") from exc

    def create_indexes(self) -> None:
        for label, prop in cypher.INDEXES:
            self.run(cypher.NEO4J_INDEX.format(label=label, prop=prop), write=True)

    def drop(self) -> None:
        """Delete everything (tests share one Neo4j database)."""
        self.run("MATCH (n) DETACH DELETE n", write=True)

    def close(self) -> None:
        self._calls.close()
        self._driver.close()
        if self._on_close:
            self._on_close()


def _rows(result) -> list[list]:
    return [list(record.values()) for record in result]


def _line(text) -> str:
    """One line: the driver's and the server's messages may span several (a syntax error points at its column)."""
    return " ".join(str(text).split())
