"""A lease in the metadata store: mutual exclusion across threads, processes and machines sharing that store.

A holder renews its lease while it works, so a long delete keeps it; a holder killed with -9 stops renewing, and
its lease is free again LEASE_SECONDS later. Holders on different machines need clocks closer than that.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from .stores import MetadataStore, StoreError

LEASE_SECONDS = 15.0  # how long a killed holder keeps everyone else waiting
WAIT_SECONDS = 3.0  # how long a caller waits for a busy lease before giving up
POLL_SECONDS = 0.05
log = logging.getLogger(__name__)


class Held(Exception):
    """Another owner held the lease for longer than the caller would wait."""


@contextmanager
def held(meta: MetadataStore, name: str, *, seconds: float = LEASE_SECONDS,
         wait: float = WAIT_SECONDS) -> Iterator[str]:
    """Hold the lease `name` for the block (its owner id is the value); Held if it stays taken for `wait` seconds."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    deadline = time.monotonic() + wait
    while not meta.acquire(name, owner, seconds):
        if time.monotonic() >= deadline:
            raise Held(name)
        time.sleep(POLL_SECONDS * random.uniform(0.5, 1.5))  # waiting callers spread out
    done = threading.Event()
    renewer = threading.Thread(target=_renew, args=(meta, name, owner, seconds, done), daemon=True,
                               name=f"lease {name}")
    renewer.start()
    try:
        yield owner
    finally:
        done.set()
        renewer.join()
        try:
            meta.release(name, owner)
        except StoreError as exc:  # it expires by itself
            log.warning("lease %s not released (it expires in %g s): %s", name, seconds, exc)


def _renew(meta: MetadataStore, name: str, owner: str, seconds: float, done: threading.Event) -> None:
    while not done.wait(seconds / 3):
        try:
            if not meta.acquire(name, owner, seconds):
                log.warning("lease %s was lost to another owner while held by %s", name, owner)
        except StoreError as exc:
            log.warning("lease %s not renewed: %s", name, exc)
