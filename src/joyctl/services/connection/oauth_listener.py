"""The OAuth redirect's landing place: a one-shot HTTP listener on 127.0.0.1, and the browser.

The listener binds the IPv4 loopback address only, never all interfaces, so no other machine
can deliver (or steal) the authorization code. It serves in a background thread, because the
browser may be a `$BROWSER` program that joyctl waits for while it follows the redirect.
"""

from __future__ import annotations

import errno
import os
import threading
import webbrowser
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from joyctl.command_line import command
from joyctl.errors import UsageError

LOOPBACK = "127.0.0.1"
CALLBACK_PATH = "/callback"
_DONE_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>joyctl</title></head>"
    b"<body><h1>joyctl received Klaviyo's answer</h1>"
    b"<p>You can close this tab and return to the terminal.</p></body></html>"
)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _OneShotServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path != self.server.path:
            self._answer(404, b"not found")
            return
        self.server.capture(self.path)
        self._answer(200, _DONE_PAGE, "text/html; charset=utf-8")

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent on purpose: the request line carries the authorization code."""


class _OneShotServer(HTTPServer):
    def __init__(self, port: int, path: str) -> None:
        self.path = path
        self.received: str | None = None
        self.arrived = threading.Event()
        super().__init__((LOOPBACK, port), _CallbackHandler)

    def capture(self, request_path: str) -> None:
        if self.received is None:  # the first redirect wins; later ones change nothing
            self.received = request_path
            self.arrived.set()


class CallbackListener:
    """Listens on http://127.0.0.1:PORT/callback until the first redirect or a timeout.

    Port 0 takes any free port (the app must then allow that redirect URI, so a fixed port is
    the usual setting).
    """

    def __init__(self, port: int, path: str = CALLBACK_PATH) -> None:
        self._port = port
        self._path = path
        self._server: _OneShotServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CallbackListener:
        try:
            self._server = _OneShotServer(self._port, self._path)
        except OSError as exc:
            raise _bind_error(self._port, exc) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="joyctl-oauth-callback",
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
        self._server = self._thread = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._running().server_address[:2]
        return str(host), int(port)

    @property
    def redirect_uri(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}{self._path}"

    def wait(self, timeout: float) -> str | None:
        """The full redirected URL, or None when nothing arrived within `timeout` seconds."""
        server = self._running()
        if not server.arrived.wait(timeout):
            return None
        host, port = self.address
        return f"http://{host}:{port}{server.received}"

    def _running(self) -> _OneShotServer:
        if self._server is None:
            raise RuntimeError("the callback listener is not running; use it in a with block")
        return self._server


def _bind_error(port: int, exc: OSError) -> UsageError:
    if exc.errno == errno.EADDRINUSE:
        reason = f"port {port} on {LOOPBACK} is already in use"
    else:
        reason = f"cannot listen on {LOOPBACK}:{port} ({exc.strerror or exc})"
    return UsageError(
        f"{reason}, so the OAuth redirect cannot be received",
        hint=(
            "stop what uses the port, or set another one with"
            f" `{command('config', 'set', 'redirect_port', 'PORT')}`"
            " (your Klaviyo app must allow that redirect URL), or use --paste"
        ),
    )


def open_in_browser(url: str, environ: Mapping[str, str]) -> bool:
    """Open `url` the way Python's webbrowser does, honouring `$BROWSER` from `environ`.

    webbrowser reads `$BROWSER` from the process environment once, on first use; reading it
    from `environ` here keeps a changed variable (and the test seam) effective. False when no
    browser could be started.
    """
    choices = [choice for choice in environ.get("BROWSER", "").split(os.pathsep) if choice]
    for choice in choices:
        try:
            controller = (
                webbrowser.get(choice) if "%s" in choice else webbrowser.GenericBrowser(choice)
            )
            if controller.open(url):
                return True
        except webbrowser.Error:
            continue
    if choices:
        return False
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
