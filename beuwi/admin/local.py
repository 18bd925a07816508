"""Local adapters for the embedded default: files under the data dir, metadata in SQLite beside them."""
from __future__ import annotations

import os
import time
from pathlib import Path

from .sqlite import Database, busy
from .stores import AuditEntry, FileStore, MetadataStore, NotFound, StoreError, Upload


class LocalFileStore(FileStore):
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    @classmethod
    def from_settings(cls, settings) -> "LocalFileStore":
        return cls(Path(settings["DATA_DIR"]) / "files")

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root not in path.parents:
            raise StoreError(f"file name {name!r} leaves the store")
        return path

    def put(self, name: str, data: bytes, content_type: str = "text/csv") -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers never see half a file

    def get(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"no file {name!r}") from exc

    def delete(self, name: str) -> None:
        path = self._path(name)
        path.unlink(missing_ok=True)
        folder = path.parent
        while folder != self.root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # leave no empty folders behind a deleted upload
            folder = folder.parent


FIELDS = tuple(Upload.__dataclass_fields__)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS uploads ({", ".join(FIELDS)}, PRIMARY KEY (id));
CREATE TABLE IF NOT EXISTS audit (at, who, action, upload_id, detail);
CREATE TABLE IF NOT EXISTS locks (name PRIMARY KEY, owner, expires);
"""


class SqliteMetadataStore(MetadataStore):
    def __init__(self, path: str | Path):
        self._db = Database(path, "metadata store", SCHEMA)
        self._run = self._db.run
        have = {row[1] for row in self._run("PRAGMA table_info(uploads)")}
        for field in FIELDS:
            if field not in have:  # a data dir from an earlier version: its records get the newer fields empty
                self._run(f"ALTER TABLE uploads ADD COLUMN {field}")

    @classmethod
    def from_settings(cls, settings) -> "SqliteMetadataStore":
        return cls(Path(settings["DATA_DIR"]) / "admin.sqlite3")

    def add(self, upload: Upload) -> None:
        marks = ", ".join("?" for _ in FIELDS)
        self._run(f"INSERT INTO uploads ({', '.join(FIELDS)}) VALUES ({marks})", tuple(upload.as_dict().values()))

    def get(self, upload_id: str) -> Upload:
        rows = self._run(f"SELECT {', '.join(FIELDS)} FROM uploads WHERE id = ?", (upload_id,))
        if not rows:
            raise NotFound(f"no upload {upload_id!r}")
        return _upload(rows[0])

    def list(self) -> list[Upload]:
        return [_upload(r) for r in self._run(f"SELECT {', '.join(FIELDS)} FROM uploads ORDER BY created DESC")]

    def mark_active(self, upload_id: str, activated_at: str, activated_by: str) -> None:
        self.get(upload_id)
        # One statement, so the switch (and the end of its schedule) is atomic.
        self._run("UPDATE uploads SET active = (id = :id), "
                  "activated_at = CASE WHEN id = :id THEN :at ELSE activated_at END, "
                  "activated_by = CASE WHEN id = :id THEN :by ELSE activated_by END, "
                  "scheduled_at = CASE WHEN id = :id THEN NULL ELSE scheduled_at END, "
                  "scheduled_by = CASE WHEN id = :id THEN NULL ELSE scheduled_by END",
                  {"id": upload_id, "at": activated_at, "by": activated_by})

    def set_schedule(self, upload_id: str, at: str | None, by: str | None) -> None:
        self.get(upload_id)
        self._run("UPDATE uploads SET scheduled_at = ?, scheduled_by = ? WHERE id = ?", (at, by, upload_id))

    def due(self, at: str) -> list[Upload]:
        rows = self._run(f"SELECT {', '.join(FIELDS)} FROM uploads WHERE scheduled_at <= ? "
                         "ORDER BY scheduled_at, id", (at,))
        return [_upload(r) for r in rows]

    def acquire(self, name: str, owner: str, seconds: float) -> bool:
        try:
            with self._db.immediate() as db:  # no other process can take it between the read and the write
                held = db.execute("SELECT owner, expires FROM locks WHERE name = ?", (name,)).fetchone()
                now = time.time()
                free = held is None or held[0] == owner or held[1] < now
                if free:
                    db.execute("INSERT OR REPLACE INTO locks VALUES (?, ?, ?)", (name, owner, now + seconds))
            return free
        except StoreError as exc:
            if busy(exc):
                return False
            raise

    def release(self, name: str, owner: str) -> None:
        self._run("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))

    def remove(self, upload_id: str) -> None:
        self._run("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def audit(self, entry: AuditEntry) -> None:
        self._run("INSERT INTO audit VALUES (?, ?, ?, ?, ?)",
                  (entry.at, entry.who, entry.action, entry.upload_id, entry.detail))

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        rows = self._run("SELECT at, who, action, upload_id, detail FROM audit ORDER BY at DESC, rowid DESC LIMIT ?",
                         (limit,))
        return [AuditEntry(*row) for row in rows]


def _upload(row: tuple) -> Upload:
    values = dict(zip(FIELDS, row))
    return Upload(**{**values, "active": bool(values["active"])})
