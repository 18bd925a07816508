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

`v2` catalogues have what the 2019 model cannot express, in the sample catalogue's proportions of kind (not of
its names): one to three schemes per programme, pass and CAPE unit counts, single CAPE units and minimum grades in
the references, uncounted subjects, GCE O-Level routes, associate-degree schemes and conditions; `v2_profiles` are
student-like queries with single units, GCE passes and associate degrees among them.
"""
from __future__ import annotations

import gc
import random
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Sequence

from beuwi.domain import PASS_LEVELS, Combination, Programme, Requirements, Scheme, Subject, SubjectList, SubjectRef
from beuwi.domain.subjects import ASSOCIATE_DEGREE, GRADES


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


CAMPUSES = ("Cave Hill", "Five Islands", "Mona", "Open Campus", "St. Augustine")
CONDITIONS = ("Interview", "Portfolio", "Audition", "Minimum age 17")
SCHEME_COUNTS = (1,) * 7 + (2,) * 2 + (3,)  # schemes per v2 programme: most have one route, some two or three
UNCOUNTED = ("Caribbean Studies", "Communication Studies")  # what v2 schemes leave out of their counts
GCE_O_WEIGHTS = {"English Language": 30, "Mathematics": 30, "Biology": 8, "Chemistry": 8, "Physics": 7,
                 "Accounting": 6, "Economics": 6, "Geography": 5, "History": 5, "Spanish": 5, "Computer Science": 5}
GCE_A_WEIGHTS = {"Mathematics": 8, "Biology": 6, "Chemistry": 6, "Physics": 5, "Economics": 6, "Sociology": 5,
                 "History": 4, "Law": 4, "Psychology": 3, "Computer Science": 4}
WEIGHTS = {"CSEC": CSEC_WEIGHTS, "CAPE": CAPE_WEIGHTS, "GCE O": GCE_O_WEIGHTS, "GCE A": GCE_A_WEIGHTS}
PASS_GRADES = {"CSEC": (1, 2, 3), "CAPE": (1, 2, 3, 4, 5), "GCE O": (1, 2, 3), "GCE A": (1, 2, 3, 4, 5, 6)}


def v2(count: int = 10_000, seed: int = 1, prefix: str = "V2") -> list[Programme]:
    """`count` programmes of the v2 requirement model (see the module's docstring)."""
    with _no_gc():
        return _v2(count, seed, prefix)


def _v2(count: int, seed: int, prefix: str) -> list[Programme]:
    rng = random.Random(f"v2-{count}-{seed}")
    programmes = []
    for i in range(count):
        routes = [_v2_requirements(rng) for _ in range(rng.choice(SCHEME_COUNTS))]
        labels = [chr(ord("A") + j) for j in range(len(routes))] if len(routes) > 1 else [""]
        if rng.random() < 0.08:
            routes.append(_degree_requirements(rng))
            labels = [label or "CAPE" for label in labels] + ["Associate Degree"]
        conditions = tuple(rng.sample(CONDITIONS, rng.randint(1, 2))) if rng.random() < 0.12 else ()
        programmes.append(Programme(
            id=f"{prefix}-{i:06d}", name=f"Programme {i}", faculty=FACULTIES[i % len(FACULTIES)],
            degree=DEGREES[i % len(DEGREES)], campus=CAMPUSES[i % len(CAMPUSES)], full_time=True,
            schemes=tuple(Scheme(r, label, conditions) for r, label in zip(routes, labels)),
        ))
    return programmes


def _v2_requirements(rng: random.Random) -> Requirements:
    """One scheme: English A and Mathematics mostly (as GCE O-Levels now and then), a few graded CSEC and CAPE
    references (some single units), 0-2 combinations, pass and unit counts, and often uncounted subjects."""
    o_level = rng.random() < 0.07
    names = [name for name, chance in (("English A", 0.9), ("Mathematics", 0.8)) if rng.random() < chance]
    if o_level:
        mandatory = [SubjectRef(Subject({"English A": "English Language"}.get(name, name), "GCE O"), 3)
                     for name in names]
    else:
        mandatory = [SubjectRef(Subject(name, "CSEC")) for name in names]
    taken = {Subject(name, "CSEC") for name in names}
    for subject in _pick(rng, "CSEC", rng.randint(0, 1), taken):
        mandatory.append(SubjectRef(subject, rng.choice((None, 2, 3))))
        taken.add(subject)
    cape_passes = rng.choice((0, 1, 2, 2, 2, 3))
    uncounted = {Subject(name, "CAPE") for name in UNCOUNTED}
    for subject in _pick(rng, "CAPE", rng.randint(0, 2) if cape_passes else 0, uncounted):
        mandatory.append(_reference(rng, subject, unit_chance=0.2))
        taken.add(subject)
    combinations = []
    for _ in range(rng.randint(0, 2)):
        level = "CAPE" if rng.random() < 0.7 else "CSEC"
        options = [_reference(rng, s, unit_chance=0.15) for s in _pick(rng, level, rng.randint(2, 5), taken)]
        taken.update(o.subject for o in options)
        combinations.append(Combination(2 if len(options) > 2 and rng.random() < 0.2 else 1, tuple(options)))
    chance = rng.random()
    not_counted = tuple(sorted(uncounted)) if chance < 0.3 else (rng.choice(sorted(uncounted)),) if chance < 0.4 else ()
    return Requirements(rng.choice((4, 5, 5, 5, 5)), cape_passes, tuple(mandatory), tuple(combinations),
                        rng.choice((0, 0, 0, 4, 6) if cape_passes else (0, 0, 2)), not_counted)


def _degree_requirements(rng: random.Random) -> Requirements:
    """An associate-degree route: English A, Mathematics and the degree at a minimum GPA, as the sample's."""
    degree = SubjectRef(ASSOCIATE_DEGREE, min_gpa=rng.choice((200, 250, 250, 300, 350)))
    return Requirements(5, 0, (SubjectRef(Subject("English A", "CSEC")), SubjectRef(Subject("Mathematics", "CSEC")),
                               degree))


def _reference(rng: random.Random, subject: Subject, unit_chance: float) -> SubjectRef:
    """A reference to a subject: now and then a minimum grade (II or III); for a two-unit CAPE subject, now and then
    one unit only."""
    grade = rng.choice((2, 3)) if rng.random() < 0.3 else None
    two_units = SubjectList.default().units.get(subject) == 2
    return SubjectRef(subject, grade, rng.choice((1, 2)) if two_units and rng.random() < unit_chance else None)


def v2_profiles(count: int, seed: int = 1) -> list[list[str]]:
    """Student-like queries as `sample_profiles` gives, with what v2 adds: one student in ten with GCE O-Levels
    instead of CSEC and one in ten with GCE A-Levels instead of CAPE, a quarter of CAPE subjects held as a single
    unit, one student in eight with an associate degree (GPA 2.0-4.0); now and then a failed grade, which counts
    for nothing."""
    rng = random.Random(f"v2-profiles-{count}-{seed}")
    found = []
    for _ in range(count):
        labels = []
        for level, low, high in (("GCE O" if rng.random() < 0.1 else "CSEC", 6, 9),
                                 ("GCE A" if rng.random() < 0.1 else "CAPE", 2, 4)):
            for subject in _pick(rng, level, rng.randint(low, high)):
                grade = rng.choice(PASS_GRADES[level]) if rng.random() < 0.7 else None
                if grade is not None and rng.random() < 0.05:
                    grade = len(GRADES[level])  # a fail: U, or the lowest CXC grade
                two_units = SubjectList.default().units.get(subject) == 2
                labels.append(str(SubjectRef(subject, grade, rng.choice((1, 2)) if two_units and rng.random() < 0.25
                                             else None)))
        if rng.random() < 0.125:
            labels.append(str(SubjectRef(ASSOCIATE_DEGREE, min_gpa=rng.randint(200, 400))))
        found.append(labels)
    return found


def _pick(rng: random.Random, level: str, k: int, exclude=frozenset()) -> list[Subject]:
    """k distinct subjects of a level, weighted towards the common ones (WEIGHTS), none of `exclude`."""
    items = [s for s in SubjectList.default().subjects if s.level == level and s not in exclude]
    return _weighted_sample(rng, items, [WEIGHTS[level].get(s.name, 1) for s in items], k)


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
