"""The admin JSON API: thin routes over the upload services."""
from __future__ import annotations

import io
import json
import logging

from flask import Blueprint, Response, current_app, g, request, send_file

from beuwi import template
from beuwi.graph.store import GraphError
from beuwi.http_json import error, no_store
from beuwi.workbook import media_type

from . import row_errors, uploads
from .roles import EDITOR, PUBLISHER, VIEWER, Forbidden, Unauthorized, guard, needs
from .stores import NotFound, StoreError

bp = guard(Blueprint("admin", __name__, url_prefix="/api"))
log = logging.getLogger(__name__)


def stores() -> uploads.Stores:
    return current_app.extensions["beuwi.admin"].stores


@bp.get("/me")
@needs(VIEWER)
def me():
    """Who the token names and what they may do, so the dashboard hides what the role may not."""
    user = g.user
    return no_store({**user.as_dict(), "may": {"upload": user.may(EDITOR), "delete": user.may(EDITOR),
                                               "activate": user.may(PUBLISHER), "schedule": user.may(PUBLISHER)}})


@bp.post("/uploads")
@needs(EDITOR)
def create_upload():
    sent = request.files.get("file")
    if sent is None:
        return error(400, "send the catalogue (CSV or .xlsx) as a multipart form field named 'file'")
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    data = sent.read(limit + 1)
    if len(data) > limit:
        return error(413, f"the file is larger than the {limit / 1e6:g} MB limit; nothing was stored")
    record, _ = uploads.upload(stores(), data, sent.filename, g.user.name, limit)
    return no_store(record.as_dict(), 201)


@bp.get("/template.csv", defaults={"kind": "csv"})
@bp.get("/template.xlsx", defaults={"kind": "xlsx"})
@needs(VIEWER)
def get_template(kind: str):
    """The catalogue template to start from (beuwi.template), as `beuwi template --format KIND` writes it."""
    return _file(template.render(kind), f"catalogue-template.{kind}")


@bp.get("/uploads")
@needs(VIEWER)
def list_uploads():
    return no_store({"uploads": [u.as_dict() for u in uploads.listing(stores())]})


@bp.get("/uploads/<upload_id>")
@needs(VIEWER)
def get_upload(upload_id: str):
    return no_store(uploads.get(stores(), upload_id).as_dict())


@bp.get("/uploads/<upload_id>/source")
@needs(VIEWER)
def get_source(upload_id: str):
    record = uploads.get(stores(), upload_id)
    try:
        data = uploads.read_file(stores(), upload_id, uploads.source_name(upload_id, record.filename))
    except NotFound:  # a file named .xlsx sent before workbooks were read was kept as source.csv
        data = uploads.read_file(stores(), upload_id, uploads.source_name(upload_id))
    return _file(data, record.filename)


@bp.get("/uploads/<upload_id>/errors")
@needs(VIEWER)
def get_errors(upload_id: str):
    if request.accept_mimetypes.best_match(("text/csv", "application/json")) == "application/json":
        return no_store(row_errors.answer(stores(), upload_id))
    data = uploads.read_file(stores(), upload_id, uploads.errors_name(upload_id))
    return _file(data, f"{upload_id}-errors.csv")


@bp.post("/uploads/<upload_id>/activate")
@needs(PUBLISHER)
def activate_upload(upload_id: str):
    """No body or `{}`: activate now; `{"at": "<ISO 8601 with offset>"}`: schedule it."""
    body = activation_body()
    four_eyes = bool(current_app.config["FOUR_EYES"])
    if "at" not in body:
        return no_store(uploads.activate(stores(), upload_id, g.user.name, four_eyes=four_eyes).as_dict())
    record = uploads.schedule(stores(), upload_id, body["at"], g.user.name, four_eyes=four_eyes)
    return no_store(record.as_dict(), 202)


def activation_body() -> dict:
    """What an activation request sends: {} (also for no body), or {"at": ...}."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise uploads.InvalidActivation('send no body to activate now, or a JSON object {"at": "<ISO 8601 time '
                                        'with its UTC offset>"} to schedule') from None
    if not isinstance(body, dict):
        kind = ("an array" if isinstance(body, list) else "null" if body is None
                else f"the value {raw[:40].decode(errors='replace')!r}")
        raise uploads.InvalidActivation(f'the body must be a JSON object ({{}} or {{"at": ...}}), not {kind}')
    unknown = sorted(set(body) - {"at"})
    if unknown:
        raise uploads.InvalidActivation(f"unknown fields {', '.join(map(repr, unknown))[:200]}: only \"at\" is "
                                        "accepted")
    return body


@bp.delete("/uploads/<upload_id>/schedule")
@needs(PUBLISHER)
def cancel_schedule(upload_id: str):
    return no_store(uploads.cancel_schedule(stores(), upload_id, g.user.name).as_dict())


@bp.delete("/uploads/<upload_id>")
@needs(EDITOR)
def delete_upload(upload_id: str):
    uploads.delete(stores(), upload_id, g.user.name)
    return no_store({"deleted": upload_id})


@bp.get("/audit")
@needs(VIEWER)
def audit():
    return no_store({"entries": [e.__dict__ for e in stores().meta.audit_log()]})


def _file(data: bytes, filename: str) -> Response:
    # send_file writes the name RFC 6266 style, with an ASCII fallback for browsers that need one.
    # Cleaned again for records stored before names were: a control character would break the header.
    response = send_file(io.BytesIO(data), mimetype=media_type(filename), as_attachment=True,
                         download_name=uploads.clean_filename(filename),
                         etag=False, conditional=False)
    response.cache_control.no_store = True
    return response


@bp.app_errorhandler(Unauthorized)
def unauthorized(exc):
    response = error(401, str(exc))
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@bp.app_errorhandler(Forbidden)
def forbidden(exc):
    if exc.who and request.method not in ("GET", "HEAD"):  # an attempt to change something: the audit log says so
        try:
            uploads.audit(stores(), exc.who, "refused", (request.view_args or {}).get("upload_id", ""),
                          f"{request.method} {request.path} needs the {exc.needs} role; {exc.who} has {exc.role}")
        except (StoreError, GraphError) as failure:
            log.warning("refusal of %s not audited: %s", exc.who, failure)
    return error(403, str(exc), **({"needs": exc.needs, "role": exc.role} if exc.needs else {}))


@bp.app_errorhandler(NotFound)
def not_found(exc):
    return error(404, str(exc))


@bp.app_errorhandler(uploads.UploadConflict)
def conflict(exc):
    return error(409, str(exc))


@bp.app_errorhandler(uploads.FourEyes)
def four_eyes(exc):
    return error(403, str(exc), rule="four-eyes")


@bp.app_errorhandler(uploads.InvalidActivation)
def invalid_activation(exc):
    return error(400, str(exc))


@bp.app_errorhandler(StoreError)
@bp.app_errorhandler(GraphError)
def unavailable(exc):
    # The vendor's words (a driver's message, a query's text) are for the log, not for clients.
    log.warning("%s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
    return error(503, "the catalogue storage is temporarily unavailable; try again in a minute")
