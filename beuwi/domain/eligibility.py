"""The eligibility rules: which requirements a student profile leaves unmet, in plain words."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .programme import Combination, Requirements
from .subjects import LEVELS, Subject, SubjectRef, is_pass


class Profile:
    """The subjects a student passed, each with its grade or None when no grade was given.

    Failed subjects are dropped; a subject given twice keeps its better grade.
    """

    def __init__(self, entries: Iterable[tuple[Subject, int | None]] = ()):
        passed: dict[Subject, int | None] = {}
        for subject, grade in entries:
            if not is_pass(subject.level, grade):
                continue
            if subject in passed:
                grade = _better(passed[subject], grade)
            passed[subject] = grade
        self.grades: Mapping[Subject, int | None] = passed
        self.passes = {level: sum(1 for s in passed if s.level == level) for level in LEVELS}

    @classmethod
    def from_refs(cls, refs: Iterable[SubjectRef]) -> "Profile":
        return cls((r.subject, r.min_grade) for r in refs)

    def meets(self, ref: SubjectRef) -> bool:
        grade = self.grades.get(ref.subject, _NOT_HELD)
        return grade is not _NOT_HELD and ref.met_by(grade, True)

    def with_subject(self, subject: Subject, grade: int | None) -> "Profile":
        return Profile([*self.grades.items(), (subject, grade)])

    def met_keys(self) -> list[str]:
        """Every reference key this profile meets, so a query can test membership instead of grades."""
        keys = []
        for subject, grade in self.grades.items():
            keys.append(subject.key)
            if grade is not None:
                keys.extend(f"{subject.key}@{g}" for g in range(grade, 8))
        return keys

    def __iter__(self):
        return iter(self.grades)


_NOT_HELD = object()


def _better(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(frozen=True)
class PassesShort:
    level: str
    short: int

    def __str__(self) -> str:
        return f"needs {self.short} more {self.level} pass{'es' if self.short > 1 else ''}"


@dataclass(frozen=True)
class MissingSubject:
    ref: SubjectRef

    def __str__(self) -> str:
        return f"missing {self.ref}"


@dataclass(frozen=True)
class CombinationShort:
    combination: Combination
    short: int
    unmet_options: tuple[SubjectRef, ...]

    def __str__(self) -> str:
        return f"needs {self.short} more of: " + ", ".join(str(o) for o in self.unmet_options)


Unmet = PassesShort | MissingSubject | CombinationShort


def unmet(requirements: Requirements, profile: Profile) -> list[Unmet]:
    """The requirements the profile fails, one entry each; empty means eligible."""
    found: list[Unmet] = []
    for level, needed in (("CSEC", requirements.csec_passes), ("CAPE", requirements.cape_passes)):
        if profile.passes[level] < needed:
            found.append(PassesShort(level, needed - profile.passes[level]))
    found.extend(MissingSubject(ref) for ref in requirements.mandatory if not profile.meets(ref))
    for combination in requirements.combinations:
        missing = tuple(o for o in combination.options if not profile.meets(o))
        met = len(combination.options) - len(missing)
        if met < combination.need:
            found.append(CombinationShort(combination, combination.need - met, missing))
    return found


def is_eligible(requirements: Requirements, profile: Profile) -> bool:
    return not unmet(requirements, profile)


def reasons(requirements: Requirements, profile: Profile) -> list[str]:
    """Why an eligible profile qualifies, one phrase per requirement met."""
    found = []
    for level, needed in (("CSEC", requirements.csec_passes), ("CAPE", requirements.cape_passes)):
        if needed:
            found.append(f"{profile.passes[level]} {level} passes (needs {needed})")
    found.extend(f"has {ref}" for ref in requirements.mandatory if profile.meets(ref))
    for combination in requirements.combinations:
        met = [str(o) for o in combination.options if profile.meets(o)]
        found.append(f"{combination.need} of {len(combination.options)} options: " + ", ".join(met))
    return found
