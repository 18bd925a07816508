"""Programmes and their entry requirements, with the text forms the CSV format and the graph share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .subjects import LOWEST_PASS, SubjectError, SubjectList, SubjectRef, roman


@dataclass(frozen=True)
class Combination:
    """At least `need` of `options` must be met."""

    need: int
    options: tuple[SubjectRef, ...]

    def __str__(self) -> str:
        return f"{self.need} of " + " | ".join(str(o) for o in self.options)


@dataclass(frozen=True)
class Requirements:
    csec_passes: int = 0
    cape_passes: int = 0
    mandatory: tuple[SubjectRef, ...] = ()
    combinations: tuple[Combination, ...] = ()

    @property
    def refs(self) -> tuple[SubjectRef, ...]:
        """Every subject reference: the mandatory ones, then each combination's options."""
        return (*self.mandatory, *(o for c in self.combinations for o in c.options))

    def as_text(self) -> dict:
        return {
            "csec_passes": self.csec_passes,
            "cape_passes": self.cape_passes,
            "mandatory": [str(r) for r in self.mandatory],
            "combinations": [str(c) for c in self.combinations],
        }

    @classmethod
    def from_text(cls, subjects: SubjectList, csec_passes=0, cape_passes=0, mandatory=(), combinations=()):
        return cls(
            int(csec_passes or 0),
            int(cape_passes or 0),
            tuple(requirement_ref(subjects, m) for m in mandatory),
            tuple(parse_combination(subjects, c) for c in combinations),
        )


@dataclass(frozen=True)
class Programme:
    id: str
    name: str
    faculty: str
    department: str = ""
    degree: str = ""
    campus: str = ""
    full_time: bool = False
    part_time: bool = False
    evening: bool = False
    duration: str = ""
    url: str = ""
    description: str = ""
    careers: tuple[str, ...] = ()
    requirements: Requirements = field(default_factory=Requirements)

    def summary(self) -> dict:
        """The fields a result list shows."""
        return {
            "id": self.id,
            "name": self.name,
            "faculty": self.faculty,
            "department": self.department,
            "degree": self.degree,
            "campus": self.campus,
            "full_time": self.full_time,
            "part_time": self.part_time,
            "evening": self.evening,
            "duration": self.duration,
        }

    def details(self) -> dict:
        return {
            **self.summary(),
            "url": self.url,
            "description": self.description,
            "careers": list(self.careers),
            "requirements": self.requirements.as_text(),
        }


def requirement_ref(subjects: SubjectList, text: str) -> SubjectRef:
    """A subject reference in a requirement: its minimum grade, if any, must be a pass grade."""
    ref = subjects.ref(text)
    level = ref.subject.level
    if ref.min_grade is not None and ref.min_grade > LOWEST_PASS[level]:
        raise SubjectError(
            f"{text.strip()!r}: a minimum grade must be a pass grade ({level} I-{roman(LOWEST_PASS[level])})"
        )
    return ref


_COMBINATION = re.compile(r"^\s*(?P<need>-?\d+)\s+of\s+(?P<options>.+)$", re.IGNORECASE | re.DOTALL)


def parse_combination(subjects: SubjectList, text: str) -> Combination:
    """Parse `N of A | B | C`."""
    match = _COMBINATION.match(text)
    if not match:
        raise SubjectError(f"{text.strip()!r} is not a combination like '2 of Biology (CSEC) | Chemistry (CSEC)'")
    need = int(match["need"])
    options = tuple(requirement_ref(subjects, o) for o in match["options"].split("|") if o.strip())
    if len({o.subject for o in options}) != len(options):
        raise SubjectError(f"{text.strip()!r} names the same subject twice")
    if need < 1:
        raise SubjectError(f"{text.strip()!r}: the number needed must be at least 1")
    if need > len(options):
        raise SubjectError(f"{text.strip()!r} needs {need} but lists only {len(options)} option(s)")
    return Combination(need, options)
