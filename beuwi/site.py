"""The static web clients in frontend/, served for development with a /config.js naming the live APIs.

In production the same files go to a CDN (Firebase Hosting) with a config.js of their own.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, Response, redirect, send_from_directory

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def firebase_sign_in(settings: dict) -> dict | None:
    """What the dashboard needs to sign in with Firebase, when the admin app uses the Firebase backend.

    Against the Auth emulator any API key is accepted, so a demo project needs none configured.
    """
    if settings["BACKEND"] != "firebase":
        return None
    emulator = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    key = settings["FIREBASE_API_KEY"] or ("emulator" if emulator else "")
    if not key:
        raise ValueError("BEUWI_BACKEND=firebase: set BEUWI_FIREBASE_API_KEY (the project's Web API key) "
                         "so the dashboard can sign admins in")
    return {"apiKey": key, "authEmulator": f"http://{emulator}" if emulator else None}


def create_app(engine: str, admin: str, firebase: dict | None = None, root: Path = FRONTEND) -> Flask:
    app = Flask(__name__, static_folder=None)
    config = json.dumps({"engine": engine, "admin": admin, "firebase": firebase}, indent=2)

    @app.get("/config.js")
    def config_js():
        response = Response(f"window.BEUWI_CONFIG = {config};\n", mimetype="text/javascript")
        response.cache_control.no_store = True
        return response

    @app.get("/")
    def home():
        return redirect("/search/")

    @app.get("/<path:name>")
    def files(name: str):
        if name.endswith("/"):
            name += "index.html"
        return send_from_directory(root, name, max_age=0)

    return app
