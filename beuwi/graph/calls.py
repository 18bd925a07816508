"""Calls in flight on a store, so that closing it waits for them.

Engines share one store between request threads and the snapshot watcher, and a store may be closed while one of
them still asks the graph. Neither client may be closed under a call: the Neo4j driver's close() writes GOODBYE into
connections other threads are reading (BufferError "Existing exports of data"), and redis-py's closes the socket
another thread reads (ValueError "I/O operation on closed file"). So close() first waits for the calls in flight, and
a call after close() is StoreClosed (a GraphUnavailable), never a client's own error.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from .store import StoreClosed

CLOSE_WAIT = 60.0  # seconds close() waits for calls still running: longer than any one query of a healthy graph


class Calls:
    def __init__(self, graph: str):
        self._graph = graph
        self._guard = threading.Condition()
        self._running = 0
        self._closed = False

    @contextmanager
    def one(self) -> Iterator[None]:
        """Around each call to the client: GraphUnavailable once the store is closed."""
        with self._guard:
            if self._closed:
                raise StoreClosed(f"the {self._graph} store is closed")
            self._running += 1
        try:
            yield
        finally:
            with self._guard:
                self._running -= 1
                self._guard.notify_all()

    def close(self) -> None:
        """Refuse new calls and wait (at most CLOSE_WAIT) for those in flight; the client can then be closed."""
        with self._guard:
            self._closed = True
            self._guard.wait_for(lambda: not self._running, timeout=CLOSE_WAIT)
