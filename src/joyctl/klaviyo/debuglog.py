"""`--debug` HTTP logging: every request and response, with credentials redacted.

Installed as httpx event hooks, so it also sees the OAuth token refreshes that happen inside the
auth flow. Bodies are redacted before they are truncated, so a secret cut in half by the
truncation cannot slip past the value-based scrubbing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx

from joyctl.klaviyo.redact import Redactor, truncate

LOGGER_NAME = "joyctl.klaviyo.http"
DebugSink = Callable[[str], None]
_STARTED = "joyctl.started"


def logger_sink() -> DebugSink:
    """Write to the `joyctl.klaviyo.http` logger at DEBUG level."""
    logger = logging.getLogger(LOGGER_NAME)

    def write(message: str) -> None:
        logger.debug("%s", message)

    return write


class HttpDebugLog:
    """Formats requests and responses for a sink."""

    def __init__(
        self,
        sink: DebugSink,
        redactor: Redactor,
        *,
        max_body: int = 2000,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._sink = sink
        self._redactor = redactor
        self._max_body = max_body
        self._timer = timer

    def on_request(self, request: httpx.Request) -> None:
        request.extensions[_STARTED] = self._timer()
        lines = [f"--> {request.method} {self._redactor.url(request.url)}"]
        lines += self._redactor.header_lines(request.headers)
        lines.append(self._body(_request_content(request), request.headers))
        self._sink("\n".join(line for line in lines if line))

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        started = request.extensions.get(_STARTED)
        elapsed = f" in {self._timer() - started:.3f}s" if isinstance(started, float) else ""
        lines = [
            f"<-- {response.status_code} {request.method} "
            f"{self._redactor.url(request.url)}{elapsed}"
        ]
        lines += self._redactor.header_lines(response.headers)
        lines.append(self._body(response.content, response.headers))
        self._sink("\n".join(line for line in lines if line))

    def on_transport_error(self, request: httpx.Request, exc: httpx.TransportError) -> None:
        url = self._redactor.url(request.url)
        reason = self._redactor.text(str(exc))
        self._sink(f"<-- {type(exc).__name__} {request.method} {url}: {reason}")

    def note(self, message: str) -> None:
        self._sink(self._redactor.text(message))

    def _body(self, content: bytes, headers: httpx.Headers) -> str:
        body = self._redactor.body(content, headers.get("content-type"))
        return truncate(body, self._max_body) if body else ""


def _request_content(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        return b"<streamed body>"
