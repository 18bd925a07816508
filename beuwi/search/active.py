"""The per-process snapshot of the active catalogue version.

Every search needs the whole catalogue, so each engine process keeps the active version in memory and only asks the
graph which version is active at most every `check_seconds`; it reloads the programmes only when that id changes.
When the graph goes away the last snapshot keeps serving, so an outage degrades to a stale catalogue, not errors;
a version that does not read back whole (deleted meanwhile, say) is never served: the last snapshot stays.
"""
from __future__ import annotations

import copy
import gc
import logging
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping, Sequence

from beuwi.domain import Programme, Subject, SubjectList
from beuwi.graph.store import CatalogueIncomplete, GraphError, GraphStore, StoreClosed

from .compiled import CompiledCatalogue

log = logging.getLogger(__name__)

WATCH_NAP = (0.05, 1.0)  # the watcher thread's shortest and longest sleep, in seconds


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

    @cached_property
    def popularity(self) -> dict[Subject, int]:
        """How many programmes name each subject (as it counts) in any requirement: what autocomplete ranks common
        subjects by. Counted on first use, once per version a worker serves."""
        counts_as = SubjectList.default().counts_as
        found: Counter[Subject] = Counter()
        for programme in self.programmes:
            found.update({counts_as(ref.subject) for ref in programme.refs})
        return dict(found)


@dataclass(frozen=True)
class _State:
    snapshot: Snapshot | None
    error: Exception | None  # why there is no snapshot
    checked: float


class ActiveCatalogue:
    """Thread-safe. Once a snapshot exists, requests never wait on the graph: a watcher thread asks the graph every
    `check_seconds`, whether requests come or not, and swaps in a new snapshot when the active version changes, while
    every request keeps getting the snapshot already there (which is also what lets a worker run a single request
    thread). So even a worker that has been idle serves a new version within `check_seconds` plus its load time.
    Only a process with nothing to serve yet makes requests wait for the graph."""

    def __init__(self, store: GraphStore, check_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._check_seconds = float(check_seconds)
        self._clock = clock
        self._lock = threading.Lock()  # held by whoever is refreshing
        self._state: _State | None = None
        self._watching = False

    def current(self) -> Snapshot:
        """The active snapshot; NoActiveCatalogue, or the GraphError when the graph is down and nothing is cached."""
        state = self._state
        if state is not None and state.snapshot is not None:
            return state.snapshot
        with self._lock:
            state = self._state
            if not self._fresh(state):
                state = self._state = self._refresh(state)
            if not self._watching:  # started here, in the worker that serves: a thread does not survive a fork
                self._watching = True
                threading.Thread(target=_watch, args=(weakref.ref(self),), name="beuwi-snapshot", daemon=True).start()
        if state.snapshot is None:
            raise copy.copy(state.error)  # a fresh instance: re-raising one object grows its traceback
        return state.snapshot

    def _due_in(self) -> float:
        """Seconds (by this catalogue's clock) until the graph should be asked again."""
        return self._check_seconds - (self._clock() - self._state.checked)

    def _refresh_if_due(self) -> None:
        with self._lock:
            if not self._fresh(self._state):
                self._state = self._refresh(self._state)

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
        except CatalogueIncomplete as exc:
            if kept is None:
                log.warning("not serving an incomplete catalogue, nothing to serve yet: %s", exc)
                return None, exc
            log.warning("not serving an incomplete catalogue, still serving catalogue %s: %s", kept.version, exc)
            return kept, None
        except StoreClosed:
            raise  # not an outage to ride out: ends the watcher, and a request gets its 503
        except GraphError as exc:
            if kept is None:
                return None, exc
            log.warning("graph unavailable, still serving catalogue %s: %s", kept.version, exc)
            return kept, None


def _watch(catalogue_ref: weakref.ref) -> None:
    """Refresh the catalogue whenever its check falls due; ends once nothing else holds the catalogue.

    The naps are bounded: at least WATCH_NAP[0], so a check interval of 0 does not spin, and at most WATCH_NAP[1],
    so a catalogue on a hand-moved clock (tests) is rechecked soon after the clock moves.
    """
    while (catalogue := catalogue_ref()) is not None:
        nap = min(max(catalogue._due_in(), WATCH_NAP[0]), WATCH_NAP[1])
        del catalogue  # not held while asleep
        time.sleep(nap)
        if (catalogue := catalogue_ref()) is None:
            return
        try:
            catalogue._refresh_if_due()
        except StoreClosed:
            return  # the engine is shutting down: no graph will answer this catalogue again
        except Exception:  # never expected (graph errors are handled), but the watcher must not die
            log.exception("refreshing the catalogue snapshot failed")
        del catalogue
