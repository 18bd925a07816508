"""`beuwi bench`: the generators, the baselines (the 2019 query on Neo4j with APOC, its port on both graphs), wrk's
output, the report, and short real runs.

No timing is asserted here: the benchmark measures, CI judges its JSON.
"""
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from beuwi.bench import baseline, generate, original, report, run, wrk
from beuwi.csv_catalogue import parse_catalogue
from beuwi.domain import Profile, Scheme, SubjectList, SubjectRef, eligible, is_eligible
from beuwi.domain.subjects import DEGREE
from beuwi.graph import open_store
from beuwi.search.compiled import CompiledCatalogue

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "uploads" / "v1" / "sample-catalogue.csv"
SAMPLE_V2 = ROOT / "uploads" / "sample-catalogue.csv"
S = SubjectList.default()


def only(programme):
    """The requirements of a programme of one scheme (every `original` one)."""
    assert len(programme.schemes) == 1
    return programme.schemes[0].requirements


def holding(subjects) -> Profile:
    return Profile(SubjectRef(s) for s in subjects)


# --- generate ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["L1", "L2", "L3"])
def test_original_respects_the_level(level):
    shape = generate.LEVELS[level]
    programmes = generate.original(level, count=300, seed=7)
    assert len(programmes) == 300
    assert len({p.id for p in programmes}) == 300
    for p in programmes:
        req = only(p)
        mandatory = {r.subject for r in req.mandatory}
        assert 2 <= len(req.mandatory) <= shape.max_mand
        assert len(mandatory) == len(req.mandatory)
        assert 0 <= len(req.combinations) <= shape.max_combos
        assert (req.csec_passes, req.cape_passes) == (0, 0)
        for c in req.combinations:
            options = {o.subject for o in c.options}
            assert len(options) == len(c.options)
            assert not options & mandatory, "combinations are over subjects not among the mandatory ones"
            assert 1 <= c.need <= shape.max_amt
            assert c.need + 1 <= len(c.options) <= shape.max_size
            assert all(o.min_grade is None for o in c.options)
        assert all(r.min_grade is None for r in req.mandatory)


def test_original_uses_the_whole_range_and_both_levels():
    programmes = generate.original("L3", count=2000, seed=1)
    mandatory_sizes = {len(only(p).mandatory) for p in programmes}
    combos = {len(only(p).combinations) for p in programmes}
    needs = {c.need for p in programmes for c in only(p).combinations}
    sizes = {len(c.options) for p in programmes for c in only(p).combinations}
    assert mandatory_sizes == set(range(2, 11))
    assert combos == set(range(0, 9))
    assert needs == set(range(1, 11))
    assert sizes == set(range(2, 16))
    levels = {r.subject.level for p in programmes for r in only(p).mandatory}
    assert levels == {"CSEC", "CAPE"}
    assert len({p.faculty for p in programmes}) == len(generate.FACULTIES)


def test_original_clamps_empty_ranges():
    tight = generate.Level("tight", max_combos=3, max_size=3, max_amt=5, max_mand=66)
    for p in generate.original(tight, count=200, seed=3):
        for c in only(p).combinations:
            assert 1 <= c.need < len(c.options) <= 3
            assert not {o.subject for o in c.options} & {r.subject for r in only(p).mandatory}


def test_generators_are_deterministic_by_seed():
    assert generate.original("L2", 50, seed=5) == generate.original("L2", 50, seed=5)
    assert generate.original("L2", 50, seed=5) != generate.original("L2", 50, seed=6)
    assert generate.profiles(10, 20, seed=5) == generate.profiles(10, 20, seed=5)
    assert generate.profiles(10, 20, seed=5) != generate.profiles(10, 20, seed=6)
    assert generate.sample_profiles(20, seed=5) == generate.sample_profiles(20, seed=5)


@pytest.mark.parametrize("q, size", generate.QUERY_SIZES.items())
def test_profiles_have_their_size_of_distinct_known_subjects(q, size):
    for labels in generate.profiles(size, 50, seed=2):
        assert len(labels) == len(set(labels)) == size
        for label in labels:
            assert S.ref(label).min_grade is None


