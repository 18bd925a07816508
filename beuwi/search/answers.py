"""The JSON answers of the engine, computed from a catalogue snapshot with the pure domain."""
from __future__ import annotations

import time
from typing import Callable, Mapping, Sequence

from beuwi.domain import LEVELS, Profile, Programme, Route, Subject, SubjectList, SubjectRef, Suggestion, checks, route
from beuwi.domain.subjects import GRADES, LOWEST_PASS, grade_label

from .active import Snapshot


class UnknownProgramme(LookupError):
    pass


class InvalidQuery(ValueError):
    pass


NEAR_MISSES = 100  # described per answer; `near_misses_total` counts them all
MAX_QUERY_CHARS = 200  # a text filter (`q`, `faculty`, `level`); longer ones are refused before they are read


def search(snapshot: Snapshot, refs: Sequence[SubjectRef],
           eligible_in_graph: Callable[[Profile], list[str]] | None = None) -> dict:
    """Eligible programmes with why (by the scheme met), near misses with what is missing, and what to take next.

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
        "eligible": [_eligible(p, route(p, profile)) for p in eligible],
        "faculties": [{"faculty": name, "eligible": count} for name, count in faculties.items()],
        "near_misses": [{**n.programme.summary(), "scheme": n.scheme.label or None,
                         "conditions": list(n.scheme.conditions), "missing": [n.missing.as_dict()]}
                        for n in result.near_misses],
        "near_misses_total": result.near_misses_total,
        "suggestions": [suggestion(s) for s in result.suggestions],
        "took_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def _eligible(programme: Programme, met: Route) -> dict:
    return {**programme.summary(), "scheme": met.scheme.label or None, "conditions": list(met.scheme.conditions),
            "checks": [c.as_dict() for c in met.checks]}


def suggestion(s: Suggestion) -> dict:
    """A suggestion with its words: "Physics (CAPE) opens 3 more", "Mathematics (CSEC) at grade II opens 4 more"."""
    grade = grade_label(s.ref.min_grade, s.ref.subject.level) if s.kind == "grade" else None
    what = f"{s.ref.ungraded} at grade {grade}" if grade else str(s.ref)
    return {"kind": s.kind, "subject": str(s.ref), "replaces": None if s.replaces is None else str(s.replaces),
            "grade": grade, "unlocks": s.unlocks, "text": f"{what} opens {s.unlocks} more"}


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


def programme(snapshot: Snapshot, programme_id: str, refs: Sequence[SubjectRef] = ()) -> dict:
    """A programme's details with every requirement of every scheme, each met or not by the subjects given."""
    found = snapshot.by_id.get(programme_id)
    if found is None:
        raise UnknownProgramme(f"no programme {programme_id!r} in catalogue {snapshot.version}")
    profile = Profile.from_refs(refs)
    schemes = []
    for scheme in found.schemes:
        results = checks(scheme.requirements, profile)
        schemes.append({"label": scheme.label or None, "conditions": list(scheme.conditions),
                        "met": all(c.met for c in results), "checks": [c.as_dict() for c in results]})
    return {"catalogue": snapshot.version, **found.details(), "subjects": list(dict.fromkeys(str(r) for r in refs)),
            "schemes": schemes}


def faculties(snapshot: Snapshot) -> dict:
    return {
        "catalogue": snapshot.version,
        "faculties": [
            {"faculty": f.name, "programmes": f.programmes, "departments": list(f.departments)}
            for f in snapshot.faculties
        ],
    }


def level(text: str) -> str | None:
    """A level filter as typed (any case, blank for every level) as the level it names."""
    key = " ".join(text.split()).upper() or None
    if key and key not in LEVELS:
        raise InvalidQuery(f"unknown level {text.strip()!r} (use {', '.join(LEVELS)})")
    return key


def subjects(subject_list: SubjectList, popularity: Mapping[Subject, int], level_key: str | None = None,
             q: str = "") -> dict:
    """Canonical subjects for autocomplete, the commonest first among equals; `label` is what a search accepts."""
    common = {s: popularity.get(subject_list.counts_as(s), 0) for s in subject_list.subjects}
    return {
        "subjects": [
            {"name": s.name, "level": s.level, "label": str(s), "aliases": list(subject_list.aliases[s]),
             "units": subject_list.units.get(s), "equivalent": _label(subject_list.equivalent.get(s)),
             "programmes": common[s]}
            for s in subject_list.search(q, level_key, common)
        ],
        "levels": [{"level": level, "grades": list(GRADES[level]), "passes": list(GRADES[level][:LOWEST_PASS[level]]),
                    "units": level == "CAPE"} for level in LEVELS],
    }


def _label(subject: Subject | None) -> str | None:
    return None if subject is None else str(subject)
