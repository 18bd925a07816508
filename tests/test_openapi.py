"""The OpenAPI document stays true: every route is documented, nothing else is, and real answers fit it, field for
field: a field the engine answers that the document does not name fails, and so does a documented one it leaves out."""
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from beuwi.csv_catalogue import parse_catalogue
from beuwi.search import create_app

DOC = json.loads(resources.files("beuwi.search").joinpath("openapi.json").read_text("utf-8"))
METHODS = {"get", "post", "put", "patch", "delete"}
SAMPLE = Path(__file__).resolve().parent.parent / "uploads" / "sample-catalogue.csv"


def make_app(graph_store):
    return create_app({"TESTING": True, "GRAPH_STORE": graph_store, "ACTIVE_CHECK_SECONDS": 0})


def lookup(ref):
    node = DOC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def deref(node):
    while "$ref" in node:
        node = lookup(node["$ref"])
    return node


TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
ANNOTATIONS = {"description", "example"}
KNOWN = {"type", "required", "properties", "items", "enum", "minimum", "maximum", "allOf", "oneOf", "discriminator",
         "minLength", "maxLength", "minItems", "maxItems", "pattern"}


def fields(schema) -> set:
    """Every property a schema documents, its allOf parts' included."""
    schema = deref(schema)
    return set(schema.get("properties", {})).union(*(fields(part) for part in schema.get("allOf", [])))


def check(value, schema, where="$", seen=None, whole=True):
    """A strict validator of the JSON Schema subset the document uses; an unknown keyword fails the test. An object
    may hold only documented fields (the document stays open to clients; the engine may not outgrow it unnoticed).
    `seen` collects (schema name, discriminator value) of what was checked, to prove the answers cover the document."""
    seen = set() if seen is None else seen
    if "$ref" in schema:
        seen.add(schema["$ref"].rsplit("/", 1)[-1])
    schema = deref(schema)
    unknown = set(schema) - ANNOTATIONS - KNOWN
    assert not unknown, f"{where}: the test does not understand {unknown}"
    for part in schema.get("allOf", []):
        check(value, part, where, seen, whole=False)
    if "oneOf" in schema:
        _one_of(value, schema, where, seen)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert any(_is(value, t) for t in types), f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "minimum" in schema and value is not None:
        assert value >= schema["minimum"], f"{where}: {value!r} < {schema['minimum']}"
    if "maximum" in schema and value is not None:
        assert value <= schema["maximum"], f"{where}: {value!r} > {schema['maximum']}"
    if isinstance(value, str):
        assert schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)), f"{where}: length"
        assert re.search(schema.get("pattern", ""), value), f"{where}: {value!r} does not match {schema['pattern']}"
    if isinstance(value, list):
        assert schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)), f"{where}: item count"
    if isinstance(value, dict):
        missing = set(schema.get("required", [])) - set(value)
        assert not missing, f"{where}: missing {missing}"
        documented = fields(schema)
        if whole and documented:
            assert set(value) <= documented, f"{where}: undocumented {set(value) - documented}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(value[key], sub, f"{where}.{key}", seen)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{where}[{i}]", seen)
    return seen


def _one_of(value, schema, where, seen):
    """Exactly one branch fits; with a discriminator, the branch its mapping names for the value."""
    fits = []
    for branch in schema["oneOf"]:
        try:
            check(value, branch, where, set())
        except AssertionError:
            continue
        fits.append(branch["$ref"])
    assert len(fits) == 1, f"{where}: {value!r} fits {len(fits)} of the oneOf branches"
    if "discriminator" in schema:
        name = schema["discriminator"]["propertyName"]
        assert fits == [schema["discriminator"]["mapping"][value[name]]], f"{where}: {name} {value[name]!r}"
        seen.add((fits[0].rsplit("/", 1)[-1], value[name]))
    check(value, {"$ref": fits[0]}, where, seen)


