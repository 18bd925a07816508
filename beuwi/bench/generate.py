"""Generated catalogues and query profiles for `beuwi bench`: pure functions of a seed.

The original benchmark's shapes (levels L1..L3): every programme has a random mandatory set of 2..MAX_MAND subjects
and 0..MAX_COMBOS combinations; each combination needs `amt` (1..MAX_AMT) of `size` (amt+1..MAX_SIZE) options drawn
from the subjects that are not mandatory for that programme (combinations may share options with each other, never
with the mandatory set). Clamping, for shapes where a range would be empty: `size` never exceeds MAX_SIZE nor the
subjects left after the mandatory ones, and `amt` never exceeds `size` - 1 (so an "n of" group always leaves a
choice), and is at least 1. For L1..L3 over the 68 canonical subjects no clamp ever applies.

Subjects are the canonical CSEC and CAPE subjects (`SubjectList.default()`), referenced without a grade (any pass
meets them), and programmes need no pass counts, as in the original model. Queries (Q1..Q5) name 5, 10, 15, 20 and
25 distinct subjects, drawn uniformly from both levels and given without grades.
"""
from __future__ import annotations

import gc
import random
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Sequence

from beuwi.domain import PASS_LEVELS, Combination, Programme, Requirements, Scheme, Subject, SubjectList, SubjectRef


@dataclass(frozen=True)
class Level:
    name: str
    max_combos: int
    max_size: int
    max_amt: int
    max_mand: int
    min_mand: int = 2


LEVELS = {
    "L1": Level("L1", max_combos=2, max_size=5, max_amt=2, max_mand=5),
    "L2": Level("L2", max_combos=4, max_size=10, max_amt=5, max_mand=5),
    "L3": Level("L3", max_combos=8, max_size=15, max_amt=10, max_mand=10),
}
QUERY_SIZES = {"Q1": 5, "Q2": 10, "Q3": 15, "Q4": 20, "Q5": 25}
FACULTIES = ("Engineering", "Humanities and Education", "Law", "Medical Sciences", "Science and Technology",
             "Social Sciences")
DEGREES = ("BSc", "BA", "BEng", "LLB", "MBBS")

# Common subjects students hold, weighted towards the ones nearly everyone takes (student-like sample profiles).
CSEC_WEIGHTS = {"English A": 30, "Mathematics": 30, "Integrated Science": 8, "Biology": 10, "Chemistry": 9,
                "Physics": 8, "Information Technology": 10, "Principles of Business": 9, "Principles of Accounts": 8,
                "Social Studies": 10, "Spanish": 8, "English B": 9, "Caribbean History": 6, "Geography": 7,
                "Additional Mathematics": 6, "Human and Social Biology": 7}
CAPE_WEIGHTS = {"Caribbean Studies": 20, "Communication Studies": 20, "Pure Mathematics": 8, "Biology": 6,
                "Chemistry": 6, "Physics": 5, "Management of Business": 7, "Accounting": 6, "Economics": 6,
                "Sociology": 5, "Computer Science": 5, "Law": 4, "Literatures in English": 4, "History": 3}


def subjects() -> tuple[Subject, ...]:
    """Every canonical CSEC and CAPE subject, CSEC first."""
    return tuple(s for s in SubjectList.default().subjects if s.level in PASS_LEVELS)


def original(level: str | Level, count: int = 1000, seed: int = 1, prefix: str | None = None) -> list[Programme]:
    """`count` programmes of the original benchmark's shape at `level` ("L1".."L3")."""
    with _no_gc():  # 100,000 programmes are millions of small objects: collecting them midway only costs time
        return _original(LEVELS[level] if isinstance(level, str) else level, count, seed, prefix)


def _original(shape: Level, count: int, seed: int, prefix: str | None) -> list[Programme]:
    rng = random.Random(f"original-{shape.name}-{count}-{seed}")
    pool = subjects()
    refs = [SubjectRef(s) for s in pool]  # shared: a catalogue references the same few dozen subjects
    everyone = list(range(len(pool)))
    prefix = prefix or shape.name
    programmes = []
    for i in range(count):
        mandatory_n = rng.randint(shape.min_mand, min(shape.max_mand, len(pool)))
        mandatory = rng.sample(everyone, mandatory_n)
        taken = set(mandatory)
        rest = [j for j in everyone if j not in taken]
        combinations = []
        for _ in range(rng.randint(0, shape.max_combos)):
            if len(rest) < 2:
                break
            amt = rng.randint(1, shape.max_amt)
            size = rng.randint(min(amt + 1, shape.max_size), shape.max_size)
            size = min(size, len(rest))
            amt = max(1, min(amt, size - 1))
            combinations.append(Combination(amt, tuple(refs[j] for j in rng.sample(rest, size))))
        requirements = Requirements(0, 0, tuple(refs[j] for j in mandatory), tuple(combinations))
        programmes.append(Programme(
            id=f"{prefix}-{i:06d}", name=f"Programme {i}", faculty=FACULTIES[i % len(FACULTIES)],
            degree=DEGREES[i % len(DEGREES)], schemes=(Scheme(requirements),),
        ))
    return programmes


def profiles(size: int, count: int, seed: int = 1) -> list[list[str]]:
    """`count` queries of `size` distinct subjects each, as search labels ("Mathematics (CSEC)")."""
    rng = random.Random(f"profiles-{size}-{count}-{seed}")
    labels = [str(s) for s in subjects()]
    return [rng.sample(labels, min(size, len(labels))) for _ in range(count)]


def sample_profiles(count: int, seed: int = 1) -> list[list[str]]:
    """Student-like queries: 6-9 CSEC and 2-4 CAPE subjects, weighted towards common ones, most with a pass grade."""
    rng = random.Random(f"sample-profiles-{count}-{seed}")
    by_level = {level: [s for s in subjects() if s.level == level] for level in ("CSEC", "CAPE")}
    weights = {"CSEC": CSEC_WEIGHTS, "CAPE": CAPE_WEIGHTS}
    grades = {"CSEC": ("I", "II", "III"), "CAPE": ("I", "II", "III", "IV", "V")}
    found = []
    for _ in range(count):
        labels = []
        for level, low, high in (("CSEC", 6, 9), ("CAPE", 2, 4)):
            chosen = _weighted_sample(rng, by_level[level], [weights[level].get(s.name, 1) for s in by_level[level]],
                                      rng.randint(low, high))
            for subject in chosen:
                grade = rng.choice(grades[level]) if rng.random() < 0.7 else None
                labels.append(f"{subject.name} ({level}:{grade})" if grade else str(subject))
        found.append(labels)
    return found


def _weighted_sample(rng: random.Random, items: Sequence, weights: Sequence[float], k: int) -> list:
    """k distinct items, each draw proportional to weight among those left."""
    items, weights = list(items), list(weights)
    chosen = []
    for _ in range(min(k, len(items))):
        i = rng.choices(range(len(items)), weights)[0]
        chosen.append(items.pop(i))
        weights.pop(i)
    return chosen


@contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
