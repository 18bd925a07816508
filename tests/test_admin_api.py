"""The admin API with the local backend over a real FalkorDB graph."""
import csv
import hashlib
import io
from pathlib import Path

import pytest

from beuwi.admin import create_app
from beuwi.admin.app import BACKENDS
from beuwi.admin.auth import set_admin
from beuwi.admin.firebase import init_firebase
from beuwi.admin.stores import NotFound, StoreError
from beuwi.admin.uploads import Stores, source_name
from beuwi.search import create_app as create_engine

from .emulators import sign_in, sign_up
from .test_search_api import serves

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
SAMPLE = (UPLOADS / "sample-catalogue.csv").read_bytes()
ROW_ERRORS = (UPLOADS / "broken" / "row-errors.csv").read_bytes()
TOKEN = "test-token-0123456789"


@pytest.fixture(params=["local", "firebase"])
def backend(request, tmp_path):
    """Settings of each backend: local files and SQLite, or Firebase on the emulators."""
    settings = {"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": TOKEN, "BACKEND": request.param}
    if request.param == "firebase":
        settings.update(request.getfixturevalue("firebase_env"))
    return settings


@pytest.fixture
def stores(backend, graph_store):
    files, meta = BACKENDS[backend["BACKEND"]]()
    return Stores(files.from_settings(backend), meta.from_settings(backend), graph_store)


@pytest.fixture
def who(backend):
    return "admin" if backend["BACKEND"] == "local" else f"{backend['FIRESTORE_PREFIX']}@example.org"


@pytest.fixture
def auth(backend, who):
    """The header an administrator sends: the local token, or a real Firebase ID token with the admin claim."""
    if backend["BACKEND"] == "local":
        return {"Authorization": f"Bearer {TOKEN}"}
    host = backend_auth_host()
    sign_up(host, who, "password-123")
    set_admin(init_firebase(backend), who, True)
    return {"Authorization": f"Bearer {sign_in(host, who, 'password-123')}"}


def backend_auth_host():
    import os

    return os.environ["FIREBASE_AUTH_EMULATOR_HOST"]


@pytest.fixture
def client(stores, backend):
    return create_app({**backend, "ADMIN_STORES": stores}).test_client()


def post_file(client, data, auth, name="catalogue.csv"):
    return client.post("/api/uploads", data={"file": (io.BytesIO(data), name)}, headers=auth,
                       content_type="multipart/form-data")


def test_upload_stores_the_file_its_errors_and_an_inactive_version(client, stores, auth, who):
    response = post_file(client, ROW_ERRORS, auth, name="row-errors.csv")
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["programmes"], body["errors"], body["active"]) == ("parsed", 3, 7, False)
    assert body["sha256"] == hashlib.sha256(ROW_ERRORS).hexdigest() and body["size"] == len(ROW_ERRORS)
    assert body["uploaded_by"] == who and body["filename"] == "row-errors.csv"
    assert client.get(f"/api/uploads/{body['id']}/source", headers=auth).data == ROW_ERRORS
    errors_csv = client.get(f"/api/uploads/{body['id']}/errors", headers=auth).data.decode("utf-8-sig")
    errors = list(csv.DictReader(io.StringIO(errors_csv)))
    assert [(e["row"], e["column"]) for e in errors][:2] == [("3", "mandatory"), ("4", "combinations")]
    assert [p.id for p in stores.graph.programmes(body["id"])] == ["SCI-BSC-CS", "sociology", "AGR-BSC-AGRI"]
    assert stores.graph.active_version() is None


def test_a_file_level_problem_is_a_failed_upload_with_its_message(client, stores, auth):
    body = post_file(client, (UPLOADS / "broken" / "missing-column.csv").read_bytes(), auth).get_json()
    assert body["status"] == "failed" and "faculty" in body["message"] and body["programmes"] == 0
    assert stores.graph.versions() == []
    activate = client.post(f"/api/uploads/{body['id']}/activate", headers=auth)
    assert activate.status_code == 409 and "no programmes" in activate.get_json()["error"]


def test_over_the_size_limit_is_413_and_nothing_is_stored(stores, backend, auth):
    app = create_app({**backend, "ADMIN_STORES": stores, "MAX_UPLOAD_BYTES": 1000})
    client = app.test_client()
    assert post_file(client, SAMPLE[:5000], auth).status_code == 413
    huge = post_file(client, b"x" * 200_000, auth)
    assert huge.status_code == 413 and huge.is_json
    assert client.get("/api/uploads", headers=auth).get_json()["uploads"] == []
    assert stores.meta.audit_log() == []


