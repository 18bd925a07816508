"""The admin API on each backend over a real graph: uploads, activation, rollback and delete on FalkorDB and on Neo4j."""
import base64
import csv
import hashlib
import io
import json
import time
from pathlib import Path

import click
import pytest

from beuwi.admin import create_app
from beuwi.admin.app import BACKENDS
from beuwi.admin.auth import set_role
from beuwi.admin.firebase import init_firebase
from beuwi.admin.stores import NotFound, StoreError, Upload
from beuwi.admin.uploads import Stores, source_name
from beuwi.graph import cypher
from beuwi.graph.store import GraphError, GraphUnavailable
from beuwi.ports import free_port
from beuwi.search import create_app as create_engine

from .emulators import sign_in, sign_up
from .processes import call_json, get_json, start_service, stop, wait_until, wait_until_live
from .test_search_api import falkordb_only, serves

UPLOADS = Path(__file__).resolve().parent.parent / "uploads"
SAMPLE = (UPLOADS / "sample-catalogue.csv").read_bytes()
ROW_ERRORS = (UPLOADS / "broken" / "row-errors.csv").read_bytes()
TOKEN = "test-token-" + "0123456789" * 3  # at least 32 characters, as the admin app requires


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
    """The header a publisher sends: BEUWI_ADMIN_TOKEN (the publisher `admin`), or a real Firebase ID token of a user
    given the publisher role."""
    if backend["BACKEND"] == "local":
        return {"Authorization": f"Bearer {TOKEN}"}
    host = backend_auth_host()
    sign_up(host, who, "password-123")
    set_role(init_firebase(backend), who, "publisher")
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


@falkordb_only
def test_over_the_size_limit_is_413_and_nothing_is_stored(stores, backend, auth):
    app = create_app({**backend, "ADMIN_STORES": stores, "MAX_UPLOAD_BYTES": 1000})
    client = app.test_client()
    assert post_file(client, SAMPLE[:5000], auth).status_code == 413
    huge = post_file(client, b"x" * 200_000, auth)
    assert huge.status_code == 413 and huge.is_json
    assert client.get("/api/uploads", headers=auth).get_json()["uploads"] == []
    assert stores.meta.audit_log() == []


def test_activate_roll_back_and_the_engine_follows(client, stores, auth, who):
    first = post_file(client, SAMPLE, auth, name="sample.csv").get_json()
    second = post_file(client, ROW_ERRORS, auth, name="small.csv").get_json()
    engine = create_engine({"TESTING": True, "GRAPH_STORE": stores.graph, "ACTIVE_CHECK_SECONDS": 0}).test_client()

    activated = client.post(f"/api/uploads/{first['id']}/activate", headers=auth).get_json()
    assert activated["active"] is True and activated["activated_at"] and activated["activated_by"] == who
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
    assert response.status_code == 503 and "temporarily unavailable" in response.get_json()["error"]
    assert stores.graph.active_version() == first["id"]
    assert client.get(f"/api/uploads/{first['id']}", headers=auth).get_json()["active"] is True
    failed = client.get("/api/audit", headers=auth).get_json()["entries"][0]
    assert failed["action"] == "activate-failed" and first["id"] in failed["detail"]
    assert "metadata write failed" not in response.get_data(as_text=True) + failed["detail"]  # that stays in the log


