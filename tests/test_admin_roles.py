"""Roles and accounts: every admin route, as the app's url_map has it, refuses each role below the one it names, on
both backends; local named tokens through the real CLI against running admin apps; the first-start token, a data dir
from before named tokens, and BEUWI_ADMIN_TOKEN. (Firebase roles granted and revoked: also tests/test_admin_api.py.)"""
import json
import sqlite3

import pytest
from click.testing import CliRunner

from beuwi.admin import create_app
from beuwi.admin.roles import ROLES
from beuwi.admin.tokens import TokenStore, digest
from beuwi.cli import main
from beuwi.ports import free_port

from .emulators import sign_in, sign_up
from .processes import call_json as call, start_service, stop, wait_until_live
from .test_admin_api import SAMPLE, TOKEN, backend, backend_auth_host, multipart, stores  # noqa: F401 (fixtures)
from .test_search_api import falkordb_only

PUBLIC = {"health"}  # the one endpoint anyone may call: a load balancer's check
MADE_UP = "no-such-upload"
PASSWORD = "password-123"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def people(backend, monkeypatch):
    """Name and Authorization header of one person in each role: a named token, or a Firebase user given the role
    with `beuwi admin grant`."""
    if backend["BACKEND"] == "local":
        tokens = TokenStore.from_settings(backend)
        return {role: (f"{role} person", bearer(tokens.create(f"{role} person", role))) for role in ROLES}
    for key in ("FIREBASE_PROJECT", "FIREBASE_BUCKET"):
        monkeypatch.setenv(f"BEUWI_{key}", backend[key])
    host, found = backend_auth_host(), {}
    for role in ROLES:
        email = f"{role}-{backend['FIRESTORE_PREFIX']}@example.org"
        sign_up(host, email, PASSWORD)
        granted = CliRunner().invoke(main, ["admin", "grant", email, "--role", role])
        assert granted.exit_code == 0 and f"now has the {role} role" in granted.output, granted.output
        found[role] = (email, bearer(sign_in(host, email, PASSWORD)))
    return found


