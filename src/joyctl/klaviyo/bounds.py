"""Bounds on every exchange with Klaviyo: a deadline per request and a size limit per answer.

httpx's timeouts apply to each read, so a server that trickles one byte a second never trips
them. Every request therefore gets a deadline, from the moment it is sent to the last byte of
its answer, and every answer a size limit:
- a watchdog thread shuts down the request's socket when its deadline passes, which wakes a read
  blocked in any phase (the status line, the headers, a body chunk);
- the body is read through a stream that counts bytes, so an answer larger than the limit (as
  declared, or as it arrives) is refused without being held in memory, and a read woken by the
  watchdog becomes a `DeadlineExceeded`.
Both are httpx event hooks, so the OAuth token calls made inside the auth flow are bounded too.

The socket comes from httpcore's documented extensions: the `trace` callback sees each new
connection, and the `network_stream` of a response names a reused one once its headers arrived.
A reused connection still waiting for its headers is not known yet, so at that request's
deadline every connection of the client that no other request is using is shut down; the pool
opens new ones as needed.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from joyctl.errors import DataError
from joyctl.klaviyo.endpoints import find_endpoint

DEFAULT_DEADLINE_SECONDS = 120.0
DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024
_ATTEMPT = "joyctl.attempt"


# Read when a client is built rather than when this module is imported, so that a test can
# shorten them for the commands it runs.
def _default_deadline() -> float:
    return DEFAULT_DEADLINE_SECONDS


def _default_max_answer() -> int:
    return DEFAULT_MAX_ANSWER_BYTES


@dataclass(frozen=True)
class AnswerLimits:
    """How long one request may take in all, and how large its answer may be."""

    deadline_seconds: float = field(default_factory=_default_deadline)
    max_answer_bytes: int = field(default_factory=_default_max_answer)


class DeadlineExceeded(httpx.ReadTimeout):  # noqa: N818 - named like httpx's own timeouts
    """The whole request (sending, waiting, reading) took longer than its deadline."""

    def __init__(self, seconds: float, request: httpx.Request) -> None:
        super().__init__(f"no complete answer within {seconds:g}s", request=request)
        self.seconds = seconds


class AnswerTooLargeError(DataError):
    """An answer larger than any Klaviyo sends; joyctl stopped reading it."""

    code = "answer_too_large"


def operation_name(request: httpx.Request) -> str:
    """The operation id of a Klaviyo request, or its method and path."""
    endpoint = find_endpoint(request.method, request.url.path)
    return endpoint.operation_id if endpoint else f"{request.method} {request.url.path}"


def attempt_of(request: httpx.Request) -> Attempt | None:
    found = request.extensions.get(_ATTEMPT)
    return found if isinstance(found, Attempt) else None


class _Connections:
    """The sockets of one client's connections, and those a request is known to be using."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._in_use: dict[int, int] = {}  # id(socket) -> requests using it

    def claim(self, sock: socket.socket) -> None:
        with self._lock:
            self._known.add(sock)
            self._in_use[id(sock)] = self._in_use.get(id(sock), 0) + 1

    def release(self, sock: socket.socket) -> None:
        with self._lock:
            left = self._in_use.get(id(sock), 0) - 1
            if left > 0:
                self._in_use[id(sock)] = left
            else:
                self._in_use.pop(id(sock), None)

    def unclaimed(self) -> list[socket.socket]:
        with self._lock:
            return [sock for sock in self._known if id(sock) not in self._in_use]