def test_sample_profiles_look_like_students():
    profiles = generate.sample_profiles(200, seed=4)
    for labels in profiles:
        refs = [S.ref(label) for label in labels]
        levels = [r.subject.level for r in refs]
        assert 6 <= levels.count("CSEC") <= 9
        assert 2 <= levels.count("CAPE") <= 4
        assert len({r.subject for r in refs}) == len(refs)
    maths = sum(any(label.startswith("Mathematics (CSEC") for label in labels) for labels in profiles)
    assert maths > 100, "weighted towards the common subjects"
    assert any(":" in label for labels in profiles for label in labels), "some subjects carry grades"


def test_weighted_subjects_exist():
    names = {(s.name, s.level) for s in S.subjects}
    assert all((name, "CSEC") in names for name in generate.CSEC_WEIGHTS)
    assert all((name, "CAPE") in names for name in generate.CAPE_WEIGHTS)


def refs_of(programmes):
    return [ref for p in programmes for ref in p.refs]


def test_v2_catalogues_hold_what_the_2019_model_cannot():
    programmes = generate.v2(2000, seed=1)
    assert len({p.id for p in programmes}) == 2000
    schemes = [s for p in programmes for s in p.schemes]
    counts = [len(p.schemes) for p in programmes]
    assert set(counts) <= {1, 2, 3, 4} and 0.2 < sum(c > 1 for c in counts) / len(counts) < 0.5
    for p in programmes:
        labels = [s.label for s in p.schemes]
        assert len(set(labels)) == len(labels) and (labels == [""]) == (len(labels) == 1), labels
        for scheme in p.schemes:
            req = scheme.requirements
            assert len({r.part for r in req.mandatory}) == len(req.mandatory)
            for c in req.combinations:
                assert 1 <= c.need < len(c.options) + 1 and len({o.part for o in c.options}) == len(c.options)
    refs = refs_of(programmes)
    units = [r for r in refs if r.unit]
    assert units and all(S.units[r.subject] == 2 for r in units), "single units only of two-unit subjects"
    assert any(r.min_grade for r in refs if r.subject.level == "CAPE")
    assert any(r.subject.level == "GCE O" for r in refs)
    degrees = [r for r in refs if r.subject.level == DEGREE]
    assert 0.05 < len(degrees) / len(programmes) < 0.12 and {r.min_gpa for r in degrees} >= {250, 350}
    assert 0.2 < sum(bool(s.requirements.cape_units) for s in schemes) / len(schemes) < 0.6
    assert 0.3 < sum(bool(s.requirements.not_counted) for s in schemes) / len(schemes) < 0.5
    assert 0.05 < sum(bool(p.conditions) for p in programmes) / len(programmes) < 0.2
    assert generate.v2(50, seed=5) == generate.v2(50, seed=5) != generate.v2(50, seed=6)


def test_v2_profiles_hold_units_gce_and_associate_degrees():
    profiles = generate.v2_profiles(400, seed=4)
    assert generate.v2_profiles(20, seed=5) == generate.v2_profiles(20, seed=5) != generate.v2_profiles(20, seed=6)
    refs = [[S.ref(label) for label in labels] for labels in profiles]
    assert all(8 <= len(r) <= 14 for r in refs)
    levels = [{r.subject.level for r in held} for held in refs]
    assert 0.05 < sum("GCE O" in held for held in levels) / len(levels) < 0.2
    assert 0.05 < sum("GCE A" in held for held in levels) / len(levels) < 0.2
    assert 0.07 < sum(DEGREE in held for held in levels) / len(levels) < 0.2
    assert any(r.unit for held in refs for r in held)
    assert any(not Profile([r]).entries for held in refs for r in held), "now and then a failed grade"


