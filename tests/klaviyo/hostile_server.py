"""A hostile or broken Klaviyo on loopback: real HTTP over real sockets, answering as scripted.

Each route (method and path) gets an `Answer`: its status, headers and body, and how it is
written: all at once, one byte at a time from the status line on (`trickle="all"`), headers at
once and then the body a byte at a time (`trickle="body"`), or an endless body (`endless=True`)
that stops only when the client hangs up. Connections are kept alive, so a second request can
reuse the socket of the first. Unscripted requests get a JSON:API 404.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    trickle: str | None = None  # None, "all" or "body"
    interval: float = 1.0  # seconds between trickled bytes
    endless: bool = False  # a body that never ends (no Content-Length; the socket stays open)

    @classmethod
    def json(cls, document: Any, status: int = 200, **options: Any) -> Answer:
        headers = {"Content-Type": "application/vnd.api+json", **options.pop("headers", {})}
        return cls(status, headers, json.dumps(document).encode(), **options)


NOT_FOUND = Answer.json(
    {"errors": [{"status": 404, "code": "not_found", "detail": "no such route"}]}, 404
)
_REASONS = {200: "OK", 202: "Accepted", 404: "Not Found", 429: "Too Many Requests"}


class HostileKlaviyo:
    """Serves scripted answers on 127.0.0.1 until `stop()`; `requests` lists what came in."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.connections = 0
        self.stopping = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HostileKlaviyo:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def connected(self) -> None:
        with self._lock:
            self.connections += 1

    def answer(self, method: str, path: str, *answers: Answer) -> None:
        """Answer these in turn; the last one again for every later request."""
        with self._lock:
            self._routes[(method.upper(), path)] = list(answers)

    def next_answer(self, method: str, path: str) -> Answer:
        with self._lock:
            self.requests.append((method, path))
            queue = self._routes.get((method, path))
            if not queue:
                return NOT_FOUND
            return queue.pop(0) if len(queue) > 1 else queue[0]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, hostile: HostileKlaviyo) -> None:
        self.hostile = hostile
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.hostile.connected()
        self.connection.settimeout(30)
        while not self.server.hostile.stopping.is_set():
            request = self._read_request()
            if request is None:
                return
            answer = self.server.hostile.next_answer(*request)
            try:
                self._write(answer)
            except OSError:
                return  # the client hung up, as it should on a hostile answer

    def _read_request(self) -> tuple[str, str] | None:
        try:
            line = self.rfile.readline(65537)
            if not line:
                return None
            method, target = line.decode("latin-1").split()[:2]
            length = 0
            while (header := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            self.rfile.read(length)
        except (OSError, ValueError):
            return None
        return method.upper(), target.split("?", 1)[0]

    def _write(self, answer: Answer) -> None:
        head = self._head(answer)
        if answer.trickle == "all":
            self._trickle(head + answer.body, answer.interval)
            return
        self.wfile.write(head)
        self.wfile.flush()
        if answer.trickle == "body":
            self._trickle(answer.body, answer.interval)
        elif answer.endless:
            self._endless()
        else:
            self.wfile.write(answer.body)
            self.wfile.flush()

    def _head(self, answer: Answer) -> bytes:
        reason = _REASONS.get(answer.status, "Whatever")
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in answer.headers.items()]
        if not answer.endless and "content-length" not in {n.lower() for n in answer.headers}:
            lines.append(f"Content-Length: {len(answer.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _trickle(self, data: bytes, interval: float) -> None:
        for index in range(len(data)):
            if self.server.hostile.stopping.wait(interval):
                return
            self.wfile.write(data[index : index + 1])
            self.wfile.flush()

    def _endless(self) -> None:
        chunk = b"0" * 65536
        while not self.server.hostile.stopping.is_set():
            self.wfile.write(chunk)


def iter_hostile() -> Iterator[HostileKlaviyo]:
    """For a fixture: a started server, stopped afterwards."""
    server = HostileKlaviyo().start()
    try:
        yield server
    finally:
        server.stop()
