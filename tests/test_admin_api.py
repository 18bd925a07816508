"""The admin API with the local backend over a real FalkorDB graph."""
import csv
import hashlib
import io
from pathlib import Path

import pytest

from beuwi.admin import create_app
from beuwi.admin.local import LocalFileStore, SqliteMetadataStore
from beuwi.admin.stores import StoreError
from beuwi.admin.uploads import Stores
from beuwi.search import create_app as create_engine

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
SAMPLE = (UPLOADS / "sample-catalogue.csv").read_bytes()
ROW_ERRORS = (UPLOADS / "broken" / "row-errors.csv").read_bytes()
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stores(tmp_path, graph_store):
    return Stores(LocalFileStore(tmp_path / "files"), SqliteMetadataStore(tmp_path / "admin.sqlite3"), graph_store)


@pytest.fixture
def client(stores, tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": TOKEN, "ADMIN_STORES": stores})
    return app.test_client()


def post_file(client, data, name="catalogue.csv", headers=AUTH):
    return client.post("/api/uploads", data={"file": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def test_upload_stores_the_file_its_errors_and_an_inactive_version(client, stores):
    response = post_file(client, ROW_ERRORS, "row-errors.csv")
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["programmes"], body["errors"], body["active"]) == ("parsed", 3, 7, False)
    assert body["sha256"] == hashlib.sha256(ROW_ERRORS).hexdigest() and body["size"] == len(ROW_ERRORS)
    assert body["uploaded_by"] == "admin" and body["filename"] == "row-errors.csv"
    assert client.get(f"/api/uploads/{body['id']}/source", headers=AUTH).data == ROW_ERRORS
    errors = list(csv.DictReader(io.StringIO(client.get(f"/api/uploads/{body['id']}/errors", headers=AUTH).text)))
    assert [(e["row"], e["column"]) for e in errors][:2] == [("3", "mandatory"), ("4", "combinations")]
    assert [p.id for p in stores.graph.programmes(body["id"])] == ["SCI-BSC-CS", "sociology", "AGR-BSC-AGRI"]
    assert stores.graph.active_version() is None


def test_a_file_level_problem_is_a_failed_upload_with_its_message(client, stores):
    body = post_file(client, (UPLOADS / "broken" / "missing-column.csv").read_bytes()).get_json()
    assert body["status"] == "failed" and "faculty" in body["message"] and body["programmes"] == 0
    assert stores.graph.versions() == []
    activate = client.post(f"/api/uploads/{body['id']}/activate", headers=AUTH)
    assert activate.status_code == 409 and "no programmes" in activate.get_json()["error"]


def test_over_the_size_limit_is_413_and_nothing_is_stored(stores, tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": TOKEN, "ADMIN_STORES": stores,
                      "MAX_UPLOAD_BYTES": 1000})
    client = app.test_client()
    assert post_file(client, SAMPLE[:5000]).status_code == 413
    huge = post_file(client, b"x" * 200_000)
    assert huge.status_code == 413 and huge.is_json
    assert client.get("/api/uploads", headers=AUTH).get_json()["uploads"] == []
    assert not (tmp_path / "files").exists()


def test_activate_roll_back_and_the_engine_follows(client, stores):
    first = post_file(client, SAMPLE, "sample.csv").get_json()
    second = post_file(client, ROW_ERRORS, "small.csv").get_json()
    engine = create_engine({"TESTING": True, "GRAPH_STORE": stores.graph, "ACTIVE_CHECK_SECONDS": 0}).test_client()

    activated = client.post(f"/api/uploads/{first['id']}/activate", headers=AUTH).get_json()
    assert activated["active"] is True and activated["activated_at"]
    assert len(engine.get("/api/programmes").get_json()["programmes"]) == 102

    client.post(f"/api/uploads/{second['id']}/activate", headers=AUTH)
    assert len(engine.get("/api/programmes").get_json()["programmes"]) == 3
    listed = client.get("/api/uploads", headers=AUTH).get_json()["uploads"]
    assert [(u["id"], u["active"]) for u in listed] == [(second["id"], True), (first["id"], False)]

    client.post(f"/api/uploads/{first['id']}/activate", headers=AUTH)  # roll back
    assert engine.get("/api/health").get_json()["catalogue"] == first["id"]
    actions = [(e["action"], e["upload_id"]) for e in client.get("/api/audit", headers=AUTH).get_json()["entries"]]
    assert actions[:3] == [("activate", first["id"]), ("activate", second["id"]), ("activate", first["id"])]


def test_a_failed_activation_keeps_the_previous_version_active(client, stores, monkeypatch):
    first = post_file(client, SAMPLE).get_json()
    second = post_file(client, ROW_ERRORS).get_json()
    client.post(f"/api/uploads/{first['id']}/activate", headers=AUTH)

    def broken(*args):
        raise StoreError("metadata write failed")

    monkeypatch.setattr(stores.meta, "mark_active", broken)
    response = client.post(f"/api/uploads/{second['id']}/activate", headers=AUTH)
    assert response.status_code == 503 and "metadata write failed" in response.get_json()["error"]
    monkeypatch.undo()
    assert stores.graph.active_version() == first["id"]
    assert client.get(f"/api/uploads/{first['id']}", headers=AUTH).get_json()["active"] is True
    assert client.get("/api/audit", headers=AUTH).get_json()["entries"][0]["action"] == "activate-failed"


def test_delete_removes_everything_but_not_the_active_upload(client, stores, tmp_path):
    active = post_file(client, SAMPLE).get_json()
    old = post_file(client, ROW_ERRORS).get_json()
    client.post(f"/api/uploads/{active['id']}/activate", headers=AUTH)
    refused = client.delete(f"/api/uploads/{active['id']}", headers=AUTH)
    assert refused.status_code == 409
    assert client.delete(f"/api/uploads/{old['id']}", headers=AUTH).status_code == 200
    assert client.get(f"/api/uploads/{old['id']}", headers=AUTH).status_code == 404
    assert client.get(f"/api/uploads/{old['id']}/source", headers=AUTH).status_code == 404
    assert [v.id for v in stores.graph.versions()] == [active["id"]]
    assert not (tmp_path / "files" / "uploads" / old["id"]).exists()


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


def test_a_generated_token_is_kept_under_the_data_dir(tmp_path, stores, capsys):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "", "ADMIN_STORES": stores})
    token = (tmp_path / "admin-token").read_text()
    assert token in capsys.readouterr().err and (tmp_path / "admin-token").stat().st_mode & 0o077 == 0
    again = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "", "ADMIN_STORES": stores})
    assert token not in capsys.readouterr().err  # printed once only
    for each in (app, again):
        assert each.test_client().get("/api/uploads", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_upload_without_a_file_field_is_400(client):
    response = client.post("/api/uploads", data={"other": "x"}, headers=AUTH)
    assert response.status_code == 400 and "'file'" in response.get_json()["error"]