class Attempt:
    """One request on the wire: its deadline, its socket once known, whether it has ended."""

    def __init__(self, seconds: float, connections: _Connections) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._connections = connections
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._sending = False
        self._finished = False

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: learn the socket, and when the exchange ends."""
        if name.endswith(("connect_tcp.complete", "start_tls.complete")):
            self.use(info.get("return_value"))
        elif name.endswith("send_request_headers.started"):
            with self._lock:
                self._sending = True
        elif name.endswith(("response_closed.complete", ".failed")):
            self.finish()

    def use(self, stream: Any) -> None:
        """The connection this request travels on (a network stream of httpcore)."""
        get_extra_info = getattr(stream, "get_extra_info", None)
        sock = get_extra_info("socket") if callable(get_extra_info) else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self._finished or sock is self._socket:
                return
            previous, self._socket = self._socket, sock
        if previous is not None:
            self._connections.release(previous)
        self._connections.claim(sock)

    def finish(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            sock, self._socket = self._socket, None
        if sock is not None:
            self._connections.release(sock)

    def expire(self) -> None:
        """Called by the watchdog at the deadline: wake whatever read or write is blocked."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sock, sending = self._socket, self._sending
        if sock is not None:
            _shut_down(sock)
        elif sending:
            for idle in self._connections.unclaimed():
                _shut_down(idle)


def _shut_down(sock: socket.socket) -> None:
    # The plain socket call: on a TLS socket it wakes the blocked read without tearing down
    # the TLS object under the thread that is reading. A socket already closed is left be.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for the whole process that expires attempts at their deadlines."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Attempt]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, attempt: Attempt) -> None:
        with self._condition:
            heapq.heappush(self._heap, (attempt.deadline, next(self._order), attempt))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="klaviyo-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                deadline = self._heap[0][0]
                now = time.monotonic()
                if deadline > now:
                    self._condition.wait(deadline - now)
                    continue
                attempt = heapq.heappop(self._heap)[2]
            attempt.expire()


_WATCHDOG = _Watchdog()


class AnswerBounds:
    """The request and response hooks that bound one client's exchanges."""

    def __init__(self, limits: AnswerLimits) -> None:
        self.limits = limits
        self._connections = _Connections()

    def on_request(self, request: httpx.Request) -> None:
        attempt = Attempt(self.limits.deadline_seconds, self._connections)
        request.extensions[_ATTEMPT] = attempt
        request.extensions["trace"] = attempt.trace
        _WATCHDOG.watch(attempt)

    def on_response(self, response: httpx.Response) -> None:
        attempt = attempt_of(response.request)
        if attempt is None:
            return
        attempt.use(response.extensions.get("network_stream"))
        limit = self.limits.max_answer_bytes
        declared = _declared_length(response.headers.get("content-length"))
        if declared is not None and declared > limit:
            raise too_large(response.request, limit)
        response.stream = _BoundedStream(response, attempt, limit)


class _BoundedStream(httpx.SyncByteStream):
    """The body of one answer, read up to the size limit and within the deadline."""

    def __init__(self, response: httpx.Response, attempt: Attempt, limit: int) -> None:
        self._inner = response.stream
        self._request = response.request
        self._attempt = attempt
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        if not isinstance(self._inner, httpx.SyncByteStream):
            raise TypeError("a Klaviyo client reads synchronous streams only")
        size = 0
        try:
            for chunk in self._inner:
                size += len(chunk)
                if size > self._limit:
                    raise too_large(self._request, self._limit)
                if self._attempt.expired:
                    raise DeadlineExceeded(self._attempt.seconds, self._request)
                yield chunk
        except httpx.TransportError as exc:
            if self._attempt.expired and not isinstance(exc, DeadlineExceeded):
                raise DeadlineExceeded(self._attempt.seconds, self._request) from None
            raise

    def close(self) -> None:
        try:
            if isinstance(self._inner, httpx.SyncByteStream):
                self._inner.close()
        finally:
            self._attempt.finish()


def too_large(request: httpx.Request, limit: int) -> AnswerTooLargeError:
    return AnswerTooLargeError(
        f"Klaviyo's answer to {operation_name(request)} is larger than"
        f" {limit / (1024 * 1024):g} MiB; joyctl stopped reading it",
        hint="check the profile's base URL: Klaviyo's answers are far smaller",
    )


def _declared_length(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 30:
        return None
    return int(text)
