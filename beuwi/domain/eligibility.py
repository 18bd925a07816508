"""The eligibility rules: what a student holds, counted in CXC terms, and each requirement of a scheme met or not."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from .programme import Combination, Programme, Requirements, Scheme
from .subjects import ASSOCIATE_DEGREE, DEGREE, Subject, SubjectList, SubjectRef, gpa_label, is_pass


@dataclass(frozen=True)
class Credit:
    """Something the student holds in CXC terms (a CSEC pass, a CAPE unit, a whole CAPE subject), with its grade on
    that level's scale (None: passed, grade not given) and the entry of the student's that gives it."""

    grade: int | None
    source: SubjectRef


def _better(a: Credit | None, b: Credit) -> Credit:
    """The better of two credits for the same thing; a known grade beats an unknown one."""
    if a is None or a.grade is None:
        return b if a is None or b.grade is not None else a
    return b if b.grade is not None and b.grade < a.grade else a


class Profile:
    """The passes a student holds, as entered (`entries`) and as they count (`csec`, `units`, `whole`, `gce`, `gpa`).

    Failed grades are dropped; a subject (or unit) given twice keeps its better grade. A GCE O-Level pass counts as a
    CSEC pass of its equivalent subject, a GCE A-Level pass as the whole CAPE subject; a whole CAPE subject is all its
    units, graded by the worse of them.
    """

    def __init__(self, refs: Iterable[SubjectRef] = (), subjects: SubjectList | None = None):
        self.subjects = subjects = subjects or SubjectList.default()
        entries: dict[tuple[Subject, int | None], SubjectRef] = {}
        self.gpa: int | None = None
        for ref in refs:
            if ref.subject.level == DEGREE:
                self.gpa = max(self.gpa or 0, ref.min_gpa or 0)
                entries[ref.part] = SubjectRef(ref.subject, min_gpa=self.gpa)
            elif is_pass(ref.subject.level, ref.min_grade):
                kept = entries.get(ref.part)
                entries[ref.part] = _better(kept and Credit(kept.min_grade, kept), Credit(ref.min_grade, ref)).source
        self.entries = tuple(entries.values())
        self.csec: dict[Subject, Credit] = {}
        self.units: dict[tuple[Subject, int], Credit] = {}
        self.gce: dict[Subject, Credit] = {}
        for ref in self.entries:
            if ref.subject.level != DEGREE:
                self._credit(ref, subjects)
        self.whole = self._whole()
        self.passes = {"CSEC": len(self.csec), "CAPE": len(self.whole)}
        self.judged: dict = {}  # each requirement's check, worked out once for this profile (see _checks)

    def _credit(self, ref: SubjectRef, subjects: SubjectList) -> None:
        level, grade = ref.subject.level, ref.min_grade
        if level == "CSEC":
            self.csec[ref.subject] = _better(self.csec.get(ref.subject), Credit(grade, ref))
            return
        if level == "CAPE":
            for unit in (ref.unit,) if ref.unit else range(1, subjects.unit_count(ref.subject) + 1):
                self.units[(ref.subject, unit)] = _better(self.units.get((ref.subject, unit)), Credit(grade, ref))
            return
        self.gce[ref.subject] = _better(self.gce.get(ref.subject), Credit(grade, ref))
        counted, cxc_grade = subjects.counts_as(ref.subject), subjects.cxc_grade(level, grade)
        if level == "GCE O":
            self.csec[counted] = _better(self.csec.get(counted), Credit(cxc_grade, ref))
        else:
            for unit in range(1, subjects.unit_count(counted) + 1):
                self.units[(counted, unit)] = _better(self.units.get((counted, unit)), Credit(cxc_grade, ref))

    def _whole(self) -> dict[Subject, Credit]:
        held: dict[Subject, list[Credit]] = {}
        for (subject, _), credit in self.units.items():
            held.setdefault(subject, []).append(credit)
        whole = {}
        for subject, credits in held.items():
            if len(credits) < self.subjects.unit_count(subject):
                continue
            grades = [c.grade for c in credits]
            grade = None if None in grades else max(grades)
            sources = {c.source for c in credits}
            whole[subject] = Credit(grade, sources.pop() if len(sources) == 1 else SubjectRef(subject, grade))
        return whole

    @classmethod
    def from_refs(cls, refs: Iterable[SubjectRef], subjects: SubjectList | None = None) -> "Profile":
        return cls(refs, subjects)

    def credit(self, ref: SubjectRef) -> Credit | None:
        """What the student holds of what `ref` names, at whatever grade."""
        level = ref.subject.level
        if level == "CSEC":
            return self.csec.get(ref.subject)
        if level == "CAPE":
            return self.units.get((ref.subject, ref.unit)) if ref.unit else self.whole.get(ref.subject)
        return self.gce.get(ref.subject)

    def meets(self, ref: SubjectRef) -> bool:
        if ref.subject.level == DEGREE:
            return self.gpa is not None and self.gpa >= (ref.min_gpa or 0)
        return self.meeting(ref) is not None

    def meeting(self, ref: SubjectRef) -> Credit | None:
        """The credit that meets a subject reference, if one does."""
        credit = self.credit(ref)
        if credit is None or (ref.min_grade is not None and (credit.grade is None or credit.grade > ref.min_grade)):
            return None
        return credit

    def partly(self, ref: SubjectRef) -> SubjectRef | None:
        """What the student holds of the subject a reference they fail names (a worse grade, one unit of two)."""
        credit = self.credit(ref)
        if credit is None and ref.subject.level == "CAPE" and not ref.unit:
            credit = self.units.get((ref.subject, 1)) or self.units.get((ref.subject, 2))
        return credit.source if credit else None

    @property
    def held(self) -> tuple[Subject, ...]:
        """Every subject, as it counts, the student has any pass of (one unit is enough), and the associate degree."""
        found = [*self.csec, *(subject for subject, _ in self.units), *self.gce]
        return tuple(dict.fromkeys([*found, *((ASSOCIATE_DEGREE,) if self.gpa is not None else ())]))

    def holds(self, subject: Subject) -> bool:
        """Whether the student has any pass of this CSEC or CAPE subject (one unit is enough)."""
        if subject.level == "CSEC":
            return subject in self.csec
        return (subject, 1) in self.units or (subject, 2) in self.units

    def excluded(self, not_counted: tuple[Subject, ...]) -> frozenset[Subject]:
        """The subjects, as they count, that a scheme's `not_counted` takes out of its counts."""
        return frozenset(self.subjects.uncounted(not_counted))

    def counted(self, level: str, excluded: frozenset[Subject]) -> tuple[int, tuple[str, ...]]:
        """The passes at a level that count, and the held ones that do not."""
        held = self.csec if level == "CSEC" else self.whole
        if not excluded:
            return len(held), ()
        dropped = tuple(str(held[s].source) for s in held if s in excluded)
        return len(held) - len(dropped), dropped

    def counted_units(self, excluded: frozenset[Subject]) -> tuple[int, tuple[str, ...]]:
        if not excluded:
            return len(self.units), ()
        dropped = [self.units[part].source for part in self.units if part[0] in excluded]
        return len(self.units) - len(dropped), tuple(dict.fromkeys(str(s) for s in dropped))

    def met_keys(self) -> list[str]:
        """Every reference key this profile meets (the associate degree aside: its GPA is compared, not listed), so a
        query can test membership instead of grades."""
        keys = []
        credits = [*((s.key, c) for s, c in self.csec.items() if s.level == "CSEC"),
                   *((s.key, c) for s, c in self.gce.items()),
                   *((f"{s.key} U{u}", c) for (s, u), c in self.units.items() if s.level == "CAPE"),
                   *((s.key, c) for s, c in self.whole.items() if s.level == "CAPE")]
        for key, credit in credits:
            keys.append(key)
            if credit.grade is not None:
                keys.extend(f"{key}@{g}" for g in range(credit.grade, 8))
        return keys

    def __iter__(self):
        return iter(self.entries)

    def __repr__(self) -> str:
        return f"Profile({[str(e) for e in self.entries]})"


