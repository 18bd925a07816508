"""Who may use the admin API: a bearer token checked by the configured verifier."""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Callable

import click


class Unauthorized(Exception):
    """No credentials, or credentials that do not identify anyone (401)."""


class Forbidden(Exception):
    """A known user who is not an administrator (403)."""


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    return token.strip()


def local_token(settings) -> str:
    """BEUWI_ADMIN_TOKEN, else one generated once, kept under the data dir and shown once, as Jupyter does."""
    if settings.get("ADMIN_TOKEN"):
        return settings["ADMIN_TOKEN"]
    path = Path(settings["DATA_DIR"]) / "admin-token"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    click.echo(f"Admin token (stored in {path}): {token}", err=True)
    return token


def token_verifier(expected: str) -> Callable[[str], str]:
    def verify(token: str) -> str:
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise Unauthorized("invalid admin token")
        return "admin"

    return verify
