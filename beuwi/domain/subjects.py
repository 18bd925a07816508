"""Subjects, grades and subject references, resolved against the canonical CXC and GCE lists.

Everything here is pure: the canonical lists are package data read once.
"""
from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

LEVELS = ("CSEC", "CAPE", "GCE O", "GCE A")
PASS_LEVELS = ("CSEC", "CAPE")  # the levels requirements count passes at; a GCE pass counts as one of these
DEGREE = "AD"  # the level of the one associate-degree subject, referenced as `Associate Degree (GPA:2.5)`
DEGREE_NAME = "Associate Degree"
MAX_GPA = 430  # GPAs are hundredths, so the model and the graph hold only integers
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")
# Grades awarded per level, best first, and how many of them are passes.
GRADES = {"CSEC": ROMAN[:6], "CAPE": ROMAN, "GCE O": ("A", "B", "C", "D", "E", "U"),
          "GCE A": ("A*", "A", "B", "C", "D", "E", "U")}
LOWEST_GRADE = {level: len(grades) for level, grades in GRADES.items()}
LOWEST_PASS = {"CSEC": 3, "CAPE": 5, "GCE O": 3, "GCE A": 6}
UNITS = (1, 2)
COUNTS_AS = {"GCE O": "CSEC", "GCE A": "CAPE"}  # the level a GCE pass counts at


