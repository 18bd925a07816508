"""The admin app's factory: a separate Flask app from the engine, because it writes and the engine only reads."""
from __future__ import annotations

import threading
from typing import Mapping

from flask import Flask

from beuwi import config
from beuwi.cors import Cors
from beuwi.graph import open_store
from beuwi import http_json

from .api import bp
from . import repair, review
from .auth import firebase_verifier, local_verifier
from .schedule import JOBS, Scheduler
from .uploads import Stores

MULTIPART_OVERHEAD = 64 * 1024


class Admin:
    """The stores and the token check, built on first use so creating the app connects to nothing."""

    def __init__(self, config: Mapping):
        self._config = config
        self._lock = threading.Lock()
        backend = config["BACKEND"]
        if backend not in BACKENDS:
            raise ValueError(f"BEUWI_BACKEND={backend!r}: use one of {', '.join(BACKENDS)}")
        self._stores: Stores | None = config.get("ADMIN_STORES")
        self.verify = self._verifier(backend)
        # Its first check, at start, also repairs the metadata from the graph and purges what crashes left.
        self.scheduler = Scheduler(lambda: self.stores, float(config["SCHEDULE_CHECK_SECONDS"]),
                                   (*JOBS, repair.job(float(config["LOADING_GRACE_SECONDS"]))))

    def _verifier(self, backend: str):
        if backend == "firebase":
            from .firebase import init_firebase

            return firebase_verifier(init_firebase(self._config), self._config["ADMIN_EMAILS"])
        return local_verifier(self._config)

    @property
    def stores(self) -> Stores:
        with self._lock:
            if self._stores is None:
                self._stores = build_stores(self._config)
        return self._stores


def build_stores(config: Mapping) -> Stores:
    """The file, metadata and graph stores the configured backend uses."""
    files, meta = BACKENDS[config["BACKEND"]]()
    return Stores(files.from_settings(config), meta.from_settings(config), open_store(config))


def _local():
    from .local import LocalFileStore, SqliteMetadataStore

    return LocalFileStore, SqliteMetadataStore


def _firebase():
    from .firebase import FirebaseFileStore, FirestoreMetadataStore

    return FirebaseFileStore, FirestoreMetadataStore


BACKENDS = {"local": _local, "firebase": _firebase}  # the one place a backend is chosen


def create_app(test_config: Mapping | None = None, *, scheduler: bool = False) -> Flask:
    """The admin app; with `scheduler` its process also runs the scheduler thread (each `beuwi serve admin`
    worker does, tests ask for it)."""
    app = Flask(__name__, static_folder=None)  # JSON only: no file route outside the role checks
    app.config.from_mapping(config.from_env())
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Room for the multipart envelope; the file itself is checked against MAX_UPLOAD_BYTES exactly.
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_BYTES"]) + MULTIPART_OVERHEAD
    app.extensions["beuwi.admin"] = admin = Admin(app.config)
    if scheduler:
        admin.scheduler.start()
    http_json.init_app(app)
    # The dashboard is a static site on another origin; the bearer token travels in Authorization, and downloads
    # name their file in Content-Disposition, which a cross-origin page can only read when it is exposed.
    Cors(app.config["ADMIN_CORS_ORIGINS"], "GET, POST, DELETE, OPTIONS", "Authorization, Content-Type",
         expose="Content-Disposition").init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(review.bp)

    @app.get("/api/health")
    def health():
        return {"status": "ok"}

    return app
