"""Who is calling the admin API: a bearer token checked by the configured verifier, which names a person and role."""
from __future__ import annotations

import hmac
from pathlib import Path
from typing import Callable

import click

from .roles import PUBLISHER, ROLES, Forbidden, Unauthorized, User
from .tokens import FIRST_NAME, TokenStore

MIN_TOKEN_CHARS = 32  # what a guess must match; a generated token has 43


def local_verifier(settings) -> Callable[[str], User]:
    """The named tokens under the data dir, and BEUWI_ADMIN_TOKEN (when set) as the publisher `admin`.

    Without BEUWI_ADMIN_TOKEN, the first start makes the publisher `admin`, writes its token to
    `<data dir>/admin-token` and shows it once, as Jupyter does."""
    configured = settings.get("ADMIN_TOKEN") or ""
    if configured and len(configured) < MIN_TOKEN_CHARS:
        raise click.UsageError(
            f"BEUWI_ADMIN_TOKEN has {len(configured)} characters; an admin token needs at least "
            f"{MIN_TOKEN_CHARS} (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), or leave it "
            "unset to have one generated")
    tokens = TokenStore.from_settings(settings)
    if not configured:
        path = Path(settings["DATA_DIR"]) / "admin-token"
        first = tokens.first_start(path)
        if first:
            click.echo(f"Admin token (stored in {path}): {first}", err=True)

    def verify(token: str) -> User:
        if configured and hmac.compare_digest(token.encode(), configured.encode()):
            return User(FIRST_NAME, PUBLISHER)
        return tokens.verify(token)

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


def set_role(app, email: str, role: str | None) -> None:
    """Give a Firebase user a role, or none, keeping their other custom claims and dropping the older `admin` claim.

    It also signs them out everywhere, so the change applies at once: the verifier refuses their current ID tokens,
    and their next sign-in carries the new role."""
    from firebase_admin import auth

    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    try:
        user = auth.get_user_by_email(email, app=app)
    except auth.UserNotFoundError as exc:
        raise LookupError(f"no Firebase user with email {email}") from exc
    claims = {k: v for k, v in (user.custom_claims or {}).items() if k not in ("admin", "role")}
    auth.set_custom_user_claims(user.uid, {**claims, "role": role} if role else claims or None, app=app)
    auth.revoke_refresh_tokens(user.uid, app=app)