def test_v2_workload_opens_programmes_by_every_route_and_the_engine_agrees():
    """The v2 workload measures answers that say something: the engine's eligible programmes, as the domain's,
    include some met only by a later scheme or by an associate degree, some for students with GCE passes, and near
    misses."""
    programmes = generate.v2(300, seed=2)
    compiled = CompiledCatalogue(programmes)
    later = near_misses = degree = gce = 0
    for labels in generate.v2_profiles(60, seed=2):
        profile = baseline.profile_of(labels)
        answer = compiled.match(profile)
        assert {p.id for p in answer.eligible} == expected(programmes, profile), labels
        near_misses += len(answer.near_misses)
        gce += bool(answer.eligible) and any(e.subject.level.startswith("GCE") for e in profile)
        for p in answer.eligible:
            met = [s for s in p.schemes if is_eligible(s.requirements, profile)]
            later += met[0] is not p.schemes[0]
            degree += any(r.subject.level == DEGREE for s in met for r in s.requirements.mandatory)
    assert later and degree and gce and near_misses


def test_v2_catalogue_loads_into_the_graph_and_reads_back(graph_store):
    programmes = generate.v2(80, seed=3)
    version = graph_store.load(programmes)
    assert graph_store.programmes(version.id) == programmes
    for labels in generate.v2_profiles(10, seed=3):
        profile = baseline.profile_of(labels)
        assert set(graph_store.eligible_ids(version.id, profile)) == expected(programmes, profile)


# --- baseline ---------------------------------------------------------------------------------------------------

def near(programme):
    """A profile holding exactly what a programme needs (every mandatory subject and `need` options of each
    combination), so agreement is tested on eligible programmes too, not only on empty answers."""
    req = only(programme)
    subjects = [r.subject for r in req.mandatory]
    for c in req.combinations:
        subjects += [o.subject for o in c.options[:c.need]]
    return subjects


def expected(programmes, profile):
    return {p.id for p in programmes if eligible(p, profile)}


def around(programmes, *, per_size: int, seed: int) -> list[Profile]:
    """Generated profiles of every query size, and for each programme given: just eligible, one short, more than
    enough."""
    profiles = [baseline.profile_of(labels) for size in generate.QUERY_SIZES.values()
                for labels in generate.profiles(size, per_size, seed=seed)]
    for i, p in enumerate(programmes):
        held = near(p)
        profiles.append(holding(held))
        profiles.append(holding(held[1:]))
        profiles.append(holding([*held, *generate.subjects()[i::9]]))
    return profiles


def test_baseline_finds_what_the_domain_finds(graph_store):
    programmes = [*generate.original("L1", 40, seed=11, prefix="a"), *generate.original("L3", 40, seed=11, prefix="b")]
    version = graph_store.load(programmes)
    profiles = around(programmes[::8], per_size=6, seed=11)
    found_any = 0
    for profile in profiles:
        want = expected(programmes, profile)
        assert baseline.eligible_ids(graph_store, version.id, profile) == want
        found_any += bool(want)
    assert found_any >= 10


def test_baseline_agrees_on_the_sample_catalogue_with_grades_and_pass_counts(graph_store):
    programmes = parse_catalogue(SAMPLE.read_bytes()).programmes
    version = graph_store.load(programmes)
    found_any = 0
    for labels in generate.sample_profiles(40, seed=3):
        profile = baseline.profile_of(labels)
        want = expected(programmes, profile)
        assert baseline.eligible_ids(graph_store, version.id, profile) == want
        found_any += bool(want)
    assert found_any >= 10


def test_baseline_is_scoped_to_its_catalogue(graph_store):
    programmes = generate.original("L1", 30, seed=2)
    first, second = graph_store.load(programmes), graph_store.load(programmes)
    profile = holding(near(programmes[0]))
    assert baseline.eligible_ids(graph_store, first.id, profile) == expected(programmes, profile)
    assert baseline.eligible_ids(graph_store, second.id, profile) == expected(programmes, profile)


def test_baseline_query_is_parameterised_and_uses_no_apoc():
    assert "apoc" not in baseline.QUERY.lower()
    assert "UNION" in baseline.QUERY
    assert "[x IN options WHERE x IN $met]" in baseline.QUERY


