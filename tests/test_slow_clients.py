"""Slow clients (issue 10): 200 connections that each send half a request and wait must not stop the engine, the admin
app or nginx in front of an engine from answering a normal request at once, and are closed by the server within the
10 s a request may take. Real processes on loopback: `beuwi serve` under gunicorn with beuwi.worker, and nginx
running docker/nginx-lb.conf.
"""
import http.client
import json
import re
import selectors
import socket
import time
import uuid
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

from beuwi.csv_catalogue import parse_catalogue
from beuwi.graph.falkordb_store import FalkorDBStore
from beuwi.ports import free_port
from beuwi.search.app import MAX_REQUEST_BYTES

from .processes import (api_front, get_json, nginx_main_config, start_nginx, start_service, stop, wait_until,
                        wait_until_live)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "uploads" / "sample-catalogue.csv"
LB_CONFIG = ROOT / "docker" / "nginx-lb.conf"
SEARCH = "/api/search?subject=Mathematics%20(CSEC)&subject=English%20A%20(CSEC)"
CONNECTIONS = 200
CLOSED_WITHIN = 20  # seconds; the servers allow a request 10 s
HALF_REQUESTS = [  # each stops short: in the head, in a body of known length, in a chunked body
    b"GET /api/health HTTP/1.1\r\nHost: test\r\nX-Waiting: ",
    b"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    b"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"10\r\n{\"subj",
]


@pytest.fixture(scope="module")
def engine_port(falkordb_server, tmp_path_factory):
    """One engine (`beuwi serve search --workers 1`, 2 threads) on the sample catalogue, in a graph of its own."""
    name = f"slow-{uuid.uuid4().hex[:12]}"
    store = FalkorDBStore.from_uri(falkordb_server, graph=name, timeout=10)
    store.create_indexes()
    store.activate(store.load(parse_catalogue(SAMPLE.read_bytes()).programmes, source=SAMPLE.name).id)
    port, log = free_port(), tmp_path_factory.mktemp("engine") / "engine.log"
    process = start_service("search", port, log, GRAPH_URI=falkordb_server, GRAPH_NAME=name)
    try:
        wait_until_live(process, port, log)
        wait_until(lambda: get_json(f"http://127.0.0.1:{port}/api/health/ready")[0] == 200, "the engine is ready")
        yield port
    finally:
        stop(process)
        store.drop()
        store.close()


def half_sent(port: int, post_path: str) -> list[socket.socket]:
    """CONNECTIONS connections, each with one of HALF_REQUESTS sent, in turn."""
    heads = [head.replace(b"{path}", post_path.encode()) for head in HALF_REQUESTS]
    sockets = []
    for index in range(CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(heads[index % len(heads)])
        sockets.append(sock)
    time.sleep(1)  # long enough for a server that gives each its own thread to have done so
    return sockets


def timed_get(port: int, path: str) -> tuple[int, float]:
    start = time.perf_counter()
    status, _ = get_json(f"http://127.0.0.1:{port}{path}", timeout=5)
    return status, time.perf_counter() - start


def closed_by_server(sockets: list[socket.socket], within: float) -> tuple[list[bytes], int]:
    """What the server sent on each socket before closing it, waiting at most `within` seconds; and how many it
    left open."""
    deadline = time.monotonic() + within
    received = {sock: b"" for sock in sockets}
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(0.2):
                try:
                    data = key.fileobj.recv(65536)
                except ConnectionResetError:
                    data = b""
                received[key.fileobj] += data
                if not data:
                    selector.unregister(key.fileobj)
        still_open = len(selector.get_map())
    for sock in sockets:
        sock.close()
    return [answer for answer in received.values() if answer], still_open


def assert_json_error(answer: bytes, status: int) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), answer[:200]
    assert "content-type: application/json" in (line.lower() for line in lines), head
    assert json.loads(body)["error"]
    return dict(line.lower().split(": ", 1) for line in lines[1:])