def test_a_load_that_fails_midway_leaves_no_trace_and_the_previous_version_serving(client, stores, auth):
    """The graph fails in the middle of an upload's load, its programmes already written: the upload is a 503, and
    nothing of it is left in the graph or the listing while the engine keeps serving the active version."""
    first = post_file(client, ROW_ERRORS, auth).get_json()
    client.post(f"/api/uploads/{first['id']}/activate", headers=auth)
    engine = create_engine({"TESTING": True, "GRAPH_STORE": stores.graph, "ACTIVE_CHECK_SECONDS": 0}).test_client()
    assert engine.get("/api/health").get_json()["catalogue"] == first["id"]
    real_run = stores.graph.run

    def failing_midway(query, params=None, *, write=False):
        if query == cypher.CREATE_MANDATORY:
            raise GraphUnavailable("the graph went away")
        return real_run(query, params, write=write)

    stores.graph.run = failing_midway  # only this store object, only until the del below
    try:
        response = post_file(client, SAMPLE, auth)
    finally:
        del stores.graph.run
    assert response.status_code == 503 and "temporarily unavailable" in response.get_json()["error"]
    assert [(v.id, v.active) for v in stores.graph.versions()] == [(first["id"], True)]
    assert stores.graph.run("MATCH (n) WHERE n.catalogue <> $id RETURN count(n)", {"id": first["id"]}) == [[0]]
    assert [u["id"] for u in client.get("/api/uploads", headers=auth).get_json()["uploads"]] == [first["id"]]
    assert engine.get("/api/health").get_json()["catalogue"] == first["id"]
    assert len(engine.get("/api/programmes").get_json()["programmes"]) == 3


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


def call(method: str, url: str, body: bytes | None = None, content_type: str = "") -> tuple[int, dict]:
    """Status and JSON body of an administrator's request to a served admin app."""
    return call_json(method, url, TOKEN, body, content_type)


def test_the_served_engine_follows_what_the_served_admin_app_activates_rolls_back_and_deletes(graph_settings, tmp_path):
    """`beuwi serve admin` and `beuwi serve search` as deployed, each in a gunicorn worker of its own and given the
    graph only in its BEUWI_* environment."""
    settings = {**graph_settings, "DATA_DIR": tmp_path, "ADMIN_TOKEN": TOKEN, "ACTIVE_CHECK_SECONDS": 0.2}
    ports = {"admin": free_port(), "search": free_port()}
    served = {name: start_service(name, port, tmp_path / f"{name}.log", **settings) for name, port in ports.items()}
    admin, engine = (f"http://127.0.0.1:{ports[name]}" for name in ("admin", "search"))
    try:
        wait_until_live(served["admin"], ports["admin"], tmp_path / "admin.log", "/api/health")
        wait_until_live(served["search"], ports["search"], tmp_path / "search.log")
        uploaded = [call("POST", f"{admin}/api/uploads", *multipart(f'filename="{name}"', data))
                    for name, data in (("sample.csv", SAMPLE), ("small.csv", ROW_ERRORS))]
        assert [status for status, _ in uploaded] == [201, 201]
        first, second = (body["id"] for _, body in uploaded)
        for version, count in ((first, 102), (second, 3), (first, 102)):  # the last one rolls back
            assert call("POST", f"{admin}/api/uploads/{version}/activate")[0] == 200
            wait_until(lambda: get_json(f"{engine}/api/programmes")[1].get("catalogue") == version,
                       f"the engine serves {version}", 30)
            assert len(get_json(f"{engine}/api/programmes")[1]["programmes"]) == count
        assert call("DELETE", f"{admin}/api/uploads/{first}")[0] == 409  # the active one
        assert call("DELETE", f"{admin}/api/uploads/{second}")[0] == 200
        assert [u["id"] for u in call("GET", f"{admin}/api/uploads")[1]["uploads"]] == [first]
        assert get_json(f"{engine}/api/health") == (200, {"status": "ok", "catalogue": first})
    finally:
        for process in served.values():
            stop(process)
    for name in ports:
        log = (tmp_path / f"{name}.log").read_text(errors="replace")
        assert "Traceback" not in log, log


@falkordb_only
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


