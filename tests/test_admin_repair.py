"""Repair on each backend: the metadata put right from the graph (which version is active, a record for every
version, records whose version is gone), and versions a crash left unfinished purged, by the admin app and the CLI."""
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from beuwi.admin import repair, uploads
from beuwi.admin.app import BACKENDS
from beuwi.admin.stores import NotFound
from beuwi.admin.uploads import Stores, UploadConflict
from beuwi.cli import main
from beuwi.ports import free_port

from .processes import start_service, stop, wait_until, wait_until_live
from .test_admin_api import ROW_ERRORS, SAMPLE, UPLOADS, auth, backend, client, who  # noqa: F401 (fixtures)
from .test_admin_openapi import Answers
from .test_graph_store import CATALOGUE, VERSION_LABELS, catalogue_nodes, count, crashed_load

MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture
def stores(backend, falkordb_store):
    files, meta = BACKENDS[backend["BACKEND"]]()
    return Stores(files.from_settings(backend), meta.from_settings(backend), falkordb_store)


def uploaded(stores, data=SAMPLE, name="sample.csv"):
    return uploads.upload(stores, data, name, "alice", MAX_BYTES)[0]


def audit(stores) -> list[tuple]:
    """(who, action, upload_id) of the audit log, oldest first."""
    return [(e.who, e.action, e.upload_id) for e in reversed(stores.meta.audit_log())]


def actives(stores) -> list[tuple]:
    """(id, active) of every record as the metadata itself says (not as the listing marks it from the graph)."""
    return sorted((u.id, u.active) for u in stores.meta.list())


def test_the_metadata_follows_the_version_the_graph_serves(stores):
    first, second = uploaded(stores), uploaded(stores, ROW_ERRORS, "small.csv")
    uploads.activate(stores, first.id, "alice")
    stores.graph.activate(second.id)  # as an activation killed after the graph's switch leaves it
    report = repair.repair(stores)
    assert (report.active, report.recorded, report.missing) == (second.id, [], [])
    assert actives(stores) == sorted([(first.id, False), (second.id, True)])
    assert stores.meta.get(second.id).activated_by == "scheduler"
    entry = stores.meta.audit_log(1)[0]
    assert (entry.who, entry.action, entry.upload_id) == ("scheduler", "repair", second.id)
    assert first.id in entry.detail
    logged = audit(stores)
    assert repair.repair(stores) == repair.Report() and audit(stores) == logged  # nothing left to repair


def test_a_scheduled_activation_interrupted_after_the_graphs_switch_is_finished_as_the_schedule(stores):
    first, second = uploaded(stores), uploaded(stores, ROW_ERRORS, "small.csv")
    uploads.activate(stores, first.id, "alice")
    due = uploads.now()
    stores.meta.set_schedule(second.id, due, "bob")
    stores.graph.activate(second.id)  # the scheduler killed after the graph's switch
    repair.repair(stores)
    record = stores.meta.get(second.id)
    assert (record.active, record.activated_by, record.scheduled_at) == (True, "bob", None)
    assert audit(stores)[-1] == ("bob", "activate-scheduled", second.id)
    assert ("scheduler", "repair", second.id) not in audit(stores)


def test_a_version_loaded_straight_into_the_graph_gets_an_upload_record(stores):
    """As an older `beuwi load --activate` left it: a version the dashboard would not list."""
    old = stores.graph.activate(stores.graph.load(CATALOGUE, source="old-cli.csv").id)
    first = repair.repair(stores)
    # An upload writes its record just after its version is ready: one sighting is not enough to record it.
    assert first.unrecorded == [old.id] and first.recorded == [] and stores.meta.list() == []
    second = repair.repair(stores, settled=first.unrecorded)
    assert (second.recorded, second.active, second.unrecorded) == ([old.id], old.id, [])
    [record] = uploads.listing(stores)
    assert (record.id, record.filename, record.uploaded_by, record.status, record.programmes, record.active) == (
        old.id, "old-cli.csv", "graph", "parsed", 3, True)
    assert actives(stores) == [(old.id, True)]
    assert audit(stores) == [("scheduler", "repair", old.id)] * 2  # recorded, then marked active
    # From then on it is an upload like any other: rolled away from and back to.
    newer = uploaded(stores)
    uploads.activate(stores, newer.id, "alice")
    assert uploads.activate(stores, old.id, "alice").active is True
    assert stores.graph.active_version() == old.id


