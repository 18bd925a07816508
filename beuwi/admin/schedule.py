"""The admin process's scheduler: a thread that runs the periodic jobs, firing due scheduled activations.

Every admin process (each gunicorn worker, each replica) runs one; the activation lease lets only one of them carry
a schedule out, and the record read again under it makes that happen once, across restarts and crashes.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Iterable

from . import lease, uploads
from .uploads import Stores

log = logging.getLogger(__name__)


def fire_due(stores: Stores) -> None:
    """Activate every upload whose schedule has come, soonest first (the last one stays active)."""
    for record in stores.meta.due(uploads.now()):
        try:
            uploads.activate_scheduled(stores, record.id)
        except lease.Held:
            return  # another activation is under way; the next check tries again
        except Exception as exc:  # audited as activate-failed; the schedule stays, and the next check tries again
            log.warning("scheduled activation of %s failed: %s: %s", record.id, type(exc).__name__, exc)


# The jobs every scheduler runs on each check, each a function of the stores (add a periodic job here).
JOBS: tuple[Callable[[Stores], None], ...] = (fire_due,)


class Scheduler:
    """Runs `jobs` every `seconds` in a daemon thread, the first time at once (schedules due while no admin process
    ran fire on start). A failing job is logged and tried again at the next check."""

    def __init__(self, stores: Callable[[], Stores], seconds: float, jobs: Iterable[Callable[[Stores], None]] = JOBS):
        self._stores = stores  # called on each check: building them may fail while the graph is down
        self._seconds = seconds
        self._jobs = tuple(jobs)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        for job in self._jobs:
            try:
                job(self._stores())
            except Exception as exc:
                log.warning("scheduled job %s failed: %s: %s", job.__name__, type(exc).__name__, exc)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="beuwi scheduler")
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            self.check()
            if self._stopped.wait(self._seconds):
                return