@falkordb_only
def test_a_generated_token_is_kept_under_the_data_dir(tmp_path, graph_store, capsys):
    stores = Stores(*(kind.from_settings({"DATA_DIR": str(tmp_path)}) for kind in BACKENDS["local"]()), graph_store)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "", "ADMIN_STORES": stores})
    token = (tmp_path / "admin-token").read_text()
    assert token in capsys.readouterr().err and (tmp_path / "admin-token").stat().st_mode & 0o077 == 0
    again = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "", "ADMIN_STORES": stores})
    assert token not in capsys.readouterr().err  # printed once only
    for each in (app, again):
        assert each.test_client().get("/api/uploads", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@falkordb_only
def test_upload_without_a_file_field_is_400(client, auth):
    response = client.post("/api/uploads", data={"other": "x"}, headers=auth)
    assert response.status_code == 400 and "'file'" in response.get_json()["error"]


@falkordb_only
def test_firebase_users_need_a_role_the_older_admin_claim_or_the_allow_list(firebase_env, graph_store, tmp_path):
    from firebase_admin import auth as firebase_auth

    settings = {**firebase_env, "TESTING": True, "DATA_DIR": str(tmp_path)}
    stores = Stores(*(kind.from_settings(settings) for kind in BACKENDS["firebase"]()), graph_store)
    app, host = init_firebase(settings), backend_auth_host()
    email = f"student-{firebase_env['FIRESTORE_PREFIX']}@example.org"
    token = sign_up(host, email, "password-123")
    plain = create_app({**settings, "ADMIN_STORES": stores}).test_client()

    def me(client, token):
        answer = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, answer.get_json()

    status, refused = me(plain, token)
    assert status == 403 and "has no admin role" in refused["error"]
    listed = create_app({**settings, "ADMIN_STORES": stores, "ADMIN_EMAILS": f"other@x.org, {email.upper()}"})
    assert me(listed.test_client(), token)[1]["role"] == "publisher"

    user = firebase_auth.get_user_by_email(email, app=app)
    firebase_auth.set_custom_user_claims(user.uid, {"admin": True}, app=app)  # as the older `beuwi admin grant` did
    assert me(plain, sign_in(host, email, "password-123"))[1]["role"] == "publisher"

    set_role(app, email, "viewer")
    viewer = sign_in(host, email, "password-123")
    assert me(plain, viewer)[1] == {"name": email, "role": "viewer", "may": {
        "upload": False, "delete": False, "activate": False, "schedule": False}}
    upload = post_file(plain, SAMPLE, {"Authorization": f"Bearer {viewer}"})
    assert upload.status_code == 403 and (upload.get_json()["needs"], upload.get_json()["role"]) == ("editor", "viewer")

    time.sleep(1.1)  # Firebase dates sessions in whole seconds: a token from this second would outlive the revoke
    set_role(app, email, None)
    status, body = me(plain, viewer)  # signed out at once: the token the viewer holds is refused
    assert status == 401 and "revoked" in body["error"]
    assert me(plain, sign_in(host, email, "password-123"))[0] == 403


def test_beuwi_admin_grant_and_revoke(firebase_env, monkeypatch):
    from click.testing import CliRunner
    from firebase_admin import auth as firebase_auth

    from beuwi.cli import main

    for key in ("FIREBASE_PROJECT", "FIREBASE_BUCKET"):
        monkeypatch.setenv(f"BEUWI_{key}", firebase_env[key])
    host, app = backend_auth_host(), init_firebase(firebase_env)
    email = f"admin-{firebase_env['FIRESTORE_PREFIX']}@example.org"
    sign_up(host, email, "password-123")
    user = firebase_auth.get_user_by_email(email, app=app)
    firebase_auth.set_custom_user_claims(user.uid, {"admin": True, "team": "registry"}, app=app)
    runner = CliRunner()
    granted = runner.invoke(main, ["admin", "grant", email, "--role", "editor"])
    assert granted.exit_code == 0 and "now has the editor role" in granted.output
    claims = _claims(host, email)
    assert (claims.get("role"), claims.get("team"), "admin" in claims) == ("editor", "registry", False)
    revoked = runner.invoke(main, ["admin", "revoke", email])
    assert revoked.exit_code == 0 and "no longer has an admin role" in revoked.output
    claims = _claims(host, email)
    assert ("role" in claims, "admin" in claims, claims.get("team")) == (False, False, "registry")
    unknown = runner.invoke(main, ["admin", "grant", "nobody@example.org", "--role", "viewer"])
    assert unknown.exit_code == 2 and "no Firebase user" in unknown.output
    no_role = runner.invoke(main, ["admin", "grant", email])
    assert no_role.exit_code == 2 and "Missing option '--role'" in no_role.output


def _claims(host, email):
    payload = sign_in(host, email, "password-123").split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@falkordb_only
def test_downloads_keep_any_filename_safe(client, auth):
    body = post_file(client, SAMPLE, auth, name="reports/2026/Catálogo – 2026.csv").get_json()
    assert body["filename"] == "Catálogo – 2026.csv"
    response = client.get(f"/api/uploads/{body['id']}/source", headers=auth)
    assert response.data == SAMPLE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''Cat%C3%A1logo%20%E2%80%93%202026.csv" in disposition


@falkordb_only
def test_the_dashboard_may_call_from_another_origin(stores, backend, auth):
    client = create_app({**backend, "ADMIN_STORES": stores, "ADMIN_CORS_ORIGINS": "http://dashboard.test"}).test_client()
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


def preflight(client, origin):
    return client.options("/api/uploads", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "Authorization"})


