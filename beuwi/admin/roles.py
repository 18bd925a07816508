"""Who may do what in the admin app: three roles, each allowed everything the one before it is.

Every admin route names the role it needs with `needs`; `guard` authenticates each request to a blueprint and
refuses a route that names none, so a new endpoint cannot be left open by forgetting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, current_app, g, request

VIEWER, EDITOR, PUBLISHER = ROLES = ("viewer", "editor", "publisher")


class Unauthorized(Exception):
    """No credentials, or credentials that do not identify anyone (401)."""


class Forbidden(Exception):
    """A known person without the role an action needs (403); `needs` and `role` say which, `who` is that person."""

    def __init__(self, message: str, needs: str | None = None, role: str | None = None, who: str | None = None):
        super().__init__(message)
        self.needs = needs
        self.role = role
        self.who = who


@dataclass(frozen=True)
class User:
    name: str  # what uploaded_by, activated_by and the audit log show
    role: str

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}: use one of {', '.join(ROLES)}")

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role}


def needs(role: str) -> Callable:
    """Mark a view with the least role that may call it."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def mark(view):
        view.role = role
        return view

    return mark


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    return token.strip()


def guard(blueprint: Blueprint) -> Blueprint:
    """Authenticate every request to the blueprint and check the role its view needs."""

    @blueprint.before_request
    def check_role():
        if request.method == "OPTIONS":
            return None
        view = current_app.view_functions.get(request.endpoint)
        role = getattr(view, "role", None)
        if role is None:  # a route without `needs`: a programming error, refused rather than left open
            raise Forbidden("this endpoint names no role, so nobody may call it")
        user = current_app.extensions["beuwi.admin"].verify(bearer(request.headers.get("Authorization")))
        if not user.may(role):
            raise Forbidden(f"this needs the {role} role; {user.name} has the {user.role} role", role, user.role,
                            user.name)
        g.user = user
        return None

    return blueprint
