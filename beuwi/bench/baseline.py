"""The original service's search query, ported to this project's graph model: the benchmark's second baseline.

The first baseline is the original query itself on Neo4j with APOC (beuwi/bench/original.py); this port runs on
FalkorDB, which has no APOC. The original stored `(:Document)-[:requires]->(:Term)` and
`(:Document)-[:requires]->(:Combo {amt})-[:contains]->(:Term)`; its search matched the query's Terms, collected each document's mandatory terms, kept the documents whose
mandatory terms were all in the query, and for documents with combos required `amt <= size(intersection(query,
combo terms))` (APOC's `apoc.coll.intersection`), as a UNION of the no-combo and with-combo cases.

The port keeps that shape on our model, where requirements hang off each of a programme's schemes
((:Programme)-[:HAS_SCHEME]->(:Scheme)-[:REQUIRES {ref}]->(:Subject), (:Scheme)-[:HAS]->(:Combination {need})
-[:OPTION {ref}]->(:Subject), scoped by `catalogue`): the original's document is a scheme here, one hop further.
It uses a list comprehension for the intersection instead of APOC, and parameters only. Two differences, so that
it answers exactly what the engine answers on v1-shaped catalogues (one scheme per programme, as every generated
`original` catalogue and the v1 sample are): references are compared as `ref` keys against the keys the profile
meets (the grades of our model; the original had none), and the pass counts are checked (the generated catalogues
need none, so they cost nothing there). What v2 added (unit counts, uncounted subjects, associate degrees) it does
not check: it is the 2019 query's baseline, not a second engine. Like the original, it starts from the query's
subjects, so a programme without any mandatory subject is never found (every generated and sample programme has at
least two).
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Sequence

from beuwi.domain import Profile, SubjectList
from beuwi.graph.cypher_store import CypherStore

WARMUP = 3
MIN_COUNTED = 5  # a p50 of fewer would be anecdotal

# The documents whose mandatory subjects the query covers, shared by both cases of the UNION; `{combos}` says which
# case. (FalkorDB rejects a pattern predicate after an aggregation, so the no-combo test comes before it.)
_MANDATORY = """
MATCH (s:Subject {{catalogue: $id}}) WHERE s.key IN $subjects
MATCH (p:Programme)-[:HAS_SCHEME]->(d:Scheme)-[:REQUIRES]->(s)
WITH DISTINCT p, d
WHERE d.csec_passes <= $csec AND d.cape_passes <= $cape AND {combos}(d)-[:HAS]->(:Combination)
MATCH (d)-[r:REQUIRES]->(:Subject)
WITH p, d, collect(r.ref) AS mandatory
WHERE all(m IN mandatory WHERE m IN $met)
"""

QUERY = f"""{_MANDATORY.format(combos="NOT ").strip()}
RETURN p.id AS id
UNION
{_MANDATORY.format(combos="").strip()}
MATCH (d)-[:HAS]->(c:Combination)-[o:OPTION]->(:Subject)
WITH p, d, c, collect(o.ref) AS options
WITH p, d, collect(c.need <= size([x IN options WHERE x IN $met])) AS combinations
WHERE all(ok IN combinations WHERE ok)
RETURN p.id AS id
"""


def parameters(version_id: str, profile: Profile) -> dict:
    """The query's subjects are those the profile holds any of, as they count (a GCE pass as its CXC subject, one
    CAPE unit as its subject), so every reference the profile meets is reached from one of them."""
    return {"id": version_id, "subjects": [s.key for s in profile.held], "met": profile.met_keys(),
            "csec": profile.passes["CSEC"], "cape": profile.passes["CAPE"]}


def profile_of(labels: Iterable[str]) -> Profile:
    """A search's subject labels ("Chemistry (CAPE:II)") as the profile the engine would build."""
    subjects = SubjectList.default()
    return Profile.from_refs(subjects.ref(label) for label in labels)


def eligible_ids(store: CypherStore, version_id: str, profile: Profile) -> set[str]:
    """The ids the baseline query finds, in one read-only round trip (GRAPH.RO_QUERY on FalkorDB)."""
    return {row[0] for row in store.run(QUERY, parameters(version_id, profile))}


def timed(store: CypherStore, version_id: str, queries: Sequence[Sequence[str]], *, rounds: int,
          max_seconds: float = float("inf")) -> list[float]:
    """Round-trip milliseconds of `rounds` baseline queries, one after another, cycling through `queries`."""
    return timed_rounds(lambda params: store.run(QUERY, params),
                        [parameters(version_id, profile_of(labels)) for labels in queries],
                        rounds=rounds, max_seconds=max_seconds)


def timed_rounds(run: Callable[[dict], object], params: Sequence[dict], *, rounds: int,
                 max_seconds: float = float("inf")) -> list[float]:
    """Milliseconds of `rounds` calls of `run`, one after another, cycling through `params`.

    Stops early after `max_seconds`, warm-up included (at least MIN_COUNTED queries are counted), so a slow
    baseline on a large catalogue stays bounded. The first WARMUP calls are not counted: they pay for connecting,
    the server's query-plan cache and, on Neo4j, the JVM compiling the code the query runs.
    """
    started = time.perf_counter()
    for i in range(WARMUP):
        run(params[i % len(params)])
    times: list[float] = []
    for i in range(rounds):
        begin = time.perf_counter()
        run(params[i % len(params)])
        times.append((time.perf_counter() - begin) * 1000)
        if len(times) >= MIN_COUNTED and time.perf_counter() - started > max_seconds:
            break
    return times
