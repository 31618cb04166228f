"""Reading a webhook request off the wire: within a deadline, within a size limit.

The receiver leaves the request line and headers to the standard library's `http.server` and
reads the body here: `Content-Length` bytes, or a chunked body (RFC 9112, 7.1) that may not pass
the limit either. `DeadlineReader` is the socket beneath both: each phase (the headers, then the
body) has a deadline, and a stop ends any read at once, so no client can hold a thread, or the
listener's stop, by sending slowly. What cannot be read is a verdict, never an exception; only a
stop (`ConnectionAbortedError`) leaves the request unanswered.
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from joyctl.ledger.deliveries import RejectReason, Verdict
from joyctl.services.webhooks.verify import reject, shown

STOP_CHECK_SECONDS = 0.2  # how often a waiting read looks whether the listener is stopping
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_CHUNK_LINE_BYTES = 1024  # a chunk-size line, extensions included
_MAX_TRAILERS = 32


class ByteSource(Protocol):
    """A buffered binary reader (the handler's `rfile`, or `io.BytesIO` in tests)."""

    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class DeadlineReader(io.RawIOBase):
    """A socket read until the current phase's deadline, and no longer than the listener runs.

    Wrapped in an `io.BufferedReader`, it is the `rfile` the request handler reads from.
    """

    def __init__(self, sock: socket.socket, stopping: threading.Event, seconds: float) -> None:
        super().__init__()
        self._sock = sock
        self._stopping = stopping
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds

    def start_phase(self, seconds: float) -> None:
        """A new deadline, `seconds` from now (the body gets its own after the headers)."""
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while True:
            if self._stopping.is_set():
                raise ConnectionAbortedError("the listener is stopping")
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing complete within {self.seconds:g}s")
            self._sock.settimeout(min(remaining, STOP_CHECK_SECONDS))
            try:
                return self._sock.recv_into(buffer)
            except TimeoutError:
                continue  # no byte yet: look at the deadline and the stop again


@dataclass(frozen=True, slots=True)
class Framing:
    """How the body is delimited: `length` bytes, or chunks when `length` is None."""

    length: int | None


def body_framing(headers: Mapping[str, str], max_bytes: int) -> Framing | Verdict:
    """The body's framing from the headers (names in lower case), or why it is refused."""
    encoding = headers.get("transfer-encoding")
    length_text = headers.get("content-length")
    if encoding is not None:
        if encoding.strip().lower() != "chunked":
            return reject(
                RejectReason.BAD_REQUEST,
                f"Transfer-Encoding {shown(encoding)} is not supported: send chunked,"
                " or a Content-Length",
            )
        if length_text is not None:
            return reject(RejectReason.BAD_REQUEST, "both Transfer-Encoding and Content-Length")
        return Framing(None)
    if length_text is None:
        return reject(RejectReason.LENGTH_REQUIRED, "no Content-Length header and not chunked")
    length = declared_length(length_text)
    if length is None:
        return reject(
            RejectReason.BAD_REQUEST,
            f"Content-Length {shown(length_text)} is not a number of bytes",
        )
    if length > max_bytes:
        return reject(RejectReason.TOO_LARGE, f"{length} bytes; the limit is {max_bytes}")
    return Framing(length)


def declared_length(value: str | None) -> int | None:
    """A `Content-Length` value: plain decimal digits, at most 18 of them; else None."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def read_body(rfile: ByteSource, framing: Framing, max_bytes: int) -> bytes | Verdict:
    """The whole body, or the verdict on a body that is broken, too large or too slow."""
    try:
        if framing.length is not None:
            return _read_exactly(rfile, framing.length)
        return _read_chunked(rfile, max_bytes)
    except TimeoutError as exc:
        return reject(RejectReason.BAD_REQUEST, f"the body did not arrive: {exc}")


def _read_exactly(rfile: ByteSource, length: int) -> bytes | Verdict:
    body = rfile.read(length)
    if len(body) < length:
        return _ended_early(len(body), length)
    return body


def _read_chunked(rfile: ByteSource, max_bytes: int) -> bytes | Verdict:
    body = bytearray()
    while True:
        size = _chunk_size(rfile.readline(_CHUNK_LINE_BYTES))
        if isinstance(size, Verdict):
            return size
        if size == 0:
            return _read_trailers(rfile, bytes(body))
        if len(body) + size > max_bytes:
            return reject(RejectReason.TOO_LARGE, f"chunks past the limit of {max_bytes} bytes")
        chunk = rfile.read(size)
        if len(chunk) < size:
            return _ended_early(len(body) + len(chunk), None)
        body += chunk
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            return reject(RejectReason.BAD_REQUEST, "a chunk is not followed by a line end")


def _chunk_size(line: bytes) -> int | Verdict:
    if not line.endswith(b"\n"):
        if not line:
            return _ended_early(None, None)
        return reject(RejectReason.BAD_REQUEST, "a chunk-size line is too long or cut off")
    size_text = line.split(b";", 1)[0].strip()
    if not _CHUNK_SIZE.fullmatch(size_text):
        return reject(RejectReason.BAD_REQUEST, f"bad chunk size {shown(repr(size_text))}")
    return int(size_text, 16)


def _read_trailers(rfile: ByteSource, body: bytes) -> bytes | Verdict:
    for _ in range(_MAX_TRAILERS):
        line = rfile.readline(_CHUNK_LINE_BYTES)
        if line in (b"\r\n", b"\n"):
            return body
        if not line:
            return _ended_early(len(body), None)
        if not line.endswith(b"\n"):
            return reject(RejectReason.BAD_REQUEST, "a trailer line is too long or cut off")
    return reject(RejectReason.BAD_REQUEST, f"more than {_MAX_TRAILERS} trailer lines")


def _ended_early(received: int | None, expected: int | None) -> Verdict:
    got = f" after {received} bytes" if received is not None else ""
    of = f" of {expected}" if expected is not None else ""
    return reject(RejectReason.BAD_REQUEST, f"the body ended early{got}{of}")