# The query as Snickdx/jobEngine's src/ReqGraph.js (reqSearch) has it, its terms spliced in as `${arry}`.
JOBENGINE_REQSEARCH = """MATCH (t:Term), (d:Document) WHERE t.name in ${arry}
WITH collect(t) as query, d
MATCH (d:Document)-[:requires]->(t:Term)
WITH d, query, COLLECT(t) AS mandatories WHERE ALL(n IN mandatories WHERE n IN query) AND NOT (d)-->(:Combo)
RETURN d
UNION
MATCH (t:Term), (d:Document) WHERE t.name in ${arry}
WITH collect(t) as query, d
MATCH (d:Document)-[:requires]->(t:Term)
WITH d, query, COLLECT(t) AS mandatories WHERE ALL(n IN mandatories WHERE n IN query)
MATCH (d)-[:requires]->(c:Combo)-[:contains]->(t:Term)
with d, c, query, collect(t) as list
with d, query, collect({amt:c.amt, set:list}) as combos
where all(combo in combos where combo.amt <= size(apoc.coll.intersection(query, combo.set)))
return d order by d.name"""


def test_original_query_is_the_2019_text_with_its_terms_as_a_parameter():
    assert original.QUERY == JOBENGINE_REQSEARCH.replace("${arry}", "$terms")
    assert "apoc.coll.intersection" in original.QUERY


@pytest.fixture
def neo4j_store(neo4j_server):
    """The session's Neo4j (with APOC), holding nothing of the original's model before or after."""
    store = open_store({**neo4j_server, "GRAPH_TIMEOUT": 60})
    original.clear(store)
    yield store
    original.clear(store)
    store.close()


def engine_ids(compiled, profile):
    return {p.id for p in compiled.match(profile).eligible}


def test_original_query_on_neo4j_finds_what_the_engine_finds(neo4j_store):
    """On generated catalogues (no grades, no pass counts) the 2019 query on its model answers as the engine does."""
    for level, seed in (("L1", 11), ("L2", 12), ("L3", 13)):
        programmes = generate.original(level, 60, seed=seed, prefix=level)
        original.load(neo4j_store, programmes)
        compiled = CompiledCatalogue(programmes)
        profiles = around(programmes[::6], per_size=4, seed=seed)
        found_any = 0
        for profile in profiles:
            want = engine_ids(compiled, profile)
            assert want == expected(programmes, profile)
            assert original.eligible_ids(neo4j_store, profile) == want, level
            found_any += bool(want)
        assert found_any >= 10, level


def test_original_load_replaces_the_previous_catalogue(neo4j_store):
    first, second = generate.original("L1", 30, seed=2, prefix="first"), generate.original("L2", 20, seed=3)
    original.load(neo4j_store, first)
    original.load(neo4j_store, second)
    assert neo4j_store.run("MATCH (d:Document) RETURN count(d)")[0][0] == 20
    profile = holding(near(second[0]))
    assert original.eligible_ids(neo4j_store, profile) == expected(second, profile)
    document = neo4j_store.run("MATCH (d:Document {name: $name}) RETURN d.requirements", {"name": second[0].id})
    assert json.loads(document[0][0])["mandatory"] == [str(r.subject) for r in only(second[0]).mandatory]


V1_PROGRAMME = generate.original("L1", 1, seed=4, prefix="v1")[0]


def v2_variant(**change):
    """The v1-shaped programme with one thing only v2 can say: more schemes, or a requirement changed."""
    if "schemes" in change:
        return dataclasses.replace(V1_PROGRAMME, id="two-schemes", schemes=change["schemes"])
    name, value = next(iter(change.items()))
    req = dataclasses.replace(only(V1_PROGRAMME), **{name: value})
    return dataclasses.replace(V1_PROGRAMME, id=f"with-{name}", schemes=(Scheme(req),))


