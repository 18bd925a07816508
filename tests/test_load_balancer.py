"""Scale-out behind a real nginx running docker/nginx-lb.conf: three engine processes on one graph, one killed in the
middle of a bounded load.

From the client's side no request may fail (nginx retries an idempotent GET on the next engine when one dies), and
the access log must show the load spread over every live engine before and after the kill.
"""
import http.client
import json
import threading
import uuid
from collections import Counter
from contextlib import ExitStack, closing
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from gunicorn.config import Config

from beuwi.csv_catalogue import parse_catalogue
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.serving import WholeResponse

from beuwi.ports import free_port
from .processes import (api_front, get_json, kill_group, nginx_main_config, start_engine, start_nginx, stop,
                        wait_until, wait_until_live)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "uploads" / "sample-catalogue.csv"
LB_CONFIG = ROOT / "docker" / "nginx-lb.conf"
ENGINES = 3
CLIENTS = 4
REQUESTS = 1500
PROFILES = [
    ["Mathematics (CSEC)", "English A (CSEC)"],
    ["Mathematics (CSEC:I)", "English A (CSEC)", "Biology (CSEC)", "Chemistry (CSEC)", "Chemistry (CAPE:II)",
     "Biology (CAPE:III)"],
    ["English A (CSEC)", "History (CSEC)", "Caribbean Studies (CAPE)", "Sociology (CAPE)"],
    [],
]
PATHS = ["/api/search?" + urlencode([("subject", s) for s in profile]) for profile in PROFILES]

def balancer_config(port: int, engine_ports: list[int]) -> str:
    """docker/nginx-lb.conf, on loopback: the engines in place of the `engine` service, listening on `port` (its
    admin server on a free port, proxying to nothing), and logging which engine answered each request."""
    config = api_front(LB_CONFIG.read_text(), (port, engine_ports), (free_port(), [free_port()]))
    return f"log_format upstreams '$upstream_addr $status';\naccess_log access.log upstreams;\n{config}"


@pytest.fixture
def sample_graph(falkordb_server):
    """The sample catalogue, active, in a graph of this test's own on the session's FalkorDB."""
    name = f"lb-{uuid.uuid4().hex[:12]}"
    store = FalkorDBStore.from_uri(falkordb_server, graph=name, timeout=10)
    store.create_indexes()
    store.activate(store.load(parse_catalogue(SAMPLE.read_bytes()).programmes, source=SAMPLE.name).id)
    yield {"GRAPH_URI": falkordb_server, "GRAPH_NAME": name}
    store.drop()
    store.close()


class Load:
    """REQUESTS GETs through nginx from CLIENTS keep-alive connections; every answer that is not a 200 search
    result is kept as a failure, connection errors included."""

    def __init__(self, port: int):
        self.port = port
        self.done = 0
        self.failures: list[str] = []
        self._indexes = iter(range(REQUESTS))
        self._lock = threading.Lock()

    def _next(self) -> int | None:
        with self._lock:
            return next(self._indexes, None)

    def _record(self, failure: str | None) -> None:
        with self._lock:
            self.done += 1
            if failure:
                self.failures.append(failure)

    def client(self) -> None:
        with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)) as connection:
            while (index := self._next()) is not None:
                self._record(self._get(connection, PATHS[index % len(PATHS)]))

    @staticmethod
    def _get(connection: http.client.HTTPConnection, path: str) -> str | None:
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()  # the next request opens a new connection
            return f"GET {path}: {exc!r}"
        if response.status != 200:
            return f"GET {path}: {response.status} {body[:200]!r}"
        if "catalogue" not in json.loads(body):
            return f"GET {path}: not a search result: {body[:200]!r}"
        return None


def final_upstreams(lines: list[str]) -> Counter:
    """Which engine answered each logged request: the last of the addresses nginx tried."""
    return Counter(line.split()[-2] for line in lines)


def assert_spread(served: Counter, live: set[str]) -> None:
    """Only live engines answered, each at least half its fair share (nginx round-robins, so each gets about that)."""
    assert set(served) == live, served
    total = sum(served.values())
    assert all(count * 2 * len(live) >= total for count in served.values()), served


def test_killing_an_engine_under_load_fails_no_request_and_the_rest_share_the_load(tmp_path, sample_graph):
    ports = [free_port() for _ in range(ENGINES)]
    nginx_port = free_port()
    config = nginx_main_config(tmp_path, balancer_config(nginx_port, ports))
    log = tmp_path / "access.log"
    with ExitStack() as cleanup:
        engines = []
        for port in ports:
            engines.append(start_engine(port, tmp_path / f"engine-{port}.log", **sample_graph))
            cleanup.callback(stop, engines[-1])
        for engine, port in zip(engines, ports):
            wait_until_live(engine, port, tmp_path / f"engine-{port}.log")
            wait_until(lambda: get_json(f"http://127.0.0.1:{port}/api/health/ready")[0] == 200,
                       f"the engine on port {port} is ready")
        balancer = start_nginx(tmp_path, config)
        cleanup.callback(stop, balancer)
        wait_until(lambda: get_json(f"http://127.0.0.1:{nginx_port}/api/ping")[0] == 200, "nginx answers")
        start = len(log.read_text().splitlines())

        load = Load(nginx_port)
        clients = [threading.Thread(target=load.client) for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        wait_until(lambda: load.done >= REQUESTS // 3, "a third of the requests are done")
        killed_at = len(log.read_text().splitlines())
        kill_group(engines[0])
        for client in clients:
            client.join(timeout=300)
        assert not any(client.is_alive() for client in clients), "the load did not finish"

    assert load.failures == []
    assert load.done == REQUESTS
    lines = log.read_text().splitlines()
    addresses = {f"127.0.0.1:{port}" for port in ports}
    assert_spread(final_upstreams(lines[start:killed_at]), addresses)
    # Requests in flight at the kill are logged just after it and may have been answered by the killed engine.
    after = lines[killed_at + CLIENTS:]
    assert len(after) >= REQUESTS // 3
    assert_spread(final_upstreams(after), addresses - {f"127.0.0.1:{ports[0]}"})


class Socket:
    def __init__(self):
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(data)


def test_an_engine_writes_the_headers_and_the_first_body_chunk_at_once():
    """What keeps the kill above from cutting an answer in half: see beuwi.serving.WholeResponse."""
    request = SimpleNamespace(version=(1, 1), method="GET", should_close=lambda: False, headers=[])
    socket = Socket()
    response = WholeResponse(request, socket, Config())
    response.start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "4")])
    response.write(b"{}")
    response.write(b"{}")
    response.close()
    assert len(socket.writes) == 2
    assert socket.writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and socket.writes[0].endswith(b"\r\n\r\n{}")

