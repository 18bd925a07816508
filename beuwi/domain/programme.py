"""Programmes, their alternative schemes of entry and each scheme's requirements, with the text forms the CSV format
and the graph share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from .subjects import DEGREE, LOWEST_PASS, Subject, SubjectError, SubjectList, SubjectRef, grade_label


@dataclass(frozen=True)
class Combination:
    """At least `need` of `options` must be met."""

    need: int
    options: tuple[SubjectRef, ...]
    _hash: int = field(init=False, repr=False, compare=False)  # a key of every search's checks: worked out once

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((self.need, self.options)))

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def labels(self) -> list[str]:
        """The options as written, for every answer that lists them (never to be changed)."""
        return [str(o) for o in self.options]

    def __str__(self) -> str:
        return f"{self.need} of " + " | ".join(self.labels)


@dataclass(frozen=True)
class Requirements:
    """What one scheme of entry asks for. `not_counted` subjects do not count toward the pass and unit counts
    (they may still meet a mandatory reference or a combination)."""

    csec_passes: int = 0
    cape_passes: int = 0
    mandatory: tuple[SubjectRef, ...] = ()
    combinations: tuple[Combination, ...] = ()
    cape_units: int = 0
    not_counted: tuple[Subject, ...] = ()

    @property
    def refs(self) -> tuple[SubjectRef, ...]:
        """Every subject reference: the mandatory ones, then each combination's options."""
        return (*self.mandatory, *(o for c in self.combinations for o in c.options))

    def as_text(self) -> dict:
        return {
            "csec_passes": self.csec_passes,
            "cape_passes": self.cape_passes,
            "cape_units": self.cape_units,
            "mandatory": [str(r) for r in self.mandatory],
            "combinations": [str(c) for c in self.combinations],
            "not_counted": [str(s) for s in self.not_counted],
        }

    @classmethod
    def from_text(cls, subjects: SubjectList, csec_passes=0, cape_passes=0, mandatory=(), combinations=(),
                  cape_units=0, not_counted=()):
        return cls(
            int(csec_passes or 0),
            int(cape_passes or 0),
            tuple(requirement_ref(subjects, m) for m in mandatory),
            tuple(parse_combination(subjects, c) for c in combinations),
            int(cape_units or 0),
            tuple(uncounted_subject(subjects, s) for s in not_counted),
        )


COUNTED = (("csec_passes", "CSEC passes"), ("cape_passes", "CAPE passes"), ("cape_units", "CAPE units"))
UNCHECKED = (("not_counted", "not counted"), ("conditions", "conditions"))


@dataclass(frozen=True)
class Scheme:
    """One route into a programme; the programme is open to a student who meets any of its schemes.
    `conditions` are what no exam shows (an interview, a portfolio), passed on to the student, never checked."""

    requirements: Requirements = field(default_factory=Requirements)
    label: str = ""
    conditions: tuple[str, ...] = ()

    def as_text(self) -> dict:
        return {"label": self.label, **self.requirements.as_text(), "conditions": list(self.conditions)}

    def __str__(self) -> str:
        """What the scheme asks, its label aside, as `beuwi check` prints it and a diff names a scheme added:
        "5 CSEC passes · mandatory English A (CSEC:III) · 2 of Biology (CSEC) | Chemistry (CSEC)"."""
        text = self.as_text()
        parts = [f"{text[key]} {what}" for key, what in COUNTED if text[key]]
        if text["mandatory"]:
            parts.append("mandatory " + "; ".join(text["mandatory"]))
        parts += text["combinations"]
        parts += [f"{what} {'; '.join(text[key])}" for key, what in UNCHECKED if text[key]]
        return " · ".join(parts) or "no requirements"

    @classmethod
    def from_text(cls, subjects: SubjectList, text: dict) -> "Scheme":
        fields = {k: text[k] for k in ("csec_passes", "cape_passes", "mandatory", "combinations", "cape_units",
                                        "not_counted") if k in text}
        return cls(Requirements.from_text(subjects, **fields), text.get("label", ""),
                   tuple(text.get("conditions") or ()))


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
    schemes: tuple[Scheme, ...] = (Scheme(),)

    @property
    def refs(self) -> tuple[SubjectRef, ...]:
        return tuple(ref for scheme in self.schemes for ref in scheme.requirements.refs)

    @property
    def conditions(self) -> tuple[str, ...]:
        """Every scheme's conditions, once each."""
        return tuple(dict.fromkeys(c for scheme in self.schemes for c in scheme.conditions))

    def summary(self) -> dict:
        """The fields a result list shows (a new dict each time, as answers add to it)."""
        return dict(self._summary)

    @cached_property
    def _summary(self) -> dict:
        # Every search lists its eligible programmes' summaries: each is worked out once per programme.
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
            "schemes": [s.label for s in self.schemes if s.label],
            "conditions": list(self.conditions),
        }

    def details(self) -> dict:
        return {
            **self.summary(),
            "url": self.url,
            "description": self.description,
            "careers": list(self.careers),
        }


def requirement_ref(subjects: SubjectList, text: str) -> SubjectRef:
    """A subject reference in a requirement: its minimum grade, if any, must be a pass grade."""
    ref = subjects.ref(text)
    level = ref.subject.level
    if ref.min_grade is not None and ref.min_grade > LOWEST_PASS[level]:
        passes = f"{grade_label(1, level)}-{grade_label(LOWEST_PASS[level], level)}"
        raise SubjectError(f"{text.strip()!r}: a minimum grade must be a pass grade ({level} {passes})")
    return ref


def uncounted_subject(subjects: SubjectList, text: str) -> Subject:
    """A `not_counted` entry: a whole subject, without unit or grade."""
    ref = subjects.ref(text)
    if ref.subject.level == DEGREE or ref.unit or ref.min_grade is not None:
        raise SubjectError(f"{text.strip()!r}: not_counted names whole subjects, like 'Caribbean Studies (CAPE)', "
                           "without a unit or grade", (str(ref.subject),) if ref.subject.level != DEGREE else ())
    return ref.subject


_COMBINATION = re.compile(r"^\s*(?P<need>-?\d+)\s+of\s+(?P<options>.+)$", re.IGNORECASE | re.DOTALL)


def parse_combination(subjects: SubjectList, text: str) -> Combination:
    """Parse `N of A | B | C`."""
    match = _COMBINATION.match(text)
    if not match:
        raise SubjectError(f"{text.strip()!r} is not a combination like '2 of Biology (CSEC) | Chemistry (CSEC)'")
    need = int(match["need"])
    options = tuple(requirement_ref(subjects, o) for o in match["options"].split("|") if o.strip())
    if len({o.part for o in options}) != len(options):
        raise SubjectError(f"{text.strip()!r} names the same subject twice")
    if need < 1:
        raise SubjectError(f"{text.strip()!r}: the number needed must be at least 1")
    if need > len(options):
        raise SubjectError(f"{text.strip()!r} needs {need} but lists only {len(options)} option(s)")
    return Combination(need, options)