def test_an_upload_whose_version_is_gone_from_the_graph_is_marked_and_never_served(stores):
    active = uploaded(stores)
    uploads.activate(stores, active.id, "alice")
    gone = uploaded(stores, ROW_ERRORS, "small.csv")
    failed = uploaded(stores, (UPLOADS / "broken" / "missing-column.csv").read_bytes(), "broken.csv")
    stores.graph.delete(gone.id)  # e.g. a graph restored from a backup older than the upload
    report = repair.repair(stores)
    assert report.missing == [gone.id] and report.active is None
    record = stores.meta.get(gone.id)
    assert (record.status, record.programmes, record.active) == (repair.MISSING, 3, False)
    assert "gone from the graph" in record.message
    with pytest.raises(UploadConflict, match="gone from the graph"):
        uploads.activate(stores, gone.id, "alice")
    assert stores.graph.active_version() == active.id
    assert stores.files.get(f"uploads/{gone.id}/source.csv") == ROW_ERRORS  # kept, to be uploaded again
    assert stores.meta.get(failed.id).status == "failed"  # it never had a version
    assert ("scheduler", "repair", gone.id) in audit(stores)
    assert repair.repair(stores).missing == []  # marked once


def test_an_upload_finishing_while_the_repair_reads_is_never_taken_for_missing(stores):
    """The upload service is not under the lease: one may write its version and record between the repair's reads."""
    done = []

    def then_upload(read):
        def reading(*args, **kwargs):
            found = read(*args, **kwargs)
            if not done:  # right after the repair's first read
                done.append(uploaded(stores, ROW_ERRORS, "small.csv"))
            return found
        return reading

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stores.meta, "list", then_upload(stores.meta.list))
        patch.setattr(stores.graph, "versions", then_upload(stores.graph.versions))
        report = repair.repair(stores)
    assert report.missing == [] and stores.meta.get(done[0].id).status == "parsed"
    assert repair.repair(stores, settled=report.unrecorded) == repair.Report()


@pytest.mark.parametrize("backend", ["local"], indirect=True)  # the document is the same for every backend
def test_the_records_repair_writes_fit_the_admin_document(stores, client, auth):
    old = stores.graph.load(CATALOGUE, source="old-cli.csv")
    gone = uploaded(stores, ROW_ERRORS, "small.csv")
    stores.graph.delete(gone.id)
    repair.repair(stores, settled=repair.repair(stores).unrecorded)
    answers = Answers()
    listed = answers.fit(client.get("/api/uploads", headers=auth), "/api/uploads", "get").get_json()["uploads"]
    assert {(u["id"], u["status"], u["sha256"]) for u in listed} == {(old.id, "parsed", ""),
                                                                    (gone.id, "missing", gone.sha256)}
    for upload_id in (old.id, gone.id):
        answers.fit(client.get(f"/api/uploads/{upload_id}", headers=auth), "/api/uploads/{upload_id}", "get")
    refused = client.post(f"/api/uploads/{gone.id}/activate", headers=auth)
    assert refused.status_code == 409 and "gone from the graph" in refused.get_json()["error"]


def crashed_upload(stores, upload_id: str, age: float) -> None:
    """What an upload killed with -9 while its version loads leaves: its files, its version half-written and loading,
    started `age` seconds ago, and no record (an upload writes its record last)."""
    stores.files.put(f"uploads/{upload_id}/source.csv", SAMPLE)
    stores.files.put(f"uploads/{upload_id}/errors.csv", b"row,column,value,message\r\n")
    with pytest.MonkeyPatch.context() as patch:  # not the test's: undoing that would undo the emulators' settings
        crashed_load(patch, stores.graph, upload_id)
    started = (datetime.now(timezone.utc) - timedelta(seconds=age)).isoformat(timespec="microseconds")
    stores.graph.run("MATCH (c:Catalogue {id: $id}) SET c.created = $created", {"id": upload_id, "created": started},
                     write=True)


