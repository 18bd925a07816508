"""Server processes the deployment tests start, kill, pause and restart: engines under gunicorn, a graph, nginx."""
from __future__ import annotations

import json
import os
import pwd
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest

from beuwi.graph import EMBEDDED

NGINX = "/usr/sbin/nginx"


class RestartableGraph:
    """An embedded graph server (FalkorDB or Neo4j) a test stops, pauses and starts again on the same port and data
    dir.

    Both keep what was loaded across a restart, as a real graph server does (FalkorDB its append-only file, see
    beuwi.graph.embedded; Neo4j its store); the same port means engines configured with its settings find it again by
    themselves.
    """

    def __init__(self, data_dir: Path, kind: str = "falkordb"):
        self._data_dir = data_dir
        self._server = EMBEDDED[kind].ensure(data_dir)
        self.kind = kind
        self.uri = self._server.uri

    @property
    def settings(self) -> dict:
        """The BEUWI_GRAPH_* settings (without the prefix) that reach it: its URI, and Neo4j's credentials."""
        return self._server.connection

    def stop(self) -> None:
        self._server.stop()

    def start(self) -> None:
        """Start it again on the port it had: the engines know only this one."""
        self._server = EMBEDDED[self.kind].ensure(self._data_dir, port=self._server.port)

    @contextmanager
    def paused(self):
        """The server stopped with SIGSTOP: connections are accepted by the kernel but nothing ever answers."""
        os.kill(self._server.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self._server.pid, signal.SIGCONT)


def get_json(url: str, timeout: float = 10) -> tuple[int, dict]:
    """Status and JSON body of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def call_json(method: str, url: str, token: str, body: bytes | None = None,
              content_type: str = "") -> tuple[int, dict]:
    """Status and JSON body of a request with this bearer token to a served app, error statuses included."""
    headers = {"Authorization": f"Bearer {token}", **({"Content-Type": content_type} if content_type else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method=method), timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll `check` (connection errors count as not yet) until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.1)


def start_engine(port: int, log: Path, **settings) -> subprocess.Popen:
    """`beuwi serve search --workers 1` with these BEUWI_* settings (see start_service)."""
    return start_service("search", port, log, **settings)


def start_service(service: str, port: int, log: Path, **settings) -> subprocess.Popen:
    """`beuwi serve <service> --workers 1` with these BEUWI_* settings, in a session of its own so that its process
    group is the gunicorn master and its worker. Output goes to `log`: a pipe nobody reads would fill and block it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}
    env.update({f"BEUWI_{key}": str(value) for key, value in settings.items()})
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "beuwi.cli", "serve", service, "--workers", "1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_live(process: subprocess.Popen, port: int, log: Path, path: str = "/api/health/live") -> None:
    """Until `path` answers 200 (the engine's liveness; the admin app has /api/health); fail if the process exits."""
    def live():
        assert process.poll() is None, f"the server on port {port} exited:\n{log.read_text()}"
        return get_json(f"http://127.0.0.1:{port}{path}", timeout=2)[0] == 200

    wait_until(live, f"the server on port {port} answers {path}")


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything in its group (a gunicorn master and its workers) at once."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a container runtime sends, then SIGKILL for whatever of the group is left after 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    kill_group(process)


def nginx_main_config(prefix: Path, http: str) -> Path:
    """A whole nginx.conf whose pid and temp files stay under `prefix`, around an `http` block's contents (which
    should say where its access log goes: the default is a system path).

    Workers run as the current user: as root nginx would otherwise switch them to `nobody`, who cannot enter the
    test's private temp dir.
    """
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in kinds)
    config = prefix / "nginx.conf"
    config.write_text(f"""user {pwd.getpwuid(os.geteuid()).pw_name};
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
{temp}
{http}
}}
""")
    return config


def nginx_binary() -> str:
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} is missing: `make test` installs it (Debian package nginx-light)", pytrace=False)
    return NGINX


def nginx_version() -> tuple[int, ...]:
    """The installed nginx's version, e.g. (1, 22, 1)."""
    banner = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True, check=True).stderr
    return tuple(int(part) for part in re.search(r"nginx/([\d.]+)", banner).group(1).split("."))


def for_local_nginx(config: str, hosts: dict[str, list[int]] | None = None) -> str:
    """A docker/ nginx config made loadable here: each upstream `server <name>:<port> ...;` of a Compose service in
    `hosts` becomes one such line per loopback port given (nginx resolves upstream names as it loads a config), and
    `resolve`, which open-source nginx has only since 1.27.3 (the images run 1.27), goes when this nginx is older."""
    for name, ports in (hosts or {}).items():
        config = re.sub(rf"server {name}:\d+([^;]*);",
                        lambda m: " ".join(f"server 127.0.0.1:{port}{m.group(1)};" for port in ports), config)
    if nginx_version() < (1, 27, 3):
        config = re.sub(r"\s+resolve(?=[\s;])", "", config)
    return config


def api_front(text: str, engine: tuple[int, list[int]], admin: tuple[int, list[int]]) -> str:
    """docker/nginx-lb.conf on loopback: for the engines' server and the admin app's, the port it listens on and the
    loopback ports of what it proxies to."""
    config = for_local_nginx(text, {"engine": engine[1], "admin": admin[1]})
    config = config.replace("listen 8000;", f"listen 127.0.0.1:{engine[0]};").replace(
        "listen 8001;", f"listen 127.0.0.1:{admin[0]};")
    assert f"listen 127.0.0.1:{engine[0]};" in config and f"listen 127.0.0.1:{admin[0]};" in config, \
        "docker/nginx-lb.conf changed"
    assert "server engine:" not in config and "server admin:" not in config, "docker/nginx-lb.conf changed"
    return config


def start_nginx(prefix: Path, config: Path) -> subprocess.Popen:
    """nginx in the foreground on `config`, its errors in prefix/nginx.log."""
    with open(prefix / "nginx.log", "ab") as errors:
        return subprocess.Popen(nginx(prefix, config, "-g", "daemon off;"), stderr=errors, start_new_session=True)


def nginx(prefix: Path, config: Path, *args: str) -> list[str]:
    """The nginx command line for a config under `prefix`, touching nothing outside it."""
    return [nginx_binary(), "-p", str(prefix), "-c", str(config), "-e", "stderr", *args]
