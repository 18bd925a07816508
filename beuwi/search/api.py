"""The engine's JSON routes: read the input, ask one answer function, let the error handlers map failures."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import metadata, resources

from flask import Blueprint, current_app, request

from beuwi.domain import SubjectList
from beuwi.graph.store import GraphError

from . import answers
from .active import NoActiveCatalogue
from .engine import engine, snapshot
from beuwi.http_json import cached, error, no_store
from .profile import InvalidProfile, parse_subjects

bp = Blueprint("api", __name__, url_prefix="/api")

ENGINE_VERSION = metadata.version("beuwi")


def tag(catalogue: str) -> str:
    """ETag value: the catalogue version and the engine version, since either changes a response."""
    return f"{catalogue}:{ENGINE_VERSION}"


@bp.get("/ping")
def ping():
    return {"ok": True}


@bp.get("/health")
def health():
    try:
        version = engine().store.active_version()
    except GraphError as exc:
        return no_store({"status": "unavailable", "error": f"graph unavailable: {exc}"}, 503)
    return no_store({"status": "ok", "catalogue": version})


@bp.get("/search")
def search_get():
    refs = _refs(request.args.getlist("subject"))
    current = snapshot()
    return cached(tag(current.version), lambda: answers.search(current, refs))


@bp.post("/search")
def search_post():
    # force=True: a text/plain JSON body spares browsers a CORS preflight.
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("subjects"), list):
        return error(400, 'the body must be a JSON object like {"subjects": ["Mathematics (CSEC)"]}')
    refs = _refs(body["subjects"])
    return no_store(answers.search(snapshot(), refs))


@bp.get("/programmes")
def programmes():
    current = snapshot()
    args = request.args
    return cached(tag(current.version), lambda: answers.programmes(current, args.get("faculty", ""), args.get("q", "")))


@bp.get("/programmes/<programme_id>")
def programme(programme_id: str):
    current = snapshot()
    return cached(tag(current.version), lambda: answers.programme(current, programme_id))


@bp.get("/faculties")
def faculties():
    current = snapshot()
    return cached(tag(current.version), lambda: answers.faculties(current))


@bp.get("/subjects")
def subjects():
    args = request.args
    return cached(
        tag("subjects"), lambda: answers.subjects(SubjectList.default(), args.get("level", ""), args.get("q", ""))
    )


@bp.get("/openapi.json")
def openapi():
    return cached(tag("openapi"), _openapi)


@lru_cache(maxsize=1)
def _openapi() -> dict:
    document = json.loads(resources.files("beuwi.search").joinpath("openapi.json").read_text("utf-8"))
    document["info"]["version"] = ENGINE_VERSION
    return document


def _refs(texts: list):
    return parse_subjects(texts, SubjectList.default(), int(current_app.config["MAX_PROFILE_SUBJECTS"]))


@bp.errorhandler(InvalidProfile)
def invalid_profile(exc: InvalidProfile):
    extra = {"subjects": exc.subjects} if exc.subjects else {}
    return error(400, str(exc), **extra)


@bp.errorhandler(answers.InvalidQuery)
def invalid_query(exc: answers.InvalidQuery):
    return error(400, str(exc))


@bp.errorhandler(answers.UnknownProgramme)
def unknown_programme(exc: answers.UnknownProgramme):
    return error(404, str(exc))


@bp.errorhandler(NoActiveCatalogue)
def no_catalogue(exc: NoActiveCatalogue):
    return error(503, "no catalogue is active")


@bp.errorhandler(GraphError)
def graph_error(exc: GraphError):
    return error(503, f"catalogue unavailable: {exc}")