class _Judged:
    """A check as the answers carry it, worked out once: in one search, one check (of English A, of five CSEC passes)
    judges the same requirement of many programmes."""

    def as_dict(self) -> dict:
        found = self.__dict__.get("_as_dict")
        if found is None:
            found = self.__dict__["_as_dict"] = self._fields()
        return found


UNITS = "units"  # what a CountCheck counts besides the CSEC and CAPE passes


@dataclass(frozen=True)
class CountCheck(_Judged):
    """A count a scheme needs: CSEC passes, CAPE passes (whole subjects) or, `what` UNITS, CAPE units."""

    what: str
    needed: int
    counted: int
    not_counted: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        return self.counted >= self.needed

    @property
    def short(self) -> int:
        return max(0, self.needed - self.counted)

    def _fields(self) -> dict:
        kind = {"kind": "units"} if self.what == UNITS else {"kind": "passes", "level": self.what}
        return {**kind, "met": self.met, "needed": self.needed, "counted": self.counted, "short": self.short,
                "not_counted": list(self.not_counted), "text": str(self)}

    def __str__(self) -> str:
        one, many = ("CAPE unit", "CAPE units") if self.what == UNITS else (f"{self.what} pass", f"{self.what} passes")
        if self.met:
            return f"{self.counted} {many} (needs {self.needed})"
        return f"needs {self.short} more {many if self.short > 1 else one}"


@dataclass(frozen=True)
class SubjectCheck(_Judged):
    ref: SubjectRef
    by: SubjectRef | None  # what meets it
    held: SubjectRef | None = None  # what the student holds of it when that is not enough

    @property
    def met(self) -> bool:
        return self.by is not None

    def _fields(self) -> dict:
        return {"kind": "subject", "met": self.met, "subject": str(self.ref), "by": _label(self.by),
                "held": _label(self.held), "text": str(self)}

    def __str__(self) -> str:
        return f"has {self.ref}" if self.met else f"missing {self.ref}"


