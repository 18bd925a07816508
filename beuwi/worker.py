"""A gunicorn worker that reads each request whole before a thread sees it, so slow clients cannot hold the threads.

gunicorn's gthread worker gives a connection to one of its few threads as soon as a byte arrives, and the thread then
blocks reading the rest of the head and the body: four clients that send half a request and wait stopped the engine.
Here the worker's main thread, which already polls every socket, reads each request without blocking into a buffer
until it is complete (the head, then the body by Content-Length or by chunked framing) and only then unreads it into
gunicorn's parser and hands it to a thread. What does not complete in time, is larger than the app accepts, or would
take the worker over its memory budget is answered from here, as JSON with `Connection: close`.
"""
from __future__ import annotations

import errno
import json
import selectors
import socket
import struct
import time
from functools import partial
from http import HTTPStatus

from gunicorn import util
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

REQUEST_SECONDS = 10  # from a request's first byte (or a new connection's accept) until it must be complete
BODY_BYTES_PER_SECOND = 100_000  # extra time for a large body, so an upload over a slow link is not cut off
MAX_HEAD_BYTES = 64 * 1024  # request line and headers
DEFAULT_BODY_LIMIT = 64 * 1024  # an app without MAX_CONTENT_LENGTH (the web clients' server takes no bodies)
BUFFER_BUDGET_BYTES = 64 * 1024 * 1024  # per worker: requests being read or served, held in memory
LINGER_SECONDS = 2.0  # after a last answer, for the client to stop sending before the socket closes (RFC 9112 9.6)
RECV_BYTES = 256 * 1024
SWEEP_SECONDS = 0.25  # how often deadlines are checked: a connection is dropped at most this late
# A thread never waits for request bytes, but it writes the answer with a blocking socket: a client that stops
# reading frees the thread after this long. The kernel applies it; gunicorn's setblocking() does not reset it.
SOCKET_BACKSTOP = struct.pack("ll", REQUEST_SECONDS, 0)


class Refused(Exception):
    """A request answered from the worker with this status and message, never reaching the app."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Unframed(Exception):
    """Framing the worker does not follow: gunicorn's parser gets the bytes as they are and answers its own 400."""


