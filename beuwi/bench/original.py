"""The 2019 engine's own requirement query on its own model, on Neo4j with APOC: the benchmark's baseline.

The query is `reqSearch` of Snickdx/jobEngine (src/ReqGraph.js, commit 1685744), the engine BeUWI replaces. Its
model, as that file's `createTerm`, `addMandatoryRequirements` and `addComboRequirement` write it:
`(:Term {name})`, `(:Document {name, requirements})-[:requires]->(:Term)` for each mandatory term and
`(:Document)-[:requires]->(:Combo {amt})-[:contains]->(:Term)` for each "amt of list" combination, with the
document's requirements also kept as JSON text on the node (which `reqSearch` returns and parses).

The text below is the original's, changed in one place: it spliced the query's terms into the text as a JSON array
(`${arry}`, twice), and here they are the parameter `$terms` (this project runs parameterised Cypher only). Nothing
else needed changing for Neo4j 5: it uses no `FILTER`/`EXTRACT` and no `{param}` parameters (the Cypher 3 forms
Neo4j 5 removed); its `NOT (d)-->(:Combo)` pattern predicate and its `apoc.coll.intersection` run as written.

The model has no grades, pass counts or catalogue versions: a term is a subject (grades dropped), and the graph holds
one catalogue at a time, so `load` replaces the previous one. On the generated catalogues (no grades, no pass
counts) it finds exactly what the engine finds; on the v1 sample catalogue it times the same query shape but answers
without the grades and pass counts the sample requires. What requirement model v2 added has no place in it at all
(alternative schemes, CAPE units, unit counts, uncounted subjects, GCE and associate-degree references), so `load`
refuses a programme that has any of it (`Inexpressible`), rather than time a query that answers something else.
"""
from __future__ import annotations

import json
from typing import Iterable, Sequence

from beuwi.domain import PASS_LEVELS, Profile, Programme, Requirements, Subject
from beuwi.graph.neo4j_server import PLUGINS

from .baseline import profile_of, timed_rounds

SOURCE = {"repo": "Snickdx/jobEngine", "path": "src/ReqGraph.js", "function": "reqSearch", "commit": "1685744"}
MODEL = "(:Document {name, requirements})-[:requires]->(:Term {name}), (:Document)-[:requires]->(:Combo {amt})" \
        "-[:contains]->(:Term)"
CHANGES = "the terms spliced into the text as a JSON array (${arry}, twice) are the parameter $terms; nothing else"

QUERY = """MATCH (t:Term), (d:Document) WHERE t.name in $terms
WITH collect(t) as query, d
MATCH (d:Document)-[:requires]->(t:Term)
WITH d, query, COLLECT(t) AS mandatories WHERE ALL(n IN mandatories WHERE n IN query) AND NOT (d)-->(:Combo)
RETURN d
UNION
MATCH (t:Term), (d:Document) WHERE t.name in $terms
WITH collect(t) as query, d
MATCH (d:Document)-[:requires]->(t:Term)
WITH d, query, COLLECT(t) AS mandatories WHERE ALL(n IN mandatories WHERE n IN query)
MATCH (d)-[:requires]->(c:Combo)-[:contains]->(t:Term)
with d, c, query, collect(t) as list
with d, query, collect({amt:c.amt, set:list}) as combos
where all(combo in combos where combo.amt <= size(apoc.coll.intersection(query, combo.set)))
return d order by d.name"""

BATCH = 1000  # documents per UNWIND
# Terms go last: by then their relationships (hundreds of thousands each at 100,000 documents) are gone with the
# documents and combos, so no transaction holds more than a batch of small nodes.
_CLEAR = "MATCH (n:{label}) WITH n LIMIT $limit DETACH DELETE n RETURN count(*)"
_LABELS = ("Combo", "Document", "Term")
_CREATE_TERMS = "UNWIND $names AS name CREATE (:Term {name: name})"
# Terms are passed by position in the name-ordered list, so a batch looks each one up once, not once per edge.
_CREATE_DOCUMENTS = """
MATCH (t:Term) WITH t ORDER BY t.name
WITH collect(t) AS terms
UNWIND $documents AS doc
CREATE (d:Document {name: doc.name, requirements: doc.requirements})
WITH terms, d, doc
CALL (terms, d, doc) {
  UNWIND doc.mandatory AS i
  WITH d, terms[i] AS term
  CREATE (d)-[:requires]->(term)
}
CALL (terms, d, doc) {
  UNWIND doc.combinations AS combination
  CREATE (d)-[:requires]->(c:Combo {amt: combination.amt})
  WITH terms, c, combination
  UNWIND combination.list AS i
  WITH c, terms[i] AS term
  CREATE (c)-[:contains]->(term)
}
"""