@pytest.mark.parametrize("programme, why", [
    (v2_variant(schemes=(Scheme(only(V1_PROGRAMME), "A"), Scheme(only(V1_PROGRAMME), "B"))),
     "two-schemes: the 2019 model has no alternative schemes (2 given)"),
    (v2_variant(cape_units=4), "with-cape_units: the 2019 model cannot express cape_units 4"),
    (v2_variant(not_counted=(S.subject("Caribbean Studies", "CAPE"),)),
     "with-not_counted: the 2019 model cannot express not_counted Caribbean Studies (CAPE)"),
    (v2_variant(mandatory=(S.ref("Sociology (CAPE U1)"),)),
     "with-mandatory: the 2019 model cannot express reference Sociology (CAPE U1)"),
    (v2_variant(mandatory=(S.ref("Chemistry (GCE O:B)"), S.ref("Associate Degree (GPA:2.5)"))),
     "with-mandatory: the 2019 model cannot express reference Chemistry (GCE O:B); "
     "reference Associate Degree (GPA:2.5)"),
])
def test_original_model_refuses_what_it_cannot_express(programme, why):
    with pytest.raises(original.Inexpressible) as refused:
        original.requirements(programme)
    assert str(refused.value) == f"programme {why}"
    assert original.requirements(V1_PROGRAMME) == only(V1_PROGRAMME)


def test_original_load_of_a_v2_catalogue_is_refused_and_keeps_the_previous_one(neo4j_store):
    v1 = parse_catalogue(SAMPLE.read_bytes()).programmes
    original.load(neo4j_store, v1)
    refused = "^programme ENG-BSC-CIVIL: the 2019 model cannot express cape_units 4; "
    with pytest.raises(original.Inexpressible, match=refused):
        original.load(neo4j_store, parse_catalogue(SAMPLE_V2.read_bytes()).programmes)
    assert neo4j_store.run("MATCH (d:Document) RETURN count(d)")[0][0] == len(v1)


def test_original_timing_and_server_on_neo4j_with_apoc(neo4j_store):
    original.load(neo4j_store, generate.original("L2", 20, seed=1))
    times = original.timed(neo4j_store, generate.profiles(10, 3), rounds=4)
    assert len(times) == 4 and all(t > 0 for t in times)
    server = original.server_version(neo4j_store)
    assert server["name"] == "Neo4j Kernel" and server["version"].startswith("5.26.")
    assert server["apoc_coll_intersection"] is True


def test_timed_rounds_warms_up_then_stops_at_its_cap_after_enough_queries():
    calls = []
    times = baseline.timed_rounds(calls.append, [{"q": 1}, {"q": 2}], rounds=100, max_seconds=0)
    assert len(times) == baseline.MIN_COUNTED
    assert len(calls) == baseline.WARMUP + baseline.MIN_COUNTED
    assert calls[:3] == [{"q": 1}, {"q": 2}, {"q": 1}]
    assert len(baseline.timed_rounds(calls.append, [{}], rounds=7)) == 7


def test_baseline_timing_counts_rounds(graph_store):
    programmes = generate.original("L2", 20, seed=1)
    version = graph_store.load(programmes)
    times = baseline.timed(graph_store, version.id, generate.profiles(10, 3), rounds=7)
    assert len(times) == 7 and all(t > 0 for t in times)


@pytest.mark.parametrize("mode, v2", [("smoke", ["sample-v2"]), ("quick", ["sample-v2", "v2-1k"]),
                                      ("full", ["sample-v2", "v2-1k", "v2-10k", "v2-100k"])])
def test_every_mode_measures_v2_on_the_engine_and_v1_against_the_baselines(mode, v2):
    plan = run.catalogues(run.MODES[mode])
    assert [c.name for c in plan if c.model == "v2"] == v2
    assert [c.name for c in plan if c.baselines] == [c.name for c in plan if c.model == "v1"]
    assert plan[0].name == "sample" and plan[0].build() == parse_catalogue(SAMPLE.read_bytes()).programmes
    sample_v2 = next(c for c in plan if c.name == "sample-v2")
    assert sample_v2.build() == parse_catalogue(SAMPLE_V2.read_bytes()).programmes
    for catalogue in plan:
        if catalogue.model == "v2":
            assert [w.name for w in catalogue.workloads] == [catalogue.name]
            assert catalogue.workloads[0].queries == generate.v2_profiles(run.PROFILES_PER_WORKLOAD)