def test_activate_roll_back_and_the_engine_follows(client, stores, auth):
    first = post_file(client, SAMPLE, auth, name="sample.csv").get_json()
    second = post_file(client, ROW_ERRORS, auth, name="small.csv").get_json()
    engine = create_engine({"TESTING": True, "GRAPH_STORE": stores.graph, "ACTIVE_CHECK_SECONDS": 0}).test_client()

    activated = client.post(f"/api/uploads/{first['id']}/activate", headers=auth).get_json()
    assert activated["active"] is True and activated["activated_at"]
    assert len(engine.get("/api/programmes").get_json()["programmes"]) == 102

    client.post(f"/api/uploads/{second['id']}/activate", headers=auth)
    serves(engine, second["id"])
    assert len(engine.get("/api/programmes").get_json()["programmes"]) == 3
    listed = client.get("/api/uploads", headers=auth).get_json()["uploads"]
    assert [(u["id"], u["active"]) for u in listed] == [(second["id"], True), (first["id"], False)]

    client.post(f"/api/uploads/{first['id']}/activate", headers=auth)  # roll back
    assert engine.get("/api/health").get_json()["catalogue"] == first["id"]
    serves(engine, first["id"])
    actions = [(e["action"], e["upload_id"]) for e in client.get("/api/audit", headers=auth).get_json()["entries"]]
    assert actions[:3] == [("activate", first["id"]), ("activate", second["id"]), ("activate", first["id"])]


def test_a_failed_activation_keeps_the_previous_version_active(client, stores, auth):
    first = post_file(client, SAMPLE, auth).get_json()
    second = post_file(client, ROW_ERRORS, auth).get_json()
    client.post(f"/api/uploads/{first['id']}/activate", headers=auth)

    def broken(*args):
        raise StoreError("metadata write failed")

    stores.meta.mark_active = broken  # only this store object, only until the del below
    try:
        response = client.post(f"/api/uploads/{second['id']}/activate", headers=auth)
    finally:
        del stores.meta.mark_active
    assert response.status_code == 503 and "metadata write failed" in response.get_json()["error"]
    assert stores.graph.active_version() == first["id"]
    assert client.get(f"/api/uploads/{first['id']}", headers=auth).get_json()["active"] is True
    assert client.get("/api/audit", headers=auth).get_json()["entries"][0]["action"] == "activate-failed"


def test_delete_removes_everything_but_not_the_active_upload(client, stores, tmp_path, auth):
    active = post_file(client, SAMPLE, auth).get_json()
    old = post_file(client, ROW_ERRORS, auth).get_json()
    client.post(f"/api/uploads/{active['id']}/activate", headers=auth)
    refused = client.delete(f"/api/uploads/{active['id']}", headers=auth)
    assert refused.status_code == 409
    assert client.delete(f"/api/uploads/{old['id']}", headers=auth).status_code == 200
    assert client.get(f"/api/uploads/{old['id']}", headers=auth).status_code == 404
    assert client.get(f"/api/uploads/{old['id']}/source", headers=auth).status_code == 404
    assert [v.id for v in stores.graph.versions()] == [active["id"]]
    with pytest.raises(NotFound):
        stores.files.get(source_name(old["id"]))


