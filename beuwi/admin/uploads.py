"""Upload, activate and delete catalogue uploads: services that take their stores as arguments.

An upload's id is also its graph catalogue version id, so the graph, the files and the metadata line up.
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from beuwi.csv_catalogue import CatalogueFileError, errors_csv, parse_catalogue
from beuwi.graph.store import CatalogueNotFound, GraphStore
from beuwi.workbook import is_xlsx_name, media_type

from . import lease
from .stores import AuditEntry, FileStore, MetadataStore, NotFound, Upload


class UploadConflict(Exception):
    """The upload cannot be activated or deleted in its current state (409)."""


class Busy(UploadConflict):
    """Another activation, schedule or delete held the lease for longer than a request waits (409)."""


class FourEyes(Exception):
    """With BEUWI_FOUR_EYES on, the uploader may not activate their own upload (403)."""


class InvalidActivation(ValueError):
    """An activation request that cannot be carried out as sent: a bad time, a body that is not one (400)."""


@dataclass(frozen=True)
class Stores:
    files: FileStore
    meta: MetadataStore
    graph: GraphStore


# Activations, schedules and deletes happen one at a time across every admin process sharing the metadata store.
ACTIVATION_LEASE = "activation"
MAX_FILENAME_CHARS = 200
KEPT_ERRORS = 1000  # row errors stored per upload; every one is counted
# Control and format characters (CR, LF, NUL, bidi overrides...) and line or paragraph separators: none may reach a
# header, a listing or the graph.
UNPRINTABLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def source_name(upload_id: str, filename: str = "") -> str:
    """Where the file sent is kept: as source.xlsx when its name says .xlsx, else source.csv."""
    return f"uploads/{upload_id}/source.{'xlsx' if is_xlsx_name(filename) else 'csv'}"


def errors_name(upload_id: str) -> str:
    return f"uploads/{upload_id}/errors.csv"


def clean_filename(sent: str | None) -> str:
    """The name to keep for a file as its sender named it: the last part of any path, without unprintable characters
    (line breaks and tabs become spaces), at most MAX_FILENAME_CHARS with its extension kept, so that every listing
    and download can carry it."""
    name = (sent or "").replace("\\", "/").rsplit("/", 1)[-1]
    if len(name) > 4 * MAX_FILENAME_CHARS:  # a head and the tail with the extension are all that can be kept
        name = name[:2 * MAX_FILENAME_CHARS] + name[-16:]
    name = "".join((" " if c.isspace() else "") if unicodedata.category(c) in UNPRINTABLE else c for c in name)
    name = " ".join(name.split())
    if len(name) > MAX_FILENAME_CHARS:
        _, dot, extension = name.rpartition(".")
        keep = f"{dot}{extension}" if dot and len(extension) <= 10 else ""
        name = name[:MAX_FILENAME_CHARS - len(keep)].rstrip() + keep
    return name or "upload.csv"


def upload(stores: Stores, data: bytes, filename: str | None, who: str, max_bytes: int) -> tuple[Upload, list]:
    """Store the file as sent, its first row errors beside it, and its programmes as an inactive graph version."""
    upload_id = secrets.token_urlsafe(8)
    filename = clean_filename(filename)
    try:
        parsed = parse_catalogue(data, max_bytes=max_bytes, keep_errors=KEPT_ERRORS, filename=filename)
        status, message, programmes, errors, count = "parsed", "", parsed.programmes, parsed.errors, parsed.error_count
    except CatalogueFileError as exc:
        status, message, programmes, errors, count = "failed", str(exc), [], [], 0
    record = Upload(
        id=upload_id, created=now(), filename=filename, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=who, status=status, message=message, programmes=len(programmes), errors=count,
        errors_kept=len(errors),
    )
    try:
        stores.files.put(source_name(upload_id, filename), data, media_type(filename))
        stores.files.put(errors_name(upload_id), errors_csv(errors))
        if programmes:
            stores.graph.load(programmes, source=filename, version_id=upload_id)
        stores.meta.add(record)
    except BaseException:
        discard(stores, upload_id)
        raise
    audit(stores, who, "upload", upload_id, f"{filename}: {status}")
    return record, errors


def listing(stores: Stores) -> list[Upload]:
    """Every upload, newest first, marked active from the graph, which is what the engine serves."""
    active = stores.graph.active_version()
    return [replace(u, active=u.id == active) for u in stores.meta.list()]


def get(stores: Stores, upload_id: str) -> Upload:
    record = stores.meta.get(upload_id)
    return replace(record, active=record.id == stores.graph.active_version())


def activate(stores: Stores, upload_id: str, who: str, *, four_eyes: bool = False) -> Upload:
    """Switch the engine to this upload now; if anything fails, the previous version stays active everywhere.
    Its own pending schedule ends with it; other uploads' schedules stay pending."""
    with _serialised(stores, who, "activate-refused", upload_id):
        record = _activatable(stores, upload_id, who, four_eyes, "activate-refused")
        others = [f"{u.id} at {u.scheduled_at}" for u in stores.meta.list() if u.scheduled_at and u.id != upload_id]
        notes = ([f"its schedule for {record.scheduled_at} is cancelled"] if record.scheduled_at else []) + (
            [f"still scheduled: {', '.join(others)}"] if others else [])
        return _switch(stores, record, who, "activate", notes)


