"""Cross-origin access for browsers, from the CORS_ORIGINS setting ("*" or comma-separated origins), for both apps."""
from __future__ import annotations

from flask import Flask, Response, request

from beuwi.http_json import empty, error

PREFLIGHT_MAX_AGE = 600


class Cors:
    def __init__(self, origins: str, methods: str = "GET, POST, OPTIONS", headers: str = "Content-Type, If-None-Match",
                 expose: str = ""):
        self.methods, self.headers, self.expose = methods, headers, expose
        listed = [o.strip().rstrip("/") for o in str(origins).split(",") if o.strip()]
        self.any = "*" in listed
        self.origins = frozenset(listed)

    def allow(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for this origin, or None when it is not allowed."""
        if self.any:
            return "*"
        if origin and origin.rstrip("/") in self.origins:
            return origin
        return None

    def init_app(self, app: Flask) -> None:
        app.before_request(self._preflight)
        app.after_request(self._headers)

    def _preflight(self):
        """Answer a browser's preflight for an existing route; other OPTIONS requests keep Flask's answer."""
        is_preflight = (
            request.method == "OPTIONS"
            and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers
        )
        if not is_preflight or request.routing_exception is not None:
            return None
        origin = request.headers["Origin"]
        if not self.allow(origin):
            return error(403, f"origin {origin!r} is not allowed to call this API")
        response = empty(204)
        response.headers["Access-Control-Allow-Methods"] = self.methods
        response.headers["Access-Control-Allow-Headers"] = self.headers
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response

    def _headers(self, response: Response) -> Response:
        allowed = self.allow(request.headers.get("Origin"))
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = allowed
            if self.expose:
                response.headers["Access-Control-Expose-Headers"] = self.expose
        if not self.any:
            response.vary.add("Origin")  # the answer differs per origin, so shared caches must key on it
        return response
