"""Who is calling the admin API: a bearer token checked by the configured verifier, which names a person and role."""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Callable

import click

from .roles import PUBLISHER, ROLES, Forbidden, Unauthorized, User

MIN_TOKEN_CHARS = 32  # what a guess must match; a generated token has 43


def local_token(settings) -> str:
    """BEUWI_ADMIN_TOKEN, else one generated once, kept under the data dir and shown once, as Jupyter does."""
    if settings.get("ADMIN_TOKEN"):
        if len(settings["ADMIN_TOKEN"]) < MIN_TOKEN_CHARS:
            raise click.UsageError(
                f"BEUWI_ADMIN_TOKEN has {len(settings['ADMIN_TOKEN'])} characters; an admin token needs at least "
                f"{MIN_TOKEN_CHARS} (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), or leave it "
                "unset to have one generated")
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


def token_verifier(expected: str) -> Callable[[str], User]:
    def verify(token: str) -> User:
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise Unauthorized("invalid admin token")
        return User("admin", PUBLISHER)

    return verify


def firebase_verifier(app, allowed_emails: str = "") -> Callable[[str], User]:
    """Firebase ID tokens: the `role` custom claim names the role; the older `admin` claim and the allow-list mean
    publisher."""
    from firebase_admin import auth

    allowed = {e.strip().casefold() for e in allowed_emails.split(",") if e.strip()}

    def verify(token: str) -> User:
        try:
            # Checking revocation also refuses deleted and disabled users; admin traffic is light enough for it.
            claims = auth.verify_id_token(token, app=app, check_revoked=True)
        except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError,
                auth.CertificateFetchError, auth.UserDisabledError, auth.UserNotFoundError) as exc:
            raise Unauthorized(f"invalid Firebase ID token: {exc}") from exc
        email = str(claims.get("email", "")).casefold()
        name = email or claims["uid"]
        if claims.get("role") in ROLES:
            return User(name, claims["role"])
        if claims.get("admin") is True or (email and email in allowed):
            return User(name, PUBLISHER)
        raise Forbidden(f"{name} has no admin role (ask for `beuwi admin grant EMAIL --role viewer|editor|publisher`)")

    return verify


def set_admin(app, email: str, admin: bool) -> None:
    """Grant or revoke the `admin` custom claim, keeping the user's other claims."""
    from firebase_admin import auth

    try:
        user = auth.get_user_by_email(email, app=app)
    except auth.UserNotFoundError as exc:
        raise LookupError(f"no Firebase user with email {email}") from exc
    claims = {k: v for k, v in (user.custom_claims or {}).items() if k != "admin"}
    auth.set_custom_user_claims(user.uid, {**claims, "admin": True} if admin else claims or None, app=app)
