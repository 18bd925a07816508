"""The Cypher both adapters run: openCypher that Neo4j 5 and FalkorDB accept alike, with no APOC.

Every value travels as a parameter; only the fixed label and property names below are ever part of query text.

Model: (:Catalogue {id, created, source, programmes, checksum, status, active}); per version, with a `catalogue`
property:
(:Programme)-[:REQUIRES {ref}]->(:Subject) for mandatory references and
(:Programme)-[:HAS]->(:Combination {need})-[:OPTION {ref}]->(:Subject) for "n of" groups. `ref` is the
reference's key ("chemistry|CAPE@2"), so eligibility is a membership test against the keys a profile meets.
Programmes also keep their requirements as text lists, which is how whole programmes are read back.
A version's `status` goes 'loading' -> 'ready' -> 'deleting'; only a ready one is listed, activated or read, and a
reader checks it again after its last page, with the count and the checksum of what it read.

Dialect differences handled by the adapters:
- Index DDL: Neo4j 5 takes `CREATE INDEX name IF NOT EXISTS FOR (n:L) ON (n.p)`; FalkorDB takes
  `CREATE INDEX FOR (n:L) ON (n.p)` without a name or IF NOT EXISTS and fails when the index exists, so the
  FalkorDB adapter lists its indexes first (`NEO4J_INDEX`, `FALKORDB_INDEX`).
- Read-only access: Neo4j sessions use READ access mode (routed to followers on a cluster); FalkorDB uses
  GRAPH.RO_QUERY, which refuses writes.
- Results: map projections (`p {.*}`) are used instead of returning nodes, because node objects differ per driver.
- FalkorDB cannot nest a pattern comprehension inside another; the queries use OPTIONAL MATCH and aggregation.
"""

INDEXES = (
    ("Catalogue", "id"),
    ("Catalogue", "active"),
    ("Programme", "catalogue"),
    ("Programme", "id"),
    ("Subject", "catalogue"),
    ("Subject", "key"),
    ("Combination", "catalogue"),
)
NEO4J_INDEX = "CREATE INDEX {label}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
FALKORDB_INDEX = "CREATE INDEX FOR (n:{label}) ON (n.{prop})"
VERSION_LABELS = ("Combination", "Programme", "Subject")  # deleted in this order, then the Catalogue node

CATALOGUE = "MATCH (c:Catalogue {id: $id}) RETURN c {.*} AS catalogue"

CREATE_CATALOGUE = """
CREATE (:Catalogue {id: $id, created: $created, source: $source, programmes: $programmes, checksum: $checksum,
                    status: 'loading', active: false})
"""

CREATE_SUBJECTS = """
UNWIND $rows AS row
CREATE (:Subject {catalogue: $id, key: row.key, name: row.name, level: row.level})
"""

CREATE_PROGRAMMES = """
UNWIND $rows AS row
CREATE (p:Programme {catalogue: $id})
SET p += row
"""

CREATE_MANDATORY = """
UNWIND $rows AS row
MATCH (p:Programme {id: row.programme}) WHERE p.catalogue = $id
MATCH (s:Subject {key: row.subject}) WHERE s.catalogue = $id
CREATE (p)-[:REQUIRES {ref: row.ref}]->(s)
"""

CREATE_COMBINATIONS = """
UNWIND $rows AS row
MATCH (p:Programme {id: row.programme}) WHERE p.catalogue = $id
CREATE (p)-[:HAS]->(c:Combination {catalogue: $id, need: row.need, position: row.position})
WITH c, row
UNWIND row.options AS option
MATCH (s:Subject {key: option.subject}) WHERE s.catalogue = $id
CREATE (c)-[:OPTION {ref: option.ref}]->(s)
"""

MARK_READY = "MATCH (c:Catalogue {id: $id}) SET c.status = 'ready' RETURN c {.*} AS catalogue"

# One write: the target must exist and be ready, or nothing changes.
ACTIVATE = """
MATCH (target:Catalogue {id: $id}) WHERE target.status = 'ready'
MATCH (c:Catalogue) WHERE c.active = true OR c.id = $id
SET c.active = (c.id = $id)
RETURN target {.*} AS catalogue
"""

# One write, before any node goes: an inactive version stops being ready, so no reader starts or finishes on it.
MARK_DELETING = """
MATCH (c:Catalogue {id: $id}) WHERE c.status IN ['ready', 'deleting'] AND c.active = false
SET c.status = 'deleting'
RETURN c.id
"""

DELETE_BATCH = "MATCH (n:{label} {{catalogue: $id}}) WITH n LIMIT $limit DETACH DELETE n RETURN count(n)"
DELETE_CATALOGUE = "MATCH (c:Catalogue {id: $id}) DELETE c"

VERSIONS = """
MATCH (c:Catalogue) WHERE c.status = 'ready'
RETURN c {.*} AS catalogue ORDER BY c.created DESC
"""

ACTIVE_VERSION = "MATCH (c:Catalogue) WHERE c.active = true RETURN c.id"

# Read a page at a time (positions are 0..n-1 in load order), so a reader never holds 100,000 maps at once.
PROGRAMMES = """
MATCH (p:Programme {catalogue: $id}) WHERE p.position >= $start AND p.position < $end
RETURN p {.*} AS programme ORDER BY p.position
"""

# One round trip: pass counts first (cheap), then every mandatory reference, then every combination.
ELIGIBLE = """
MATCH (p:Programme {catalogue: $id})
WHERE p.csec_passes <= $csec AND p.cape_passes <= $cape
OPTIONAL MATCH (p)-[r:REQUIRES]->()
WITH p, count(r) AS mandatory, count(CASE WHEN r.ref IN $met THEN 1 END) AS met
WHERE met = mandatory
OPTIONAL MATCH (p)-[:HAS]->(c:Combination)
OPTIONAL MATCH (c)-[o:OPTION]->()
WITH p, c, count(CASE WHEN o.ref IN $met THEN 1 END) AS hits
WITH p, collect(CASE WHEN c IS NULL OR hits >= c.need THEN null ELSE 1 END) AS short
WHERE size(short) = 0
RETURN p.id ORDER BY p.position
"""

PING = "RETURN 1"