def _is(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def documented_operations():
    return {(path, method) for path, item in DOC["paths"].items() for method in item if method in METHODS}


def app_operations(app):
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found.update((path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_every_route_is_documented_and_every_documented_route_exists():
    app = create_app({"TESTING": True})
    assert app_operations(app) == documented_operations()


def test_the_document_is_openapi_3_with_every_reference_resolvable():
    assert DOC["openapi"].startswith("3.")
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(DOC))
    assert refs
    for ref in refs:
        lookup(ref)  # raises KeyError when dangling


@pytest.mark.parametrize("path, method", sorted(documented_operations()))
def test_every_operation_is_described_with_parameters_and_responses(path, method):
    operation = DOC["paths"][path][method]
    assert operation["summary"] and operation["description"]
    assert "200" in operation["responses"]
    for name in re.findall(r"{(\w+)}", path):
        assert name in [deref(p)["name"] for p in operation["parameters"] if deref(p)["in"] == "path"]
    if method == "post":
        assert operation["requestBody"]["content"]["application/json"]["schema"]
    for status, response in operation["responses"].items():
        response = deref(response)
        if status != "304":
            assert "application/json" in response["content"], f"{status} of {method} {path}"


def test_served_document_is_the_package_file(falkordb_store):
    body = make_app(falkordb_store).test_client().get("/api/openapi.json").get_json()
    assert body["paths"] == DOC["paths"]
    assert body["components"] == DOC["components"]


@pytest.fixture(scope="module")
def sample():
    return parse_catalogue(SAMPLE.read_bytes()).programmes


@pytest.fixture
def client(falkordb_store, sample):
    """The engine serving the v2 sample catalogue: schemes, units, not_counted, conditions, associate degrees."""
    version = falkordb_store.load(sample, source="sample")
    falkordb_store.activate(version.id)
    return make_app(falkordb_store).test_client()


def documented(path, method, status):
    response = deref(DOC["paths"][path][method]["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


CSEC = ["English A (CSEC)", "Mathematics (CSEC)", "Biology (CSEC)", "Chemistry (CSEC)", "Physics (CSEC)"]
SCHEME_B = [*CSEC, "Chemistry (CAPE)", "Biology (CAPE)", "Economics (CAPE)"]  # Cave Hill MBBS by scheme B
ONE_UNIT = [*CSEC, "History (CAPE:III)", "Pure Mathematics (CAPE U1)"]
LOW_GRADES = [*CSEC, "Biology (CAPE:IV)", "Law (CAPE:III)", "Pure Mathematics (CAPE:IV)",
              "Literatures in English (CAPE:III)", "Economics (CAPE)"]
LOW_GPA = [*CSEC, "Associate Degree (GPA:2.4)"]


def query(*subjects):
    return [("subject", s) for s in subjects]


def eligible(body, **want):
    return any(all(p[k] == v for k, v in want.items()) for p in body["eligible"])


def suggested(body, **want):
    return any(all(s[k] == v for k, v in want.items()) for s in body["suggestions"])


def missing(body, **want):
    return any(all(m[k] == v for k, v in want.items()) for p in body["near_misses"] for m in p["missing"])


def scheme_checks(body, label, **want):
    return any(s["label"] == label and any(all(c[k] == v for k, v in want.items()) for c in s["checks"])
               for s in body["schemes"])


# (path, method, request, status, what the answer must show so that it proves something about the new shapes)
CASES = [
    ("/api/ping", "get", {"path": "/api/ping"}, 200, None),
    ("/api/health", "get", {"path": "/api/health"}, 200, None),
    ("/api/health/live", "get", {"path": "/api/health/live"}, 200, None),
    ("/api/health/ready", "get", {"path": "/api/health/ready"}, 200, None),
    ("/api/search", "get", {"path": "/api/search", "query_string": query(*SCHEME_B)}, 200,
     lambda b: eligible(b, id="MED-MBBS-CH", scheme="B", conditions=["Interview"], schemes=["A", "B"])),
    ("/api/search", "get", {"path": "/api/search", "query_string": query(*CSEC)}, 200,
     lambda b: eligible(b, scheme=None, schemes=[], conditions=["Minimum age 17"])),
    ("/api/search", "get", {"path": "/api/search", "query_string": query(*ONE_UNIT)}, 200,
     lambda b: suggested(b, kind="unit", subject="Pure Mathematics (CAPE U2)", replaces=None, grade=None)),
    ("/api/search", "get", {"path": "/api/search", "query_string": query(*LOW_GRADES)}, 200,
     lambda b: suggested(b, kind="grade", subject="Pure Mathematics (CAPE:II)", replaces="Pure Mathematics (CAPE:IV)",
                         grade="II")),
    ("/api/search", "post", {"path": "/api/search", "json": {"subjects": LOW_GPA}}, 200,
     lambda b: missing(b, kind="associate_degree", min_gpa=2.5, gpa=2.4) and missing(b, kind="units", short=2)),
    ("/api/search", "get", {"path": "/api/search", "query_string": query("Chemestry (CSEC)")}, 400, None),
    ("/api/search", "post", {"path": "/api/search", "json": {"subjects": ["Maths"]}}, 400, None),
    ("/api/search", "post", {"path": "/api/search", "data": "x" * 70_000}, 413, None),
    ("/api/programmes", "get", {"path": "/api/programmes", "query_string": {"faculty": "Medical Sciences"}}, 200,
     lambda b: any(p["schemes"] == ["A", "B"] for p in b["programmes"])),
    ("/api/programmes/{programme_id}", "get",
     {"path": "/api/programmes/MED-MBBS-CH", "query_string": query("Chemistry (GCE A:B)", "Biology (CAPE U1)")}, 200,
     lambda b: scheme_checks(b, "B", kind="subject", subject="Chemistry (CAPE)", by="Chemistry (GCE A:B)")
     and scheme_checks(b, "A", kind="subject", subject="Biology (CAPE)", held="Biology (CAPE U1)", met=False)),
    ("/api/programmes/{programme_id}", "get",
     {"path": "/api/programmes/SOC-BSC-BANK", "query_string": query("Associate Degree (GPA:2.8)")}, 200,
     lambda b: scheme_checks(b, "Associate Degree", kind="associate_degree", met=True, gpa=2.8, min_gpa=2.5)),
    ("/api/programmes/{programme_id}", "get",
     {"path": "/api/programmes/ENG-BSC-CIVIL", "query_string": query("Caribbean Studies (CAPE)")}, 200,
     lambda b: scheme_checks(b, None, kind="passes", level="CAPE", not_counted=["Caribbean Studies (CAPE)"])
     and scheme_checks(b, None, kind="units", not_counted=["Caribbean Studies (CAPE)"])),
    ("/api/programmes/{programme_id}", "get", {"path": "/api/programmes/MED-MBBS-CH"}, 200,
     lambda b: b["subjects"] == [] and not any(s["met"] for s in b["schemes"])),
    ("/api/programmes/{programme_id}", "get",
     {"path": "/api/programmes/MED-MBBS-CH", "query_string": query("Chemistry (CAPE U3)")}, 400, None),
    ("/api/programmes/{programme_id}", "get", {"path": "/api/programmes/none"}, 404, None),
    ("/api/faculties", "get", {"path": "/api/faculties"}, 200, None),
    ("/api/subjects", "get", {"path": "/api/subjects", "query_string": {"q": "chem"}}, 200,
     lambda b: {"label": "Chemistry (GCE A)", "equivalent": "Chemistry (CAPE)"}.items()
     <= next(s for s in b["subjects"] if s["level"] == "GCE A").items()
     and [level["level"] for level in b["levels"]] == ["CSEC", "CAPE", "GCE O", "GCE A"]),
    ("/api/subjects", "get", {"path": "/api/subjects", "query_string": {"level": " gce  a "}}, 200,
     lambda b: {s["level"] for s in b["subjects"]} == {"GCE A"}),
    ("/api/subjects", "get", {"path": "/api/subjects", "query_string": {"level": "A-level"}}, 400, None),
]


def answer(client, case):
    path, method, request_kwargs, status, _ = case
    response = client.open(method=method.upper(), **request_kwargs)
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]} {c[2]['path']} {c[3]}")
def test_real_answers_fit_the_document(client, case):
    path, method, _, status, shows = case
    body = answer(client, case)
    check(body, documented(path, method, status))
    if status == 200 and path in ("/api/search", "/api/programmes", "/api/faculties", "/api/subjects"):
        lists = [v for v in body.values() if isinstance(v, list)]
        assert lists and all(lists), "an answer with empty lists proves little about its items"
    if shows is not None:
        assert shows(body), "the answer does not show what this case is here for"


def test_the_answers_checked_cover_every_kind_of_check_and_suggestion(client):
    seen, suggestions = set(), set()
    for case in CASES:
        body = answer(client, case)
        seen |= check(body, documented(case[0], case[1], case[3]))
        suggestions |= {s["kind"] for s in body.get("suggestions", [])} if case[0] == "/api/search" else set()
    kinds = deref({"$ref": "#/components/schemas/Check"})["discriminator"]["mapping"]
    assert {(target.rsplit("/", 1)[-1], kind) for kind, target in kinds.items()} <= seen
    assert suggestions == set(deref({"$ref": "#/components/schemas/Suggestion"})["properties"]["kind"]["enum"])
    assert {"EligibleProgramme", "NearMiss", "SchemeResult", "ProgrammeDetails", "SubjectList"} <= seen


@pytest.mark.parametrize("reference", ["Chemistry (CSEC:II)", "chemistry ( cape )", "Physics (CAPE U2:III)",
                                       "Pure Mathematics (CAPE U1)", "Chemistry (GCE O:B)", "Biology (GCE A:A*)",
                                       "Associate Degree (GPA:2.75)", "Associate Degree (GPA:3)"])
def test_every_reference_syntax_fits_the_documented_pattern_and_is_searched(client, reference):
    for pattern in (deref({"$ref": "#/components/parameters/Subject"})["schema"]["items"]["pattern"],
                    DOC["components"]["schemas"]["SearchRequest"]["properties"]["subjects"]["items"]["pattern"]):
        assert re.search(pattern, reference)
    assert client.get("/api/search", query_string={"subject": reference}).status_code == 200


def test_unavailable_answers_fit_the_document(falkordb_store):
    client = make_app(falkordb_store).test_client()  # nothing active
    response = client.get("/api/faculties")
    assert response.status_code == 503
    check(response.get_json(), documented("/api/faculties", "get", 503))
    health = client.get("/api/health")
    check(health.get_json(), documented("/api/health", "get", 200))
    assert health.get_json()["catalogue"] is None
    ready = client.get("/api/health/ready")
    assert ready.status_code == 503
    check(ready.get_json(), documented("/api/health/ready", "get", 503))
    subjects = client.get("/api/subjects", query_string={"q": "phys"})  # no catalogue to count programmes in
    check(subjects.get_json(), documented("/api/subjects", "get", 200))
    assert {s["programmes"] for s in subjects.get_json()["subjects"]} == {0}


UNITS = {"kind": "units", "met": False, "needed": 6, "counted": 4, "short": 2, "not_counted": [], "text": "..."}


@pytest.mark.parametrize("value, schema", [
    ({"catalogue": "v1"}, "ProgrammeList"),
    ({"catalogue": "v1", "programmes": [{"id": "x"}]}, "ProgrammeList"),
    ({"kind": "subject", "subject": "Physics (CAPE)", "replaces": None, "grade": None, "unlocks": 0, "text": ""},
     "Suggestion"),
    ({"kind": "course", "subject": "Physics (CAPE)", "replaces": None, "grade": None, "unlocks": 1, "text": ""},
     "Suggestion"),
    ({**UNITS, "kind": "passes"}, "Check"),  # a passes check has a level
    ({**UNITS, "level": "CAPE"}, "Check"),  # a units check has none: an undocumented field
    ({k: v for k, v in UNITS.items() if k != "not_counted"}, "Check"),
    ({**UNITS, "kind": "grade"}, "Check"),
    ({"kind": "associate_degree", "met": True, "min_gpa": 2.5, "gpa": 4.5, "text": ""}, "Check"),
])
def test_the_validator_rejects_what_the_document_forbids(value, schema):
    check(UNITS, {"$ref": "#/components/schemas/Check"})
    with pytest.raises(AssertionError):
        check(value, {"$ref": f"#/components/schemas/{schema}"})
