"""Upload, activate and delete catalogue uploads: services that take their stores as arguments.

An upload's id is also its graph catalogue version id, so the graph, the files and the metadata line up.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from beuwi.csv_catalogue import CatalogueFileError, errors_csv, parse_catalogue
from beuwi.graph.store import CatalogueNotFound, GraphStore

from .stores import AuditEntry, FileStore, MetadataStore, NotFound, Upload


class UploadConflict(Exception):
    """The upload cannot be activated or deleted in its current state."""


@dataclass(frozen=True)
class Stores:
    files: FileStore
    meta: MetadataStore
    graph: GraphStore


# Activations in this process happen one at a time; the graph's switch itself is one atomic write.
_activation = threading.Lock()
MAX_FILENAME_CHARS = 200
KEPT_ERRORS = 1000  # row errors stored per upload; every one is counted
# Control and format characters (CR, LF, NUL, bidi overrides...) and line or paragraph separators: none may reach a
# header, a listing or the graph.
UNPRINTABLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def source_name(upload_id: str) -> str:
    return f"uploads/{upload_id}/source.csv"


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
        parsed = parse_catalogue(data, max_bytes=max_bytes, keep_errors=KEPT_ERRORS)
        status, message, programmes, errors, count = "parsed", "", parsed.programmes, parsed.errors, parsed.error_count
    except CatalogueFileError as exc:
        status, message, programmes, errors, count = "failed", str(exc), [], [], 0
    record = Upload(
        id=upload_id, created=now(), filename=filename, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=who, status=status, message=message, programmes=len(programmes), errors=count,
        errors_kept=len(errors),
    )
    try:
        stores.files.put(source_name(upload_id), data)
        stores.files.put(errors_name(upload_id), errors_csv(errors))
        if programmes:
            stores.graph.load(programmes, source=filename, version_id=upload_id)
        stores.meta.add(record)
    except BaseException:
        _remove(stores, upload_id)
        raise
    stores.meta.audit(AuditEntry(now(), who, "upload", upload_id, f"{filename}: {status}"))
    return record, errors


def listing(stores: Stores) -> list[Upload]:
    """Every upload, newest first, marked active from the graph, which is what the engine serves."""
    active = stores.graph.active_version()
    return [replace(u, active=u.id == active) for u in stores.meta.list()]


def get(stores: Stores, upload_id: str) -> Upload:
    record = stores.meta.get(upload_id)
    return replace(record, active=record.id == stores.graph.active_version())


def activate(stores: Stores, upload_id: str, who: str) -> Upload:
    """Switch the engine to this upload; if anything fails, the previous version stays active everywhere."""
    with _activation:
        record = stores.meta.get(upload_id)
        if record.status != "parsed" or not record.programmes:
            raise UploadConflict(f"upload {upload_id} has no programmes to serve ({record.message or 'every row had errors'})")
        previous = stores.graph.active_version()
        try:
            stores.graph.activate(upload_id)
            try:
                stores.meta.mark_active(upload_id, now(), who)
            except Exception:
                if previous:
                    stores.graph.activate(previous)
                raise
        except Exception as exc:
            # The audit log is shown to clients: it names what failed, the admin's log has the vendor's message.
            stores.meta.audit(AuditEntry(now(), who, "activate-failed", upload_id, f"{type(exc).__name__}; previous "
                                                                                  f"{previous or 'none'} kept active"))
            raise
        stores.meta.audit(AuditEntry(now(), who, "activate", upload_id, f"previous: {previous or 'none'}"))
        return stores.meta.get(upload_id)


def delete(stores: Stores, upload_id: str, who: str) -> None:
    with _activation:
        stores.meta.get(upload_id)
        if stores.graph.active_version() == upload_id:
            raise UploadConflict(f"upload {upload_id} is active; activate another upload before deleting it")
        _remove(stores, upload_id)
    stores.meta.audit(AuditEntry(now(), who, "delete", upload_id))


def _remove(stores: Stores, upload_id: str) -> None:
    try:
        stores.graph.delete(upload_id)
    except CatalogueNotFound:
        pass
    stores.files.delete(source_name(upload_id))
    stores.files.delete(errors_name(upload_id))
    stores.meta.remove(upload_id)


def read_file(stores: Stores, upload_id: str, name: str) -> bytes:
    stores.meta.get(upload_id)
    try:
        return stores.files.get(name)
    except NotFound as exc:
        raise NotFound(f"upload {upload_id} has no stored file {name!r}") from exc
