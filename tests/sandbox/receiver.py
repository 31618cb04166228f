"""A local webhook receiver that checks every delivery's signature as joyctl will."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joyctl.klaviyo import signing


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    secret: str
    url: str = ""
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    delay: float = 0.0  # how long each answer takes, to keep a delivery in flight
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def record(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, so shutdown never waits
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = dict(self.headers.items())
        receiver = self.server.receiver
        ok = signing.verify(
            receiver.secret,
            body,
            headers.get(signing.HEADER_TIMESTAMP, ""),
            headers.get(signing.HEADER_SIGNATURE, ""),
        )
        receiver.record(Delivery(headers, body, ok))
        time.sleep(receiver.delay)
        status = receiver.next_status()
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = False

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _Handler)


@contextmanager
def running_receiver(
    secret: str, statuses: list[int] | None = None, delay: float = 0.0
) -> Iterator[Receiver]:
    receiver = Receiver(secret, statuses=list(statuses or []), delay=delay)
    server = _Server(receiver)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/klaviyo/webhooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
