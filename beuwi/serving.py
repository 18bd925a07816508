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
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi

from beuwi.graph import connect, open_store
from beuwi.graph.store import GraphError

if TYPE_CHECKING:
    from beuwi.admin.uploads import Stores


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


class WholeResponse(wsgi.Response):
    """Gunicorn's response, with the headers put on the wire in the same write as the first body chunk.

    Gunicorn writes them separately. A process killed between the two writes leaves the load balancer with headers
    it has already passed on and a body that never comes: a failed request it cannot retry on another engine. In one
    write, a killed process has sent either nothing, and the balancer retries elsewhere, or the whole answer.
    """

    def write(self, arg):
        if self.headers_sent:
            return super().write(arg)
        sock, self.sock = self.sock, _Collector()
        try:
            super().write(arg)
            sock.sendall(b"".join(self.sock.written))
        finally:
            self.sock = sock


class _Collector:
    """Stands in for the client socket while gunicorn writes the headers and the first chunk."""

    def __init__(self):
        self.written: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.written.append(data)


@contextmanager
def graph_for_workers(settings: dict) -> Iterator[dict]:
    """The settings the workers use, with the graph's URI and credentials; an embedded server started here lives
    until the block ends. Workers and child commands get them in their environment."""
    connected, server = connect(settings)
    os.environ.update(BEUWI_GRAPH_URI=connected["GRAPH_URI"], BEUWI_GRAPH_USER=connected["GRAPH_USER"],
                      BEUWI_GRAPH_PASSWORD=connected["GRAPH_PASSWORD"], BEUWI_DATA_DIR=str(settings["DATA_DIR"]))
    try:
        yield connected
    finally:
        if server:
            server.stop()


def run(factory: Callable[[], Flask], settings: Mapping, *, host: str, port: int, workers: int, threads: int,
        banner: list[str]) -> None:
    def when_ready(_arbiter):
        for line in banner:
            click.echo(line)

    wsgi.Response = WholeResponse  # what gunicorn makes each response with (wsgi.create)
    FlaskServer(factory, {
        "bind": f"{host}:{port}", "workers": workers, "threads": threads,
        "worker_class": "beuwi.worker.RequestBufferingWorker",
        "timeout": settings["TIMEOUT"], "graceful_timeout": settings["GRACEFUL_TIMEOUT"],
        "keepalive": settings["KEEPALIVE"], "when_ready": when_ready,
        "accesslog": None, "errorlog": "-", "loglevel": "warning",
    }).run()


@dataclass(frozen=True)
class Seed:
    """A catalogue file to serve when no catalogue is active yet (checked when the command line was read)."""

    name: str
    data: bytes


class NeedsAdminStores(click.ClickException):
    """A command that works through the admin app's services (one way in) cannot reach the admin's stores."""

    exit_code = 2


@contextmanager
def admin_stores(settings: dict, command: str) -> Iterator[Stores]:
    """The admin app's stores for a command that works through its services (a load through the upload service, so
    the dashboard lists it like any upload); NeedsAdminStores naming the settings when they cannot be reached."""
    from beuwi.admin.app import build_stores
    from beuwi.admin.stores import StoreError

    try:
        stores = build_stores(settings)
    except StoreError as exc:
        raise NeedsAdminStores(needs_admin_stores(settings, command, exc)) from exc
    try:
        yield stores
    except StoreError as exc:
        raise NeedsAdminStores(needs_admin_stores(settings, command, exc)) from exc
    finally:
        stores.graph.close()


def needs_admin_stores(settings: dict, command: str, problem: Exception) -> str:
    backend = settings["BACKEND"]
    where = ("the Firebase project BEUWI_FIREBASE_PROJECT names, with Application Default Credentials "
             "(GOOGLE_APPLICATION_CREDENTIALS) or the emulators (FIRESTORE_EMULATOR_HOST, STORAGE_EMULATOR_HOST)"
             if backend == "firebase" else "the files and admin.sqlite3 under BEUWI_DATA_DIR")
    return (f"{command} works through the admin app's services (one way in, so the dashboard shows what it does) and "
            f"needs the admin's stores: BEUWI_BACKEND={backend}, {where}, as the admin app has them. They cannot be "
            f"reached: {problem}")