# --- wrk output and report --------------------------------------------------------------------------------------

CANNED = """Running 3s test @ http://127.0.0.1:8123
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.97ms    3.21ms  41.75ms   87.12%
  Latency Distribution
     50%    4.58ms
     99%   23.15ms
  4811 requests in 3.00s, 97.58MB read
Requests/sec:   1603.12
BEUWI-BENCH {"requests": 4811, "duration_us": 3001234, "bytes": 102319000, "errors": {"connect": 0, "read": 0, \
"write": 0, "status": 2, "timeout": 1}, "non2xx": 2, "stale": 0, "latency_us": {"p50": 4580, "p90": 9100, \
"p95": 13720, "p99": 23150, "max": 41750, "mean": 4970.5}, "server_ms": {"count": 4811, "p50": 0.69, "p95": 0.9, \
"p99": 1.14, "max": 3.2}}
""".replace("\\\n", "")


def test_parse_output_reads_the_result_line():
    result = wrk.parse_output(CANNED)
    assert result.requests == 4811
    assert result.duration_s == pytest.approx(3.001234)
    assert result.rps == pytest.approx(4811 / 3.001234)
    assert result.latency_ms["p50"] == pytest.approx(4.58)
    assert result.latency_ms["p99"] == pytest.approx(23.15)
    assert result.latency_ms["max"] == pytest.approx(41.75)
    assert result.server_ms == {"count": 4811, "p50": 0.69, "p95": 0.9, "p99": 1.14, "max": 3.2}
    assert result.non2xx == 2 and result.socket_errors == 1


def test_parse_output_without_a_result_line_fails_clearly():
    with pytest.raises(wrk.WrkError, match="no result line"):
        wrk.parse_output("Running 3s test\nunable to connect\n")


def test_search_path_encodes_labels():
    path = wrk.search_path(["Mathematics (CSEC)", "Food, Nutrition and Health (CSEC:II)"])
    assert path == ("/api/search?subject=Mathematics%20%28CSEC%29"
                    "&subject=Food%2C%20Nutrition%20and%20Health%20%28CSEC%3AII%29")


def canned_report():
    result = wrk.parse_output(CANNED)
    workloads = {
        "sample": report.workload_entry(result, programmes=102, baseline_ms=[8.0, 9.0, 10.0],
                                        falkordb_baseline_ms=[2.0, 3.0], cores=2, worker_rss_mb=70.0),
        "original-L3-Q5": report.workload_entry(result, programmes=1000, baseline_ms=[100.0, 120.0], cores=2),
        "scale-10k": report.workload_entry(result, programmes=10000, baseline_ms=[], cores=2),
        "v2-10k": report.workload_entry(result, programmes=10000, baseline_ms=[], cores=2, requirement_model="v2"),
    }
    noop = report.noop_entry(result, cores=2)
    return report.assemble(workloads, noop, {"cores": 2, "memory_gb": 23.5, "versions": {"wrk": "4.1"}},
                           catalogues={"sample": {"programmes": 102, "generate_s": 0.0, "load_s": 0.1,
                                                  "original_load_s": 0.4},
                                       "v2-10k": {"programmes": 10000, "generate_s": 1.3, "load_s": 20.0,
                                                  "original_load_s": None}},
                           baseline={"graph": "neo4j", "apoc": True, "server": "Neo4j Kernel 5.26.30 community",
                                     "query": original.QUERY, "source": original.SOURCE, "changes": original.CHANGES},
                           baseline_falkordb={"graph": "falkordb", "apoc": False, "server": "FalkorDB 4.16.3",
                                              "query": baseline.QUERY},
                           reported_2019=report.REPORTED_2019,
                           graph_timings={"falkordb": [TIMING], "neo4j": [{**TIMING, "load_s": 16.5}]},
                           settings={"mode": "quick", "connections": 8}, wall_s=100.0)


TIMING = {"programmes": 1000, "load_s": 0.4, "activate_s": 0.002, "read_s": 0.1, "delete_s": 0.1,
          "engine_ready_s": 1.2, "worker_rss_mb": 80.0}


