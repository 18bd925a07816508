"""Upload, activate and delete catalogue uploads: services that take their stores as arguments.

An upload's id is also its graph catalogue version id, so the graph, the files and the metadata line up.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
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


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def source_name(upload_id: str) -> str:
    return f"uploads/{upload_id}/source.csv"


def errors_name(upload_id: str) -> str:
    return f"uploads/{upload_id}/errors.csv"


def upload(stores: Stores, data: bytes, filename: str, who: str, max_bytes: int) -> tuple[Upload, list]:
    """Store the file as sent, its row errors beside it, and its programmes as an inactive graph version."""
    upload_id = secrets.token_urlsafe(8)
    try:
        parsed = parse_catalogue(data, max_bytes=max_bytes)
        status, message, programmes, errors = "parsed", "", parsed.programmes, parsed.errors
    except CatalogueFileError as exc:
        status, message, programmes, errors = "failed", str(exc), [], []
    record = Upload(
        id=upload_id, created=now(), filename=filename, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=who, status=status, message=message, programmes=len(programmes), errors=len(errors),
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
                stores.meta.mark_active(upload_id, now())
            except Exception:
                if previous:
                    stores.graph.activate(previous)
                raise
        except Exception as exc:
            stores.meta.audit(AuditEntry(now(), who, "activate-failed", upload_id, str(exc)))
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