@pytest.mark.parametrize("method, path", [
    ("post", "/api/uploads"), ("get", "/api/uploads"), ("get", "/api/uploads/x"), ("get", "/api/uploads/x/source"),
    ("get", "/api/uploads/x/errors"), ("post", "/api/uploads/x/activate"), ("delete", "/api/uploads/x"),
    ("get", "/api/audit"),
])
def test_every_admin_endpoint_needs_the_token(client, method, path):
    missing = getattr(client, method)(path)
    assert missing.status_code == 401 and missing.is_json
    wrong = getattr(client, method)(path, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.is_json


def test_a_generated_token_is_kept_under_the_data_dir(tmp_path, graph_store, capsys):
    stores = Stores(*(kind.from_settings({"DATA_DIR": str(tmp_path)}) for kind in BACKENDS["local"]()), graph_store)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "", "ADMIN_STORES": stores})
    token = (tmp_path / "admin-token").read_text()
    assert token in capsys.readouterr().err and (tmp_path / "admin-token").stat().st_mode & 0o077 == 0
    again = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "", "ADMIN_STORES": stores})
    assert token not in capsys.readouterr().err  # printed once only
    for each in (app, again):
        assert each.test_client().get("/api/uploads", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_upload_without_a_file_field_is_400(client, auth):
    response = client.post("/api/uploads", data={"other": "x"}, headers=auth)
    assert response.status_code == 400 and "'file'" in response.get_json()["error"]


def test_firebase_users_need_the_admin_claim_or_the_allow_list(firebase_env, graph_store, tmp_path):
    settings = {**firebase_env, "TESTING": True, "DATA_DIR": str(tmp_path)}
    stores = Stores(*(kind.from_settings(settings) for kind in BACKENDS["firebase"]()), graph_store)
    host = backend_auth_host()
    email = f"student-{firebase_env['FIRESTORE_PREFIX']}@example.org"
    token = sign_up(host, email, "password-123")
    plain = create_app({**settings, "ADMIN_STORES": stores}).test_client()
    refused = plain.get("/api/uploads", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403 and "not an administrator" in refused.get_json()["error"]

    listed = create_app({**settings, "ADMIN_STORES": stores, "ADMIN_EMAILS": f"other@x.org, {email.upper()}"})
    assert listed.test_client().get("/api/uploads", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    set_admin(init_firebase(settings), email, True)
    granted = sign_in(host, email, "password-123")
    assert plain.get("/api/uploads", headers={"Authorization": f"Bearer {granted}"}).status_code == 200
    set_admin(init_firebase(settings), email, False)
    revoked = sign_in(host, email, "password-123")
    assert plain.get("/api/uploads", headers={"Authorization": f"Bearer {revoked}"}).status_code == 403


def test_beuwi_admin_grant_and_revoke(firebase_env, monkeypatch):
    from click.testing import CliRunner

    from beuwi.cli import main

    for key in ("FIREBASE_PROJECT", "FIREBASE_BUCKET"):
        monkeypatch.setenv(f"BEUWI_{key}", firebase_env[key])
    host = backend_auth_host()
    email = f"admin-{firebase_env['FIRESTORE_PREFIX']}@example.org"
    sign_up(host, email, "password-123")
    runner = CliRunner()
    granted = runner.invoke(main, ["admin", "grant", email])
    assert granted.exit_code == 0 and "is now an administrator" in granted.output
    assert init_firebase(firebase_env) and _claims(host, email).get("admin") is True
    revoked = runner.invoke(main, ["admin", "revoke", email])
    assert revoked.exit_code == 0 and "admin" not in _claims(host, email)
    unknown = runner.invoke(main, ["admin", "grant", "nobody@example.org"])
    assert unknown.exit_code == 2 and "no Firebase user" in unknown.output


def _claims(host, email):
    import base64
    import json

    payload = sign_in(host, email, "password-123").split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_downloads_keep_any_filename_safe(client, auth):
    body = post_file(client, SAMPLE, auth, name="reports/2026/Catálogo – 2026.csv").get_json()
    assert body["filename"] == "Catálogo – 2026.csv"
    response = client.get(f"/api/uploads/{body['id']}/source", headers=auth)
    assert response.data == SAMPLE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''Cat%C3%A1logo%20%E2%80%93%202026.csv" in disposition


def test_the_dashboard_may_call_from_another_origin(stores, backend, auth):
    client = create_app({**backend, "ADMIN_STORES": stores, "CORS_ORIGINS": "http://dashboard.test"}).test_client()
    preflight = client.options("/api/uploads/x", headers={
        "Origin": "http://dashboard.test", "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "Authorization"})
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
    denied = client.options("/api/uploads", headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "GET"})
    assert denied.status_code == 403
    # The page on the other origin may read a download's file name.
    upload = post_file(client, SAMPLE, auth).get_json()
    download = client.get(f"/api/uploads/{upload['id']}/source", headers={**auth, "Origin": "http://dashboard.test"})
    assert download.headers["Access-Control-Allow-Origin"] == "http://dashboard.test"
    assert download.headers["Access-Control-Expose-Headers"] == "Content-Disposition"