def routes(app):
    """(rule, method, path) of every route but the public ones, its variables filled with a made-up upload id."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = rule.build({name: MADE_UP for name in rule.arguments})[1]
            assert adapter.match(path, method)[0] == rule.endpoint, f"{path} does not reach {rule.endpoint}"
            yield rule, method, path


def test_every_admin_view_names_the_role_it_needs(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": TOKEN})
    unnamed = [endpoint for endpoint, view in app.view_functions.items()
               if endpoint not in PUBLIC and getattr(view, "role", None) not in ROLES]
    assert unnamed == []


@falkordb_only
def test_every_route_refuses_each_role_below_the_one_it_needs_and_lets_that_role_in(backend, stores, people):
    """Enumerated from the url_map, so a route added later is checked too: a lower role gets 403 naming the role
    needed and the caller's; the role itself gets past the check (404 for the made-up upload, 400 for no file...);
    no token at all gets 401."""
    client = create_app({**backend, "ADMIN_STORES": stores}).test_client()
    for role, (name, headers) in people.items():
        assert {k: v for k, v in client.get("/api/me", headers=headers).get_json().items() if k != "may"} == {
            "name": name, "role": role}
    wrong, checked, refused = [], 0, []
    for rule, method, path in routes(client.application):
        needed = client.application.view_functions[rule.endpoint].role
        for role in ROLES[:ROLES.index(needed) + 1]:
            answer = client.open(path, method=method, headers=people[role][1])
            body = answer.get_json(silent=True) or {}
            if (answer.status_code, body.get("needs"), body.get("role")) != (403, needed, role) if role != needed \
                    else answer.status_code in (401, 403):
                wrong.append(f"{method} {path} as {role} (needs {needed}): {answer.status_code} {body}")
            if role != needed and method != "GET":
                refused.append((people[role][0], f"{method} {path} needs the {needed} role; {people[role][0]} has {role}"))
            checked += 1
        anonymous = client.open(path, method=method)
        if anonymous.status_code != 401:
            wrong.append(f"{method} {path} without a token: {anonymous.status_code}")
    assert wrong == [] and checked >= 15
    # Each attempt to change something without the role is in the audit log, by whom and what; reads are not.
    logged = [(e["who"], e["detail"]) for e in client.get("/api/audit", headers=people["viewer"][1]).get_json()[
        "entries"] if e["action"] == "refused"]
    assert sorted(logged) == sorted(refused) and len(refused) >= 6




def cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["admin", "token", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@falkordb_only
def test_tokens_made_listed_and_revoked_with_the_cli_apply_at_once_in_two_running_admin_apps(graph_settings, tmp_path,
                                                                                            monkeypatch):
    """Two `beuwi serve admin` on one data dir, started together without BEUWI_ADMIN_TOKEN: one publisher `admin`
    is made, its token shown once; a token the CLI makes works in both, names its person in `uploaded_by`, and stops
    working in both the moment the CLI revokes it or it expires."""
    monkeypatch.setenv("BEUWI_DATA_DIR", str(tmp_path))
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"admin-{port}.log" for port in ports]
    served = [start_service("admin", port, log, **graph_settings, DATA_DIR=tmp_path) for port, log in zip(ports, logs)]
    admins = [f"http://127.0.0.1:{port}/api" for port in ports]
    try:
        for process, port, log in zip(served, ports, logs):
            wait_until_live(process, port, log, "/api/health")
        first = (tmp_path / "admin-token").read_text()
        assert (tmp_path / "admin-token").stat().st_mode & 0o777 == 0o600
        assert sum(log.read_text().count(first) for log in logs) == 1  # shown once, by one of the two
        for admin in admins:
            assert call("GET", f"{admin}/me", first)[1]["role"] == "publisher"

        alice = cli("create", "alice", "--role", "editor").strip()
        status, upload = call("POST", f"{admins[0]}/uploads", alice, *multipart('filename="sample.csv"', SAMPLE))
        assert status == 201 and upload["uploaded_by"] == "alice"
        status, refused = call("POST", f"{admins[1]}/uploads/{upload['id']}/activate", alice)
        assert status == 403 and (refused["needs"], refused["role"]) == ("publisher", "editor")
        bob = cli("create", "bob", "--role", "viewer", "--days", "30").strip()
        assert call("GET", f"{admins[1]}/me", bob)[1]["name"] == "bob"

        listed = cli("list", "--json")
        tokens = {t["name"]: t for t in json.loads(listed)["tokens"]}
        assert {name: (t["role"], t["status"], t["revoked_at"]) for name, t in tokens.items()} == {
            "admin": ("publisher", "active", None), "alice": ("editor", "active", None),
            "bob": ("viewer", "active", None)}
        assert tokens["alice"]["expires"] is None and tokens["bob"]["expires"] > tokens["bob"]["created"]
        text = cli("list")
        assert "alice" in text and "publisher" in text
        stored = (tmp_path / "admin.sqlite3").read_bytes()
        for secret in (first, alice, bob):
            assert secret not in listed + text and digest(secret) not in listed + text
            assert secret.encode() not in stored and digest(secret).encode() in stored

        assert "alice's token is revoked" in cli("revoke", "alice")
        for admin in admins:
            status, body = call("GET", f"{admin}/uploads", alice)
            assert status == 401 and body["error"].startswith("the admin token of alice was revoked at 20")
        with sqlite3.connect(tmp_path / "admin.sqlite3") as db:  # time passes: bob's 30 days are over
            db.execute("UPDATE tokens SET expires = '2026-01-01T00:00:00+00:00' WHERE name = 'bob'")
        for admin in admins:
            assert call("GET", f"{admin}/me", bob) == (
                401, {"error": "the admin token of bob expired at 2026-01-01T00:00:00+00:00"})
            assert call("GET", f"{admin}/me", "x" * 43) == (401, {"error": "invalid admin token"})
        assert [t["status"] for t in json.loads(cli("list", "--json"))["tokens"]] == ["active", "revoked", "expired"]
    finally:
        for process in served:
            stop(process)
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace")


def test_the_cli_refuses_a_second_live_token_for_a_name_and_revoking_none(tmp_path, monkeypatch):
    monkeypatch.setenv("BEUWI_DATA_DIR", str(tmp_path))
    cli("create", "carol", "--role", "viewer")
    again = CliRunner().invoke(main, ["admin", "token", "create", "carol", "--role", "editor"])
    assert again.exit_code == 2 and "carol already has a token that is not revoked" in again.output
    cli("revoke", "carol")
    none = CliRunner().invoke(main, ["admin", "token", "revoke", "carol"])
    assert none.exit_code == 2 and "carol has no token to revoke" in none.output
    assert cli("create", "carol", "--role", "editor")  # a new one once the old is revoked
    unknown = CliRunner().invoke(main, ["admin", "token", "create", "dan", "--role", "owner"])
    assert unknown.exit_code == 2 and "'owner' is not one of 'viewer', 'editor', 'publisher'" in unknown.output


def me(app, token: str):
    answer = app.test_client().get("/api/me", headers=bearer(token))
    return answer.status_code, answer.get_json()


def test_a_data_dir_from_before_named_tokens_keeps_its_token_as_the_publisher_admin(tmp_path, capsys):
    """The older admin app left its token in `admin-token` and no tokens table: that token is now the publisher
    `admin`, and nothing new is generated or shown."""
    with sqlite3.connect(tmp_path / "admin.sqlite3") as db:
        db.execute("CREATE TABLE audit (at, who, action, upload_id, detail)")
    old = "old-generated-token-" + "x" * 23
    (tmp_path / "admin-token").write_text(old)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": ""})
    assert me(app, old)[1]["name"] == "admin" and me(app, old)[1]["role"] == "publisher"
    assert (tmp_path / "admin-token").read_text() == old and old not in capsys.readouterr().err
    assert [(t.name, t.role) for t in TokenStore.from_settings({"DATA_DIR": tmp_path}).list()] == [
        ("admin", "publisher")]


def test_the_configured_admin_token_is_the_publisher_admin_beside_named_tokens(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "ADMIN_TOKEN": TOKEN})
    assert me(app, TOKEN)[1]["name"] == "admin" and me(app, TOKEN)[1]["role"] == "publisher"
    assert not (tmp_path / "admin-token").exists()  # nothing generated while one is configured
    carol = TokenStore.from_settings({"DATA_DIR": tmp_path}).create("carol", "viewer")
    assert me(app, carol)[1]["role"] == "viewer"  # made after the app started
    assert me(app, TOKEN[:-1] + "!") == (401, {"error": "invalid admin token"})