def seed_upload(settings: dict, seed: Seed, command: str) -> str | None:
    """Upload and activate the seed through the admin services when no catalogue is active yet, so the dashboard
    lists it like any upload (it can be downloaded, rolled back to, and deleted once another one is active); the
    active version either way."""
    from beuwi.admin import uploads

    with admin_stores(settings, command) as stores:
        if stores.graph.active_version() is None:
            record, _ = uploads.upload(stores, seed.data, seed.name, "seed", settings["MAX_UPLOAD_BYTES"])
            uploads.activate(stores, record.id, "seed")
            click.echo(f"uploaded and activated {seed.name}: upload {record.id}, {record.programmes} programmes")
        return stores.graph.active_version()


def startup_catalogue(settings: dict, seed: Seed | None) -> str:
    """What the banner calls active. Without a seed an unreachable graph does not stop the engine: it starts unready
    (503) and serves once the graph answers, so replicas need not be started after the graph."""
    if seed:
        return seed_upload(settings, seed, "beuwi serve search --seed") or "none active"
    try:
        with closing(open_store(settings, write=False)) as store:
            return store.active_version() or "none active"
    except GraphError as exc:
        return f"unknown, graph unreachable: {exc}"


def serve_engine(settings: dict, *, host: str, port: int, workers: int, threads: int,
                 seed: Seed | None = None) -> None:
    from beuwi.search import create_app

    with graph_for_workers(settings) as graph:
        active = startup_catalogue(graph, seed)
        base = f"http://{host}:{port}"
        run(create_app, settings, host=host, port=port, workers=workers, threads=threads, banner=[
            f"BeUWI programme engine: {base}/api/health  (catalogue {active})",
            f"  search:  {base}/api/search?subject=Mathematics%20(CSEC)&subject=English%20A%20(CSEC)",
            f"  OpenAPI: {base}/api/openapi.json    graph: {graph['GRAPH_URI']}",
        ])


def serve_admin(settings: dict, *, host: str, port: int, workers: int, threads: int) -> None:
    from beuwi.admin import create_app
    from beuwi.admin.auth import local_verifier

    with graph_for_workers(settings) as graph:
        if settings["BACKEND"] == "local":
            local_verifier(settings)  # the first token generated (and shown) here, not by each worker
        admin_app = partial(create_app, scheduler=True)  # built by each worker after the fork: one scheduler each
        run(admin_app, settings, host=host, port=port, workers=workers, threads=threads, banner=[
            f"BeUWI admin API: http://{host}:{port}/api/uploads  (backend {settings['BACKEND']}, graph {graph['GRAPH_URI']})",
        ])


def serve_site(settings: dict, *, host: str, port: int, engine: str, admin: str) -> None:
    from beuwi.site import create_app, firebase_sign_in

    try:
        firebase = firebase_sign_in(settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    run(lambda: create_app(engine, admin, firebase), settings, host=host, port=port, workers=1, threads=8, banner=[
        f"BeUWI web clients: student search http://{host}:{port}/search/  admin dashboard http://{host}:{port}/admin/",
    ])


def serve_all(settings: dict, *, host: str, port: int, admin_port: int, site_port: int,
              seed: Seed | None = None) -> None:
    """The engine, the admin app and the web clients on one graph, stopped together (what `make run` starts)."""
    with graph_for_workers(settings) as graph:
        if seed:
            seed_upload(graph, seed, "beuwi dev --seed")
        env = {**os.environ,  # graph_for_workers put the graph there; the admin API also takes the dashboard's calls
               "BEUWI_ADMIN_CORS_ORIGINS": f"{settings['ADMIN_CORS_ORIGINS']},http://{host}:{site_port}"}
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
