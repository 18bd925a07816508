"""Running the engine under gunicorn, with the embedded graph when none is configured.

The master process owns the embedded server and hands its URI to the workers, so every worker reads the same
graph and the server outlives worker restarts.
"""
from __future__ import annotations

import os
from contextlib import closing

import click
from gunicorn.app.base import BaseApplication

from beuwi.csv_catalogue import ParsedCatalogue
from beuwi.graph import EmbeddedServer, open_store


class EngineServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from beuwi.search import create_app

        return create_app()


def serve_engine(settings: dict, *, host: str, port: int, workers: int, threads: int,
                 seed: tuple[str, ParsedCatalogue] | None = None) -> None:
    server = None if settings["GRAPH_URI"] else EmbeddedServer.ensure(settings["DATA_DIR"])
    uri = settings["GRAPH_URI"] or server.uri
    try:
        with closing(open_store({**settings, "GRAPH_URI": uri})) as store:
            if seed and store.active_version() is None:
                name, parsed = seed
                version = store.activate(store.load(parsed.programmes, source=name).id)
                click.echo(f"loaded and activated {name}: catalogue {version.id}, {version.programmes} programmes")
            active = store.active_version()
        os.environ.update(BEUWI_GRAPH_URI=uri, BEUWI_DATA_DIR=str(settings["DATA_DIR"]))
        base = f"http://{host}:{port}"

        def when_ready(_arbiter):
            click.echo(f"BeUWI programme engine: {base}/api/health  (catalogue {active or 'none active'})")
            click.echo(f"  search:  {base}/api/search?subject=Mathematics%20(CSEC)&subject=English%20A%20(CSEC)")
            click.echo(f"  OpenAPI: {base}/api/openapi.json    graph: {uri}")

        EngineServer({
            "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "timeout": 30, "graceful_timeout": 10, "keepalive": 5, "when_ready": when_ready,
            "accesslog": None, "errorlog": "-", "loglevel": "warning",
        }).run()
    finally:
        if server:
            server.stop()