def assert_survives_half_sent_requests(port: int, post_path: str, probe: str) -> None:
    sockets = half_sent(port, post_path)
    status, seconds = timed_get(port, probe)
    answers, still_open = closed_by_server(sockets, CLOSED_WITHIN)
    assert status == 200
    assert seconds < 1, f"a normal request took {seconds:.3f} s beside {CONNECTIONS} half-sent ones"
    assert still_open == 0, f"{still_open} half-sent requests still open after {CLOSED_WITHIN} s"
    for answer in answers:  # a server may close without a word, or say why
        assert assert_json_error(answer, 408)["connection"] == "close"


def test_the_engine_answers_beside_200_half_sent_requests_and_closes_them(engine_port):
    assert_survives_half_sent_requests(engine_port, "/api/search", SEARCH)


@pytest.fixture(scope="module")
def admin_port(falkordb_server, tmp_path_factory):
    """`beuwi serve admin` (1 worker, 2 threads), local backend under a temporary data dir."""
    data, port = tmp_path_factory.mktemp("admin"), free_port()
    process = start_service("admin", port, data / "admin.log", GRAPH_URI=falkordb_server,
                            GRAPH_NAME=f"slow-{uuid.uuid4().hex[:12]}", DATA_DIR=data, ADMIN_TOKEN="t" * 32)
    try:
        wait_until_live(process, port, data / "admin.log", "/api/health")
        yield port
    finally:
        stop(process)


def test_the_admin_app_answers_beside_200_half_sent_requests_and_closes_them(admin_port):
    assert_survives_half_sent_requests(admin_port, "/api/uploads", "/api/health")


def test_big_uploads_that_stall_cannot_take_a_worker_past_its_memory_budget(admin_port):
    """Eight uploads each 9 MiB into a 10 MiB body hold more than the worker's 64 MiB budget: the one that would go
    over it is answered 503 at once instead of being buffered."""
    uploads = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", admin_port), timeout=10)
        sock.sendall(b"POST /api/uploads HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: %d\r\n\r\n" % (10 * 2**20))
        try:
            sock.sendall(b"x" * (9 * 2**20))
        except OSError:  # refused and closed while this was still sending
            pass
        uploads.append(sock)
    answers, _ = closed_by_server(uploads, 3)
    assert answers, "no stalled upload was refused: the worker buffered them all"
    for answer in answers:
        assert assert_json_error(answer, 503)["connection"] == "close"
    assert timed_get(admin_port, "/api/health")[0] == 200


def front(tmp_path: Path, engine_ports: list[int]) -> tuple[int, int, Path]:
    """docker/nginx-lb.conf in front of these engine ports, its admin server proxying to nothing: the engines'
    port, the admin app's port and the whole nginx config."""
    port, admin_port = free_port(), free_port()
    config = api_front(LB_CONFIG.read_text(), (port, engine_ports), (admin_port, [free_port()]))
    return port, admin_port, nginx_main_config(tmp_path, f"access_log off;\n{config}")


