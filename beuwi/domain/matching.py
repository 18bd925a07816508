"""Matching a profile against a whole catalogue: eligible programmes, near misses and suggestions."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from .eligibility import Check, Profile, Route, eligible, route
from .programme import Programme, Scheme
from .subjects import PASS_LEVELS, Subject, SubjectRef

SUGGESTIONS = 5
KINDS = ("subject", "unit", "grade")


@dataclass(frozen=True)
class NearMiss:
    programme: Programme
    missing: Check
    scheme: Scheme


@dataclass(frozen=True)
class Candidate:
    """One thing a student could add: a subject not held, the missing unit of a held CAPE subject, or a better grade
    of a subject entered with a grade. `ref` is what they would enter (and `replaces` what it takes the place of);
    `assumed` is what is counted, a new subject or unit passed at grade I."""

    kind: str
    ref: SubjectRef
    assumed: SubjectRef
    replaces: SubjectRef | None = None

    def apply(self, profile: Profile) -> Profile:
        return Profile([*(e for e in profile.entries if e != self.replaces), self.assumed], profile.subjects)


@dataclass(frozen=True)
class Suggestion:
    ref: SubjectRef
    unlocks: int
    kind: str = "subject"
    replaces: SubjectRef | None = None

    @property
    def subject(self) -> Subject:
        return self.ref.subject


@dataclass(frozen=True)
class Match:
    eligible: list[Programme]
    near_misses: list[NearMiss]
    suggestions: list[Suggestion]


def match(programmes: Sequence[Programme], profile: Profile, suggestions: int = SUGGESTIONS) -> Match:
    """Near misses are programmes whose closest scheme fails exactly one requirement; suggestions are what opens the
    most programmes, each programme counted once."""
    found, near, failing = [], [], []
    for programme in programmes:
        best: Route = route(programme, profile)
        if not best.gaps:
            found.append(programme)
            continue
        if len(best.gaps) == 1:
            near.append(NearMiss(programme, best.gaps[0], best.scheme))
        failing.append(programme)
    ranked = rank(((c, sum(1 for p in failing if eligible(p, c.apply(profile))))
                   for c in candidates(profile, referenced(r for p in programmes for r in p.refs))), suggestions)
    return Match(found, near, ranked)


def referenced(refs: Iterable[SubjectRef]) -> dict[Subject, set[int]]:
    """The CSEC and CAPE subjects these references (a catalogue's) name, with the minimum grades they ask of each."""
    grades: dict[Subject, set[int]] = {}
    for ref in refs:
        if ref.subject.level in PASS_LEVELS:
            grades.setdefault(ref.subject, set()).update(() if ref.min_grade is None else (ref.min_grade,))
    return grades


def candidates(profile: Profile, grades: dict[Subject, set[int]]) -> list[Candidate]:
    found = [_new(subject) for subject in grades if not profile.holds(subject)]
    for entry in profile.entries:
        subject, other = entry.subject, 3 - (entry.unit or 0)
        if entry.unit and (subject, other) not in profile.units:  # completing a subject counts even if none names it
            found.append(Candidate("unit", SubjectRef(subject, None, other), SubjectRef(subject, 1, other)))
        if entry.min_grade is not None and subject in grades:
            found.extend(Candidate("grade", entry.with_grade(g), entry.with_grade(g), entry)
                         for g in sorted(grades[subject]) if g < entry.min_grade)
    return found


@lru_cache(maxsize=4096)
def _new(subject: Subject) -> Candidate:
    """A subject not held, as every search that could suggest it suggests it (made once)."""
    return Candidate("subject", SubjectRef(subject), SubjectRef(subject, 1))


def rank(counted: Iterable[tuple[Candidate, int]], limit: int) -> list[Suggestion]:
    """The candidates that open the most programmes. Of the better grades of one entry, the one named is the weakest
    that opens as many as the best would."""
    best_grade: dict[SubjectRef, tuple[Candidate, int]] = {}
    kept = []
    for candidate, unlocks in counted:
        if not unlocks:
            continue
        if candidate.kind != "grade":
            kept.append((candidate, unlocks))
            continue
        held = best_grade.get(candidate.replaces)
        if held is None or unlocks > held[1] or (unlocks == held[1] and candidate.ref.min_grade > held[0].ref.min_grade):
            best_grade[candidate.replaces] = (candidate, unlocks)
    kept.extend(best_grade.values())
    kept.sort(key=lambda item: (-item[1], item[0].ref.subject.name, item[0].ref.subject.level,
                                KINDS.index(item[0].kind), str(item[0].ref)))
    return [Suggestion(c.ref, n, c.kind, c.replaces) for c, n in kept[:limit]]
