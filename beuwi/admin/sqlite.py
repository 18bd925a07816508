"""The SQLite file the local backend keeps its metadata, leases and tokens in: one connection per store, shared by
the threads of a process, with SQLite's errors raised as the stores' own."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .stores import StoreError


class Database:
    def __init__(self, path: str | Path, what: str, schema: str, *, timeout: float = 5.0):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._what = what  # names the store in errors
        # autocommit; a write waits up to `timeout` seconds for another process's write instead of failing at once
        self._db = sqlite3.connect(path, timeout=timeout, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._errors():
            self._db.executescript(schema)

    def run(self, sql: str, params=()) -> list[tuple]:
        with self._lock, self._errors():
            return self._db.execute(sql, params).fetchall()

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """A transaction that holds the database's write lock from its first read, so no other process can act on
        what it read before it commits."""
        with self._lock, self._errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{self._what}: {exc}") from exc


def busy(exc: StoreError) -> bool:
    """Whether the error was another process keeping the database locked past the timeout."""
    return isinstance(exc.__cause__, sqlite3.OperationalError) and "locked" in str(exc.__cause__)