def schedule(stores: Stores, upload_id: str, at: str, who: str, *, four_eyes: bool = False) -> Upload:
    """Have the scheduler activate this upload at `at` (ISO 8601 with an offset), replacing any earlier schedule."""
    when = scheduled_time(at)
    with _serialised(stores, who, "activate-refused", upload_id):
        record = _activatable(stores, upload_id, who, four_eyes, "activate-refused", InvalidActivation)
        if stores.graph.active_version() == upload_id:
            _refuse(stores, who, "activate-refused", upload_id,
                    UploadConflict(f"upload {upload_id} is already active; there is nothing to schedule"))
        stores.meta.set_schedule(upload_id, when, who)
        replaced = f"; replaces {record.scheduled_at} by {record.scheduled_by}" if record.scheduled_at else ""
        audit(stores, who, "schedule", upload_id, f"at {when}{replaced}")
        return get(stores, upload_id)


def cancel_schedule(stores: Stores, upload_id: str, who: str) -> Upload:
    with _serialised(stores, who, "activate-refused", upload_id):
        record = stores.meta.get(upload_id)
        if not record.scheduled_at:
            state = "it is active" if stores.graph.active_version() == upload_id else "nothing is pending"
            raise UploadConflict(f"upload {upload_id} has no scheduled activation to cancel ({state})")
        stores.meta.set_schedule(upload_id, None, None)
        audit(stores, who, "schedule-cancel", upload_id, f"was at {record.scheduled_at} by {record.scheduled_by}")
        return get(stores, upload_id)


def activate_scheduled(stores: Stores, upload_id: str) -> Upload | None:
    """The scheduler's activation of a due upload, exactly once: under the lease the record is read again, so a
    schedule cancelled, moved or already carried out (by this or another process, before or after a crash) does
    nothing. Lease.Held if another activation holds the lease: the next check tries again."""
    with lease.held(stores.meta, ACTIVATION_LEASE):
        settle(stores)
        try:
            record = stores.meta.get(upload_id)
        except NotFound:
            return None
        if not record.scheduled_at or record.scheduled_at > now():
            return None
        note = f"scheduled for {record.scheduled_at}"
        if record.status != "parsed" or not record.programmes:  # e.g. its version found gone since
            return _drop(stores, record, f"{note}: it has no programmes to serve ({record.status}); schedule dropped")
        try:
            return _switch(stores, record, record.scheduled_by, "activate-scheduled", [note])
        except CatalogueNotFound:  # audited; trying again at every check could never succeed
            stores.meta.set_schedule(record.id, None, None)
            raise


def _drop(stores: Stores, record: Upload, detail: str) -> None:
    stores.meta.set_schedule(record.id, None, None)
    audit(stores, record.scheduled_by, "activate-failed", record.id, detail)


def delete(stores: Stores, upload_id: str, who: str) -> None:
    with _serialised(stores, who, "delete-refused", upload_id):
        record = stores.meta.get(upload_id)
        if stores.graph.active_version() == upload_id:
            _refuse(stores, who, "delete-refused", upload_id, UploadConflict(
                f"upload {upload_id} is active; activate another upload before deleting it"))
        if record.scheduled_at:
            _refuse(stores, who, "delete-refused", upload_id, UploadConflict(
                f"upload {upload_id} is scheduled to be activated at {record.scheduled_at}; cancel the schedule "
                "before deleting it"))
        discard(stores, upload_id)
        audit(stores, who, "delete", upload_id)


