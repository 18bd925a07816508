"""What one engine process shares between requests: its graph store and the active-catalogue snapshot.

Both are made on first use, so importing or creating the app never connects to anything.
"""
from __future__ import annotations

import threading
from typing import Callable, Mapping

from flask import current_app

from beuwi.domain import Profile
from beuwi.graph import open_store
from beuwi.graph.store import GraphStore

from .active import ActiveCatalogue, Snapshot
from .answer_cache import AnswerCache

MATCHERS = ("compiled", "cypher")


class Engine:
    def __init__(self, config: Mapping):
        if config["MATCHER"] not in MATCHERS:
            raise ValueError(f"BEUWI_MATCHER={config['MATCHER']!r}: use one of {', '.join(MATCHERS)}")
        self._config = config
        self._lock = threading.Lock()
        self._store: GraphStore | None = config.get("GRAPH_STORE")
        self._catalogue: ActiveCatalogue | None = None
        megabytes = config["ANSWER_CACHE_MB"]
        self.answers = AnswerCache(int(megabytes * 1024 * 1024)) if megabytes > 0 else None

    @property
    def store(self) -> GraphStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self._config, write=False)
        return self._store

    @property
    def catalogue(self) -> ActiveCatalogue:
        if self._catalogue is None:
            store = self.store
            with self._lock:
                if self._catalogue is None:
                    self._catalogue = ActiveCatalogue(store, self._config["ACTIVE_CHECK_SECONDS"])
        return self._catalogue

    def eligible_in_graph(self, version: str) -> Callable[[Profile], list[str]] | None:
        """On the reference path (MATCHER=cypher) the graph's eligibility query for this version, else None."""
        if self._config["MATCHER"] != "cypher":
            return None
        return lambda profile: self.store.eligible_ids(version, profile)


def engine() -> Engine:
    return current_app.extensions["beuwi.engine"]


def snapshot() -> Snapshot:
    """The active catalogue; raises NoActiveCatalogue or GraphError, which the app answers with 503."""
    return engine().catalogue.current()
