"""Hypothesis strategies for random catalogues and profiles over the canonical subject lists: CSEC, CAPE subjects and
units, GCE O/A-Levels, the associate degree, alternative schemes and uncounted subjects."""
from hypothesis import strategies as st

from beuwi.domain import Combination, Profile, Programme, Requirements, Scheme, SubjectList, SubjectRef
from beuwi.domain.subjects import ASSOCIATE_DEGREE, LOWEST_GRADE, LOWEST_PASS, MAX_GPA, PASS_LEVELS

LIST = SubjectList.default()
SUBJECTS = LIST.subjects
CXC = tuple(s for s in SUBJECTS if s.level in PASS_LEVELS)
# GCE subjects whose equivalents the CXC pool also holds, so equivalences are exercised, plus a few without one.
GCE = tuple(s for s in SUBJECTS if s.level not in PASS_LEVELS)
GPAS = st.integers(0, MAX_GPA // 10).map(lambda tenths: tenths * 10)


@st.composite
def refs(draw, subject, units=True):
    """A reference to the subject, or (CAPE, two units) to one unit of it, with or without a pass grade."""
    unit = draw(st.sampled_from((None, 1, 2))) if units and LIST.units.get(subject) == 2 else None
    graded = draw(st.booleans())
    return SubjectRef(subject, draw(st.integers(1, LOWEST_PASS[subject.level])) if graded else None, unit)


@st.composite
def requirements(draw, max_mandatory=10, max_combinations=8, max_options=15, max_need=10, v2=True):
    pool = draw(st.permutations(CXC + GCE if v2 else CXC))
    mandatory = [draw(refs(s, v2)) for s in pool[: draw(st.integers(0, max_mandatory))]]
    if v2 and draw(st.integers(0, 4)) == 0:
        mandatory.append(SubjectRef(ASSOCIATE_DEGREE, min_gpa=draw(GPAS)))
    rest = pool[len(mandatory):]
    combinations = []
    for _ in range(draw(st.integers(0, max_combinations))):
        options = draw(st.lists(st.sampled_from(rest), min_size=1, max_size=max_options, unique=True))
        need = draw(st.integers(1, min(max_need, len(options))))
        combinations.append(Combination(need, tuple(draw(refs(s, v2)) for s in options)))
    counts = (draw(st.integers(0, 6)), draw(st.integers(0, 3)))
    if not v2:
        return Requirements(*counts, tuple(mandatory), tuple(combinations))
    not_counted = tuple(draw(st.lists(st.sampled_from(SUBJECTS), max_size=3, unique=True)))
    return Requirements(*counts, tuple(mandatory), tuple(combinations), draw(st.integers(0, 8)), not_counted)


@st.composite
def schemes(draw, max_schemes=3, **shape):
    count = draw(st.integers(1, max_schemes if shape.get("v2", True) else 1))
    return tuple(Scheme(draw(requirements(**shape)), chr(65 + i) if count > 1 else "",
                        tuple(draw(st.lists(st.sampled_from(("Interview", "Portfolio")), max_size=2, unique=True))))
                 for i in range(count))


@st.composite
def catalogues(draw, min_size=1, max_size=12, **shape):
    found = draw(st.lists(schemes(**shape), min_size=min_size, max_size=max_size))
    return [Programme(f"p{i}", f"Programme {i}", f"Faculty {i % 3}", schemes=s) for i, s in enumerate(found)]


@st.composite
def entries(draw, subject):
    """What a student may hold of a subject: a CAPE subject whole or one unit; any grade, passed or not."""
    unit = draw(st.sampled_from((None, None, 1, 2))) if LIST.units.get(subject) == 2 else None
    return SubjectRef(subject, draw(st.none() | st.integers(1, LOWEST_GRADE[subject.level])), unit)


@st.composite
def profiles(draw, max_size=25, v2=True):
    chosen = draw(st.lists(st.sampled_from(SUBJECTS if v2 else CXC), max_size=max_size))
    held = [draw(entries(s)) if v2 else SubjectRef(s, draw(st.none() | st.integers(1, LOWEST_GRADE[s.level])))
            for s in chosen]
    if v2 and draw(st.booleans()):
        held.append(SubjectRef(ASSOCIATE_DEGREE, min_gpa=draw(GPAS)))
    return Profile(held)
