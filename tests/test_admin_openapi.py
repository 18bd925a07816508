"""The admin API's OpenAPI document stays true: every route is documented with the role it needs and nothing else is,
and real answers on each backend fit it; the admin's own objects allow no undocumented field."""
import io
import re
from datetime import datetime, timedelta, timezone

import jsonschema_rs
import pytest

from beuwi.admin import create_app
from beuwi.admin.review import _document, _openapi
from beuwi.admin.tokens import TokenStore

from .test_admin_api import (ROW_ERRORS, SAMPLE, TOKEN, UPLOADS, auth, backend, client, post_file,  # noqa: F401
                             stores, who)
from .test_search_api import falkordb_only

DOC = _openapi()
METHODS = {"get", "post", "put", "patch", "delete"}
OWN = _document("beuwi.admin")["components"]["schemas"]


def documented_routes() -> set:
    return {(path, method) for path, item in DOC["paths"].items() for method in item if method in METHODS}


def served_routes(app) -> set:
    return {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
            for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_documented_with_its_role_and_nothing_else_is(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": TOKEN, "BACKEND": "local"})
    assert served_routes(app) == documented_routes()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = DOC["paths"][re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)][method.lower()]
            role = getattr(app.view_functions[rule.endpoint], "role", None)
            assert operation.get("x-role") == role, f"{method} {rule.rule}"
            assert (operation.get("security") == []) == (role is None), f"{method} {rule.rule}: security"


def test_the_admins_own_objects_name_every_field_they_may_hold():
    def objects(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                objects(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                objects(value, f"{where}/{index}")

    objects(OWN, "#/components/schemas")
    assert {"Error", "Upload", "Diff", "RowErrors", "AuditLog", "Me"} <= set(OWN)


def resolve(node):
    while "$ref" in node:
        target = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


class Answers:
    """Checks answers against the document, remembering which (path, method, status) each one was."""

    def __init__(self):
        self.seen = set()

    def fit(self, response, path: str, method: str):
        operation = DOC["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method} {path}: undocumented {status}: {response.data[:300]}"
        content = resolve(operation["responses"][status]).get("content", {})
        assert response.mimetype in content, f"{method} {path} {status}: undocumented {response.mimetype}"
        if response.mimetype == "application/json":
            schema = {**content["application/json"]["schema"], "components": DOC["components"]}
            errors = [f"{e.instance_path}: {e.message}" for e in
                      jsonschema_rs.Draft202012Validator(schema).iter_errors(response.get_json())]
            assert not errors, f"{method} {path} {status}: {errors[:5]}"
        self.seen.add((path, method, status))
        return response


@falkordb_only
def test_real_answers_fit_the_document(client, auth):
    answers = Answers()

    def call(method, path, template=None, **kwargs):
        return answers.fit(getattr(client, method)(path, **kwargs), template or path, method)

    uploaded = "/api/uploads/{upload_id}"
    call("get", "/api/health")
    assert call("get", "/api/openapi.json", headers=auth).get_json() == DOC
    call("get", "/api/me", headers=auth)
    first = call("post", "/api/uploads", headers=auth, content_type="multipart/form-data",
                 data={"file": (io.BytesIO(SAMPLE), "sample.csv")}).get_json()["id"]
    second = call("post", "/api/uploads", headers=auth, content_type="multipart/form-data",
                  data={"file": (io.BytesIO(ROW_ERRORS), "row-errors.csv")}).get_json()["id"]
    failed = post_file(client, (UPLOADS / "broken" / "missing-column.csv").read_bytes(), auth).get_json()["id"]
    call("post", "/api/uploads", headers=auth, content_type="multipart/form-data", data={})
    call("get", "/api/uploads", headers=auth)
    call("get", f"/api/uploads/{first}", uploaded, headers=auth)
    call("get", "/api/uploads/nope", uploaded, headers=auth)
    call("get", f"/api/uploads/{first}/source", uploaded + "/source", headers=auth)
    call("get", f"/api/uploads/{second}/errors", uploaded + "/errors", headers=auth)
    call("get", f"/api/uploads/{second}/errors", uploaded + "/errors", headers={**auth, "Accept": "application/json"})
    listed = call("get", f"/api/uploads/{second}/errors.json", uploaded + "/errors.json", headers=auth).get_json()
    assert listed["errors"]
    for kind in ("csv", "xlsx"):
        call("get", f"/api/template.{kind}", headers=auth)
    call("get", f"/api/uploads/{first}/diff", uploaded + "/diff", headers=auth)
    call("get", f"/api/uploads/{first}/diff?against=nope", uploaded + "/diff", headers=auth)
    call("get", f"/api/uploads/{failed}/diff", uploaded + "/diff", headers=auth)
    search = uploaded + "/search"
    found = call("post", f"/api/uploads/{first}/search", search, headers=auth, json={"subjects": [
        "English A (CSEC)", "Mathematics (CSEC:I)", "Biology (CSEC)", "Chemistry (CSEC)", "Physics (CSEC)",
        "Biology (CAPE:II)", "Chemistry (CAPE)", "Caribbean Studies (CAPE)"]}).get_json()
    assert found["eligible"] and found["near_misses"] and found["suggestions"]
    call("post", f"/api/uploads/{first}/search", search, headers=auth, json={"subjects": ["Chemestry (CSEC)", 2]})
    call("post", f"/api/uploads/{first}/search", search, headers=auth, json={"subject": []})
    call("post", f"/api/uploads/{failed}/search", search, headers=auth, json={"subjects": []})
    call("post", "/api/uploads/nope/search", search, headers=auth, json={"subjects": []})
    activate = uploaded + "/activate"
    call("post", f"/api/uploads/{first}/activate", activate, headers=auth)
    call("post", f"/api/uploads/{failed}/activate", activate, headers=auth)
    call("post", f"/api/uploads/{second}/activate", activate, headers=auth, json={"at": "tomorrow"})
    changed = call("get", f"/api/uploads/{second}/diff", uploaded + "/diff", headers=auth).get_json()
    assert changed["against"] == first and changed["removed"] and changed["changed"]
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    call("post", f"/api/uploads/{second}/activate", activate, headers=auth, json={"at": later})
    call("delete", f"/api/uploads/{second}/schedule", uploaded + "/schedule", headers=auth)
    call("delete", f"/api/uploads/{second}/schedule", uploaded + "/schedule", headers=auth)
    call("delete", f"/api/uploads/{first}", uploaded, headers=auth)
    call("delete", f"/api/uploads/{second}", uploaded, headers=auth)
    call("get", "/api/audit", headers=auth)
    call("get", "/api/uploads")
    call("get", "/api/me", headers={"Authorization": "Bearer not-a-token"})

    successes = {(path, method) for path, method, status in answers.seen if status.startswith("2")}
    assert successes == documented_routes()
    assert {s for _, _, s in answers.seen} >= {"200", "201", "202", "400", "401", "404", "409"}


@falkordb_only
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_a_missing_role_fits_the_document(client, backend):
    viewer = TokenStore.from_settings(backend).create("vera", "viewer")
    headers = {"Authorization": f"Bearer {viewer}"}
    answers = Answers()
    answers.fit(client.post("/api/uploads", headers=headers, data={}), "/api/uploads", "post")
    refused = answers.fit(client.post("/api/uploads/x/activate", headers=headers), "/api/uploads/{upload_id}/activate",
                          "post").get_json()
    assert (refused["needs"], refused["role"]) == ("publisher", "viewer")
    assert answers.seen == {("/api/uploads", "post", "403"), ("/api/uploads/{upload_id}/activate", "post", "403")}