def test_report_json_has_the_keys_ci_reads():
    data = json.loads(json.dumps(canned_report()))
    assert set(report.REQUIRED_KEYS) <= set(data)
    for name, entry in data["workloads"].items():
        assert set(report.REQUIRED_WORKLOAD_KEYS) <= set(entry), name
    assert set(report.REQUIRED_NOOP_KEYS) <= set(data["noop"])
    assert set(data["throughput_vs_noop"]) == set(data["workloads"])
    sample = data["workloads"]["sample"]
    assert sample["baseline_p50_ms"] == 9.0
    assert sample["speedup_vs_original_query"] == pytest.approx(9.0 / 0.69, abs=0.01)
    assert sample["baseline_falkordb_p50_ms"] == 2.0 and sample["baseline_falkordb_queries"] == 2
    assert sample["speedup_vs_falkordb_port"] == pytest.approx(2.0 / 0.69, abs=0.01)
    assert data["throughput_vs_noop"]["sample"] == 1.0
    assert data["workloads"]["scale-10k"]["speedup_vs_original_query"] is None


def test_report_markdown_is_one_table_with_every_workload():
    text = report.markdown(canned_report())
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0].startswith("| workload | programmes | p50 | p95 | p99 | max | rps | vs no-op | server p50 | "
                              "server p99 | original Neo4j+APOC p50 | p99 | speedup | original on FalkorDB p50 | "
                              "p99 | speedup |")
    assert len(rows) == 2 + 4 + 2 + 2  # the workloads, then the graph timings
    assert rows[2].startswith("| sample (3 errors) | 102 | 4.58 | 13.72 | 23.15 | 41.75 |")
    assert "| 9.00 | 10.00 | 13.0x | 2.00 | 3.00 | 2.9x |" in rows[2]
    assert "| neo4j | 1,000 | 16.50 | 0.002 | 0.10 | 0.10 | 1.20 | 80 MB |" in rows
    assert "No-op floor" in text and "Speedup = baseline p50 / server p50" in text
    assert "on Neo4j Kernel 5.26.30 community (apoc: true)" in text
    assert "27-63 ms mean per query at 1,000 documents" in text
    assert rows[5].startswith("| v2-10k (3 errors) | 10,000 | 4.58 |") and "| 1.14 | - | - | - | - | - | - |" in rows[5]
    assert "sample (102 programmes) 0.1 s, Neo4j 0.4 s, v2-10k (10,000 programmes) 20.0 s, not in Neo4j (v2)." in text
    assert "`v2-*` = generated v2 catalogues" in text


def test_over_limit_names_the_workload():
    data = canned_report()
    assert any(f.startswith("sample: 3 of 4811 requests failed") for f in report.over_limit(data, 500))
    data["workloads"]["scale-10k"]["p99_ms"] = 612.0
    assert "scale-10k: p99 612 ms >= 500 ms" in report.over_limit(data, 500)
    data["workloads"]["original-L3-Q5"]["requests"] = 0
    assert "original-L3-Q5: no request completed" in report.over_limit(data, 500)


def test_a_run_without_answers_has_no_latencies():
    silent = wrk.parse_output(CANNED.replace('"requests": 4811', '"requests": 0'))
    entry = report.workload_entry(silent, programmes=10, baseline_ms=[1.0], cores=2)
    assert entry["p99_ms"] is None and entry["rps"] == 0
    assert "only 0 requests" in report.markdown(report.assemble({"x": entry}, report.noop_entry(silent, cores=2), {}))


def test_plot_writes_a_png(tmp_path):
    report.plot(canned_report(), str(tmp_path / "bench.png"))
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the command ------------------------------------------------------------------------------------------------

def bench_workdir(stderr: str) -> str:
    """The run's work dir, from the line the embedded Neo4j's start prints."""
    found = re.search(r"embedded Neo4j in (\S+/beuwi-bench-[^/\s]+)/", stderr)
    assert found, stderr
    return found[1]


