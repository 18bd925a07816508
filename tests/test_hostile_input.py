"""A hostile-input corpus against both apps as they are deployed (gunicorn, real graph, local admin backend): every
answer is a 4xx (or a bodiless 204/304) in strict JSON, nothing is a 5xx, and neither log holds a stack trace."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from beuwi.ports import free_port
from tests.processes import stop, wait_until

SAMPLE = Path(__file__).resolve().parent.parent / "uploads" / "sample-catalogue.csv"
TOKEN = "hostile-corpus-token-" + "x" * 24
MB = 1024 * 1024


class Server:
    def __init__(self, command: list[str], data_dir: Path, log: Path):
        self.port, self.log = free_port(), log
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEUWI_")}
        env.update(BEUWI_ADMIN_TOKEN=TOKEN, BEUWI_DATA_DIR=str(data_dir))
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "beuwi.cli", "serve", *command, "--port", str(self.port)],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self.process.poll() is None and self.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
                                                                       b"Connection: close\r\n\r\n")[0] < 500,
                   f"{command[0]} answers")

    def send(self, raw: bytes, timeout: float = 30) -> tuple[int, dict, bytes]:
        """One raw request; the status, headers and body of the answer, however the server ends the connection."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            try:
                sock.sendall(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before reading everything: its answer is still there
            data = b""
            try:
                while chunk := sock.recv(65536):
                    data += chunk
                    if _complete(data):
                        break
            except ConnectionResetError:
                pass
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), headers, body


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return b" 204 " in head.split(b"\r\n")[0] or b" 304 " in head.split(b"\r\n")[0]


def request(method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None,
            chunked: bool = False) -> bytes:
    head = {"Host": "127.0.0.1", "Connection": "close", **(headers or {})}
    if chunked:
        head["Transfer-Encoding"] = "chunked"
        step = 64 * 1024
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                        for i in range(0, len(body), step)) + b"0\r\n\r\n"
    elif body or method in ("POST", "PUT"):
        head["Content-Length"] = str(len(body))
    lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    return f"{method} {target} HTTP/1.1\r\n{lines}\r\n".encode("latin-1") + body


def multipart(filename_header: str, data: bytes) -> tuple[bytes, dict]:
    boundary = "hostile-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; {filename_header}\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode("latin-1") + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hostile")
    engine = Server(["search", "--workers", "1", "--seed", str(SAMPLE)], data_dir, data_dir / "engine.log")
    admin = Server(["admin"], data_dir, data_dir / "admin.log")
    yield engine, admin
    for server in (admin, engine):
        stop(server.process)
    for server in (engine, admin):
        log = server.log.read_text(errors="replace")
        assert "Traceback" not in log, log


def answered_as_json(answer: tuple[int, dict, bytes], *statuses: int) -> dict:
    status, headers, body = answer
    assert status in statuses, (status, body[:300])
    assert headers["content-type"] == "application/json", headers
    return json.loads(body, parse_constant=pytest.fail)  # strict: a bare NaN or Infinity fails


