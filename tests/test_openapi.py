"""The OpenAPI document stays true: every route is documented, nothing else is, and real answers fit it."""
import json
import re
from importlib import resources

import pytest

from beuwi.search import create_app

from .test_search_api import CATALOGUE, MATHS, make_app

DOC = json.loads(resources.files("beuwi.search").joinpath("openapi.json").read_text("utf-8"))
METHODS = {"get", "post", "put", "patch", "delete"}


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


def check(value, schema, where="$"):
    """A strict validator of the JSON Schema subset the document uses; an unknown keyword fails the test."""
    schema = deref(schema)
    known = {"type", "required", "properties", "items", "enum", "minimum", "allOf", "minLength", "maxLength",
             "maxItems", "pattern"}
    unknown = set(schema) - ANNOTATIONS - known
    assert not unknown, f"{where}: the test does not understand {unknown}"
    for part in schema.get("allOf", []):
        check(value, part, where)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert any(_is(value, t) for t in types), f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "minimum" in schema:
        assert value >= schema["minimum"], f"{where}: {value!r} < {schema['minimum']}"
    if isinstance(value, str):
        assert schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)), f"{where}: length"
        assert re.search(schema.get("pattern", ""), value), f"{where}: {value!r} does not match {schema['pattern']}"
    if isinstance(value, list):
        assert len(value) <= schema.get("maxItems", len(value)), f"{where}: more than {schema['maxItems']} items"
    if isinstance(value, dict):
        missing = set(schema.get("required", [])) - set(value)
        assert not missing, f"{where}: missing {missing}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{where}[{i}]")


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


@pytest.fixture
def client(falkordb_store):
    version = falkordb_store.load(CATALOGUE, source="test")
    falkordb_store.activate(version.id)
    return make_app(falkordb_store).test_client()


def documented(path, method, status):
    response = deref(DOC["paths"][path][method]["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


@pytest.mark.parametrize("path, method, request_kwargs, status", [
    ("/api/ping", "get", {"path": "/api/ping"}, 200),
    ("/api/health", "get", {"path": "/api/health"}, 200),
    ("/api/health/live", "get", {"path": "/api/health/live"}, 200),
    ("/api/health/ready", "get", {"path": "/api/health/ready"}, 200),
    ("/api/search", "get", {"path": "/api/search", "query_string": [("subject", s) for s in MATHS]}, 200),
    ("/api/search", "get", {"path": "/api/search", "query_string": {"subject": "Chemestry (CSEC)"}}, 400),
    ("/api/search", "post", {"path": "/api/search", "json": {"subjects": MATHS}}, 200),
    ("/api/search", "post", {"path": "/api/search", "json": {"subjects": ["Maths"]}}, 400),
    ("/api/search", "post", {"path": "/api/search", "data": "x" * 70_000}, 413),
    ("/api/programmes", "get", {"path": "/api/programmes", "query_string": {"faculty": "Law"}}, 200),
    ("/api/programmes/{programme_id}", "get", {"path": "/api/programmes/mbbs"}, 200),
    ("/api/programmes/{programme_id}", "get", {"path": "/api/programmes/none"}, 404),
    ("/api/faculties", "get", {"path": "/api/faculties"}, 200),
    ("/api/subjects", "get", {"path": "/api/subjects", "query_string": {"q": "chem"}}, 200),
    ("/api/subjects", "get", {"path": "/api/subjects", "query_string": {"level": "A-level"}}, 400),
])
def test_real_answers_fit_the_document(client, path, method, request_kwargs, status):
    response = client.open(method=method.upper(), **request_kwargs)
    assert response.status_code == status
    body = response.get_json()
    check(body, documented(path, method, status))
    if status == 200 and path in ("/api/search", "/api/programmes", "/api/faculties", "/api/subjects"):
        lists = [v for v in body.values() if isinstance(v, list)]
        assert lists and all(lists), "an answer with empty lists proves little about its items"


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


def test_the_validator_rejects_what_the_document_forbids():
    with pytest.raises(AssertionError):
        check({"catalogue": "v1"}, {"$ref": "#/components/schemas/ProgrammeList"})
    with pytest.raises(AssertionError):
        check({"catalogue": "v1", "programmes": [{"id": "x"}]}, {"$ref": "#/components/schemas/ProgrammeList"})
    with pytest.raises(AssertionError):
        check({"subject": "Physics (CAPE)", "unlocks": 0}, {"$ref": "#/components/schemas/Suggestion"})
