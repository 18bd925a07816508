"""The JSON answers of the engine, computed from a catalogue snapshot with the pure domain."""
from __future__ import annotations

import time
from typing import Callable, Sequence

from beuwi.domain import LEVELS, Profile, SubjectList, SubjectRef, reasons

from .active import Snapshot


class UnknownProgramme(LookupError):
    pass


class InvalidQuery(ValueError):
    pass


NEAR_MISSES = 100  # described per answer; `near_misses_total` counts them all
MAX_QUERY_CHARS = 200  # a text filter (`q`, `faculty`, `level`); longer ones are refused before they are read


def search(snapshot: Snapshot, refs: Sequence[SubjectRef],
           eligible_in_graph: Callable[[Profile], list[str]] | None = None) -> dict:
    """Eligible programmes with why, near misses with what is missing, and subjects worth taking next.

    Eligibility comes from the snapshot's compiled index, or, on the reference path, from the graph's Cypher query
    (`eligible_in_graph`); near misses and suggestions always come from the compiled index.
    """
    started = time.perf_counter()
    profile = Profile.from_refs(refs)
    result = snapshot.compiled.match(profile, near_misses=NEAR_MISSES)
    eligible = result.eligible
    if eligible_in_graph is not None:
        found = set(eligible_in_graph(profile))
        eligible = [p for p in snapshot.programmes if p.id in found]
    faculties: dict[str, int] = {}
    for programme in eligible:
        faculties[programme.faculty] = faculties.get(programme.faculty, 0) + 1
    return {
        "catalogue": snapshot.version,
        "subjects": list(dict.fromkeys(str(r) for r in refs)),
        "eligible": [{**p.summary(), "reasons": reasons(p.requirements, profile)} for p in eligible],
        "faculties": [{"faculty": name, "eligible": count} for name, count in faculties.items()],
        "near_misses": [{**n.programme.summary(), "missing": [str(n.missing)]} for n in result.near_misses],
        "near_misses_total": result.near_misses_total,
        "suggestions": [{"subject": str(s.subject), "unlocks": s.unlocks} for s in result.suggestions],
        "took_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def programmes(snapshot: Snapshot, faculty: str = "", q: str = "") -> dict:
    """Programmes of one faculty (any case) whose name, department, degree or description contains `q`."""
    faculty, q = faculty.strip().casefold(), q.strip().casefold()
    found = [
        p.summary()
        for p in snapshot.programmes
        if (not faculty or p.faculty.casefold() == faculty)
        and (not q or any(q in text.casefold() for text in (p.name, p.department, p.degree, p.description)))
    ]
    return {"catalogue": snapshot.version, "programmes": found}


def programme(snapshot: Snapshot, programme_id: str) -> dict:
    found = snapshot.by_id.get(programme_id)
    if found is None:
        raise UnknownProgramme(f"no programme {programme_id!r} in catalogue {snapshot.version}")
    return {"catalogue": snapshot.version, **found.details()}


def faculties(snapshot: Snapshot) -> dict:
    return {
        "catalogue": snapshot.version,
        "faculties": [
            {"faculty": f.name, "programmes": f.programmes, "departments": list(f.departments)}
            for f in snapshot.faculties
        ],
    }


def level(text: str) -> str | None:
    """A level filter as typed (any case, blank for both levels) as the level it names."""
    key = text.strip().upper() or None
    if key and key not in LEVELS:
        raise InvalidQuery(f"unknown level {text.strip()!r} (use CSEC or CAPE)")
    return key


def subjects(subject_list: SubjectList, level_key: str | None = None, q: str = "") -> dict:
    """Canonical subjects for autocomplete; `label` is what a search accepts."""
    return {
        "subjects": [
            {"name": s.name, "level": s.level, "label": str(s), "aliases": list(subject_list.aliases[s])}
            for s in subject_list.search(q, level_key)
        ]
    }