ENGINE_CASES = {
    "a 65 KB subject of spaces": (request("POST", "/api/search", json.dumps(
        {"subjects": ["a" + " " * 65_000 + "b"]}).encode()), 400),
    "nested 5,000 deep": (request("POST", "/api/search", b'{"subjects": ' + b"[" * 5000 + b"]" * 5000 + b"}"), 400),
    "NaN": (request("POST", "/api/search", b'{"subjects": [NaN]}'), 400),
    "Infinity": (request("POST", "/api/search", b'{"subjects": [Infinity, -Infinity]}'), 400),
    "a 10 MB chunked body": (request("POST", "/api/search", b'{"subjects": ["' + b"x" * (10 * MB) + b'"]}',
                                     chunked=True), 413),
    "a long Content-Length body": (request("POST", "/api/search", b"x" * (100 * 1024)), 413),
    "invalid UTF-8 in the body": (request("POST", "/api/search", b'{"subjects": ["\xff\xfe (CSEC)"]}'), 400),
    "invalid UTF-8 in the query": (request("GET", "/api/search?subject=%FF%FE%20(CSEC)"), 400),
    "NUL in the query": (request("GET", "/api/search?subject=Chemistry%00%20(CSEC)"), 400),
    "a 3,900-character subject": (request("GET", "/api/search?subject=" + "a" * 3900 + "%20(CSEC)"), 400),
    "61 subjects": (request("GET", "/api/search?" + "&".join(["subject=Biology%20(CSEC)"] * 61)), 400),
    "a double slash from another host": (request("GET", "/api//search?subject=Biology%20(CSEC)",
                                                 headers={"Host": "evil.example"}), 404),
    "an unknown programme": (request("GET", "/api/programmes/%2E%2E%2F%2E%2E%2Fetc"), 404),
    "a bad level": (request("GET", "/api/subjects?level=%3Cscript%3E"), 400),
    "a 5,000-character filter": (request("GET", "/api/programmes?q=" + "x" * 3000), 400),
    "a method the route lacks": (request("DELETE", "/api/search"), 405),
    "a body that is not an object": (request("POST", "/api/search", b'"subjects"'), 400),
    "a request line too long for the server": (request("GET", "/api/search?subject=" + "a" * 9000), 414),
    "a header name with a control character": (
        b"GET /api/ping HTTP/1.1\r\nHost: x\r\nX-\x01Bad: 1\r\nConnection: close\r\n\r\n", 400),
    "a request line that is not HTTP": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", ENGINE_CASES)
def test_the_engine_answers_hostile_input_with_json_4xx(apps, case):
    raw, status = ENGINE_CASES[case]
    started = time.monotonic()
    body = answered_as_json(apps[0].send(raw), status)
    assert body["error"]
    assert time.monotonic() - started < 10


def test_the_engine_still_answers_after_the_corpus(apps):
    body = answered_as_json(apps[0].send(request("GET", "/api/search?subject=Biology%20(CSEC)")), 200)
    assert body["catalogue"]


def test_bodiless_answers_say_no_content_type(apps):
    status, headers, body = apps[0].send(request("OPTIONS", "/api/search"))
    assert (status, body) == (204, b"") and "content-type" not in headers and "POST" in headers["allow"]
    tag = apps[0].send(request("GET", "/api/faculties"))[1]["etag"]
    answered_as_json(apps[0].send(request("GET", "/api/programmes/NOPE", headers={"If-None-Match": tag})), 404)


ADMIN_CASES = {
    "no token": (request("GET", "/api/uploads"), 401),
    "a wrong token": (request("GET", "/api/uploads", headers={"Authorization": "Bearer " + "y" * 40}), 401),
    "a traversing id": (request("GET", "/api/uploads/..%2F..%2Fadmin-token/source",
                                headers={"Authorization": f"Bearer {TOKEN}"}), 404),
    "an upload over the limit": (request("POST", "/api/uploads", b"x" * (11 * MB), multipart('filename="a.csv"', b"")[1]),
                                 413),
    "a chunked upload over the limit": (request("POST", "/api/uploads", b"x" * (11 * MB),
                                                multipart('filename="a.csv"', b"")[1], chunked=True), 413),
    "a form without a file": (request("POST", "/api/uploads", b"--b--\r\n", {
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "multipart/form-data; boundary=b"}), 400),
    "a double slash": (request("GET", "/api//uploads", headers={"Authorization": f"Bearer {TOKEN}",
                                                               "Host": "evil.example"}), 404),
}


@pytest.mark.parametrize("case", ADMIN_CASES)
def test_the_admin_app_answers_hostile_input_with_json_4xx(apps, case):
    raw, status = ADMIN_CASES[case]
    assert answered_as_json(apps[1].send(raw), status)["error"]


@pytest.mark.parametrize("filename_header", [
    "filename*=UTF-8''a%0D%0AX.csv", "filename=\"a\x01\x7fb.csv\"", "filename*=UTF-8''a%00b.csv",
    "filename=\"" + "n" * 200_000 + ".csv\"",
], ids=["CR LF", "control characters", "NUL", "200 KB"])
def test_hostile_file_names_are_stored_clean_and_downloads_keep_working(apps, filename_header):
    admin = apps[1]
    body, headers = multipart(filename_header, SAMPLE.read_bytes())
    upload = answered_as_json(admin.send(request("POST", "/api/uploads", body, headers)), 201, 400)
    if "id" not in upload:
        return  # refused with a 400 naming the problem: nothing stored
    assert not any(ord(c) < 32 or ord(c) == 127 for c in upload["filename"]), upload["filename"]
    assert len(upload["filename"]) <= 255
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, response_headers, source = admin.send(request("GET", f"/api/uploads/{upload['id']}/source", headers=auth))
    assert status == 200 and source == SAMPLE.read_bytes()
    assert "\r" not in response_headers["content-disposition"] and "\n" not in response_headers["content-disposition"]
    listing = answered_as_json(admin.send(request("GET", "/api/uploads", headers=auth)), 200)
    assert len(json.dumps(listing)) < 100_000
