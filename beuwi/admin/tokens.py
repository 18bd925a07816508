"""Named admin tokens of the local backend: one per person with a role, kept as SHA-256 digests in the data dir.

A token is 256 random bits, so a plain SHA-256 is as hard to reverse as the token is to guess, and looking a request's
token up by its digest compares nothing secret. Each request reads the table, so a revoke made by `beuwi admin token
revoke` (or another admin process on the same data dir) applies to the next request.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .roles import PUBLISHER, ROLES, Unauthorized, User
from .sqlite import Database
from .stores import StoreError

FIRST_NAME = "admin"  # the publisher made at first start, and the name BEUWI_ADMIN_TOKEN signs in as
MAX_NAME_CHARS = 100
SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (name TEXT NOT NULL, role TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE,
                                   created TEXT NOT NULL, expires TEXT, revoked_at TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
"""
COLUMNS = "name, role, created, expires, revoked_at"


class TokenError(ValueError):
    """A token that cannot be created or revoked as asked."""


@dataclass(frozen=True)
class Token:
    """A token's record: everything but the token, which is shown once when it is made and never kept."""
    name: str
    role: str
    created: str
    expires: str | None
    revoked_at: str | None

    def status(self, at: datetime) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires and datetime.fromisoformat(self.expires) <= at:
            return "expired"
        return "active"

    def as_dict(self, at: datetime) -> dict:
        return {**asdict(self), "status": self.status(at)}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class TokenStore:
    """The `tokens` table in `<data dir>/admin.sqlite3`, on a connection of its own."""

    def __init__(self, path: str | Path):
        # a write waits for another process's write (a first start, a revoke) instead of failing at once
        self._db = Database(path, "token store", SCHEMA, timeout=10)
        self._run = self._db.run

    @classmethod
    def from_settings(cls, settings) -> "TokenStore":
        return cls(Path(settings["DATA_DIR"]) / "admin.sqlite3")

    def create(self, name: str, role: str, days: int | None = None) -> str:
        """A new token for `name`, returned once: only its digest is kept."""
        if not name.strip() or name != name.strip() or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise TokenError(f"a token's name is 1 to {MAX_NAME_CHARS} printable characters without spaces around "
                             f"them, not {name!r}")
        if role not in ROLES:
            raise TokenError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        created = now()
        expires = (created + timedelta(days=days)).isoformat() if days else None
        try:
            self._run("INSERT INTO tokens (name, role, sha256, created, expires) VALUES (?, ?, ?, ?, ?)",
                      (name, role, digest(token), created.isoformat(), expires))
        except StoreError as exc:
            if not isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise
            raise TokenError(f"{name} already has a token that is not revoked (see `beuwi admin token list`); "
                             f"revoke it first with `beuwi admin token revoke {name}`") from exc
        return token

    def list(self) -> list[Token]:
        return [Token(*row) for row in self._run(f"SELECT {COLUMNS} FROM tokens ORDER BY created, rowid")]

    def revoke(self, name: str) -> str:
        """Revoke `name`'s token from now on; the time it was revoked."""
        revoked = self._run("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL "
                            "RETURNING revoked_at", (now().isoformat(), name))
        if revoked:
            return revoked[0][0]
        raise TokenError(f"{name} has no token to revoke (see `beuwi admin token list`)")

    def verify(self, token: str) -> User:
        rows = self._run(f"SELECT {COLUMNS} FROM tokens WHERE sha256 = ?", (digest(token),))
        if not rows:
            raise Unauthorized("invalid admin token")
        record = Token(*rows[0])
        status = record.status(now())
        if status == "revoked":
            raise Unauthorized(f"the admin token of {record.name} was revoked at {record.revoked_at}")
        if status == "expired":
            raise Unauthorized(f"the admin token of {record.name} expired at {record.expires}")
        return User(record.name, record.role)

    def first_start(self, token_file: Path) -> str | None:
        """With no tokens yet, a publisher named `admin`: the token in `token_file` when an older version left one
        there, else a new token written to it (owner-only) and returned so it can be shown this once.

        One transaction holding the database's write lock, so two admin processes starting together make one."""
        with self._db.immediate() as db:
            if db.execute("SELECT 1 FROM tokens LIMIT 1").fetchone():
                new = None
            elif token_file.exists():
                new = None
                _add_first(db, token_file.read_text().strip())
            else:
                new = secrets.token_urlsafe(32)
                _write_private(token_file, new)  # before the row: a crash in between imports the file
                _add_first(db, new)
        return new


def _add_first(db, token: str) -> None:
    db.execute("INSERT INTO tokens (name, role, sha256, created) VALUES (?, ?, ?, ?)",
               (FIRST_NAME, PUBLISHER, digest(token), now().isoformat()))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
