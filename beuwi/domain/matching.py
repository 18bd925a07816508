"""Matching a profile against a whole catalogue: eligible programmes, near misses and suggestions."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from .eligibility import CombinationShort, MissingSubject, PassesShort, Profile, Unmet, unmet
from .programme import Programme
from .subjects import Subject

SUGGESTIONS = 5


@dataclass(frozen=True)
class NearMiss:
    programme: Programme
    missing: Unmet


@dataclass(frozen=True)
class Suggestion:
    subject: Subject
    unlocks: int


@dataclass(frozen=True)
class Match:
    eligible: list[Programme]
    near_misses: list[NearMiss]
    suggestions: list[Suggestion]


def match(programmes: Sequence[Programme], profile: Profile, suggestions: int = SUGGESTIONS) -> Match:
    """Near misses fail exactly one requirement; suggestions are the subjects that open the most programmes."""
    eligible, near, failing = [], [], []
    for programme in programmes:
        gaps = unmet(programme.requirements, profile)
        if not gaps:
            eligible.append(programme)
            continue
        if len(gaps) == 1:
            near.append(NearMiss(programme, gaps[0]))
        failing.append((programme, gaps))
    return Match(eligible, near, _suggest(programmes, failing, profile, suggestions))


def _suggest(programmes, failing, profile: Profile, limit: int) -> list[Suggestion]:
    candidates = _referenced(programmes) - set(profile)
    unlocks: Counter[Subject] = Counter()
    for _, gaps in failing:
        unlocks.update(_fixes(gaps, candidates))
    ranked = sorted(unlocks.items(), key=lambda item: (-item[1], item[0].name, item[0].level))
    return [Suggestion(subject, count) for subject, count in ranked[:limit]]


def _fixes(gaps: list[Unmet], candidates: set[Subject]) -> set[Subject]:
    """The candidate subjects that, passed at grade I, would close every gap at once."""
    fixes = candidates
    for gap in gaps:
        if isinstance(gap, PassesShort):
            if gap.short > 1:
                return set()
            fixes = {s for s in fixes if s.level == gap.level}
        elif isinstance(gap, MissingSubject):
            fixes = fixes & {gap.ref.subject}
        elif isinstance(gap, CombinationShort):
            if gap.short > 1:
                return set()
            fixes = fixes & {o.subject for o in gap.unmet_options}
        if not fixes:
            break
    return fixes


def _referenced(programmes: Sequence[Programme]) -> set[Subject]:
    subjects = set()
    for programme in programmes:
        subjects.update(r.subject for r in programme.requirements.refs)
    return subjects
