"""The programme engine's app factory."""
from __future__ import annotations

from typing import Mapping

from flask import Flask

from beuwi import config, http_json
from beuwi.cors import Cors

from .api import bp
from .engine import Engine

MAX_REQUEST_BYTES = 64 * 1024  # a search body names at most a few dozen subjects


def create_app(test_config: Mapping | None = None) -> Flask:
    """Settings come from BEUWI_* variables; tests override them, and may pass a ready store as GRAPH_STORE."""
    app = Flask(__name__)
    app.config.from_mapping(config.from_env(), MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.extensions["beuwi.engine"] = Engine(app.config)
    http_json.init_app(app)
    Cors(app.config["CORS_ORIGINS"]).init_app(app)
    app.register_blueprint(bp)
    return app
