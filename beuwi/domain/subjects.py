"""Subjects, grades and subject references, resolved against the canonical CXC list.

Everything here is pure: the canonical list is package data read once.
"""
from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

LEVELS = ("CSEC", "CAPE")
# Highest grade awarded and worst grade that still counts as a pass, per level (lower is better).
LOWEST_GRADE = {"CSEC": 6, "CAPE": 7}
LOWEST_PASS = {"CSEC": 3, "CAPE": 5}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")


class SubjectError(ValueError):
    """A subject or subject reference that cannot be understood; `suggestions` help the user fix it."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()):
        super().__init__(message)
        self.suggestions = suggestions


def roman(grade: int) -> str:
    return ROMAN[grade - 1]


def grade_number(text: str, level: str) -> int:
    """Turn a Roman numeral into a grade, checking that the level awards it."""
    key = text.strip().upper()
    if key not in ROMAN or ROMAN.index(key) + 1 > LOWEST_GRADE[level]:
        valid = ", ".join(ROMAN[: LOWEST_GRADE[level]])
        raise SubjectError(f"grade {text.strip()!r} does not exist at {level} (use {valid})")
    return ROMAN.index(key) + 1


def is_pass(level: str, grade: int | None) -> bool:
    return grade is None or grade <= LOWEST_PASS[level]


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


@dataclass(frozen=True, order=True)
class SubjectRef:
    """A subject a requirement names, optionally with the worst grade it accepts."""

    subject: Subject
    min_grade: int | None = None
    _hash: int = field(init=False, repr=False, compare=False)
    _label: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((self.subject, self.min_grade)))
        label = str(self.subject) if self.min_grade is None else \
            f"{self.subject.name} ({self.subject.level}:{roman(self.min_grade)})"
        object.__setattr__(self, "_label", label)

    def __hash__(self) -> int:
        return self._hash

    def met_by(self, grade: int | None, held: bool) -> bool:
        """Whether a student holding the subject (passed) with `grade` meets this reference."""
        if not held:
            return False
        if self.min_grade is None:
            return True
        return grade is not None and grade <= self.min_grade

    @property
    def key(self) -> str:
        """The subject key, plus the minimum grade when there is one ("chemistry|CAPE@2")."""
        if self.min_grade is None:
            return self.subject.key
        return f"{self.subject.key}@{self.min_grade}"

    def __str__(self) -> str:
        return self._label


# The longest canonical name is 48 characters; a reference with its level and grade fits well within this. Checked
# before anything else reads the text, so a hostile string costs no more than a short one.
MAX_REF_CHARS = 100
_SPACES = re.compile(r"\s+")


def _split_ref(text: str) -> tuple[str, str, str | None] | None:
    """`Name (LEVEL)` or `Name (LEVEL:GRADE)` as (name, level, grade), in one pass over the text: no pattern that
    could backtrack. The level is the last parenthesis, so names may hold parentheses of their own."""
    opening = text.rfind("(")
    if opening < 0 or not text.endswith(")"):
        return None
    name, (level, colon, grade) = text[:opening].strip(), text[opening + 1:-1].partition(":")
    level, grade = level.strip(), grade.strip()
    if not name or not (level.isascii() and level.isalpha()):
        return None
    if colon and not (grade.isascii() and grade.isalnum()):
        return None
    return name, level, grade or None


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


class SubjectList:
    """The canonical subjects per level with their aliases, for resolving what people type."""

    def __init__(self, canonical: dict[str, dict[str, list[str]]]):
        self._suggest = True
        self._by_name: dict[str, dict[str, str]] = {}
        self.subjects: tuple[Subject, ...] = tuple(
            Subject(name, level) for level in LEVELS for name in sorted(canonical[level])
        )
        self.aliases: dict[Subject, tuple[str, ...]] = {}
        for level in LEVELS:
            names = self._by_name.setdefault(level, {})
            for name, aliases in canonical[level].items():
                names[_norm(name)] = name
                self.aliases[Subject(name, level)] = tuple(aliases)
            for name, aliases in canonical[level].items():
                for alias in aliases:
                    names.setdefault(_norm(alias), name)

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> "SubjectList":
        data = json.loads(resources.files("beuwi.domain").joinpath("subjects.json").read_text("utf-8"))
        return cls({level: data[level] for level in LEVELS})

    def without_suggestions(self) -> "SubjectList":
        """The same list, naming no close matches for an unknown subject: for callers that only count the errors,
        since looking for close names is most of what an unknown subject costs."""
        plain = copy.copy(self)
        plain._suggest = False
        return plain

    def subject(self, name: str, level: str) -> Subject:
        level_key = level.strip().upper()
        if level_key not in LEVELS:
            raise SubjectError(f"unknown level {level.strip()!r} for {name.strip()!r} (use CSEC or CAPE)")
        names = self._by_name[level_key]
        found = names.get(_norm(name))
        if found is None:
            close = difflib.get_close_matches(_norm(name), list(names), n=3, cutoff=0.6) if self._suggest else []
            suggestions = tuple(dict.fromkeys(f"{names[c]} ({level_key})" for c in close))
            hint = f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""
            raise SubjectError(f"unknown {level_key} subject {name.strip()!r}{hint}", suggestions)
        return Subject(found, level_key)

    def ref(self, text: str) -> SubjectRef:
        """Parse `Name (LEVEL)` or `Name (LEVEL:GRADE)`."""
        if len(text) > MAX_REF_CHARS:
            raise SubjectError(f"a subject reference is at most {MAX_REF_CHARS} characters ({len(text)} given)")
        parts = _split_ref(text.strip())
        if parts is None:
            guesses = tuple(str(s) for s in self.subjects if _norm(s.name) == _norm(text)) if self._suggest else ()
            hint = f"; did you mean {' or '.join(guesses)}?" if guesses else ""
            raise SubjectError(
                f"{text.strip()!r} is not a subject reference like 'Chemistry (CSEC)' or 'Chemistry (CAPE:II)'{hint}",
                guesses,
            )
        name, level, grade = parts
        subject = self.subject(name, level)
        return SubjectRef(subject, grade_number(grade, subject.level) if grade else None)

    def search(self, query: str = "", level: str | None = None) -> list[Subject]:
        """Subjects whose name or an alias contains the query, names starting with it first."""
        q = _norm(query)
        hits = []
        for subject in self.subjects:
            if level and subject.level != level:
                continue
            names = [_norm(subject.name), *(_norm(a) for a in self.aliases[subject])]
            if not q or any(q in n for n in names):
                starts = any(n.startswith(q) for n in names)
                hits.append((not starts, subject.name, subject.level, subject))
        return [hit[-1] for hit in sorted(hits)]