class Incoming:
    """The bytes of one request read so far, and where they end once that is known."""

    def __init__(self, deadline: float, limit: int, data: bytes = b""):
        self.data = bytearray(data)
        self.deadline = deadline
        self.last_read = time.monotonic()
        self.idle = not data  # a kept-alive connection waiting for its next request: no deadline per request yet
        self.limit = limit
        self.head_end: int | None = None
        self.body_end: int | None = None  # Content-Length framing (or no body)
        self.chunk_at: int | None = None  # chunked framing: where the next chunk-size line starts
        self.decoded = 0
        self.wants_continue = False

    def end(self) -> int | None:
        """Where the first complete request in the data ends, None while it is incomplete."""
        if self.head_end is None:
            found = self.data.find(b"\r\n\r\n")
            if found < 0:
                if b"\n\n" in self.data:
                    raise Unframed("bare LF")
                if len(self.data) > MAX_HEAD_BYTES:
                    raise Refused(431, f"request head too large (at most {MAX_HEAD_BYTES} bytes)")
                return None
            self.head_end = found + 4
            self._frame(bytes(self.data[:found]))
        if self.chunk_at is not None:
            return self._chunked_end()
        return self.body_end if len(self.data) >= self.body_end else None

    def _frame(self, head: bytes) -> None:
        fields: dict[bytes, list[bytes]] = {}
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                raise Unframed(line)
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        lengths, codings = fields.get(b"content-length", []), [
            coding.strip().lower() for value in fields.get(b"transfer-encoding", []) for coding in value.split(b",")]
        if codings:
            if lengths or codings[-1] != b"chunked" or codings.count(b"chunked") > 1:
                raise Unframed(codings)
            self.chunk_at = self.head_end
        elif lengths:
            if len(lengths) > 1 or not lengths[0].isdigit():
                raise Unframed(lengths)
            self._count(int(lengths[0]))
            self.body_end = self.head_end + int(lengths[0])
        else:
            self.body_end = self.head_end
        self.wants_continue = [v.lower() for v in fields.get(b"expect", [])] == [b"100-continue"]

    def _count(self, size: int) -> None:
        if self.decoded + size > self.limit:
            raise Refused(413, f"request body too large (at most {self.limit} bytes)")

    def _chunked_end(self) -> int | None:
        while True:
            line_end = self.data.find(b"\r\n", self.chunk_at)
            if line_end < 0:
                if len(self.data) - self.chunk_at > MAX_HEAD_BYTES:
                    raise Unframed("chunk-size line")
                return None
            digits = bytes(self.data[self.chunk_at:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(digits, 16)
            except ValueError:
                raise Unframed(digits) from None
            if size == 0:  # the last chunk, then trailer fields up to an empty line
                if len(self.data) < line_end + 4:
                    return None
                if self.data[line_end + 2:line_end + 4] == b"\r\n":
                    return line_end + 4
                trailers_end = self.data.find(b"\r\n\r\n", line_end + 2)
                return None if trailers_end < 0 else trailers_end + 4
            self._count(size)
            chunk_end = line_end + 2 + size + 2
            if len(self.data) < chunk_end:
                return None
            if self.data[chunk_end - 2:chunk_end] != b"\r\n":
                raise Unframed("chunk terminator")
            self.decoded += size
            self.chunk_at = chunk_end

    def add(self, data: bytes) -> None:
        self.data += data
        self.last_read = time.monotonic()

    def allowed_until(self) -> float:
        """The deadline, plus the time a declared or received body may take at the slowest rate accepted; but never
        more than REQUEST_SECONDS after the last bytes came, so a big upload that stalls does not hold its buffer."""
        body = max(len(self.data), (self.body_end or 0)) - (self.head_end or 0)
        return min(self.deadline + max(body, 0) / BODY_BYTES_PER_SECOND, self.last_read + REQUEST_SECONDS)


def json_answer(status: int, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("latin-1") + body


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answers (a malformed request line or header), as JSON instead of an HTML page."""
    util.write_nonblock(sock, json_answer(status_int, mesg or reason))


class RequestBufferingWorker(ThreadWorker):
    """gthread, with every request read whole by the polling thread first (see the module docstring)."""

    def init_process(self):
        self.incoming: dict[TConn, Incoming] = {}
        self.lingering: dict[TConn, float] = {}
        self.in_threads: dict[TConn, tuple[int, bytes]] = {}  # bytes held, and what was read past the request
        self.buffered = 0
        self.next_sweep = 0.0
        util.write_error = write_json_error  # what gunicorn's handle_error writes with
        super().init_process()

    def run(self):
        self.body_limit = getattr(self.wsgi, "config", {}).get("MAX_CONTENT_LENGTH") or DEFAULT_BODY_LIMIT
        self.budget = max(BUFFER_BUDGET_BYTES, self.body_limit + MAX_HEAD_BYTES)
        super().run()

    def accept(self, listener):
        try:
            sock, address = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, SOCKET_BACKSTOP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, SOCKET_BACKSTOP)
        conn = TConn(self.cfg, sock, address, listener.getsockname())  # non-blocking
        self.await_request(conn, Incoming(time.monotonic() + REQUEST_SECONDS, self.body_limit), idle=False)

    def await_request(self, conn: TConn, incoming: Incoming, idle: bool) -> None:
        incoming.idle = idle
        self.incoming[conn] = incoming
        self.buffered += len(incoming.data)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))
        if incoming.data:
            self.progress(conn)

    def on_readable(self, conn: TConn, _sock) -> None:
        incoming = self.incoming.get(conn)
        if incoming is None:  # an event from the same poll as the one that let the connection go
            return
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close(conn)
            return
        if incoming.idle:
            incoming.idle = False
            incoming.deadline = time.monotonic() + REQUEST_SECONDS
        if self.buffered + len(data) > self.budget:
            self.refuse(conn, Refused(503, "the server is receiving too many large requests at once: retry shortly"))
            return
        incoming.add(data)
        self.buffered += len(data)
        self.progress(conn)

    def progress(self, conn: TConn) -> None:
        incoming = self.incoming[conn]
        try:
            end = incoming.end()
        except Refused as refused:
            self.refuse(conn, refused)
            return
        except Unframed:
            end = len(incoming.data)
        if end is not None:
            self.hand_over(conn, end)
        elif incoming.wants_continue:
            incoming.wants_continue = False
            self.send_quietly(conn, b"HTTP/1.1 100 Continue\r\n\r\n")

    def hand_over(self, conn: TConn, end: int) -> None:
        incoming = self.forget(conn, release=False)
        conn.init()  # blocking socket and gunicorn's parser; a kept-alive connection has both already
        conn.parser.unreader.unread(bytes(incoming.data[:end]))
        self.in_threads[conn] = (len(incoming.data), bytes(incoming.data[end:]))
        self.enqueue_req(conn)

    def finish_request(self, conn, fs):
        held, rest = self.in_threads.pop(conn)
        self.buffered -= held
        try:
            keep = not fs.cancelled() and fs.result() is True
        except Exception:
            keep = False
        if not keep:
            self.linger(conn)
            return
        rest = conn.parser.unreader.take_buffered() + rest
        conn.sock.setblocking(False)
        idle = self.cfg.keepalive if self.alive else min(self.cfg.keepalive, STOP_KEEPALIVE_LINGER)
        self.await_request(conn, Incoming(time.monotonic() + idle, self.body_limit, rest), idle=not rest)

    def refuse(self, conn: TConn, refused: Refused) -> None:
        self.send_quietly(conn, json_answer(refused.status, str(refused)))
        self.forget(conn)
        self.linger(conn)

    @staticmethod
    def send_quietly(conn: TConn, data: bytes) -> None:
        """Best effort, without blocking: a client that reads nothing gets nothing."""
        try:
            conn.sock.send(data)
        except OSError:
            pass

    def linger(self, conn: TConn) -> None:
        """Close after the last answer without blocking the poller: FIN first, then drain until the client closes."""
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close(conn)
            return
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_lingering, conn))

    def on_lingering(self, conn: TConn, _sock) -> None:
        if conn not in self.lingering:  # as in on_readable
            return
        try:
            if conn.sock.recv(RECV_BYTES):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.close(conn)

    def forget(self, conn: TConn, release: bool = True) -> Incoming | None:
        """Stop polling the connection; its buffered bytes no longer count unless it is handed to a thread."""
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        self.lingering.pop(conn, None)
        incoming = self.incoming.pop(conn, None)
        if incoming and release:
            self.buffered -= len(incoming.data)
        return incoming

    def close(self, conn: TConn) -> None:
        self.forget(conn)
        self.nr_conns -= 1
        conn.close()

    def wait_for_and_dispatch_events(self, timeout):
        waiting = self.incoming or self.lingering
        super().wait_for_and_dispatch_events(min(timeout, SWEEP_SECONDS) if waiting else timeout)

    def murder_keepalived(self, force=False):
        """Past its deadline, a request half read is answered 408 and an idle or lingering connection closed.

        gunicorn calls this after every poll; the connections are swept every SWEEP_SECONDS only, so that a busy
        worker with hundreds of waiting connections does not go through all of them for each event."""
        now = time.monotonic()
        if now < self.next_sweep and not force:
            return
        self.next_sweep = now + SWEEP_SECONDS
        for conn, incoming in list(self.incoming.items()):
            if force or incoming.idle and incoming.deadline <= now:
                self.close(conn)
            elif not incoming.idle and incoming.allowed_until() <= now:
                self.refuse(conn, Refused(408, f"request not complete within {REQUEST_SECONDS} s"))
        for conn, deadline in list(self.lingering.items()):
            if force or deadline <= now:
                self.close(conn)

    def _cap_keepalive(self, deadline):
        """On a graceful stop, idle kept-alive connections stay open until `deadline` at most (as in gthread)."""
        for incoming in self.incoming.values():
            if incoming.idle:
                incoming.deadline = min(incoming.deadline, deadline)