def scheduled_time(text) -> str:
    """The UTC ISO 8601 time (the format of every stored time, so they compare as text) of a time in the future
    written with its UTC offset; InvalidActivation saying what is wrong otherwise."""
    example = "e.g. 2026-12-02T09:00:00-04:00"
    if not isinstance(text, str):
        raise InvalidActivation(f'"at" must be a string: an ISO 8601 time with its UTC offset, {example}')
    shown = text if len(text) <= 40 else text[:40] + "..."
    try:
        at = datetime.fromisoformat(text)
        utc = at.astimezone(timezone.utc) if at.tzinfo else None
    except (ValueError, OverflowError):
        raise InvalidActivation(f'"at" {shown!r} is not an ISO 8601 time; write one with its UTC offset, '
                                f'{example}') from None
    if utc is None:
        raise InvalidActivation(f'"at" {shown!r} has no UTC offset; add one, {example} or Z for UTC')
    if utc <= datetime.now(timezone.utc):
        raise InvalidActivation(f'"at" {shown!r} is in the past; a schedule needs a time to come')
    return utc.isoformat(timespec="microseconds")


@contextmanager
def _serialised(stores: Stores, who: str, refused: str, upload_id: str):
    """Hold the activation lease; while another process or thread keeps it, the attempt is refused and audited."""
    try:
        with lease.held(stores.meta, ACTIVATION_LEASE):
            settle(stores)
            yield
    except lease.Held:
        _refuse(stores, who, refused, upload_id, Busy("another activation is in progress; try again"))


def settle(stores: Stores) -> None:
    """Finish a scheduled activation interrupted after the graph's switch (the graph says which version is
    active): its schedule is done, not to be carried out again after another activation."""
    active = stores.graph.active_version()
    try:
        record = stores.meta.get(active) if active else None
    except NotFound:
        return
    if record and record.scheduled_at and record.scheduled_at <= now():
        stores.meta.mark_active(active, now(), record.scheduled_by)
        audit(stores, record.scheduled_by, "activate-scheduled", active,
              f"scheduled for {record.scheduled_at}; found active in the graph after an interrupted activation")


def _activatable(stores: Stores, upload_id: str, who: str, four_eyes: bool, refused: str,
                 empty: type[Exception] | None = None) -> Upload:
    record = stores.meta.get(upload_id)
    if record.status != "parsed" or not record.programmes:
        _refuse(stores, who, refused, upload_id, (empty or UploadConflict)(
            f"upload {upload_id} has no programmes to serve ({record.message or 'every row had errors'})"))
    if four_eyes and record.uploaded_by == who:
        _refuse(stores, who, refused, upload_id, FourEyes(
            f"four-eyes rule: {who} uploaded {upload_id}, so someone else must activate it"))
    return record


def _switch(stores: Stores, record: Upload, who: str, action: str, notes: list[str]) -> Upload:
    previous = stores.graph.active_version()
    try:
        stores.graph.activate(record.id)
        try:
            stores.meta.mark_active(record.id, now(), who)
        except Exception:
            if previous:
                stores.graph.activate(previous)
            raise
    except Exception as exc:
        # The audit log is shown to clients: it names what failed, the admin's log has the vendor's message.
        audit(stores, who, "activate-failed", record.id,
              "; ".join([f"{type(exc).__name__}; previous {previous or 'none'} kept active", *notes]))
        raise
    audit(stores, who, action, record.id, "; ".join([f"previous: {previous or 'none'}", *notes]))
    return get(stores, record.id)


def _refuse(stores: Stores, who: str, action: str, upload_id: str, problem: Exception):
    audit(stores, who, action, upload_id, str(problem))
    raise problem


def audit(stores: Stores, who: str, action: str, upload_id: str, detail: str = "") -> None:
    stores.meta.audit(AuditEntry(now(), who, action, upload_id, detail))


def discard(stores: Stores, upload_id: str) -> None:
    try:
        stores.graph.delete(upload_id)
    except CatalogueNotFound:
        pass
    for sent in ("upload.csv", "upload.xlsx"):  # whichever was sent (the record may be gone)
        stores.files.delete(source_name(upload_id, sent))
    stores.files.delete(errors_name(upload_id))
    stores.meta.remove(upload_id)


def read_file(stores: Stores, upload_id: str, name: str) -> bytes:
    stores.meta.get(upload_id)
    try:
        return stores.files.get(name)
    except NotFound as exc:
        raise NotFound(f"upload {upload_id} has no stored file {name!r}") from exc
