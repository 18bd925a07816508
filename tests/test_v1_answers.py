"""Every v1 file keeps exactly its meaning: on the project's v1 catalogues (the v1 sample, the encoding samples, the
rows that load from the row-errors file, a generated 2019-shape catalogue) the engine answers what the v1 engine
answered. tests/data/v1-answers.json.gz was recorded with the v1 engine (commit 726dede) before the v2 model."""
import gzip
import json
from pathlib import Path

import pytest

from beuwi.bench import generate
from beuwi.csv_catalogue import parse_catalogue
from beuwi.domain import Profile, SubjectList, match, route
from beuwi.search.compiled import CompiledCatalogue

ROOT = Path(__file__).resolve().parent
RECORDED = json.loads(gzip.decompress((ROOT / "data" / "v1-answers.json.gz").read_bytes()))
FILES = {"sample-catalogue.csv": "v1/sample-catalogue.csv"}  # where a file recorded then lives now
S = SubjectList.default()


def programmes(name: str):
    if name.startswith("generated:"):
        _, level, count, seed = name.split(":")
        return generate.original(level, int(count), seed=int(seed))
    return parse_catalogue((ROOT.parent / "uploads" / FILES.get(name, name)).read_bytes()).programmes


def answer(catalogue, result, profile) -> dict:
    """The v1 answer's content: eligible ids with why, near misses with what is missing, new subjects suggested."""
    return {"eligible": [[p.id, [str(c) for c in route(p, profile).checks]] for p in result.eligible],
            "near_misses": [[n.programme.id, str(n.missing)] for n in result.near_misses],
            "suggestions": [[str(s.ref), s.unlocks] for s in result.suggestions if s.kind == "subject"]}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_the_compiled_matcher_answers_as_the_v1_engine_did(name):
    catalogue = programmes(name)
    compiled = CompiledCatalogue(catalogue)
    assert len(RECORDED[name]) > 10
    for recorded in RECORDED[name]:
        profile = Profile.from_refs(S.ref(t) for t in recorded["subjects"])
        expected = {key: recorded[key] for key in ("eligible", "near_misses", "suggestions")}
        assert answer(catalogue, compiled.match(profile, suggestions=1000), profile) == expected, recorded["subjects"]


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_the_domain_answers_as_the_v1_engine_did(name):
    catalogue = programmes(name)
    for recorded in RECORDED[name][:8]:
        profile = Profile.from_refs(S.ref(t) for t in recorded["subjects"])
        expected = {key: recorded[key] for key in ("eligible", "near_misses", "suggestions")}
        assert answer(catalogue, match(catalogue, profile, suggestions=1000), profile) == expected


def test_the_v1_sample_is_the_one_the_answers_were_recorded_on():
    assert len(programmes("sample-catalogue.csv")) == 102
    assert all(len(p.schemes) == 1 and not p.schemes[0].label for p in programmes("sample-catalogue.csv"))
