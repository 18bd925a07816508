"""The engine's JSON routes: read the input, ask one answer function, let the error handlers map failures."""
from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from importlib import metadata, resources
from typing import Hashable

import orjson
from flask import Blueprint, current_app, request

from beuwi.domain import SubjectList
from beuwi.graph.store import GraphError

from . import answers
from .active import NoActiveCatalogue, Snapshot
from .engine import engine, snapshot
from beuwi.http_json import cached, error, json_body, json_bytes, no_store
from .profile import InvalidProfile, parse_subjects

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

TEMPORARILY = "the catalogue database is temporarily unavailable, try again shortly"

ENGINE_VERSION = metadata.version("beuwi")


def tag(catalogue: str) -> str:
    """ETag value: the catalogue version and the engine version, since either changes a response."""
    return f"{catalogue}:{ENGINE_VERSION}"


@bp.get("/ping")
def ping():
    return {"ok": True}


@bp.get("/health")
def health():
    """Asks the graph which catalogue is active. A graph outage this process bridges with its snapshot is
    `degraded` (200, answers are still right, if possibly stale); without a snapshot it is `unavailable` (503)."""
    try:
        version = engine().store.active_version()
    except GraphError as exc:
        kept = engine().catalogue.last
        log.warning("health: graph unavailable: %s", exc)
        reason = f"graph unavailable: {TEMPORARILY}"
        if kept is None:
            return no_store({"status": "unavailable", "error": reason}, 503)
        return no_store({"status": "degraded", "catalogue": kept.version, "error": reason})
    return no_store({"status": "ok", "catalogue": version})


@bp.get("/health/live")
def live():
    """Liveness: the process answers HTTP. Touches nothing else, so a graph outage never gets a replica restarted."""
    return no_store({"status": "live"})


@bp.get("/health/ready")
def ready():
    """Readiness: this process holds a snapshot of an active catalogue, so searches succeed.

    It stays ready while a graph outage is bridged by that snapshot: were a graph blip to make every replica unready,
    the load balancer would drop them all and turn stale-but-right answers into no answers at all.
    """
    try:
        current = snapshot()
    except (NoActiveCatalogue, GraphError) as exc:
        return no_store({"ready": False, "error": _unavailable(exc)}, 503)
    return no_store({"ready": True, "catalogue": current.version})


@bp.get("/search")
def search_get():
    current, started = snapshot(), time.perf_counter()
    key = request.query_string  # the subjects as sent: a repeated search is found before its URL is even parsed
    answer = _cached_answer(current.version, key)
    refs = _refs(request.args.getlist("subject")) if answer is None else None  # bad subjects: 400 before any 304
    response = cached(tag(current.version), lambda: answer or _new_answer(current, key, refs))
    return _server_timing(response, started, answer is not None)


@bp.post("/search")
def search_post():
    subjects, current, started = subjects_sent(), snapshot(), time.perf_counter()
    key = tuple(subjects) if all(isinstance(s, str) for s in subjects) else None  # the subjects as sent
    answer = _cached_answer(current.version, key)
    response = json_bytes(answer or _new_answer(current, key, _refs(subjects)))
    response.cache_control.no_store = True
    return _server_timing(response, started, answer is not None)


def subjects_sent() -> list:
    """The subjects of a search body, as sent (the admin's preview of an upload reads them here too). Read whatever
    its Content-Type: a text/plain JSON body spares browsers a CORS preflight."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("subjects"), list):
        raise InvalidProfile('the body must be a JSON object like {"subjects": ["Mathematics (CSEC)"]}')
    return body["subjects"]


def _cached_answer(version: str, key: Hashable | None) -> bytes | None:
    """This worker's earlier answer to the same subjects sent the same way, as JSON. The same text always reads the
    same way, so a repeat skips reading the subjects; only answers to valid subjects are ever stored."""
    cache = engine().answers
    return cache.get(version, key) if cache is not None and key is not None else None


def _new_answer(current: Snapshot, key: Hashable | None, refs: list) -> bytes:
    answer = answers.search(current, refs, engine().eligible_in_graph(current.version))
    body = orjson.dumps(answer)  # a search answer can be 200 KB: several times faster than the json module
    cache = engine().answers
    if cache is not None and key is not None:
        cache.put(current.version, key, body)
    return body


def _server_timing(response, started: float, hit: bool):
    """`Server-Timing: engine;dur=<ms>;desc=hit|miss` on an answer: the engine's own time (read by beuwi bench)."""
    if response.status_code == 200:
        took = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"engine;dur={took:.3f};desc={'hit' if hit else 'miss'}"
    return response


@bp.get("/programmes")
def programmes():
    current, faculty, q = snapshot(), _text("faculty"), _text("q")
    return cached(tag(current.version), lambda: answers.programmes(current, faculty, q))


@bp.get("/programmes/<programme_id>")
def programme(programme_id: str):
    """The programme, each requirement of each scheme met or not by the `subject`s given (none: an empty profile)."""
    current = snapshot()
    # An unknown id or a bad subject is a 4xx whatever If-None-Match says.
    found = answers.programme(current, programme_id, _refs(request.args.getlist("subject")))
    return cached(tag(current.version), lambda: found)


@bp.get("/faculties")
def faculties():
    current = snapshot()
    return cached(tag(current.version), lambda: answers.faculties(current))


@bp.get("/subjects")
def subjects():
    """Ranked with how common each subject is in the active catalogue (when there is one to ask)."""
    level, q = answers.level(_text("level")), _text("q")  # a bad level is a 400 whatever If-None-Match says
    try:
        current = snapshot()
    except (NoActiveCatalogue, GraphError):
        version, common = "none", {}
    else:
        version, common = current.version, current.popularity
    return cached(tag(f"subjects:{version}"), lambda: answers.subjects(SubjectList.default(), common, level, q))


@bp.get("/openapi.json")
def openapi():
    return cached(tag("openapi"), _openapi)


@lru_cache(maxsize=1)
def _openapi() -> dict:
    document = json.loads(resources.files("beuwi.search").joinpath("openapi.json").read_text("utf-8"))
    document["info"]["version"] = ENGINE_VERSION
    return document


def _text(name: str) -> str:
    """A text query parameter, its length checked before anything reads it."""
    value = request.args.get(name, "")
    if len(value) > answers.MAX_QUERY_CHARS:
        raise answers.InvalidQuery(f"{name} is at most {answers.MAX_QUERY_CHARS} characters ({len(value)} given)")
    return value


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


def _unavailable(exc: NoActiveCatalogue | GraphError) -> str:
    """Why there is no catalogue to answer from, for a 503: the graph's own words go to the log, never to clients."""
    if isinstance(exc, NoActiveCatalogue):
        return "no catalogue is active"
    log.warning("%s %s: no catalogue to answer from: %s", request.method, request.path, exc)
    return f"catalogue unavailable: {TEMPORARILY}"


@bp.errorhandler(NoActiveCatalogue)
@bp.errorhandler(GraphError)
def no_catalogue(exc: NoActiveCatalogue | GraphError):
    return error(503, _unavailable(exc))
