"""Cross-origin access for browsers, from the CORS_ORIGINS setting ("*" or comma-separated origins), for both apps."""
from __future__ import annotations

from flask import Flask, Response, current_app, request

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
        """Answer OPTIONS on an existing route: a browser's preflight, or a plain OPTIONS with its Allow header and no
        body (Flask's own answer would be an empty text/html 200)."""
        if request.method != "OPTIONS" or request.routing_exception is not None:
            return None
        if "Origin" not in request.headers or "Access-Control-Request-Method" not in request.headers:
            response = empty(204)
            adapter = current_app.url_map.bind_to_environ(request.environ)
            response.headers["Allow"] = ", ".join(sorted(adapter.allowed_methods()))
            return response
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
