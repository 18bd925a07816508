"""Hypothesis strategies for random catalogues and profiles over the canonical subject list."""
from hypothesis import strategies as st

from beuwi.domain import Combination, Profile, Programme, Requirements, SubjectList, SubjectRef
from beuwi.domain.subjects import LOWEST_GRADE, LOWEST_PASS

SUBJECTS = SubjectList.default().subjects


@st.composite
def refs(draw, subject):
    graded = draw(st.booleans())
    return SubjectRef(subject, draw(st.integers(1, LOWEST_PASS[subject.level])) if graded else None)


@st.composite
def requirements(draw, max_mandatory=10, max_combinations=8, max_options=15, max_need=10):
    pool = draw(st.permutations(SUBJECTS))
    mandatory = tuple(draw(refs(s)) for s in pool[: draw(st.integers(0, max_mandatory))])
    rest = pool[len(mandatory):]
    combinations = []
    for _ in range(draw(st.integers(0, max_combinations))):
        options = draw(st.lists(st.sampled_from(rest), min_size=1, max_size=max_options, unique=True))
        need = draw(st.integers(1, min(max_need, len(options))))
        combinations.append(Combination(need, tuple(draw(refs(s)) for s in options)))
    return Requirements(draw(st.integers(0, 6)), draw(st.integers(0, 3)), mandatory, tuple(combinations))


@st.composite
def catalogues(draw, min_size=1, max_size=12, **shape):
    reqs = draw(st.lists(requirements(**shape), min_size=min_size, max_size=max_size))
    return [Programme(f"p{i}", f"Programme {i}", f"Faculty {i % 3}", requirements=r) for i, r in enumerate(reqs)]


@st.composite
def profiles(draw, max_size=25):
    chosen = draw(st.lists(st.sampled_from(SUBJECTS), max_size=max_size, unique=True))
    return Profile((s, draw(st.none() | st.integers(1, LOWEST_GRADE[s.level]))) for s in chosen)
