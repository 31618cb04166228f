"""The HTTP receiver behind `joyctl webhooks listen`.

Each request to the webhook path is checked cheapest first: its framing and size, its headers
and webhook id (before the body is read), then its signature. A signed request is stored in
full before its document is looked at; anything refused earlier is kept as a small audit row
(see `intake`). The answer is 200 for a verified delivery, a 4xx naming the reason otherwise.
Verified deliveries go to one worker thread that runs them through the reward pipeline, so
Klaviyo gets its answer without waiting for API calls.

No client can knock it over: the headers and the body each have a deadline (`framing`), at most
`max_connections` requests are handled at once (more wait briefly in a deep listen backlog, then
get 503), and a stop (SIGINT or SIGTERM) ends every read at once, lets requests already read
finish storing, and lets the worker finish the delivery it is on; anything stored but not
processed is left for `joyctl webhooks replay`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import queue
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joyctl.errors import JoyctlError, UsageError
from joyctl.ledger import deliveries as delivery_queries
from joyctl.ledger.deliveries import Verdict
from joyctl.services.webhooks.framing import (
    DeadlineReader,
    body_framing,
    declared_length,
    read_body,
)
from joyctl.services.webhooks.health import ListenerHealth
from joyctl.services.webhooks.intake import (
    DEFAULT_KEEP_REJECTED,
    DeliveryIntake,
    DeliveryLine,
    ListenLine,
)
from joyctl.services.webhooks.process import DeliveryProcessor, ProcessResult
from joyctl.services.webhooks.verify import DeliveryRequest

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780
DEFAULT_PATH = "/klaviyo/webhooks"
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 64
HEADER_TIMEOUT_SECONDS = 10.0  # from the connection to the end of the headers
BODY_TIMEOUT_SECONDS = 30.0  # from the end of the headers to the end of the body
LISTEN_BACKLOG = 256  # connections the kernel holds while every handler is busy
SLOT_WAIT_SECONDS = 2.0  # how long a new connection waits for a free handler before a 503
WRITE_TIMEOUT_SECONDS = 5.0  # an answer is a few hundred bytes; a client must take it
STOP_GRACE_SECONDS = 10.0  # how long a stop waits for the delivery being processed
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 17\r\nConnection: close\r\n\r\n{"error": "busy"}'
)


@dataclass(frozen=True)
class ListenOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    path: str = DEFAULT_PATH
    tolerance_seconds: float = 300.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    keep_rejected: int = DEFAULT_KEEP_REJECTED
    header_timeout: float = HEADER_TIMEOUT_SECONDS
    body_timeout: float = BODY_TIMEOUT_SECONDS


Report = Callable[[ListenLine], None]
Pusher = Callable[[], int]  # sends the outbox; returns how many rows Klaviyo accepted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "joyctl-webhooks"
    server: _Server
    _reader: DeadlineReader

    def setup(self) -> None:
        super().setup()
        options = self.server.receiver.options
        self._reader = DeadlineReader(self.connection, self.server.closing, options.header_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def do_POST(self) -> None:
        self.close_connection = True  # one request per connection: no unread body is ever
        receiver = self.server.receiver  # taken for the next request
        if self.path.split("?", 1)[0] != receiver.options.path:
            self._answer(404, {"error": "not_found"})
            return
        try:
            line = self._take(_lowered(self.headers))
        except (JoyctlError, sqlite3.Error) as exc:
            # Our side failed (ledger busy, keyring locked): 503 asks Klaviyo to send it again.
            receiver.report_failure(exc)
            self._answer(503, {"error": "unavailable"})
            return
        self._answer(line.status_code, {"delivery": line.delivery_id, "verdict": line.verdict})
        receiver.accepted(line)

    def do_GET(self) -> None:
        self.close_connection = True
        health = self.server.receiver.health
        answer = health.answer(self.command, self.path) if health is not None else None
        if answer is not None:  # GET /healthz, GET /readyz
            self._answer(*answer)
            return
        self._answer(405, {"error": "method_not_allowed"}, allow="POST")

    do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _take(self, headers: dict[str, str]) -> DeliveryLine:
        """Read and judge the request, cheapest checks first; the body only if they pass."""
        intake = self.server.receiver.intake
        options = self.server.receiver.options
        limit = options.max_body_bytes
        framing = body_framing(headers, limit)
        if isinstance(framing, Verdict):
            declared = declared_length(headers.get("content-length"))
            return intake.refuse(DeliveryRequest(headers, None, declared, limit), framing)
        unread = DeliveryRequest(headers, None, framing.length, limit)
        early = intake.screen(headers)
        if early is not None:
            return intake.refuse(unread, early)
        self._reader.start_phase(options.body_timeout)
        body = read_body(self.rfile, framing, limit)
        if isinstance(body, Verdict):
            return intake.refuse(unread, body)
        return intake.receive(DeliveryRequest(headers, body, framing.length, limit))

    def _answer(self, status: int, document: dict[str, Any], allow: str | None = None) -> None:
        body = json.dumps(document).encode("utf-8")
        self.connection.settimeout(WRITE_TIMEOUT_SECONDS)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Requests the standard library cannot parse are answered like the rest: JSON over
        HTTP/1.1, even when the request line was too garbled to name a version."""
        self.request_version = self.protocol_version
        self._answer(code, {"error": HTTPStatus(code).phrase.lower().replace(" ", "_")})

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the receiver reports one line per delivery itself."""


def _lowered(message: Message) -> dict[str, str]:
    """Header names in lower case; a repeated header's values joined, as HTTP reads them (so
    two differing Content-Length headers are one value that is not a number)."""
    headers: dict[str, str] = {}
    for name, value in message.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else str(value)
    return headers


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # closing joins every request thread, so no store is cut short
    block_on_close = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.receiver = receiver
        self.closing = threading.Event()  # set first on a stop: every read ends at once
        self._slots = threading.BoundedSemaphore(receiver.options.max_connections)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Hand the connection to a handler thread once one of the slots is free."""
        if not self._take_slot():
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _take_slot(self) -> bool:
        give_up = time.monotonic() + SLOT_WAIT_SECONDS
        while not self.closing.is_set() and time.monotonic() < give_up:
            if self._slots.acquire(timeout=0.05):
                return True
        return False

    def _refuse_busy(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.settimeout(0.5)
            request.sendall(_BUSY)
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away, was too slow or was cut off by a stop is not worth a line;
        anything else is a bug in joyctl, reported without a traceback."""
        failure = sys.exc_info()[1]
        if failure is None or isinstance(failure, OSError):
            return
        self.receiver.internal_error(failure)


class WebhookReceiver:
    """Binds on `start()`, serves on a thread, processes on another; `stop()` ends both.

    `health`, when set, answers `GET /healthz` and `GET /readyz` (see health.py).
    """

    health: ListenerHealth | None = None

    def __init__(
        self,
        options: ListenOptions,
        intake: DeliveryIntake,
        processor: DeliveryProcessor,
        report: Report,
        push: Pusher | None = None,
    ) -> None:
        self.options = options
        self.intake = intake
        self.processor = processor
        self.push = push
        self._report = report
        self._report_lock = threading.Lock()
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._awaiting: dict[int, DeliveryLine] = {}  # verified, queued for the worker
        self.deliveries = 0
        self.internal_errors = 0

    def start(self) -> str:
        """Bind and start serving; a port in use or a bad host is a usage error."""
        try:
            server = _Server((self.options.host, self.options.port), self)
        except OSError as exc:
            raise _bind_error(self.options, exc) from None
        self._server = server
        host, port = server.server_address[:2]
        shown = f"[{host!s}]" if ":" in str(host) else str(host)
        self._threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="webhook-http"
            ),
            # A daemon, so a Klaviyo call that hangs past the stop cannot keep the process up.
            threading.Thread(target=self._work, name="webhook-worker", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return f"http://{shown}:{port}{self.options.path}"

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        server.closing.set()  # reads end now: slow clients cannot hold the stop
        server.shutdown()  # no new connections
        server.server_close()  # joins request threads: whatever was read is stored
        self._stopping.set()
        self._queue.put(None)
        http_thread, worker = self._threads
        http_thread.join()
        worker.join(STOP_GRACE_SECONDS)
        if worker.is_alive():
            # Still waiting on Klaviyo (retries can take minutes): fence it off the ledger for
            # good, so it cannot touch it as the process ends. The delivery it held stays
            # unprocessed, and `webhooks replay` finishes it.
            self.processor.lock.acquire()
        self._server = None

    def accepted(self, line: DeliveryLine) -> None:
        with self._report_lock:
            self.deliveries += 1
            if line.verdict == delivery_queries.VERIFIED:
                self._awaiting[line.delivery_id] = line
        if line.verdict == delivery_queries.VERIFIED:
            self._queue.put(line.delivery_id)
        else:
            self.emit(line)

    def retry(self, line: DeliveryLine) -> bool:
        """Hand a stored, verified delivery back to the worker (one an outage left
        unprocessed); False when it is already waiting there."""
        with self._report_lock:
            if line.delivery_id in self._awaiting:
                return False
            self._awaiting[line.delivery_id] = line
        self._queue.put(line.delivery_id)
        return True

    def emit(self, model: ListenLine) -> None:
        with self._report_lock:
            self._report(model)

    def report_failure(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, JoyctlError) else f"ledger: {exc}"
        self.emit(_failure_line(message))

    def internal_error(self, exc: BaseException) -> None:
        with self._report_lock:
            self.internal_errors += 1
        self.emit(_failure_line(f"internal error handling a request: {type(exc).__name__}"))

    def _work(self) -> None:
        while not self._stopping.is_set():
            delivery_id = self._queue.get()
            if delivery_id is None or self._stopping.is_set():
                return
            with self._report_lock:
                line = self._awaiting.pop(delivery_id)
            processed = self._process(line)
            if processed.processed and self.push is not None:
                processed = _pushed(processed, self.push)
            self.emit(processed)

    def _process(self, line: DeliveryLine) -> DeliveryLine:
        with self.processor.lock:
            stored = delivery_queries.get_delivery(self.processor.connection, line.delivery_id)
        if stored is None:
            return line.model_copy(update={"error": "the stored delivery disappeared"})
        try:
            result: ProcessResult = self.processor.process(stored)
        except JoyctlError as exc:
            return line.model_copy(update={"error": exc.message})
        except Exception as exc:  # noqa: BLE001 - one bad delivery must not stop the listener
            return line.model_copy(update={"error": f"internal error: {type(exc).__name__}"})
        return line.model_copy(
            update={
                "events": result.events,
                "processed": result.processed,
                "duplicates": result.duplicates,
                "awarded": result.awarded,
                "points": result.points,
                **result.model_dump(include={"rejected", "held", "unmatched", "ignored"}),
                "reviews": result.reviews,
                "error": result.error,
            }
        )


def _pushed(line: DeliveryLine, push: Pusher) -> DeliveryLine:
    """Send what the delivery put in the outbox; a failure leaves it there for the next one."""
    try:
        return line.model_copy(update={"pushed": push()})
    except JoyctlError as exc:
        return line.model_copy(update={"push_error": exc.message})


def _failure_line(message: str) -> DeliveryLine:
    return DeliveryLine(
        delivery_id=0,
        received_at=datetime.now(UTC).isoformat(),
        webhook_id=None,
        status_code=503,
        verdict="failed",
        error=message,
    )


def _bind_error(options: ListenOptions, exc: OSError) -> UsageError:
    where = f"{options.host}:{options.port}"
    if exc.errno == errno.EADDRINUSE:
        return UsageError(
            f"port {options.port} is in use on {options.host}",
            hint="stop the other process, or pick another port with --port",
        )
    if exc.errno == errno.EACCES:
        return UsageError(
            f"not allowed to listen on {where}", hint="use a port above 1023 with --port"
        )
    return UsageError(f"cannot listen on {where}: {exc.strerror or exc}", hint="check --host")


def wait_for_signal(on_ready: Callable[[], None]) -> None:
    """Block until SIGINT or SIGTERM (main thread only), then restore the old handlers."""
    import signal

    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda signum, frame: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        on_ready()
        while not stopping.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def running(receiver: WebhookReceiver) -> Iterator[str]:
    """Serve while the block runs (tests, and callers that stop it themselves)."""
    url = receiver.start()
    try:
        yield url
    finally:
        receiver.stop()
