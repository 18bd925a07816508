"""JSON over HTTP for both Flask apps: one error shape, and caching headers tied to the catalogue version."""
from __future__ import annotations

import logging
from typing import Callable

import orjson
from flask import Flask, Response, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)


def error(status: int, message: str, **extra) -> Response:
    """The one error shape: `{"error": message, ...}`, never cached."""
    return no_store({"error": message, **extra}, status)


def empty(status: int) -> Response:
    """A bodiless answer (304, 204) that claims no content type, so nothing ever reads as HTML."""
    response = current_app.response_class(status=status)
    del response.headers["Content-Type"]
    return response


def no_store(body: dict, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.cache_control.no_store = True
    return response


def json_bytes(body: bytes, status: int = 200) -> Response:
    """An answer already serialised as JSON."""
    return current_app.response_class(body, status=status, mimetype="application/json")


def cached(tag: str, build: Callable[[], dict | bytes]) -> Response:
    """A public, cacheable answer whose weak ETag is `tag`; a matching If-None-Match gets 304 without building it.

    The tag is the catalogue version (plus the package version), so caches revalidate exactly when the active
    catalogue or the engine changes; the URL already distinguishes queries. With CACHE_SECONDS at 0 (the default)
    every reuse is revalidated, so an activation shows at once; a CDN in front may trade that for a max-age.
    """
    if request.if_none_match.contains_weak(tag):
        response = empty(304)
    else:
        body = build()
        response = json_bytes(body) if isinstance(body, bytes) else jsonify(body)
    # Written out rather than through set_etag and cache_control: this runs on every search, and their parsing and
    # re-serialising cost a third of a cached answer's time in Flask.
    response.headers["ETag"] = f'W/"{tag}"'
    seconds = int(current_app.config["CACHE_SECONDS"])
    # no-cache: reuse only after a revalidation, which costs a 304
    response.headers["Cache-Control"] = f"public, max-age={seconds}" if seconds > 0 else "public, no-cache"
    return response


class StrictJSONProvider(DefaultJSONProvider):
    """Answers that are always valid JSON (RFC 8259): the json module would write a bare NaN or Infinity."""

    def dumps(self, obj, **kwargs) -> str:
        return super().dumps(obj, allow_nan=False, **kwargs)


def json_body() -> object:
    """The request body read as strict JSON: no NaN or Infinity, nesting bounded (orjson stops at 1,024 levels), and
    the size within MAX_CONTENT_LENGTH, chunked bodies included (413 as soon as it is passed)."""
    data = request.get_data(cache=False)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    # A chunked body is cut at the limit without a word (werkzeug's LimitedStream): one more byte says it was longer.
    chunked = request.content_length is None and limit is not None
    if chunked and len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


def init_app(app: Flask) -> None:
    """What both apps' HTTP answers share: JSON everywhere, and paths taken as sent.

    Werkzeug would answer `/api//search` with a redirect to a URL built from the request's Host header; with
    merge_slashes off it is simply not a route (404). Set before any route is added: rules take it when bound.
    """
    app.json = StrictJSONProvider(app)
    app.json.sort_keys = False
    app.url_map.merge_slashes = False
    _register_errors(app)


def _register_errors(app: Flask) -> None:
    """Every HTTP error, unknown routes included, and every unexpected exception answer JSON."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = error(exc.code or 500, _message(exc))
        for name, value in exc.get_headers():
            if name.lower() in ("allow", "retry-after"):
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error(500, "internal error")


def _message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"not found: {request.path}"
    if exc.code == 405:
        return f"method {request.method} not allowed on {request.path}"
    if exc.code == 413:
        return f"request body too large (at most {current_app.config['MAX_CONTENT_LENGTH']} bytes)"
    return exc.description or exc.name