def processes_under(path: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if entry.name.isdigit() and path in command:
            found.append(f"{entry.name}: {command[:200]}")
    return found


def test_bench_smoke_run_writes_the_report(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "beuwi.cli", "bench", "--smoke", "--json", str(out), "--markdown",
         str(tmp_path / "bench.md"), "--max-p99-ms", "1e9"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr
    workdir = bench_workdir(done.stderr)
    assert not Path(workdir).exists() and not processes_under(workdir), "no graph or engine is left running"
    data = json.loads(out.read_text())
    assert set(report.REQUIRED_KEYS) <= set(data)
    sample = data["workloads"]["sample"]
    for key in report.REQUIRED_WORKLOAD_KEYS:
        assert sample[key] is not None and sample[key] > 0, key
    assert sample["non_2xx"] == sample["socket_errors"] == sample["stale"] == 0
    assert data["noop"]["rps"] > 0 and data["noop"]["p99_ms"] > 0
    assert data["throughput_vs_noop"]["sample"] > 0
    assert data["machine"]["cores"] >= 1
    markdown = (tmp_path / "bench.md").read_text()
    for name in ("sample", "sample-v2"):  # a row each, flagged or not (a loaded machine answers few in a second)
        assert re.search(rf"^\| {name}( \([^)]*\))? \| 102 \|", markdown, re.MULTILINE), name
    sample_v2 = data["workloads"]["sample-v2"]
    assert sample_v2["requirement_model"] == "v2" and sample["requirement_model"] == "v1"
    assert sample_v2["rps"] > 0 and sample_v2["server_p99_ms"] > 0
    assert sample_v2["non_2xx"] == sample_v2["socket_errors"] == sample_v2["stale"] == 0
    assert sample_v2["baseline_queries"] == sample_v2["baseline_falkordb_queries"] == 0
    assert sample_v2["baseline_p50_ms"] is None and data["catalogues"]["sample-v2"]["original_load_s"] is None
    cached = data["workloads"]["sample-cached"]
    assert cached["answer_cache"] is True and cached["rps"] > 0 and cached["non_2xx"] == 0
    # the baseline ran on Neo4j 5.26 with APOC, as the server itself says; the FalkorDB port beside it
    base = data["baseline"]
    assert (base["graph"], base["apoc"], base["query"]) == ("neo4j", True, original.QUERY)
    assert "apoc.coll.intersection" in base["query"] and base["apoc_coll_intersection"] is True
    assert base["name"] == "Neo4j Kernel" and base["version"].startswith("5.26.") and base["edition"] == "community"
    assert base["source"]["repo"] == "Snickdx/jobEngine"
    port = data["baseline_falkordb"]
    assert (port["graph"], port["apoc"], port["query"]) == ("falkordb", False, baseline.QUERY)
    assert sample["baseline_queries"] >= 3 and sample["baseline_falkordb_queries"] >= 3
    assert sample["baseline_falkordb_p50_ms"] > 0 and sample["speedup_vs_falkordb_port"] > 0
    assert data["catalogues"]["sample"]["original_load_s"] > 0
    assert data["reported_2019"] == {"mean_ms": [27, 63], "documents": 1000}
    assert set(data["graph_timings"]) == {"falkordb", "neo4j"}
    for graph, rows in data["graph_timings"].items():
        assert [r["programmes"] for r in rows] == [200], graph
        for key in report.TIMING_KEYS:
            assert rows[0][key] is not None and rows[0][key] > 0, (graph, key)
    assert "Neo4j Kernel 5.26." in markdown and "| neo4j | 200 |" in markdown


def test_bench_that_fails_stops_its_graphs(tmp_path):
    """wrk missing: the run fails after both graphs and the engine started, and leaves none of them behind."""
    java = Path(os.path.realpath(shutil.which("java"))).parent.parent
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}, "PATH": str(tmp_path / "empty"),
           "JAVA_HOME": str(java)}
    done = subprocess.run([sys.executable, "-m", "beuwi.cli", "bench", "--smoke"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "beuwi bench: wrk is not installed" in done.stderr
    assert "Traceback" not in done.stderr
    workdir = bench_workdir(done.stderr)
    assert not Path(workdir).exists() and not processes_under(workdir)