class SubjectError(ValueError):
    """A subject or subject reference that cannot be understood; `suggestions` help the user fix it."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()):
        super().__init__(message)
        self.suggestions = suggestions


def grade_label(grade: int, level: str) -> str:
    return GRADES[level][grade - 1]


def grade_number(text: str, level: str) -> int:
    """Turn a grade as written (a Roman numeral, or a GCE letter) into a number, 1 the best."""
    key = text.strip().upper()
    if key not in GRADES[level]:
        raise SubjectError(f"grade {text.strip()!r} does not exist at {level} (use {', '.join(GRADES[level])})")
    return GRADES[level].index(key) + 1


def gpa_label(hundredths: int) -> str:
    return f"{hundredths / 100:.1f}" if hundredths % 10 == 0 else f"{hundredths / 100:.2f}"


def is_pass(level: str, grade: int | None) -> bool:
    return grade is None or level == DEGREE or grade <= LOWEST_PASS[level]


@dataclass(frozen=True, order=True)
class Subject:
    name: str
    level: str
    # Subjects are dictionary keys and labels in every search, so both are worked out once.
    _hash: int = field(init=False, repr=False, compare=False)
    _label: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((self.name, self.level)))
        object.__setattr__(self, "_label", f"{self.name} ({self.level})")

    def __hash__(self) -> int:
        return self._hash

    @property
    def key(self) -> str:
        """Stable identifier used in the graph and in compiled indexes."""
        return f"{self.name.lower()}|{self.level}"

    def __str__(self) -> str:
        return self._label


ASSOCIATE_DEGREE = Subject(DEGREE_NAME, DEGREE)


@dataclass(frozen=True, order=True)
class SubjectRef:
    """A subject a requirement names (or a student holds): one CAPE unit or the whole subject, optionally with the
    worst grade it accepts; for the associate degree, the lowest GPA in hundredths."""

    subject: Subject
    min_grade: int | None = None
    unit: int | None = None
    min_gpa: int | None = None
    _hash: int = field(init=False, repr=False, compare=False)
    _label: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((self.subject, self.min_grade, self.unit, self.min_gpa)))
        object.__setattr__(self, "_label", self._text())

    def _text(self) -> str:
        if self.subject.level == DEGREE:
            return f"{DEGREE_NAME} (GPA:{gpa_label(self.min_gpa or 0)})"
        level = self.subject.level + (f" U{self.unit}" if self.unit else "")
        grade = f":{grade_label(self.min_grade, self.subject.level)}" if self.min_grade is not None else ""
        return f"{self.subject.name} ({level}{grade})"

    def __hash__(self) -> int:
        return self._hash

    @property
    def part(self) -> tuple[Subject, int | None]:
        """What the reference names, grade aside: a subject, or one unit of it."""
        return self.subject, self.unit

    @property
    def ungraded(self) -> "SubjectRef":
        return SubjectRef(self.subject, None, self.unit)

    def with_grade(self, grade: int | None) -> "SubjectRef":
        return SubjectRef(self.subject, grade, self.unit, self.min_gpa)

    @property
    def key(self) -> str:
        """The subject key, its unit and its minimum grade when there are ones ("chemistry|CAPE U1@2")."""
        key = self.subject.key + (f" U{self.unit}" if self.unit else "")
        return key if self.min_grade is None else f"{key}@{self.min_grade}"

    def __str__(self) -> str:
        return self._label


# The longest canonical name is 48 characters; a reference with its level and grade fits well within this. Checked
# before anything else reads the text, so a hostile string costs no more than a short one.
MAX_REF_CHARS = 100
_SPACES = re.compile(r"\s+")
_UNIT = re.compile(r"^CAPE\s*U(?:NIT)?\s*(\d+)$")
_GPA = re.compile(r"^\d(\.\d{1,2})?$")
_OR = re.compile(r"\s+or\s+", re.IGNORECASE)


def _split_ref(text: str) -> tuple[str, str, str | None] | None:
    """`Name (LEVEL)` or `Name (LEVEL:GRADE)` as (name, level, grade), in one pass over the text: no pattern that
    could backtrack. The level is the last parenthesis, so names may hold parentheses of their own."""
    opening = text.rfind("(")
    if opening < 0 or not text.endswith(")"):
        return None
    name, (level, colon, grade) = text[:opening].strip(), text[opening + 1:-1].partition(":")
    level, grade = _SPACES.sub(" ", level.strip()).upper(), grade.strip()
    if not name or not level.replace(" ", "").isascii() or not level.replace(" ", "").isalnum():
        return None
    if colon and not (grade.isascii() and grade.replace("*", "").replace(".", "").isalnum()):
        return None
    return name, level, grade or None


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _data(name: str) -> dict:
    return json.loads(resources.files("beuwi.domain").joinpath(name).read_text("utf-8"))


class SubjectList:
    """The canonical subjects per level with their aliases, CAPE units and GCE equivalences, for resolving what
    people type."""

    def __init__(self, canonical: dict[str, dict[str, list[str]]], one_unit: tuple[str, ...] = (),
                 equivalents: dict[str, dict[str, str | None]] | None = None,
                 grade_as: dict[str, dict[str, str]] | None = None):
        self._suggest = True
        self._by_name: dict[str, dict[str, str]] = {}
        levels = [level for level in LEVELS if level in canonical]
        self.subjects: tuple[Subject, ...] = tuple(
            Subject(name, level) for level in levels for name in sorted(canonical[level])
        )
        self.aliases: dict[Subject, tuple[str, ...]] = {}
        for level in levels:
            names = self._by_name.setdefault(level, {})
            for name, aliases in canonical[level].items():
                names[_norm(name)] = name
                self.aliases[Subject(name, level)] = tuple(aliases)
            for name, aliases in canonical[level].items():
                for alias in aliases:
                    names.setdefault(_norm(alias), name)
        self.units = {s: 1 if s.name in one_unit else 2 for s in self.subjects if s.level == "CAPE"}
        self.equivalent: dict[Subject, Subject | None] = {
            Subject(name, level): Subject(target, COUNTS_AS[level]) if target else None
            for level, table in (equivalents or {}).items() for name, target in table.items()
        }
        self.grade_as = grade_as or {}

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> "SubjectList":
        data, qualifications = _data("subjects.json"), _data("qualifications.json")
        canonical = {level: data[level] for level in PASS_LEVELS}
        equivalents, grade_as = {}, {}
        for level, gce in qualifications["gce"].items():
            canonical[level] = {name: entry["aliases"] for name, entry in gce["subjects"].items()}
            equivalents[level] = {name: entry["equivalent"] for name, entry in gce["subjects"].items()}
            grade_as[level] = gce["grade_as"]
        return cls(canonical, tuple(qualifications["cape_one_unit"]["subjects"]), equivalents, grade_as)

    def without_suggestions(self) -> "SubjectList":
        """The same list, naming no close matches for an unknown subject: for callers that only count the errors,
        since looking for close names is most of what an unknown subject costs."""
        plain = copy.copy(self)
        plain._suggest = False
        return plain

    def counts_as(self, subject: Subject) -> Subject:
        """The CXC subject a GCE subject counts as (itself when it has no equivalent); any other subject itself."""
        return self.equivalent.get(subject) or subject

    def uncounted(self, not_counted: tuple[Subject, ...]) -> tuple[Subject, ...]:
        """The subjects, as they count, that a scheme's `not_counted` takes out of its pass and unit counts."""
        return tuple(dict.fromkeys(self.counts_as(s) for s in not_counted))

    def unit_count(self, subject: Subject) -> int:
        """How many units hold a subject whole: 1 or 2 for CAPE subjects, 2 for a GCE A-Level counted as itself."""
        return self.units.get(subject, 2)

    def cxc_grade(self, level: str, grade: int | None) -> int | None:
        """A GCE pass grade as the CXC grade it counts as."""
        if grade is None:
            return None
        return grade_number(self.grade_as[level][grade_label(grade, level)], COUNTS_AS[level])

    def subject(self, name: str, level: str) -> Subject:
        level_key = _SPACES.sub(" ", level.strip()).upper()
        if level_key not in self._by_name:
            raise SubjectError(f"unknown level {level.strip()!r} for {name.strip()!r} "
                               "(use CSEC, CAPE, CAPE U1, CAPE U2, GCE O or GCE A)")
        names = self._by_name[level_key]
        found = names.get(_norm(name))
        if found is not None:
            return Subject(found, level_key)
        raise self._unknown(name, level_key, level_key)

    def _unknown(self, name: str, level_key: str, written: str) -> SubjectError:
        """An unknown subject, with the close names; `A or B` written as one subject gets the combination it means."""
        parts = _OR.split(name.strip())
        names = self._by_name[level_key]
        if len(parts) > 1 and all(_norm(p) in names for p in parts):
            combination = "1 of " + " | ".join(f"{names[_norm(p)]} ({written})" for p in parts)
            return SubjectError(f"{name.strip()!r} names {len(parts)} subjects as one; write it as the combination "
                                f"{combination!r}", (combination,))
        close = difflib.get_close_matches(_norm(name), list(names), n=3, cutoff=0.6) if self._suggest else []
        suggestions = tuple(dict.fromkeys(f"{names[c]} ({level_key})" for c in close))
        hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
        return SubjectError(f"unknown {level_key} subject {name.strip()!r}{hint}", suggestions)

    def ref(self, text: str) -> SubjectRef:
        """Parse `Name (LEVEL)`, `Name (LEVEL:GRADE)`, `Name (CAPE U1[:GRADE])` or `Associate Degree (GPA:2.5)`."""
        if len(text) > MAX_REF_CHARS:
            raise SubjectError(f"a subject reference is at most {MAX_REF_CHARS} characters ({len(text)} given)")
        parts = _split_ref(text.strip())
        if parts is None:
            guesses = tuple(str(s) for s in self.subjects if _norm(s.name) == _norm(text)) if self._suggest else ()
            hint = f"; did you mean {' or '.join(guesses)}?" if guesses else ""
            raise SubjectError(
                f"{text.strip()!r} is not a subject reference like 'Chemistry (CSEC)', 'Chemistry (CAPE:II)' or "
                f"'Chemistry (CAPE U1)'{hint}",
                guesses,
            )
        name, level, grade = parts
        if level == "GPA" or _norm(name) == _norm(DEGREE_NAME):
            return _degree(name, level, grade)
        unit = _UNIT.match(level)
        subject = self.subject(name, "CAPE" if unit else level)
        if unit:
            number = int(unit[1])
            if number not in UNITS:
                raise SubjectError(f"{text.strip()!r}: CAPE subjects have Unit 1 and Unit 2 (use U1 or U2)")
            if self.units.get(subject) == 1 and number == 2:
                raise SubjectError(f"{text.strip()!r}: {subject} is a one-unit subject; write {str(subject)!r}",
                                   (str(subject),))
            # Unit 1 of a one-unit subject, as its certificate reads, is the whole subject.
            unit_named = number if self.units.get(subject) == 2 else None
            return SubjectRef(subject, grade_number(grade, "CAPE") if grade else None, unit_named)
        return SubjectRef(subject, grade_number(grade, subject.level) if grade else None)

    def search(self, query: str = "", level: str | None = None, popularity: dict[Subject, int] | None = None
               ) -> list[Subject]:
        """Subjects whose name or an alias contains the query: names starting with it first, then CSEC before CAPE
        before GCE (every student has CSEC passes), then the more common (`popularity`), then by name."""
        q = _norm(query)
        popularity = popularity or {}
        hits = []
        for subject in self.subjects:
            if level and subject.level != level:
                continue
            names = [_norm(subject.name), *(_norm(a) for a in self.aliases[subject])]
            if not q or any(q in n for n in names):
                starts = any(n.startswith(q) for n in names)
                hits.append((not starts, LEVELS.index(subject.level), -popularity.get(subject, 0), subject.name,
                             subject))
        return [hit[-1] for hit in sorted(hits)]


def _degree(name: str, level: str, gpa: str | None) -> SubjectRef:
    if _norm(name) != _norm(DEGREE_NAME) or level != "GPA" or gpa is None:
        raise SubjectError(f"{name} ({level}): an associate degree is written 'Associate Degree (GPA:2.5)'")
    if not _GPA.match(gpa) or round(float(gpa) * 100) > MAX_GPA:
        raise SubjectError(f"GPA {gpa!r} is not a GPA from 0.0 to {gpa_label(MAX_GPA)}")
    return SubjectRef(ASSOCIATE_DEGREE, min_gpa=round(float(gpa) * 100))
