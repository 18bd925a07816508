"""Scheduled activation, its cancelling, bad times, four-eyes and the activation lease, on each backend."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from beuwi.admin import create_app, lease, uploads
from beuwi.admin.app import BACKENDS
from beuwi.admin.schedule import Scheduler, fire_due
from beuwi.admin.stores import Upload
from beuwi.admin.uploads import Stores

from .test_admin_api import ROW_ERRORS, SAMPLE, UPLOADS, auth, backend, client, post_file, stores, who  # noqa: F401
from .test_search_api import falkordb_only

pytestmark = falkordb_only  # the graph's switch is tested on both graphs in test_admin_api


def later(seconds: float, offset_hours: int = -4) -> str:
    """A time `seconds` from now as a client in UTC-4 writes it."""
    zone = timezone(timedelta(hours=offset_hours))
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).astimezone(zone).isoformat()


def utc(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(timezone.utc).isoformat(timespec="microseconds")


def actions(client, auth, upload_id=None):
    entries = client.get("/api/audit", headers=auth).get_json()["entries"]
    return [(e["action"], e["upload_id"], e["who"]) for e in reversed(entries)
            if upload_id is None or e["upload_id"] == upload_id]


def fresh(backend, graph) -> Stores:
    """Store objects of their own on the same data: what another or a restarted admin process has."""
    files, meta = BACKENDS[backend["BACKEND"]]()
    return Stores(files.from_settings(backend), meta.from_settings(backend), graph)


def test_a_schedule_is_listed_and_fires_once_though_two_schedulers_race_and_one_restarted(client, stores, backend,
                                                                                         auth, who):
    first, second = (post_file(client, data, auth).get_json() for data in (SAMPLE, ROW_ERRORS))
    assert client.post(f"/api/uploads/{first['id']}/activate", headers=auth).status_code == 200
    at = later(1.5)
    response = client.post(f"/api/uploads/{second['id']}/activate", json={"at": at}, headers=auth)
    assert response.status_code == 202
    body = response.get_json()
    assert (body["scheduled_at"], body["scheduled_by"], body["active"]) == (utc(at), who, False)
    assert body["scheduled_at"].endswith("+00:00")
    listed = {u["id"]: u["scheduled_at"] for u in client.get("/api/uploads", headers=auth).get_json()["uploads"]}
    assert listed == {first["id"]: None, second["id"]: utc(at)}

    early = Scheduler(lambda: fresh(backend, stores.graph), 0.05)  # a process that stops before the time comes
    early.start()
    early.stop()
    assert stores.graph.active_version() == first["id"]
    time.sleep(max(0.0, (datetime.fromisoformat(at) - datetime.now(timezone.utc)).total_seconds()))
    racing = [fresh(backend, stores.graph) for _ in range(2)]  # two processes started after it, on the same stores
    start = threading.Barrier(len(racing))

    def check_often(each):
        start.wait()
        for _ in range(5):
            fire_due(each)

    threads = [threading.Thread(target=check_often, args=(each,)) for each in racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores.graph.active_version() == second["id"]
    record = client.get(f"/api/uploads/{second['id']}", headers=auth).get_json()
    assert (record["active"], record["activated_by"], record["scheduled_at"], record["scheduled_by"]) == (
        True, who, None, None)
    assert actions(client, auth, second["id"]) == [("upload", second["id"], who), ("schedule", second["id"], who),
                                                   ("activate-scheduled", second["id"], who)]
    [fired] = [e for e in client.get("/api/audit", headers=auth).get_json()["entries"]
               if e["action"] == "activate-scheduled"]
    assert fired["detail"] == f"previous: {first['id']}; scheduled for {utc(at)}"


def test_a_scheduled_activation_interrupted_after_the_graph_switched_is_not_done_twice(client, stores, backend, auth,
                                                                                      who):
    first, second = (post_file(client, data, auth).get_json() for data in (SAMPLE, ROW_ERRORS))
    client.post(f"/api/uploads/{first['id']}/activate", headers=auth)
    past = uploads.now()
    stores.meta.set_schedule(second["id"], past, who)  # due; its scheduler switched the graph, then was killed
    stores.graph.activate(second["id"])

    restarted = fresh(backend, stores.graph)
    fire_due(restarted)
    record = client.get(f"/api/uploads/{second['id']}", headers=auth).get_json()
    assert (record["active"], record["scheduled_at"]) == (True, None)
    fired = client.get("/api/audit", headers=auth).get_json()["entries"][0]
    assert (fired["action"], fired["upload_id"]) == ("activate-scheduled", second["id"])
    assert "found active in the graph after an interrupted activation" in fired["detail"]

    client.post(f"/api/uploads/{first['id']}/activate", headers=auth)  # roll back: the schedule must not come back
    fire_due(restarted)
    assert stores.graph.active_version() == first["id"]
    assert [a for a, *_ in actions(client, auth)].count("activate-scheduled") == 1


def test_an_interrupted_scheduled_activation_is_settled_by_the_next_manual_one(client, stores, auth, who):
    first, second = (post_file(client, data, auth).get_json() for data in (SAMPLE, ROW_ERRORS))
    stores.meta.set_schedule(second["id"], uploads.now(), who)
    stores.graph.activate(second["id"])  # and the scheduler killed before it recorded it
    assert client.post(f"/api/uploads/{first['id']}/activate", headers=auth).status_code == 200
    fire_due(stores)
    assert stores.graph.active_version() == first["id"]
    assert [a for a, *_ in actions(client, auth)][-2:] == ["activate-scheduled", "activate"]


def test_cancel_and_delete_of_a_scheduled_upload(client, stores, auth, who):
    upload = post_file(client, ROW_ERRORS, auth).get_json()
    at = later(3600, offset_hours=2)
    assert client.post(f"/api/uploads/{upload['id']}/activate", json={"at": at}, headers=auth).status_code == 202
    refused = client.delete(f"/api/uploads/{upload['id']}", headers=auth)
    assert refused.status_code == 409 and "cancel the schedule" in refused.get_json()["error"]

    cancelled = client.delete(f"/api/uploads/{upload['id']}/schedule", headers=auth)
    assert cancelled.status_code == 200
    assert (cancelled.get_json()["scheduled_at"], cancelled.get_json()["scheduled_by"]) == (None, None)
    again = client.delete(f"/api/uploads/{upload['id']}/schedule", headers=auth)
    assert again.status_code == 409 and "nothing is pending" in again.get_json()["error"]
    assert client.delete("/api/uploads/nope/schedule", headers=auth).status_code == 404
    fire_due(stores)
    assert stores.graph.active_version() is None
    assert client.delete(f"/api/uploads/{upload['id']}", headers=auth).status_code == 200
    assert actions(client, auth, upload["id"]) == [
        ("upload", upload["id"], who), ("schedule", upload["id"], who), ("delete-refused", upload["id"], who),
        ("schedule-cancel", upload["id"], who), ("delete", upload["id"], who)]
    detail = client.get("/api/audit", headers=auth).get_json()["entries"][1]["detail"]
    assert detail == f"was at {utc(at)} by {who}"


def test_a_manual_activation_ends_its_own_schedule_and_leaves_the_others_pending(client, stores, auth):
    first, second = (post_file(client, data, auth).get_json() for data in (SAMPLE, ROW_ERRORS))
    for upload in (first, second):
        client.post(f"/api/uploads/{upload['id']}/activate", json={"at": later(3600)}, headers=auth)
    activated = client.post(f"/api/uploads/{first['id']}/activate", headers=auth).get_json()
    assert (activated["active"], activated["scheduled_at"]) == (True, None)
    pending = client.get(f"/api/uploads/{second['id']}", headers=auth).get_json()["scheduled_at"]
    entry = client.get("/api/audit", headers=auth).get_json()["entries"][0]
    assert entry["action"] == "activate"
    assert "its schedule for" in entry["detail"] and f"still scheduled: {second['id']} at {pending}" in entry["detail"]
    refused = client.post(f"/api/uploads/{first['id']}/activate", json={"at": later(60)}, headers=auth)
    assert refused.status_code == 409 and "already active" in refused.get_json()["error"]


@pytest.mark.parametrize("body, problem", [
    ({"at": "2020-01-01T09:00:00-04:00"}, "is in the past"),
    ({"at": "next Tuesday"}, "is not an ISO 8601 time"),
    ({"at": "2031-01-01T09:00:00"}, "has no UTC offset"),
    ({"at": "9999-12-31T23:00:00-05:00"}, "is not an ISO 8601 time"),  # past the last year a time can have
    ({"at": 1767225600}, '"at" must be a string'),
    ({"at": None}, '"at" must be a string'),
    ({"at": "2031-01-01T09:00:00Z", "by": "x"}, "unknown fields 'by'"),
    ([], "not an array"),
    (b"{not json", "send no body to activate now"),
    (b"[" * 100_000, "send no body to activate now"),
], ids=["past", "unparsable", "no offset", "year 10000", "number", "null", "other keys", "array", "not JSON",
        "deep nesting"])
def test_a_bad_schedule_is_400_with_the_reason_and_changes_nothing(client, stores, auth, body, problem):
    upload = post_file(client, ROW_ERRORS, auth).get_json()
    sent = {"data": body} if isinstance(body, bytes) else {"json": body}
    response = client.post(f"/api/uploads/{upload['id']}/activate", headers=auth, **sent)
    assert response.status_code == 400 and problem in response.get_json()["error"], response.get_json()
    assert client.get(f"/api/uploads/{upload['id']}", headers=auth).get_json()["scheduled_at"] is None
    assert stores.graph.active_version() is None


def test_a_schedule_for_an_upload_without_programmes_is_400(client, auth):
    failed = post_file(client, (UPLOADS / "broken" / "missing-column.csv").read_bytes(), auth).get_json()
    response = client.post(f"/api/uploads/{failed['id']}/activate", json={"at": later(60)}, headers=auth)
    assert response.status_code == 400 and "no programmes to serve" in response.get_json()["error"]
    assert actions(client, auth, failed["id"])[-1][0] == "activate-refused"
    assert client.post("/api/uploads/nope/activate", json={"at": later(60)}, headers=auth).status_code == 404


def test_four_eyes_refuses_the_uploader_now_and_scheduled(stores, backend, auth, who):
    client = create_app({**backend, "ADMIN_STORES": stores, "FOUR_EYES": 1}).test_client()
    own = post_file(client, ROW_ERRORS, auth).get_json()
    for sent in ({}, {"json": {"at": later(60)}}):
        refused = client.post(f"/api/uploads/{own['id']}/activate", headers=auth, **sent)
        assert refused.status_code == 403
        assert refused.get_json() == {"error": f"four-eyes rule: {who} uploaded {own['id']}, so someone else must "
                                               "activate it", "rule": "four-eyes"}
    theirs, _ = uploads.upload(stores, SAMPLE, "sample.csv", "ana@example.org", 10**7)
    assert client.post(f"/api/uploads/{theirs.id}/activate", headers=auth).status_code == 200
    assert [a for a, *_ in actions(client, auth)] == ["upload", "activate-refused", "activate-refused", "upload",
                                                      "activate"]
    off = create_app({**backend, "ADMIN_STORES": stores}).test_client()  # the default: 0
    assert off.post(f"/api/uploads/{own['id']}/activate", headers=auth).status_code == 200


def test_while_another_process_holds_the_lease_activations_and_deletes_are_409(client, stores, backend, auth, who):
    upload = post_file(client, ROW_ERRORS, auth).get_json()
    other = fresh(backend, stores.graph)
    with lease.held(other.meta, uploads.ACTIVATION_LEASE):
        for method, path in (("post", "activate"), ("delete", "")):
            response = getattr(client, method)(f"/api/uploads/{upload['id']}/{path}".rstrip("/"), headers=auth)
            assert response.status_code == 409
            assert response.get_json() == {"error": "another activation is in progress; try again"}
        with pytest.raises(lease.Held):
            uploads.activate_scheduled(stores, upload["id"])
    assert client.post(f"/api/uploads/{upload['id']}/activate", headers=auth).status_code == 200
    assert [a for a, *_ in actions(client, auth)] == ["upload", "activate-refused", "delete-refused", "activate"]


def test_a_schedule_whose_version_is_gone_fails_once_audited_and_is_dropped(client, stores, auth, who):
    kept, gone = (post_file(client, data, auth).get_json() for data in (SAMPLE, ROW_ERRORS))
    client.post(f"/api/uploads/{kept['id']}/activate", headers=auth)
    stores.meta.set_schedule(gone["id"], uploads.now(), who)
    stores.graph.delete(gone["id"])  # as if its version went missing after it was scheduled
    for _ in range(3):
        fire_due(stores)
    assert stores.graph.active_version() == kept["id"]
    assert client.get(f"/api/uploads/{gone['id']}", headers=auth).get_json()["scheduled_at"] is None
    failed = [e for e in client.get("/api/audit", headers=auth).get_json()["entries"] if e["upload_id"] == gone["id"]]
    assert [e["action"] for e in failed] == ["activate-failed", "upload"]
    assert failed[0]["detail"].startswith(f"CatalogueNotFound; previous {kept['id']} kept active; scheduled for")


def test_a_schedule_of_an_upload_found_missing_since_is_dropped_once_audited(client, stores, auth, who):
    upload = post_file(client, ROW_ERRORS, auth).get_json()
    stores.meta.remove(upload["id"])  # as the repair rewrites a record whose graph version is gone
    stores.meta.add(Upload(**{**upload, "status": "missing", "scheduled_at": uploads.now(), "scheduled_by": who}))
    fire_due(stores)
    fire_due(stores)
    assert stores.graph.active_version() is None
    assert client.get(f"/api/uploads/{upload['id']}", headers=auth).get_json()["scheduled_at"] is None
    [failed] = [e for e in client.get("/api/audit", headers=auth).get_json()["entries"] if e["action"] != "upload"]
    assert failed["action"] == "activate-failed" and "no programmes to serve (missing); schedule dropped" in \
        failed["detail"]
