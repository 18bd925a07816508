"""The admin store contract on every backend (local files and SQLite; Firebase on the real emulators)."""
import base64
import json
import threading
import time
import uuid

import pytest
from firebase_admin import auth, storage

from beuwi.admin.app import BACKENDS
from beuwi.admin.firebase import init_firebase
from beuwi.admin.local import LocalFileStore
from beuwi.admin.stores import AuditEntry, NotFound, StoreError, Upload

from .emulators import sign_up


@pytest.fixture(params=["local", "firebase"])
def settings(request, tmp_path):
    if request.param == "firebase":
        return {**request.getfixturevalue("firebase_env"), "DATA_DIR": str(tmp_path)}
    return {"BACKEND": "local", "DATA_DIR": str(tmp_path)}


@pytest.fixture
def files(settings):
    return BACKENDS[settings["BACKEND"]]()[0].from_settings(settings)


@pytest.fixture
def metadata(settings):
    return BACKENDS[settings["BACKEND"]]()[1].from_settings(settings)


def upload(upload_id: str, created: str) -> Upload:
    return Upload(id=upload_id, created=created, filename=f"{upload_id}.csv", size=10, sha256="0" * 64,
                  uploaded_by="admin@example.org", status="parsed", message="", programmes=3, errors=1)


def a_name() -> str:
    return f"uploads/{uuid.uuid4().hex}/source.csv"


def test_file_round_trip_keeps_exact_bytes(files):
    name, data = a_name(), b"code,name\r\n\xff\xfe\x00caf\xe9\n"
    files.put(name, data)
    assert files.get(name) == data


def test_put_replaces_and_firebase_stores_the_content_type(firebase_env):
    files = BACKENDS["firebase"]()[0].from_settings(firebase_env)
    name = a_name()
    files.put(name, b"old")
    files.put(name, b"new", content_type="text/plain")
    assert files.get(name) == b"new"
    blob = storage.bucket(app=init_firebase(firebase_env)).get_blob(name)
    assert blob.content_type == "text/plain"


def test_put_replaces(files):
    name = a_name()
    files.put(name, b"old")
    files.put(name, b"new")
    assert files.get(name) == b"new"


def test_local_files_stay_inside_the_store_and_leave_no_empty_folders(tmp_path):
    files = LocalFileStore(tmp_path / "files")
    with pytest.raises(StoreError):
        files.put("../outside.csv", b"x")
    files.put("uploads/u1/source.csv", b"x")
    files.delete("uploads/u1/source.csv")
    assert list((tmp_path / "files").iterdir()) == []


def test_missing_file_is_not_found(files):
    with pytest.raises(NotFound):
        files.get(a_name())


def test_delete_is_idempotent(files):
    name = a_name()
    files.put(name, b"x")
    files.delete(name)
    files.delete(name)
    with pytest.raises(NotFound):
        files.get(name)


def test_metadata_add_get_and_list_newest_first(metadata):
    older, newer = upload("a1", "2024-05-01T10:00:00Z"), upload("b2", "2024-05-02T10:00:00Z")
    metadata.add(older)
    metadata.add(newer)
    assert metadata.get("a1") == older
    assert [u.id for u in metadata.list()] == ["b2", "a1"]


@pytest.mark.parametrize("upload_id", ["nope", "__reserved__", "..", "x" * 1501],
                         ids=["unknown", "reserved", "dots", "long"])
def test_missing_upload_is_not_found(metadata, upload_id):
    with pytest.raises(NotFound):
        metadata.get(upload_id)
    with pytest.raises(NotFound):
        metadata.set_schedule(upload_id, "2030-01-01T00:00:00+00:00", "someone")
    with pytest.raises(NotFound):
        metadata.mark_active(upload_id, "2024-05-03T00:00:00Z", "someone")


def test_only_one_upload_is_active(metadata):
    for n in range(3):
        metadata.add(upload(f"u{n}", f"2024-05-0{n + 1}T00:00:00Z"))
    metadata.mark_active("u0", "2024-06-01T00:00:00Z", "someone")
    metadata.mark_active("u2", "2024-06-02T00:00:00Z", "someone")
    metadata.mark_active("u1", "2024-06-03T00:00:00Z", "ana")
    active = {u.id: (u.active, u.activated_at, u.activated_by) for u in metadata.list()}
    assert active == {"u2": (False, "2024-06-02T00:00:00Z", "someone"), "u1": (True, "2024-06-03T00:00:00Z", "ana"),
                      "u0": (False, "2024-06-01T00:00:00Z", "someone")}


def test_remove_deletes_the_record(metadata):
    metadata.add(upload("gone", "2024-05-01T00:00:00Z"))
    metadata.remove("gone")
    with pytest.raises(NotFound):
        metadata.get("gone")
    assert metadata.list() == []


def test_audit_log_newest_first(metadata):
    first = AuditEntry("2024-05-01T00:00:00Z", "a@example.org", "upload", "u1")
    second = AuditEntry("2024-05-02T00:00:00Z", "b@example.org", "activate", "u1", "from u0")
    metadata.audit(first)
    metadata.audit(second)
    assert metadata.audit_log() == [second, first]
    assert metadata.audit_log(limit=1) == [second]


