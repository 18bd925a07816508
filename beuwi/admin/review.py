"""Reviewing an upload before students see it: what activating it would change, the engine's own answer to a search
on it, its row errors as JSON, and the admin API's OpenAPI document. Nothing here writes: a viewer may read it all.

A preview answers with the engine's snapshot and answer function on the upload's version, never through the engine:
the public engine serves only the active version.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib import metadata, resources

import orjson
from flask import Blueprint, current_app, request

from beuwi.domain import SubjectList
from beuwi.domain.diff import diff
from beuwi.graph.store import CatalogueIncomplete, CatalogueNotFound, GraphStore
from beuwi.http_json import json_bytes, no_store
from beuwi.search import answers
from beuwi.search.active import Snapshot
from beuwi.search.api import invalid_profile, subjects_sent
from beuwi.search.profile import InvalidProfile, parse_subjects

from . import row_errors
from .api import stores
from .roles import VIEWER, guard, needs
from .stores import NotFound
from .uploads import UploadConflict

bp = guard(Blueprint("review", __name__, url_prefix="/api"))
bp.register_error_handler(InvalidProfile, invalid_profile)  # bad subjects: the engine's own 400
KEPT_VERSIONS = 4  # each holds a whole catalogue and its compiled matcher
SCHEMAS = "#/components/schemas/"


class Versions:
    """The catalogue versions this admin process last reviewed, each read from the graph and compiled once: a
    version never changes once loaded. A read that fails keeps nothing; a deleted upload's is dropped when asked."""

    def __init__(self, size: int = KEPT_VERSIONS):
        self._size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Snapshot] = OrderedDict()

    def get(self, graph: GraphStore, version: str) -> Snapshot:
        with self._lock:
            if version in self._kept:
                self._kept.move_to_end(version)
                return self._kept[version]
        snapshot = Snapshot.build(version, graph.programmes(version))  # outside the lock: it may take seconds
        with self._lock:
            self._kept[version] = snapshot
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return snapshot

    def drop(self, version: str) -> None:
        with self._lock:
            self._kept.pop(version, None)

    def __contains__(self, version: str) -> bool:
        return version in self._kept


bp.record_once(lambda state: state.app.extensions.setdefault("beuwi.review", Versions()))


def versions() -> Versions:
    return current_app.extensions["beuwi.review"]


def version(upload_id: str, what: str = "") -> Snapshot:
    """The upload's catalogue version as the engine would serve it once active. NotFound names the upload (and `what` it
    is to the request); UploadConflict says why an upload has no version to read."""
    try:
        record = stores().meta.get(upload_id)
    except NotFound:
        versions().drop(upload_id)
        raise NotFound(f"no upload {upload_id!r}{what}") from None
    if record.status != "parsed" or not record.programmes:
        why = record.message or "every row had errors"
        raise UploadConflict(f"upload {upload_id} has no programmes to read ({why})")
    try:
        return versions().get(stores().graph, upload_id)
    except (CatalogueNotFound, CatalogueIncomplete):
        raise UploadConflict(f"upload {upload_id} has no whole catalogue version in the graph") from None


@bp.get("/uploads/<upload_id>/diff")
@needs(VIEWER)
def upload_diff(upload_id: str):
    """What activating the upload changes, against the active version (`against=active`, the default) or another
    upload; with nothing active, every programme is added."""
    against = request.args.get("against", "active")
    after = version(upload_id)
    if against == "active":
        against = stores().graph.active_version()
        before = () if against is None else versions().get(stores().graph, against).programmes
    else:
        before = version(against, " to compare against").programmes
    return no_store({"upload": upload_id, "against": against, **diff(before, after.programmes).as_dict()})


@bp.post("/uploads/<upload_id>/search")
@needs(VIEWER)
def preview_search(upload_id: str):
    """The engine's `POST /api/search` answer as it would be once this upload is active."""
    subjects, current = subjects_sent(), version(upload_id)
    refs = parse_subjects(subjects, SubjectList.default(), int(current_app.config["MAX_PROFILE_SUBJECTS"]))
    response = json_bytes(orjson.dumps(answers.search(current, refs)))
    response.cache_control.no_store = True
    return response


@bp.get("/uploads/<upload_id>/errors.json")
@needs(VIEWER)
def errors_json(upload_id: str):
    return no_store(row_errors.answer(stores(), upload_id))


@bp.get("/openapi.json")
@needs(VIEWER)
def openapi():
    return no_store(_openapi())


@lru_cache(maxsize=1)
def _openapi() -> dict:
    """The admin document with the engine document's schemas it names (a preview answers as the engine does, a
    diff lists the engine's programme summaries), taken from there so the two cannot disagree."""
    document, engine = _document("beuwi.admin"), _document("beuwi.search")
    schemas, wanted = document["components"]["schemas"], _named(document)
    while wanted:
        name = wanted.pop()
        if name not in schemas:
            schemas[name] = engine["components"]["schemas"][name]
            wanted |= _named(schemas[name])
    document["info"]["version"] = metadata.version("beuwi")
    return document


def _document(package: str) -> dict:
    return json.loads(resources.files(package).joinpath("openapi.json").read_text("utf-8"))


def _named(node) -> set[str]:
    """The schemas a part of a document refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        found = {ref.removeprefix(SCHEMAS)} if ref.startswith(SCHEMAS) else set()
        return found.union(*map(_named, node.values()))
    return set().union(*map(_named, node)) if isinstance(node, list) else set()
