"""The Cypher both adapters run: openCypher that Neo4j 5 and FalkorDB accept alike, with no APOC.

Every value travels as a parameter; only the fixed label and property names below are ever part of query text.

Model: (:Catalogue {id, created, source, programmes, checksum, status, active}); per version, with a `catalogue`
property:
(:Programme)-[:HAS_SCHEME]->(:Scheme {key, position, csec_passes, cape_passes, cape_units, not_counted}) for each
route into the programme (one for a programme without alternatives); per scheme
(:Scheme)-[:REQUIRES {ref, gpa}]->(:Subject) for mandatory references and
(:Scheme)-[:HAS]->(:Combination {need})-[:OPTION {ref, gpa}]->(:Subject) for "n of" groups. `ref` is the
reference's key ("chemistry|CAPE@2", "sociology|CAPE U1"), so eligibility is a membership test against the keys a
profile meets; an associate degree's reference has its lowest GPA in hundredths as `gpa` (NO_GPA on every other), and
is met by a GPA at least that. `not_counted` lists the keys of the subjects, as they count, that the scheme's pass and
unit counts leave out. Programmes also keep their schemes as JSON text (`schemes`), which is how whole programmes are
read back; versions loaded before schemes existed have the v1 text lists instead, and are read as one scheme.
A version's `status` goes 'loading' -> 'ready' -> 'deleting'; only a ready one is listed, activated or read, and a
reader checks it again after its last page, with the count and the checksum of what it read. A version a crash left
'loading' (or 'deleting') is purged: marked 'deleting' first, so its loader, if it still runs, cannot make it ready.

Dialect differences between Neo4j 5.26 (official driver 6) and FalkorDB 4.16 (`falkordb` client), each tested in
tests/test_graph_store.py on both graphs:
- Index DDL: Neo4j 5 takes `CREATE INDEX name IF NOT EXISTS FOR (n:L) ON (n.p)`; FalkorDB takes
  `CREATE INDEX FOR (n:L) ON (n.p)` without a name or IF NOT EXISTS and fails when the index exists, so the
  FalkorDB adapter lists its indexes first (`NEO4J_INDEX`, `FALKORDB_INDEX`).
- Listing indexes: Neo4j 5 has `SHOW INDEXES` (`CALL db.indexes()` was removed: Neo.ClientError.Procedure.
  ProcedureNotFound); FalkorDB has `CALL db.indexes()` (`SHOW INDEXES` is a syntax error).
- Read-only access: Neo4j sessions use READ access mode (routed to followers on a cluster), and the server refuses a
  write in one with Neo.ClientError.Statement.AccessMode; FalkorDB reads use GRAPH.RO_QUERY, which refuses writes
  ("graph.RO_QUERY is to be executed only on read-only queries"). Both surface as GraphError.
- Parameters: Neo4j's driver sends typed values over Bolt; FalkorDB's client writes them into the query text, as a
  header `CYPHER name=value ...` with strings quoted and escaped, and the answer is parsed back. Both bring back
  ints, floats, bools, None, strings, lists and maps as the Python values sent (a tuple comes back a list).
  Beyond that they part, and the adapters make both refuse with a GraphError what either mishandles: an integer
  beyond 64 bits (Neo4j's driver raised a bare OverflowError; FalkorDB stored 2**63-1 without a word); and, on
  FalkorDB only, a NUL in a string, NaN, infinities, bytes and any other type (they broke its query text, or would
  be written as their str()), which Neo4j takes (the CSV reader refuses NUL; the model has no floats).
- Property values: neither stores a map or a list holding null (both refuse). Neo4j refuses a list of mixed types
  or of lists; FalkorDB accepts the write and keeps nothing (the property reads back null). Programmes keep only
  strings, ints, bools and lists of strings; empty lists come back as [] on both, and a null in `SET p += row` is no
  property on both.
- Results: rows of plain Python values on both, but nodes are driver objects that differ (neo4j.graph.Node, with an
  element id; falkordb.Node) and FalkorDB's maps are OrderedDicts, so queries return map projections (`p {.*}`)
  and ids, never nodes; key order differs, so the checksum sorts keys.
- A graph never written to: FalkorDB answers every read of it "Invalid graph operation on empty key", which the
  adapter reads as no rows (right for these queries, which return none when nothing matches; an aggregate such as
  count() would return one row elsewhere). Neo4j's database always exists, but a read naming a label or property no
  write has created yet brings a "does not exist" notification that the driver logs as a warning, so the adapter
  turns that classification (UNRECOGNIZED) off.
- Errors: Neo4j's carry a code (Neo.ClientError.Statement.SyntaxError, ...ParameterMissing, ...TypeError,
  ...AccessMode, ...ArithmeticError) and a message that may span lines; FalkorDB's are one line of text (a redis
  ResponseError). Both become a one-line GraphError; unreachable servers and refused credentials GraphUnavailable.
- Arithmetic and text: integer overflow is an error on Neo4j and wraps on FalkorDB; `toString(1.0)` is '1.0' on
  Neo4j and '1.000000' on FalkorDB; FalkorDB has no temporal types (`datetime()` is unknown). The queries do no
  arithmetic on stored values and format nothing: `created` is ISO 8601 text made in Python.
- Indexed booleans: once FalkorDB 4.16 has restored a graph from its append-only file (a restart), an equality with
  false on the indexed `Catalogue.active` (`c.active = false`) matches no node, while `NOT c.active` and
  `c.active = true` match as they should (tests/test_killed_mid_load.py); the queries say `NOT c.active`.
- FalkorDB cannot nest a pattern comprehension inside another; the queries use OPTIONAL MATCH and aggregation.
- Transactions: every `run` is one transaction on both. Neo4j's driver retries a write's transient failure (a
  deadlock, a leader switch) for up to the timeout; reads are asked once (auto-commit), as on FalkorDB, which runs
  each query atomically and never retries, so a stopped server fails a read at once on both.
- Plans: Neo4j caches a plan per query text and parameter types (lists by size bucket) and replans once the graph's
  statistics have moved and 10 s have passed, so the first few eligibility queries on a changing graph take 0.5-1 s
  of planning here; FalkorDB plans are cheap.
- Databases: Neo4j Community has one user database (`neo4j`), so tests share and empty it; FalkorDB has a graph per
  key (BEUWI_GRAPH_NAME).
"""

