"""Repair: the graph is the one source of which catalogue versions exist and which one is active; the upload metadata
mirrors it and is put right from it when the two disagree (a process killed between the graph's write and the
metadata's, a version loaded straight into the graph by an older `beuwi load`, a graph restored from a backup).
Versions a crash left unfinished (a killed upload's half-written load, a killed delete) are purged.

Both run under the activation lease, so they never see an activation, a schedule or a delete half-done.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Collection

from beuwi.graph.store import CatalogueConflict, CatalogueNotFound, CatalogueVersion

from . import lease
from .stores import Upload
from .uploads import ACTIVATION_LEASE, Stores, audit, discard, now, settle

REPAIR_SECONDS = 60.0  # how often each admin process's scheduler runs the repair
WHO = "scheduler"  # who the audit log names for what the admin app repairs by itself
MISSING = "missing"  # the status of an upload whose catalogue version is gone from the graph
log = logging.getLogger(__name__)


@dataclass
class Report:
    active: str | None = None  # the metadata now says this version is active, as the graph does
    recorded: list[str] = field(default_factory=list)  # graph versions given the upload record they lacked
    missing: list[str] = field(default_factory=list)  # records whose graph version is gone, marked MISSING
    unrecorded: list[str] = field(default_factory=list)  # seen without a record: recorded if still so next time


def repair(stores: Stores, who: str = WHO, settled: Collection[str] = ()) -> Report:
    """Put the metadata right from the graph. A ready version without a record gets one only when it is in `settled`
    (the previous repair's `unrecorded`): an upload adds its record just after its version is ready, not before."""
    report = Report()
    with lease.held(stores.meta, ACTIVATION_LEASE):
        settle(stores)  # a scheduled activation interrupted after the graph's switch is finished as one
        # Records first: an upload writes its record after its version is ready, so every record read here has its
        # version among those read next unless that version is really gone.
        records = {u.id: u for u in stores.meta.list()}
        graph_active = stores.graph.active_version()
        ready = {v.id: v for v in stores.graph.versions()}
        for version in ready.values():
            if version.id in records:
                continue
            if version.id not in settled:
                report.unrecorded.append(version.id)
                continue
            records[version.id] = _record(stores, version, who)
            report.recorded.append(version.id)
        for record in list(records.values()):
            if record.status == "parsed" and record.programmes and record.id not in ready:
                records[record.id] = _mark_missing(stores, record, who)
                report.missing.append(record.id)
        said_active = {u.id for u in records.values() if u.active}
        if graph_active in records and said_active != {graph_active}:
            stores.meta.mark_active(graph_active, now(), who)
            audit(stores, who, "repair", graph_active,
                  f"the graph serves it; the metadata said {_named(said_active)} active")
            report.active = graph_active
        elif graph_active is None:
            for upload_id in said_active:
                _rewrite(stores, replace(records[upload_id], active=False))
                audit(stores, who, "repair", upload_id,
                      "the graph serves no version; the metadata said this one was active")
    return report


def purge(stores: Stores, older_than: float, who: str) -> list[CatalogueVersion]:
    """Remove, with its files and any record, every version a crash left unfinished: loading for more than
    `older_than` seconds (a load under way is younger), or deleting (a delete holds the lease, so none is under way)."""
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    purged = []
    with lease.held(stores.meta, ACTIVATION_LEASE):
        for version in stores.graph.unfinished_versions():
            if version.status == "loading" and datetime.fromisoformat(version.created) > cutoff:
                continue
            try:
                stores.graph.purge(version.id)
            except (CatalogueNotFound, CatalogueConflict):  # purged, or its load finished, since it was listed
                continue
            discard(stores, version.id)
            audit(stores, who, "purge", version.id, (
                f"{version.status} since {version.created} ({version.programmes} programmes from "
                f"{version.source or 'an unnamed file'}), left so by a crash"))
            purged.append(version)
    return purged


def job(grace_seconds: float, every: float = REPAIR_SECONDS) -> Callable[[Stores], None]:
    """The scheduler's periodic job: purge what crashes left, then repair, at once and then every `every` seconds;
    while another process holds the lease, at the scheduler's next check instead."""
    due, unrecorded = 0.0, []

    def repair_metadata(stores: Stores) -> None:
        nonlocal due, unrecorded
        if time.monotonic() < due:
            return
        try:
            purged = purge(stores, grace_seconds, WHO)
            report = repair(stores, WHO, unrecorded)
        except lease.Held:
            return
        due, unrecorded = time.monotonic() + every, report.unrecorded
        if purged or report.active or report.recorded or report.missing:
            log.warning("repaired from the graph: purged %s, active %s, recorded %s, missing %s",
                        [v.id for v in purged], report.active, report.recorded, report.missing)

    return repair_metadata


def _record(stores: Stores, version: CatalogueVersion, who: str) -> Upload:
    """The upload record of a version loaded outside the upload service: no file of it is kept."""
    record = Upload(id=version.id, created=version.created, filename=version.source or f"{version.id}.csv", size=0,
                    sha256="", uploaded_by="graph", status="parsed", message="", programmes=version.programmes,
                    errors=0, errors_kept=0)
    stores.meta.add(record)
    audit(stores, who, "repair", version.id,
          f"recorded from the graph: {version.programmes} programmes loaded outside the upload service (no file kept)")
    return record


def _mark_missing(stores: Stores, record: Upload, who: str) -> Upload:
    """The record of an upload whose graph version is gone: it stays listed, with its files, but is never served."""
    marked = replace(record, status=MISSING, message="its catalogue version is gone from the graph; upload the file "
                                                     "again to serve it", active=False, scheduled_at=None,
                     scheduled_by=None)
    _rewrite(stores, marked)
    cancelled = f"; its schedule for {record.scheduled_at} is cancelled" if record.scheduled_at else ""
    audit(stores, who, "repair", record.id,
          f"its catalogue version is gone from the graph: marked {MISSING}{cancelled}")
    return marked


def _rewrite(stores: Stores, record: Upload) -> None:
    stores.meta.remove(record.id)
    stores.meta.add(record)


def _named(ids: set[str]) -> str:
    return ", ".join(sorted(ids)) or "none"

