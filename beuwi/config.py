"""Settings from the environment: every variable is `BEUWI_<KEY>`, with the safe default below."""
from __future__ import annotations

import os
from typing import Mapping

DEFAULTS = {
    "DATA_DIR": "var",  # embedded graph files, local uploads, generated admin token
    "GRAPH_URI": "",  # empty: start the embedded graph; falkordb://host:port, bolt://, neo4j://, neo4j+s://
    "EMBEDDED_GRAPH": "falkordb",  # the graph started under the data dir when GRAPH_URI is empty: falkordb or neo4j
    "GRAPH_NAME": "beuwi",  # FalkorDB graph holding the catalogue (Neo4j uses its default database)
    "GRAPH_USER": "",
    "GRAPH_PASSWORD": "",
    "GRAPH_TIMEOUT": 5.0,  # seconds before a graph call counts as unavailable
    "CORS_ORIGINS": "*",  # comma-separated origins allowed to call the engine from a browser
    "CACHE_SECONDS": 0,  # Cache-Control max-age of catalogue answers; 0: no-cache (always revalidate by ETag)
    "ACTIVE_CHECK_SECONDS": 1.0,  # how stale the engine's view of the active version may be
    "ANSWER_CACHE_MB": 32,  # per engine worker: search answers kept for repeated searches; 0 turns the cache off
    "MATCHER": "compiled",  # eligibility per search: compiled (in-memory index) or cypher (the graph's query, reference)
    "MAX_PROFILE_SUBJECTS": 60,  # subjects one search may name
    "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,  # size limit of a catalogue CSV
    "BACKEND": "local",  # admin storage and auth: local (data dir, SQLite, token) or firebase
    "ADMIN_CORS_ORIGINS": "http://127.0.0.1:8080,http://localhost:8080",  # the dashboard's origins (beuwi serve site)
    "ADMIN_TOKEN": "",  # local mode: a bearer token of the publisher `admin`, beside the named tokens
    "ADMIN_EMAILS": "",  # firebase mode: comma-separated emails that are publishers without a role claim
    "FOUR_EYES": 0,  # 1: an upload must be activated (or scheduled) by someone other than who uploaded it
    "SCHEDULE_CHECK_SECONDS": 5.0,  # how often each admin process looks for due scheduled activations
    "LOADING_GRACE_SECONDS": 3600.0,  # a version still loading after this long was left by a crash: purged
    "FIREBASE_PROJECT": "demo-beuwi",  # Firebase project id (a demo- id only works against the emulators)
    "FIREBASE_BUCKET": "",  # Storage bucket; empty: <project>.appspot.com
    "FIREBASE_API_KEY": "",  # the project's Web API key, for the dashboard's email sign-in (public, not a secret)
    "FIRESTORE_PREFIX": "beuwi",  # Firestore collections <prefix>_uploads, <prefix>_audit and <prefix>_locks
    "WORKERS": 2,  # engine gunicorn worker processes, each with its own snapshot (the admin app runs 1 unless asked)
    "THREADS": 2,  # threads per gunicorn worker, engine and admin app
    "TIMEOUT": 30,  # seconds a gunicorn worker may be silent before it is killed and replaced
    "GRACEFUL_TIMEOUT": 10,  # seconds after SIGTERM for requests in flight to finish before workers are killed
    "KEEPALIVE": 5,  # seconds a gunicorn worker keeps an idle client (or load balancer) connection open
}


def from_env(env: Mapping[str, str] = os.environ) -> dict:
    """The defaults, overridden by `BEUWI_*` variables converted to the default's type."""
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = env.get(f"BEUWI_{key}")
        if raw is None:
            continue
        try:
            settings[key] = type(default)(raw)
        except ValueError as exc:
            raise ValueError(f"BEUWI_{key}={raw!r} is not a valid {type(default).__name__}") from exc
    return settings