class Inexpressible(ValueError):
    """A programme the 2019 model cannot hold."""


def term(subject: Subject) -> str:
    return str(subject)


def requirements(programme: Programme) -> Requirements:
    """The one scheme of a v1-shaped programme, or Inexpressible naming the programme and what the model lacks."""
    if len(programme.schemes) != 1:
        raise Inexpressible(f"programme {programme.id}: the 2019 model has no alternative schemes "
                            f"({len(programme.schemes)} given)")
    req = programme.schemes[0].requirements
    lacking = [f"{name} {value}" for name, value in (("cape_units", req.cape_units),
                                                     ("not_counted", ", ".join(map(str, req.not_counted)))) if value]
    lacking += [f"reference {ref}" for ref in req.refs if ref.unit or ref.subject.level not in PASS_LEVELS]
    if lacking:
        raise Inexpressible(f"programme {programme.id}: the 2019 model cannot express " + "; ".join(lacking))
    return req


def clear(store) -> None:
    """Remove the previous catalogue of the original's model (in batches, so a large one fits the heap)."""
    for label in _LABELS:
        while store.run(_CLEAR.format(label=label), {"limit": 10_000}, write=True)[0][0]:
            pass


def load(store, programmes: Sequence[Programme]) -> None:
    """The programmes in the original's model, replacing whatever catalogue it held (Inexpressible, before anything
    is written, when one of them is not v1-shaped)."""
    found = [(p, requirements(p)) for p in programmes]
    clear(store)
    names = sorted({term(ref.subject) for _, req in found for ref in req.refs})
    position = {name: i for i, name in enumerate(names)}
    store.run(_CREATE_TERMS, {"names": names}, write=True)
    documents = [_document(p, req, position) for p, req in found]
    for start in range(0, len(documents), BATCH):
        store.run(_CREATE_DOCUMENTS, {"documents": documents[start:start + BATCH]}, write=True)


def _document(programme: Programme, req: Requirements, position: dict) -> dict:
    mandatory = [term(r.subject) for r in req.mandatory]
    combinations = [{"amt": c.need, "list": [term(o.subject) for o in c.options]} for c in req.combinations]
    return {"name": programme.id,
            "requirements": json.dumps({"mandatory": mandatory, "combinations": combinations}),
            "mandatory": [position[name] for name in mandatory],
            "combinations": [{"amt": c["amt"], "list": [position[name] for name in c["list"]]}
                             for c in combinations]}


def parameters(profile: Profile) -> dict:
    """The profile's subjects as terms, grades dropped (a single CAPE unit as its subject: the model has no units)."""
    return {"terms": list(dict.fromkeys(term(ref.subject) for ref in profile))}


def eligible_ids(store, profile: Profile) -> set[str]:
    """The names (our programme ids) of the documents the original query returns."""
    return {row[0]["name"] for row in store.run(QUERY, parameters(profile))}


def timed(store, queries: Iterable[Sequence[str]], *, rounds: int, max_seconds: float = float("inf")) -> list[float]:
    """Round-trip milliseconds of the original query, as `baseline.timed` measures the port's."""
    return timed_rounds(lambda params: store.run(QUERY, params), [parameters(profile_of(q)) for q in queries],
                        rounds=rounds, max_seconds=max_seconds)


def server_version(store) -> dict:
    """The server's own word on what it is (`CALL dbms.components()`) and whether it has the APOC function."""
    name, versions, edition = store.run("CALL dbms.components() YIELD name, versions, edition "
                                        "RETURN name, versions, edition")[0]
    apoc = store.run("SHOW FUNCTIONS YIELD name WHERE name = 'apoc.coll.intersection' RETURN count(*)")[0][0]
    jars = sorted(path.name for path in PLUGINS.glob("apoc-core-*.jar"))
    return {"name": name, "version": versions[0], "edition": edition, "apoc_coll_intersection": bool(apoc),
            "apoc_jar": jars[-1] if jars else None}