INDEXES = (
    ("Catalogue", "id"),
    ("Catalogue", "active"),
    ("Programme", "catalogue"),
    ("Programme", "id"),
    ("Subject", "catalogue"),
    ("Subject", "key"),
    ("Combination", "catalogue"),
    ("Scheme", "catalogue"),
    ("Scheme", "key"),
)
NO_GPA = 10_000  # on references that are not an associate degree: above every GPA, so never met by one
NEO4J_INDEX = "CREATE INDEX {label}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
FALKORDB_INDEX = "CREATE INDEX FOR (n:{label}) ON (n.{prop})"
VERSION_LABELS = ("Combination", "Scheme", "Programme", "Subject")  # deleted in this order, then the Catalogue node

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

CREATE_SCHEMES = """
UNWIND $rows AS row
MATCH (p:Programme {id: row.programme}) WHERE p.catalogue = $id
CREATE (p)-[:HAS_SCHEME]->(:Scheme {catalogue: $id, key: row.key, position: row.position,
                                    csec_passes: row.csec_passes, cape_passes: row.cape_passes,
                                    cape_units: row.cape_units, not_counted: row.not_counted})
"""

CREATE_MANDATORY = """
UNWIND $rows AS row
MATCH (s:Scheme {key: row.scheme}) WHERE s.catalogue = $id
MATCH (subject:Subject {key: row.subject}) WHERE subject.catalogue = $id
CREATE (s)-[:REQUIRES {ref: row.ref, gpa: row.gpa}]->(subject)
"""