@dataclass(frozen=True)
class DegreeCheck(_Judged):
    ref: SubjectRef
    gpa: int | None

    @property
    def met(self) -> bool:
        return self.gpa is not None and self.gpa >= (self.ref.min_gpa or 0)

    def _fields(self) -> dict:
        return {"kind": "associate_degree", "met": self.met, "min_gpa": (self.ref.min_gpa or 0) / 100,
                "gpa": None if self.gpa is None else self.gpa / 100, "text": str(self)}

    def __str__(self) -> str:
        wanted = gpa_label(self.ref.min_gpa or 0)
        if self.met:
            return f"associate degree with GPA {gpa_label(self.gpa)} (needs {wanted})"
        if self.gpa is None:
            return f"missing {self.ref}"
        return f"needs an associate degree GPA of {wanted} (has {gpa_label(self.gpa)})"


@dataclass(frozen=True)
class CombinationCheck(_Judged):
    combination: Combination
    met_options: tuple[SubjectRef, ...]

    @property
    def met(self) -> bool:
        return len(self.met_options) >= self.combination.need

    @property
    def short(self) -> int:
        return max(0, self.combination.need - len(self.met_options))

    @property
    def unmet_options(self) -> tuple[SubjectRef, ...]:
        met = set(self.met_options)
        return tuple(o for o in self.combination.options if o not in met)

    def _fields(self) -> dict:
        return {"kind": "combination", "met": self.met, "need": self.combination.need,
                "options": self.combination.labels,
                "met_options": [str(o) for o in self.met_options], "short": self.short, "text": str(self)}

    def __str__(self) -> str:
        if self.met:
            return (f"{self.combination.need} of {len(self.combination.options)} options: "
                    + ", ".join(str(o) for o in self.met_options))
        return f"needs {self.short} more of: " + ", ".join(str(o) for o in self.unmet_options)


Check = CountCheck | SubjectCheck | DegreeCheck | CombinationCheck


def _label(ref: SubjectRef | None) -> str | None:
    return None if ref is None else str(ref)


def ref_check(ref: SubjectRef, profile: Profile) -> SubjectCheck | DegreeCheck:
    if ref.subject.level == DEGREE:
        return DegreeCheck(ref, profile.gpa)
    credit = profile.meeting(ref)
    return SubjectCheck(ref, credit.source) if credit else SubjectCheck(ref, None, profile.partly(ref))


def checks(requirements: Requirements, profile: Profile) -> list[Check]:
    """Each requirement of a scheme, met or not, in the order the catalogue gives them."""
    return list(_checks(requirements, profile))


def _checks(requirements: Requirements, profile: Profile) -> Iterator[Check]:
    judged = profile.judged
    excluded = profile.excluded(requirements.not_counted) if requirements.not_counted else frozenset()
    for level, needed in (("CSEC", requirements.csec_passes), ("CAPE", requirements.cape_passes)):
        if needed:
            key = (level, needed, excluded)
            yield judged.get(key) or judged.setdefault(key, CountCheck(level, needed, *profile.counted(level, excluded)))
    if requirements.cape_units:
        key = (UNITS, requirements.cape_units, excluded)
        yield judged.get(key) or judged.setdefault(key, CountCheck(UNITS, requirements.cape_units,
                                                                   *profile.counted_units(excluded)))
    for ref in requirements.mandatory:
        yield judged.get(ref) or judged.setdefault(ref, ref_check(ref, profile))
    for combination in requirements.combinations:
        yield judged.get(combination) or judged.setdefault(combination, CombinationCheck(
            combination, tuple(o for o in combination.options if profile.meets(o))))


def unmet(requirements: Requirements, profile: Profile) -> list[Check]:
    """The requirements the profile fails, one entry each; empty means the scheme is met."""
    return [c for c in checks(requirements, profile) if not c.met]


def is_eligible(requirements: Requirements, profile: Profile) -> bool:
    return all(c.met for c in _checks(requirements, profile))


def reasons(requirements: Requirements, profile: Profile) -> list[Check]:
    """Why a profile meets a scheme: its requirements, each met."""
    return [c for c in checks(requirements, profile) if c.met]


@dataclass(frozen=True)
class Route:
    """How a student stands with one scheme of a programme."""

    scheme: Scheme
    checks: list[Check]

    @property
    def gaps(self) -> list[Check]:
        return [c for c in self.checks if not c.met]


def route(programme: Programme, profile: Profile) -> Route:
    """The scheme that describes the student best: a met one with the fewest conditions, else the one failing the
    fewest requirements (the first of equals, in catalogue order)."""
    routes = [Route(s, checks(s.requirements, profile)) for s in programme.schemes]
    if len(routes) == 1:
        return routes[0]
    return min(routes, key=lambda r: (len(r.gaps), len(r.scheme.conditions) if not r.gaps else 0))


def eligible(programme: Programme, profile: Profile) -> bool:
    return any(is_eligible(s.requirements, profile) for s in programme.schemes)
