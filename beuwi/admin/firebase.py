"""Firebase adapters: files in Firebase Storage, metadata and the audit log in Firestore.

The same code runs against a real project and against the emulators named by the standard
FIRESTORE_EMULATOR_HOST / STORAGE_EMULATOR_HOST / FIREBASE_AUTH_EMULATOR_HOST variables.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict

import firebase_admin
import requests
from firebase_admin import credentials, firestore, storage
from google.api_core import exceptions as google_errors
from google.auth import credentials as google_credentials
from google.auth import exceptions as auth_errors
from google.cloud.firestore_v1 import FieldFilter

from .stores import AuditEntry, FileStore, MetadataStore, NotFound, StoreError, Upload

APP_NAME = "beuwi"
EMULATOR_VARIABLES = ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
TIMEOUT = 10.0  # seconds per call, so an unreachable backend fails instead of hanging a request
BACKEND_ERRORS = (google_errors.GoogleAPIError, auth_errors.GoogleAuthError, requests.RequestException)
FIELDS = tuple(Upload.__dataclass_fields__)


class EmulatorCredential(credentials.Base):
    """Emulators accept anonymous calls; without this firebase-admin hunts for real Google credentials."""

    def get_credential(self):
        return google_credentials.AnonymousCredentials()


def init_firebase(settings) -> firebase_admin.App:
    """The project's Firebase app, created once per process."""
    try:
        return firebase_admin.get_app(APP_NAME)
    except ValueError:
        pass
    project = settings.get("FIREBASE_PROJECT") or "demo-beuwi"
    bucket = settings.get("FIREBASE_BUCKET") or f"{project}.appspot.com"
    emulated = any(os.environ.get(name) for name in EMULATOR_VARIABLES)
    credential = EmulatorCredential() if emulated else credentials.ApplicationDefault()
    return firebase_admin.initialize_app(credential, {"projectId": project, "storageBucket": bucket}, name=APP_NAME)


class FirebaseFileStore(FileStore):
    def __init__(self, app: firebase_admin.App, timeout: float = TIMEOUT):
        self._bucket = _client("file store", lambda: storage.bucket(app=app))
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings) -> "FirebaseFileStore":
        return cls(init_firebase(settings))

    def put(self, name: str, data: bytes, content_type: str = "text/csv") -> None:
        try:
            self._bucket.blob(name).upload_from_string(data, content_type=content_type, timeout=self._timeout)
        except BACKEND_ERRORS as exc:
            raise StoreError(f"file store: cannot write {name!r}: {exc}") from exc

    def get(self, name: str) -> bytes:
        try:
            return self._bucket.blob(name).download_as_bytes(timeout=self._timeout)
        except google_errors.NotFound as exc:
            raise NotFound(f"no file {name!r}") from exc
        except BACKEND_ERRORS as exc:
            raise StoreError(f"file store: cannot read {name!r}: {exc}") from exc

    def delete(self, name: str) -> None:
        try:
            self._bucket.blob(name).delete(timeout=self._timeout)
        except google_errors.NotFound:
            pass  # already gone
        except BACKEND_ERRORS as exc:
            raise StoreError(f"file store: cannot delete {name!r}: {exc}") from exc