CREATE_COMBINATIONS = """
UNWIND $rows AS row
MATCH (s:Scheme {key: row.scheme}) WHERE s.catalogue = $id
CREATE (s)-[:HAS]->(c:Combination {catalogue: $id, need: row.need, position: row.position})
WITH c, row
UNWIND row.options AS option
MATCH (subject:Subject {key: option.subject}) WHERE subject.catalogue = $id
CREATE (c)-[:OPTION {ref: option.ref, gpa: option.gpa}]->(subject)
"""

# Only a version still loading becomes ready: one purged meanwhile (see MARK_PURGING) stays gone.
MARK_READY = """
MATCH (c:Catalogue {id: $id}) WHERE c.status = 'loading'
SET c.status = 'ready'
RETURN c {.*} AS catalogue
"""

# One write: the target must exist and be ready, or nothing changes.
ACTIVATE = """
MATCH (target:Catalogue {id: $id}) WHERE target.status = 'ready'
MATCH (c:Catalogue) WHERE c.active = true OR c.id = $id
SET c.active = (c.id = $id)
RETURN target {.*} AS catalogue
"""

# One write, before any node goes: an inactive version stops being ready, so no reader starts or finishes on it.
MARK_DELETING = """
MATCH (c:Catalogue {id: $id}) WHERE c.status IN ['ready', 'deleting'] AND NOT c.active
SET c.status = 'deleting'
RETURN c.id
"""

# A version left unfinished (a crashed loader or delete, or one still running) is marked in one write, before any node
# goes: a loader still writing it can no longer make it ready.
MARK_PURGING = """
MATCH (c:Catalogue {id: $id}) WHERE c.status IN ['loading', 'deleting'] AND NOT c.active
SET c.status = 'deleting'
RETURN c.id
"""

DELETE_BATCH = "MATCH (n:{label} {{catalogue: $id}}) WITH n LIMIT $limit DETACH DELETE n RETURN count(n)"
DELETE_CATALOGUE = "MATCH (c:Catalogue {id: $id}) DELETE c"

VERSIONS = """
MATCH (c:Catalogue) WHERE c.status = 'ready'
RETURN c {.*} AS catalogue ORDER BY c.created DESC
"""

UNFINISHED_VERSIONS = """
MATCH (c:Catalogue) WHERE c.status IN ['loading', 'deleting']
RETURN c {.*} AS catalogue ORDER BY c.created
"""

ACTIVE_VERSION = "MATCH (c:Catalogue) WHERE c.active = true RETURN c.id"

# Read a page at a time (positions are 0..n-1 in load order), so a reader never holds 100,000 maps at once.
PROGRAMMES = """
MATCH (p:Programme {catalogue: $id}) WHERE p.position >= $start AND p.position < $end
RETURN p {.*} AS programme ORDER BY p.position
"""

# One round trip per search: counts first (cheap), then every mandatory reference, then every combination, per
# scheme; a programme is eligible when any of its schemes is. $csec and $cape are the keys of the subjects the
# profile has a CSEC pass / a whole CAPE subject of, $units a key per CAPE unit held, all as they count.
ELIGIBLE = """
MATCH (p:Programme {catalogue: $id})-[:HAS_SCHEME]->(s:Scheme)
WHERE s.csec_passes <= size($csec) - size([k IN s.not_counted WHERE k IN $csec])
  AND s.cape_passes <= size($cape) - size([k IN s.not_counted WHERE k IN $cape])
  AND s.cape_units <= size($units) - size([k IN $units WHERE k IN s.not_counted])
OPTIONAL MATCH (s)-[r:REQUIRES]->()
WITH p, s, count(r) AS mandatory, count(CASE WHEN r.ref IN $met OR r.gpa <= $gpa THEN 1 END) AS met
WHERE met = mandatory
OPTIONAL MATCH (s)-[:HAS]->(c:Combination)
OPTIONAL MATCH (c)-[o:OPTION]->()
WITH p, s, c, count(CASE WHEN o.ref IN $met OR o.gpa <= $gpa THEN 1 END) AS hits
WITH p, s, collect(CASE WHEN c IS NULL OR hits >= c.need THEN null ELSE 1 END) AS short
WHERE size(short) = 0
WITH DISTINCT p
RETURN p.id ORDER BY p.position
"""

PING = "RETURN 1"