def rewrite(token: str, **claims) -> str:
    """The token with some payload claims replaced (the emulator's tokens carry no signature)."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    encoded = base64.urlsafe_b64encode(json.dumps({**data, **claims}).encode()).rstrip(b"=").decode()
    return ".".join([header, encoded, signature])


@pytest.fixture
def signed_up(firebase_env, auth_emulator):
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    return email, sign_up(auth_emulator, email, "secret-password")


def test_emulator_id_token_is_verified(firebase_env, signed_up):
    email, token = signed_up
    claims = auth.verify_id_token(token, app=init_firebase(firebase_env), check_revoked=True)
    assert claims["email"] == email


def test_token_for_another_project_is_rejected(firebase_env, signed_up):
    with pytest.raises(auth.InvalidIdTokenError, match="aud"):
        auth.verify_id_token(rewrite(signed_up[1], aud="demo-other"), app=init_firebase(firebase_env))


def test_token_claiming_an_unknown_user_is_rejected(firebase_env, signed_up):
    forged = rewrite(signed_up[1], sub="no-such-user", user_id="no-such-user")
    with pytest.raises(auth.UserNotFoundError):
        auth.verify_id_token(forged, app=init_firebase(firebase_env), check_revoked=True)


def test_garbled_token_is_rejected(firebase_env):
    with pytest.raises(auth.InvalidIdTokenError):
        auth.verify_id_token("not.a.token", app=init_firebase(firebase_env))


def test_records_from_before_errors_kept_read_as_keeping_every_error(settings, metadata):
    """Data dirs and Firestore projects written before uploads kept only their first errors: they kept them all."""
    old = {k: v for k, v in upload("old", "2024-05-01T00:00:00Z").as_dict().items() if k != "errors_kept"}
    if settings["BACKEND"] == "local":
        import sqlite3

        path = f"{settings['DATA_DIR']}/admin.sqlite3"
        sqlite3.connect(path).execute("DROP TABLE uploads").connection.commit()
        with sqlite3.connect(path) as db:
            db.execute(f"CREATE TABLE uploads ({', '.join(old)}, PRIMARY KEY (id))")
            db.execute(f"INSERT INTO uploads VALUES ({', '.join('?' for _ in old)})", tuple(old.values()))
        metadata = BACKENDS["local"]()[1].from_settings(settings)  # opening it brings the table up to date
    else:
        from firebase_admin import firestore

        firestore.client(init_firebase(settings)).collection(f"{settings['FIRESTORE_PREFIX']}_uploads") \
            .document("old").create(old)
    assert metadata.get("old").errors_kept == 1 == metadata.get("old").errors
    newer = Upload(**{**upload("new", "2024-05-02T00:00:00Z").as_dict(), "errors": 5000, "errors_kept": 1000})
    metadata.add(newer)
    assert [(u.id, u.errors, u.errors_kept) for u in metadata.list()] == [("new", 5000, 1000), ("old", 1, 1)]


def test_schedules_are_due_soonest_first_and_end_when_their_upload_is_made_active(metadata):
    for n in range(3):
        metadata.add(upload(f"s{n}", f"2024-05-0{n + 1}T00:00:00Z"))
    metadata.set_schedule("s2", "2024-06-01T09:00:00.000000+00:00", "ana")
    metadata.set_schedule("s0", "2024-06-01T08:00:00.000000+00:00", "bo")
    assert metadata.due("2024-06-01T07:59:59.999999+00:00") == []
    assert [(u.id, u.scheduled_by) for u in metadata.due("2024-06-01T09:00:00.000000+00:00")] == [("s0", "bo"),
                                                                                                   ("s2", "ana")]
    metadata.mark_active("s0", "2024-06-01T08:00:01Z", "bo")  # one write: active, and its schedule done
    assert [(u.id, u.active, u.scheduled_at) for u in metadata.list()] == [
        ("s2", False, "2024-06-01T09:00:00.000000+00:00"), ("s1", False, None), ("s0", True, None)]
    metadata.set_schedule("s2", None, None)
    assert metadata.due("9999") == []
    with pytest.raises(NotFound):
        metadata.set_schedule("nope", "2024-06-01T09:00:00.000000+00:00", "ana")


def test_a_lease_has_one_owner_until_released_or_expired(settings, metadata):
    other = BACKENDS[settings["BACKEND"]]()[1].from_settings(settings)  # another process's connection
    assert metadata.acquire("activation", "a", 30)
    assert not other.acquire("activation", "b", 30)
    assert metadata.acquire("activation", "a", 30)  # its owner renews it
    other.release("activation", "b")  # not b's to release
    assert not other.acquire("activation", "b", 30)
    metadata.release("activation", "a")
    assert other.acquire("activation", "b", 0.5)
    assert metadata.acquire("another", "a", 30)  # leases are independent
    time.sleep(0.6)  # b was killed and never released it
    assert metadata.acquire("activation", "a", 30)


def test_of_many_processes_taking_a_free_lease_at_once_exactly_one_gets_it(settings):
    contenders = [BACKENDS[settings["BACKEND"]]()[1].from_settings(settings) for _ in range(6)]
    start = threading.Barrier(len(contenders))
    won = []

    def take(n, meta):
        start.wait()
        if meta.acquire("activation", f"owner-{n}", 30):
            won.append(n)

    threads = [threading.Thread(target=take, args=pair) for pair in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
