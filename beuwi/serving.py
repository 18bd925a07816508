"""Running the engine and the admin app under gunicorn, with the embedded graph when none is configured.

The master process owns the embedded server and hands its URI to the workers, so every worker reads the same
graph and the server outlives worker restarts.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from typing import Callable, Iterator

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from beuwi.csv_catalogue import ParsedCatalogue
from beuwi.graph import EmbeddedServer, open_store


class FlaskServer(BaseApplication):
    def __init__(self, factory: Callable[[], Flask], options: dict):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


@contextmanager
def graph_for_workers(settings: dict) -> Iterator[str]:
    """The graph URI the workers use; an embedded server started here lives until the block ends."""
    server = None if settings["GRAPH_URI"] else EmbeddedServer.ensure(settings["DATA_DIR"])
    uri = settings["GRAPH_URI"] or server.uri
    os.environ.update(BEUWI_GRAPH_URI=uri, BEUWI_DATA_DIR=str(settings["DATA_DIR"]))
    try:
        yield uri
    finally:
        if server:
            server.stop()


def run(factory: Callable[[], Flask], *, host: str, port: int, workers: int, threads: int, banner: list[str]) -> None:
    def when_ready(_arbiter):
        for line in banner:
            click.echo(line)

    FlaskServer(factory, {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
        "timeout": 30, "graceful_timeout": 10, "keepalive": 5, "when_ready": when_ready,
        "accesslog": None, "errorlog": "-", "loglevel": "warning",
    }).run()


def seed_catalogue(settings: dict, uri: str, seed: tuple[str, ParsedCatalogue] | None) -> str | None:
    """Load and activate the seed when no catalogue is active yet; the active version either way."""
    with closing(open_store({**settings, "GRAPH_URI": uri})) as store:
        if seed and store.active_version() is None:
            name, parsed = seed
            version = store.activate(store.load(parsed.programmes, source=name).id)
            click.echo(f"loaded and activated {name}: catalogue {version.id}, {version.programmes} programmes")
        return store.active_version()


def serve_engine(settings: dict, *, host: str, port: int, workers: int, threads: int,
                 seed: tuple[str, ParsedCatalogue] | None = None) -> None:
    from beuwi.search import create_app

    with graph_for_workers(settings) as uri:
        active = seed_catalogue(settings, uri, seed)
        base = f"http://{host}:{port}"
        run(create_app, host=host, port=port, workers=workers, threads=threads, banner=[
            f"BeUWI programme engine: {base}/api/health  (catalogue {active or 'none active'})",
            f"  search:  {base}/api/search?subject=Mathematics%20(CSEC)&subject=English%20A%20(CSEC)",
            f"  OpenAPI: {base}/api/openapi.json    graph: {uri}",
        ])


def serve_admin(settings: dict, *, host: str, port: int, workers: int, threads: int) -> None:
    from beuwi.admin import create_app
    from beuwi.admin.auth import local_token

    with graph_for_workers(settings) as uri:
        if settings["BACKEND"] == "local":
            local_token(settings)  # generated (and shown) once here, not by each worker
        run(create_app, host=host, port=port, workers=workers, threads=threads, banner=[
            f"BeUWI admin API: http://{host}:{port}/api/uploads  (backend {settings['BACKEND']}, graph {uri})",
        ])


def serve_site(*, host: str, port: int, engine: str, admin: str) -> None:
    from beuwi.site import create_app

    run(lambda: create_app(engine, admin), host=host, port=port, workers=1, threads=8, banner=[
        f"BeUWI web clients: student search http://{host}:{port}/search/  admin dashboard http://{host}:{port}/admin/",
    ])


def serve_all(settings: dict, *, host: str, port: int, admin_port: int, site_port: int,
              seed: tuple[str, ParsedCatalogue] | None = None) -> None:
    """The engine, the admin app and the web clients on one graph, stopped together (what `make run` starts)."""
    with graph_for_workers(settings) as uri:
        seed_catalogue(settings, uri, seed)
        env = {**os.environ, "BEUWI_GRAPH_URI": uri}
        beuwi = [sys.executable, "-m", "beuwi.cli", "serve"]
        children = [subprocess.Popen([*beuwi, "search", "--host", host, "--port", str(port)], env=env),
                    subprocess.Popen([*beuwi, "admin", "--host", host, "--port", str(admin_port)], env=env),
                    subprocess.Popen([*beuwi, "site", "--host", host, "--port", str(site_port),
                                      "--engine", f"http://{host}:{port}", "--admin", f"http://{host}:{admin_port}"],
                                     env=env)]
        stopping = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, stopping)
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                child.wait(timeout=30)
