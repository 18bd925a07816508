"""The admin app's storage ports: raw and errors files, and upload metadata with an audit log.

Adapters raise only these exceptions, so services never see a vendor's errors.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass


class StoreError(Exception):
    """A storage backend failed or cannot be reached."""


class NotFound(StoreError, LookupError):
    """No file or record under that name."""


@dataclass(frozen=True)
class Upload:
    id: str
    created: str  # UTC ISO 8601
    filename: str
    size: int
    sha256: str
    uploaded_by: str
    status: str  # "parsed" or "failed"
    message: str  # the file-level problem when failed, else ""
    programmes: int
    errors: int  # row errors found
    active: bool = False
    activated_at: str | None = None
    errors_kept: int | None = None  # of them, in the errors file; None only in records from before the cap kept all
    activated_by: str | None = None
    scheduled_at: str | None = None  # a pending scheduled activation, UTC ISO 8601
    scheduled_by: str | None = None

    def __post_init__(self):
        if self.errors_kept is None:
            object.__setattr__(self, "errors_kept", self.errors)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AuditEntry:
    at: str  # UTC ISO 8601
    who: str
    action: str  # "upload", "activate", "activate-failed", "activate-refused", "schedule", "delete", ... (README)
    upload_id: str
    detail: str = ""


class FileStore(ABC):
    """Opaque files by name (e.g. "uploads/<id>/source.csv")."""

    @abstractmethod
    def put(self, name: str, data: bytes, content_type: str = "text/csv") -> None: ...

    @abstractmethod
    def get(self, name: str) -> bytes:
        """The bytes stored under name; NotFound if none."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the file; no error if it is already gone."""


class MetadataStore(ABC):
    """Upload records and the audit log."""

    @abstractmethod
    def add(self, upload: Upload) -> None: ...

    @abstractmethod
    def get(self, upload_id: str) -> Upload:
        """NotFound if there is no such upload."""

    @abstractmethod
    def list(self) -> list[Upload]:
        """Every upload, newest first."""

    @abstractmethod
    def mark_active(self, upload_id: str, activated_at: str, activated_by: str) -> None:
        """Record that this upload is the active one and no other is, and, in the same write, that its pending
        schedule (if any) is done, so a schedule can never fire after its upload was made active."""

    @abstractmethod
    def set_schedule(self, upload_id: str, at: str | None, by: str | None) -> None:
        """Record a pending scheduled activation (UTC ISO 8601), or clear it with None; NotFound if no such upload."""

    @abstractmethod
    def due(self, at: str) -> list[Upload]:
        """The uploads whose schedule is at or before `at` (UTC ISO 8601), soonest first."""

    @abstractmethod
    def acquire(self, name: str, owner: str, seconds: float) -> bool:
        """Take (or, for its owner, extend) the lease `name` for `seconds` in one conditional write; False while
        another owner holds an unexpired one. Every process and machine sharing the store sees the same lease."""

    @abstractmethod
    def release(self, name: str, owner: str) -> None:
        """Give the lease up if `owner` still holds it."""

    @abstractmethod
    def remove(self, upload_id: str) -> None: ...

    @abstractmethod
    def audit(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
