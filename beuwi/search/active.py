"""The per-process snapshot of the active catalogue version.

Every search needs the whole catalogue, so each engine process keeps the active version in memory and only asks the
graph which version is active at most every `check_seconds`; it reloads the programmes only when that id changes.
When the graph goes away the last snapshot keeps serving, so an outage degrades to a stale catalogue, not errors.
"""
from __future__ import annotations

import copy
import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from beuwi.domain import Programme
from beuwi.graph.store import GraphError, GraphStore

from .compiled import CompiledCatalogue

log = logging.getLogger(__name__)


class NoActiveCatalogue(LookupError):
    """The graph answers but no catalogue version is active yet."""


def _order(programme: Programme) -> tuple:
    return programme.faculty.casefold(), programme.name.casefold(), programme.id


@dataclass(frozen=True)
class Faculty:
    name: str
    programmes: int
    departments: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """One catalogue version, read-only, with the indexes the routes look things up in."""

    version: str
    programmes: tuple[Programme, ...]  # by faculty, then name
    by_id: Mapping[str, Programme] = field(repr=False)
    faculties: tuple[Faculty, ...] = field(repr=False)
    compiled: CompiledCatalogue = field(repr=False)

    @classmethod
    def build(cls, version: str, programmes: Sequence[Programme]) -> "Snapshot":
        ordered = tuple(sorted(programmes, key=_order))
        groups: dict[str, list[Programme]] = {}
        for programme in ordered:
            groups.setdefault(programme.faculty, []).append(programme)
        faculties = tuple(
            Faculty(name, len(members), tuple(sorted({p.department for p in members if p.department}, key=str.casefold)))
            for name, members in groups.items()
        )
        compiled = CompiledCatalogue(ordered)
        compiled.warm_up()
        return cls(version, ordered, {p.id: p for p in ordered}, faculties, compiled)


@dataclass(frozen=True)
class _State:
    snapshot: Snapshot | None
    error: Exception | None  # why there is no snapshot
    checked: float


class ActiveCatalogue:
    """Thread-safe. Once a snapshot exists, requests never wait on the graph: a stale snapshot is refreshed by a
    background thread (one at a time) while every request keeps getting the snapshot already there, which is also
    what lets a worker run a single request thread. Only a process with nothing to serve yet waits for the graph."""

    def __init__(self, store: GraphStore, check_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._check_seconds = float(check_seconds)
        self._clock = clock
        self._lock = threading.Lock()  # held by whoever is refreshing
        self._state: _State | None = None

    def current(self) -> Snapshot:
        """The active snapshot; NoActiveCatalogue, or the GraphError when the graph is down and nothing is cached."""
        state = self._state
        if state is not None and state.snapshot is not None:
            if not self._fresh(state) and self._lock.acquire(blocking=False):
                threading.Thread(target=self._refresh_and_release, name="beuwi-snapshot", daemon=True).start()
            return state.snapshot
        with self._lock:
            state = self._state
            if not self._fresh(state):
                state = self._state = self._refresh(state)
        if state.snapshot is None:
            raise copy.copy(state.error)  # a fresh instance: re-raising one object grows its traceback
        return state.snapshot

    def _refresh_and_release(self) -> None:
        try:
            self._state = self._refresh(self._state)
        except Exception:  # never expected (graph errors are handled), but a dead refresher must not wedge the lock
            log.exception("refreshing the catalogue snapshot failed")
        finally:
            self._lock.release()

    @property
    def last(self) -> Snapshot | None:
        """The snapshot this process holds, without asking the graph (None before the first successful load)."""
        state = self._state
        return state.snapshot if state else None

    def _fresh(self, state: _State | None) -> bool:
        return state is not None and self._clock() - state.checked < self._check_seconds

    def _refresh(self, state: _State | None) -> _State:
        """Ask the graph again. The new state counts as checked when the answer (or the failure) arrived, not when the
        question was sent: with a graph that hangs until the timeout, a state dated from the question would already
        be stale, and each request of a process without a snapshot, queued on the lock, would then wait out a timeout
        of its own."""
        snapshot, error = self._load(state.snapshot if state else None)
        return _State(snapshot, error, self._clock())

    def _load(self, kept: Snapshot | None) -> tuple[Snapshot | None, Exception | None]:
        try:
            version = self._store.active_version()
            if version is None:
                return None, NoActiveCatalogue("no catalogue is active")
            if kept is not None and kept.version == version:
                return kept, None
            snapshot = Snapshot.build(version, self._store.programmes(version))
            # Millions of long-lived objects would make every full garbage collection walk them all, a pause of
            # tens of milliseconds in some unlucky search; frozen, the collector skips them. Collect first, so no
            # garbage of the load is frozen with them; they are acyclic, so reference counting still frees them
            # when a newer snapshot replaces this one.
            gc.collect()
            gc.freeze()
            log.info("serving catalogue %s (%d programmes)", version, len(snapshot.programmes))
            return snapshot, None
        except GraphError as exc:
            if kept is None:
                return None, exc
            log.warning("graph unavailable, still serving catalogue %s: %s", kept.version, exc)
            return kept, None