def purged_everywhere(stores, upload_id: str) -> bool:
    with pytest.raises(NotFound):
        stores.files.get(f"uploads/{upload_id}/source.csv")
    with pytest.raises(NotFound):
        stores.meta.get(upload_id)
    return catalogue_nodes(stores.graph, upload_id) == 0 and all(
        count(stores.graph, label, upload_id) == 0 for label in VERSION_LABELS)


def test_versions_a_crash_left_loading_are_purged_after_the_grace_period(stores):
    active = uploaded(stores)
    uploads.activate(stores, active.id, "alice")
    crashed_upload(stores, "killed", age=7200)
    crashed_upload(stores, "young", age=5)  # as a load still under way looks
    assert [v.id for v in repair.purge(stores, 3600, "scheduler")] == ["killed"]
    assert purged_everywhere(stores, "killed")
    assert [v.id for v in stores.graph.unfinished_versions()] == ["young"]
    assert stores.files.get("uploads/young/source.csv") == SAMPLE
    assert audit(stores)[-1] == ("scheduler", "purge", "killed")
    assert "loading since" in stores.meta.audit_log(1)[0].detail
    assert stores.graph.active_version() == active.id and [u.id for u in uploads.listing(stores)] == [active.id]


def test_the_periodic_job_purges_and_repairs_then_waits_its_interval(stores):
    crashed_upload(stores, "killed", age=10)
    old = stores.graph.load(CATALOGUE, source="old-cli.csv")
    job = repair.job(grace_seconds=1, every=3600)
    job(stores)
    assert stores.graph.unfinished_versions() == [] and stores.meta.list() == []  # seen once, not yet recorded
    job(stores)  # not due for an hour
    assert stores.meta.list() == []
    often = repair.job(grace_seconds=1, every=0)
    often(stores)
    often(stores)
    assert [(u.id, u.uploaded_by) for u in stores.meta.list()] == [(old.id, "graph")]


def cli_env(backend, graph) -> dict:
    return {**{f"BEUWI_{key}": str(value) for key, value in backend.items() if key != "TESTING"},
            "BEUWI_GRAPH_URI": graph.uri, "BEUWI_GRAPH_NAME": graph.name}


def test_beuwi_admin_purge_removes_what_a_crash_left_older_than_asked(stores, backend):
    crashed_upload(stores, "killed", age=7200)
    crashed_upload(stores, "young", age=5)
    runner = CliRunner(env=cli_env(backend, stores.graph))
    result = runner.invoke(main, ["admin", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("purged catalogue killed: loading since ")
    assert result.output.splitlines()[0].endswith(", 3 programmes from killed.csv")
    assert result.output.splitlines()[-1] == "1 unfinished catalogue versions purged"
    assert purged_everywhere(stores, "killed") and [v.id for v in stores.graph.unfinished_versions()] == ["young"]
    now = runner.invoke(main, ["admin", "purge", "--older-than", "0"])
    assert now.exit_code == 0 and now.output.splitlines()[-1] == "1 unfinished catalogue versions purged"
    assert purged_everywhere(stores, "young")
    assert audit(stores) == [("cli", "purge", "killed"), ("cli", "purge", "young")]


def test_the_served_admin_app_repairs_and_purges_as_it_starts(stores, backend, tmp_path):
    first, second = uploaded(stores), uploaded(stores, ROW_ERRORS, "small.csv")
    uploads.activate(stores, first.id, "alice")
    stores.graph.activate(second.id)
    crashed_upload(stores, "killed", age=7200)
    port, log = free_port(), tmp_path / "admin.log"
    admin = start_service("admin", port, log, **{key.removeprefix("BEUWI_"): value
                                                 for key, value in cli_env(backend, stores.graph).items()})
    try:
        wait_until_live(admin, port, log, "/api/health")
        wait_until(lambda: actives(stores) == sorted([(first.id, False), (second.id, True)]),
                   "the admin app repairs the metadata from the graph", timeout=30)
        wait_until(lambda: stores.graph.unfinished_versions() == [], "the admin app purges the crashed load")
    finally:
        stop(admin)
    assert purged_everywhere(stores, "killed")
    assert {("scheduler", "repair", second.id), ("scheduler", "purge", "killed")} <= set(audit(stores))