@falkordb_only
def test_by_default_only_the_local_dashboard_may_call_from_a_browser(client):
    assert preflight(client, "http://evil.test").status_code == 403
    for origin in ("http://127.0.0.1:8080", "http://localhost:8080"):  # where `beuwi serve site` puts the dashboard
        allowed = preflight(client, origin)
        assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("token", ["a", "x" * 31])
def test_a_configured_admin_token_shorter_than_32_characters_is_refused(tmp_path, token):
    with pytest.raises(click.UsageError, match=f"BEUWI_ADMIN_TOKEN has {len(token)} characters; an admin token "
                                               "needs at least 32"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": token})
    assert create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": "x" * 32})


def test_beuwi_serve_admin_refuses_a_short_token_before_serving(falkordb_server, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from beuwi.cli import main

    monkeypatch.setenv("BEUWI_GRAPH_URI", falkordb_server)  # no embedded graph to start
    monkeypatch.setenv("BEUWI_ADMIN_TOKEN", "a")
    result = CliRunner().invoke(main, ["serve", "admin", "--data-dir", str(tmp_path), "--port", "0"])
    assert result.exit_code == 2 and "BEUWI_ADMIN_TOKEN has 1 characters" in result.output


def multipart(filename_parameter: str, data: bytes) -> tuple[bytes, str]:
    """An upload's body and content type, its file part named with this Content-Disposition parameter as any client
    may write it."""
    boundary = "beuwi-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; {filename_parameter}\r\n'
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_named(client, auth, filename_parameter: str, data: bytes = ROW_ERRORS):
    body, content_type = multipart(filename_parameter, data)
    return client.post("/api/uploads", data=body, headers=auth, content_type=content_type)


@pytest.mark.parametrize("parameter, stored", [
    ("filename*=UTF-8''a%0D%0AX.csv", "a X.csv"),  # CR LF: once made every download of it a 500
    ("filename*=UTF-8''a%01b%1B%7F%C2%85.csv", "ab .csv"),  # other control characters (U+0085 is a line break)
    ("filename*=UTF-8''a%00b.csv", "ab.csv"),  # NUL: once a 503 carrying the graph's query parser error
    ("filename*=UTF-8''invoice%E2%80%AEvsc.exe", "invoicevsc.exe"),  # a bidi override that hides the extension
    ("filename*=UTF-8''%E2%80%A8%09", "upload.csv"),  # nothing printable left
    (f'filename="{"x" * 200_000}.csv"', "x" * 196 + ".csv"),  # a 200 KB name: cut, extension kept
], ids=["CR LF", "control characters", "NUL", "bidi override", "nothing printable", "200 KB"])
def test_a_filename_is_stored_clean_and_every_listing_and_download_carries_it(client, auth, parameter, stored):
    response = post_named(client, auth, parameter)
    assert response.status_code == 201, response.get_data(as_text=True)
    upload = response.get_json()
    assert upload["filename"] == stored and upload["programmes"] == 3
    assert [u["filename"] for u in client.get("/api/uploads", headers=auth).get_json()["uploads"]] == [stored]
    download = client.get(f"/api/uploads/{upload['id']}/source", headers=auth)
    assert download.status_code == 200 and download.data == ROW_ERRORS
    assert download.headers["Content-Disposition"].isprintable()
    assert len(download.headers["Content-Disposition"]) < 1000
    audit = client.get("/api/audit", headers=auth).get_json()["entries"][0]
    assert audit["detail"] == f"{stored}: parsed"


@falkordb_only
def test_a_record_stored_with_a_control_character_still_downloads(client, stores, auth):
    upload = post_file(client, ROW_ERRORS, auth).get_json()
    stores.meta.remove(upload["id"])  # as the versions before the cleaning stored it
    stores.meta.add(Upload(**{**upload, "filename": "a\r\nX\x01.csv", "active": False}))
    download = client.get(f"/api/uploads/{upload['id']}/source", headers=auth)
    assert download.status_code == 200 and download.data == ROW_ERRORS
    assert download.headers["Content-Disposition"] == 'attachment; filename="a X.csv"'


@falkordb_only
def test_graph_failures_answer_a_plain_503_with_the_detail_in_the_log(client, stores, auth, caplog):
    internals = "errCtx: CYPHER id='\\x00' Invalid input at offset 12"
    upload = post_file(client, ROW_ERRORS, auth).get_json()

    def failing(*args):
        raise GraphError(f"graph query failed: {internals}")

    stores.graph.active_version = failing  # only this store object, only until the del below
    try:
        for path in ("/api/uploads", f"/api/uploads/{upload['id']}"):
            response = client.get(path, headers=auth)
            assert response.status_code == 503 and response.is_json
            assert response.get_json() == {
                "error": "the catalogue storage is temporarily unavailable; try again in a minute"}
    finally:
        del stores.graph.active_version
    assert internals in caplog.text


HOSTILE_CELL = b"programme,faculty,mandatory\nHostile,F," + b"Q (CSEC);" * 1_150_000 + b"\n"  # 10.35 MB


@falkordb_only
def test_one_hostile_10_mb_cell_is_one_row_error(client, auth):
    """Once 1.15 million unknown subjects: 37 s, 593 MB and a 51.5 MB errors CSV."""
    upload = post_file(client, HOSTILE_CELL, auth).get_json()
    assert (upload["status"], upload["programmes"], upload["errors"], upload["errors_kept"]) == ("parsed", 0, 1, 1)
    errors = client.get(f"/api/uploads/{upload['id']}/errors", headers=auth).data.decode("utf-8-sig")
    [error] = csv.DictReader(io.StringIO(errors))
    assert (error["row"], error["column"]) == ("2", "mandatory")
    assert "at most 4,000 characters; this one has 10,350,000" in error["message"]
    assert len(errors) < 1000


@falkordb_only
def test_an_upload_keeps_its_first_1000_row_errors_and_counts_them_all(client, auth):
    rows = [f"P{n},F,{'Q (CSEC); ' * 3}" for n in range(600)] + ["Law,Law,English A (CSEC)"]
    upload = post_file(client, ("programme,faculty,mandatory\n" + "\n".join(rows) + "\n").encode(), auth).get_json()
    assert (upload["programmes"], upload["errors"], upload["errors_kept"]) == (1, 1800, 1000)
    errors = client.get(f"/api/uploads/{upload['id']}/errors", headers=auth).data.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(errors)))) == 1000
    again = client.get(f"/api/uploads/{upload['id']}", headers=auth).get_json()
    assert (again["errors"], again["errors_kept"]) == (1800, 1000)