class FirestoreMetadataStore(MetadataStore):
    """Uploads in `<prefix>_uploads` (document id = upload id), the audit log in `<prefix>_audit`, leases in
    `<prefix>_locks` (document id = lease name)."""

    def __init__(self, app: firebase_admin.App, prefix: str = "beuwi", timeout: float = TIMEOUT):
        self._db = _client("metadata store", lambda: firestore.client(app))
        self._uploads = self._db.collection(f"{prefix}_uploads")
        self._audit = self._db.collection(f"{prefix}_audit")
        self._locks = self._db.collection(f"{prefix}_locks")
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings) -> "FirestoreMetadataStore":
        return cls(init_firebase(settings), settings.get("FIRESTORE_PREFIX") or "beuwi")

    def _call(self, action: str, function, *args, **kwargs):
        try:
            return function(*args, timeout=self._timeout, **kwargs)
        except BACKEND_ERRORS as exc:
            raise StoreError(f"metadata store: cannot {action}: {exc}") from exc

    def add(self, upload: Upload) -> None:
        self._call(f"add upload {upload.id!r}", self._uploads.document(upload.id).create, upload.as_dict())

    def _upload_document(self, upload_id: str):
        """The upload's document; NotFound for an id Firestore reserves or refuses (`__x__`, `..`, over 1,500
        bytes): no upload has one, and asking Firestore would fail as if it were down."""
        if (upload_id in (".", "..") or "/" in upload_id or len(upload_id.encode()) > 1500
                or (upload_id.startswith("__") and upload_id.endswith("__"))):
            raise NotFound(f"no upload {upload_id!r}")
        return self._uploads.document(upload_id)

    def get(self, upload_id: str) -> Upload:
        snapshot = self._call(f"read upload {upload_id!r}", self._upload_document(upload_id).get)
        if not snapshot.exists:
            raise NotFound(f"no upload {upload_id!r}")
        return _upload(snapshot.to_dict())

    def list(self) -> list[Upload]:
        query = self._uploads.order_by("created", direction=firestore.Query.DESCENDING)
        return [_upload(s.to_dict()) for s in self._call("list uploads", query.get)]

    def mark_active(self, upload_id: str, activated_at: str, activated_by: str) -> None:
        target = self._upload_document(upload_id)
        active = self._uploads.where(filter=FieldFilter("active", "==", True))
        timeout = self._timeout

        @firestore.transactional
        def switch(transaction):
            if not target.get(transaction=transaction, timeout=timeout).exists:  # reads before writes
                raise NotFound(f"no upload {upload_id!r}")
            for snapshot in active.get(transaction=transaction, timeout=timeout):
                if snapshot.id != upload_id:
                    transaction.update(snapshot.reference, {"active": False})
            transaction.update(target, {"active": True, "activated_at": activated_at, "activated_by": activated_by,
                                        "scheduled_at": None, "scheduled_by": None})

        try:
            switch(self._db.transaction())
        except (ValueError, *BACKEND_ERRORS) as exc:  # ValueError: it lost to concurrent transactions every time
            raise StoreError(f"metadata store: cannot activate {upload_id!r}: {exc}") from exc

    def set_schedule(self, upload_id: str, at: str | None, by: str | None) -> None:
        try:
            self._call(f"schedule upload {upload_id!r}", self._upload_document(upload_id).update,
                       {"scheduled_at": at, "scheduled_by": by})
        except StoreError as exc:
            if isinstance(exc.__cause__, google_errors.NotFound):
                raise NotFound(f"no upload {upload_id!r}") from exc
            raise

    def due(self, at: str) -> list[Upload]:
        # An inequality on a string matches only strings, so uploads without a schedule (null) never do.
        query = self._uploads.where(filter=FieldFilter("scheduled_at", "<=", at)).order_by("scheduled_at")
        return [_upload(s.to_dict()) for s in self._call("read the schedules", query.get)]

    def acquire(self, name: str, owner: str, seconds: float) -> bool:
        # One conditional write, no transaction (many waiting callers' transactions on one document can keep
        # aborting each other): create it when there is none, else update it unless it changed since it was read.
        lease = self._locks.document(name)
        snapshot = self._call(f"read the lease {name!r}", lease.get)
        if _taken(snapshot.to_dict(), owner):
            return False
        taken = {"owner": owner, "expires": time.time() + seconds}
        try:
            if snapshot.exists:
                self._call(f"take the lease {name!r}", lease.update, taken, option=self._unchanged(snapshot))
            else:
                self._call(f"take the lease {name!r}", lease.create, taken)
        except StoreError as exc:
            if isinstance(exc.__cause__, (google_errors.Conflict, google_errors.FailedPrecondition,
                                          google_errors.NotFound)):
                return False  # another owner wrote (or released) it since it was read
            raise
        return True

    def release(self, name: str, owner: str) -> None:
        lease = self._locks.document(name)
        snapshot = self._call(f"read the lease {name!r}", lease.get)
        if (snapshot.to_dict() or {}).get("owner") != owner:
            return
        try:
            self._call(f"release the lease {name!r}", lease.delete, option=self._unchanged(snapshot))
        except StoreError as exc:
            if not isinstance(exc.__cause__, google_errors.FailedPrecondition):  # else: expired and taken since
                raise

    def _unchanged(self, snapshot):
        return self._db.write_option(last_update_time=snapshot.update_time)

    def remove(self, upload_id: str) -> None:
        self._call(f"remove upload {upload_id!r}", self._uploads.document(upload_id).delete)

    def audit(self, entry: AuditEntry) -> None:
        self._call("write the audit log", self._audit.add, asdict(entry))

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        query = self._audit.order_by("at", direction=firestore.Query.DESCENDING).limit(limit)
        return [AuditEntry(**s.to_dict()) for s in self._call("read the audit log", query.get)]


def _client(store: str, make):
    """A Google client; StoreError when it cannot be made (e.g. no credentials and no emulator)."""
    try:
        return make()
    except BACKEND_ERRORS as exc:
        raise StoreError(f"{store}: cannot connect to Firebase: {exc}") from exc


def _taken(lease: dict | None, owner: str) -> bool:
    return bool(lease) and lease["owner"] != owner and lease["expires"] >= time.time()


def _upload(data: dict) -> Upload:
    return Upload(**{field: data[field] for field in FIELDS if field in data})