def test_nginx_in_front_of_an_engine_answers_beside_200_half_sent_requests_and_closes_them(tmp_path, engine_port):
    port, _, config = front(tmp_path, [engine_port])
    with ExitStack() as cleanup:
        cleanup.callback(stop, start_nginx(tmp_path, config))
        wait_until(lambda: get_json(f"http://127.0.0.1:{port}/api/ping")[0] == 200, "nginx answers")
        assert_survives_half_sent_requests(port, "/api/search", SEARCH)


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send `data` on a new connection and read the answers until the server closes it or the last answer read says
    `Connection: close` and is complete (not waiting out a lingering close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.rpartition(b"HTTP/1.1 ")[2].partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if re.search(rb"(?im)^connection: *close", head) and length and len(body) >= int(length[1]):
                break
    return answer


def test_nginx_answers_its_own_errors_as_json(tmp_path):
    nothing = free_port()  # no engine listens there
    port, admin_port, config = front(tmp_path, [nothing])
    with ExitStack() as cleanup:
        cleanup.callback(stop, start_nginx(tmp_path, config))
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, "nginx listens")
        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10)) as connection:
            connection.request("GET", SEARCH)
            response = connection.getresponse()
            assert response.status == 502 and response.getheader("Content-Type") == "application/json"
            assert json.loads(response.read())["error"]
        too_big = b"x" * (MAX_REQUEST_BYTES + 1)
        assert_json_error(raw_exchange(port, b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                                       b"\r\nContent-Length: %d\r\n\r\n%s" % (len(too_big), too_big)), 413)
        assert_json_error(raw_exchange(admin_port, b"POST /api/uploads HTTP/1.1\r\nHost: t\r\n"
                                       b"Content-Length: 20000000\r\n\r\n"), 413)
        assert_json_error(raw_exchange(port, b"NOT HTTP\r\n\r\n"), 400)


# --- what the worker answers itself, and what it passes on as before ------------------------------------------------

def test_a_body_declared_over_the_apps_limit_is_answered_413_before_it_is_sent(engine_port):
    answer = raw_exchange(engine_port, b"POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                                       b"Content-Length: %d\r\n\r\n" % (MAX_REQUEST_BYTES + 1))
    assert assert_json_error(answer, 413)["connection"] == "close"
    assert str(MAX_REQUEST_BYTES) in json.loads(answer.partition(b"\r\n\r\n")[2])["error"]


def test_gunicorns_own_errors_are_json(engine_port):
    assert_json_error(raw_exchange(engine_port, b"NOT HTTP\r\n\r\n"), 400)


def test_closing_after_an_answer_does_not_wait_for_clients_that_never_close(engine_port):
    """A `Connection: close` answer ends with a lingering close (RFC 9112 9.6) that must not block the worker while a
    client neither reads nor closes."""
    stubborn = []
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", engine_port), timeout=5)
        sock.sendall(b"GET /api/ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        stubborn.append(sock)
    time.sleep(0.5)
    status, seconds = timed_get(engine_port, SEARCH)
    for sock in stubborn:
        sock.close()
    assert status == 200 and seconds < 1, f"{status} after {seconds:.3f} s"


def test_keep_alive_pipelining_and_both_body_framings_still_work(engine_port):
    body = json.dumps({"subjects": ["Mathematics (CSEC)", "English A (CSEC)"]}).encode()
    with closing(http.client.HTTPConnection("127.0.0.1", engine_port, timeout=10)) as connection:
        for _ in range(3):  # one connection, kept alive
            connection.request("GET", SEARCH)
            assert connection.getresponse().read() and connection.sock is not None
        connection.request("POST", "/api/search", body=body, headers={"Content-Type": "application/json"})
        assert json.loads(connection.getresponse().read())["subjects"]
        connection.request("POST", "/api/search", body=iter([body[:10], body[10:]]),
                           headers={"Content-Type": "application/json"}, encode_chunked=True)
        assert json.loads(connection.getresponse().read())["subjects"]
    pipelined = raw_exchange(engine_port, b"GET /api/ping HTTP/1.1\r\nHost: t\r\n\r\n"
                                          b"GET /api/ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert pipelined.count(b"HTTP/1.1 200 OK") == 2


def test_a_big_upload_that_stalls_is_dropped_within_10_s_of_its_last_bytes(admin_port):
    """A large body gets more time only while it keeps coming: one that stops is not held for the minutes its
    declared length would allow at the slowest accepted rate."""
    sock = socket.create_connection(("127.0.0.1", admin_port), timeout=10)
    sock.sendall(b"POST /api/uploads HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (10 * 2**20, b"x" * (5 * 2**20)))
    answers, still_open = closed_by_server([sock], CLOSED_WITHIN)
    assert still_open == 0
    assert assert_json_error(answers[0], 408)["connection"] == "close"
