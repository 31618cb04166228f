"""The sandbox over real HTTP: a ThreadingHTTPServer on loopback around a SandboxApp."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from joyctl.loopback import is_loopback_host
from joyctl.sandbox.app import RawRequest, SandboxApp
from joyctl.sandbox.config import DEFAULT_SCENARIO, SandboxConfig
from joyctl.sandbox.jsonapi import ApiError, Response, error_response
from joyctl.sandbox.routes.control import apply_config, credentials_of, settings_of
from joyctl.sandbox.scenarios.catalogue import build_state
from joyctl.sandbox.scenarios.seeds import SandboxCredentials, ScenarioSeed
from joyctl.sandbox.store.inspection import brief as brief_document
from joyctl.sandbox.store.inspection import snapshot
from joyctl.sandbox.store.persistence import load_state, save_state
from joyctl.sandbox.store.records import JsonObject
from joyctl.sandbox.store.shared import state_lock
from joyctl.sandbox.store.state import SandboxState

MAX_BODY_BYTES = 12 * 1024 * 1024  # above Klaviyo's 5 MB caps, so those answer in JSON:API form
IDLE_CONNECTION_SECONDS = 30


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KlaviyoSandbox/1.0"
    timeout = IDLE_CONNECTION_SECONDS
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # client's delayed ACK add about 40 ms to every response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent on purpose: request lines and headers may carry credentials."""

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            response = error_response(ApiError(413, "payload_too_large", "Request too large."))
        else:
            headers = {key.lower(): value for key, value in self.headers.items()}
            response = self._answer(RawRequest(self.command, self.path, headers, body))
        if response.drop_connection:
            self.close_connection = True
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _answer(self, request: RawRequest) -> Response:
        try:
            return self.server.app.handle(request)
        except Exception:  # a sandbox bug must still answer like a server, with a 500
            traceback.print_exc(file=sys.stderr)
            return error_response(ApiError(500, "error", "Internal sandbox error."))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # stop() joins every connection thread
    block_on_close = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake every thread parked on a keep-alive connection so it can finish."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away; nothing to report
        super().handle_error(request, client_address)


def _load_or_seed(config: SandboxConfig) -> tuple[SandboxState, bool]:
    state = load_state(config.state_file) if config.state_file is not None else None
    if state is not None:
        return state, False
    seeded = build_state(
        config.scenario,
        time.time(),
        live_account=config.live_account,
        access_token_lifetime=config.access_token_lifetime,
    )
    return seeded, True


def _apply_shared(app: SandboxApp, config: SandboxConfig) -> None:
    """What this server's configuration decides, applied to the shared state as it is now."""
    with app.transaction():
        apply_config(app.world.state, config)
        app.mark_changed()
    app.world.after_change()  # the delivery worker looks at what other processes queued


class SandboxServer:
    """A running Klaviyo emulator. Use `with SandboxServer(config) as server:` or start/stop."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._app: SandboxApp | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def binds_loopback(self) -> bool:
        return is_loopback_host(self.config.host)

    def start(self) -> str:
        """Bind, seed or load the state, start serving; returns the base URL."""
        if self._base_url is not None:
            return self._base_url
        self.config.validate()
        state, seeded = _load_or_seed(self.config)
        apply_config(state, self.config)
        app = SandboxApp(self.config, state)
        httpd = _HTTPServer((self.config.host, self.config.port), app)
        host, port = httpd.server_address[:2]
        shown = f"[{host!s}]" if ":" in str(host) else str(host)
        self._base_url = f"http://{shown}:{port}"
        app.start()
        if app.shared is not None:
            _apply_shared(app, self.config)
        elif seeded and self.config.state_file is not None:
            save_state(self.config.state_file, state)
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="sandbox-http"
        )
        self._thread.start()
        self._app, self._httpd = app, httpd
        return self._base_url

    def stop(self) -> None:
        """Stop serving, finish open connections, stop the workers and save the state."""
        httpd, app, thread = self._httpd, self._app, self._thread
        if httpd is None or app is None or thread is None:
            return
        httpd.shutdown()
        thread.join()
        httpd.close_connections()
        httpd.server_close()
        app.stop()
        self._httpd = self._app = self._thread = None
        self._base_url = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _running(self) -> SandboxApp:
        if self._app is None:
            raise RuntimeError("The sandbox server is not running; call start() first.")
        return self._app

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("The sandbox server is not running; call start() first.")
        return self._base_url

    @property
    def credentials(self) -> SandboxCredentials:
        app = self._running()
        with app.transaction():
            return credentials_of(app.world.state)

    @property
    def scenario_seed(self) -> ScenarioSeed:
        app = self._running()
        with app.transaction():
            return ScenarioSeed.from_json(app.world.state.scenario_seed)

    def inspect(self, *, brief: bool = False) -> JsonObject:
        """The same document as `GET /__sandbox/state` (`?brief=1` with `brief`)."""
        app = self._running()
        with app.transaction():
            app.catch_up()
            document = snapshot(app.world.state, app.clock.now(), settings_of(app))
        return brief_document(document) if brief else document

    def serve_forever_until_signal(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until SIGINT or SIGTERM, then stop cleanly (state saved). Main thread only."""
        stopping = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            base_url = self.start()
            if on_ready is not None:
                on_ready(base_url)
            while not stopping.wait(0.2):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def reset(
    state_file: Path,
    scenario: str = DEFAULT_SCENARIO,
    *,
    live_account: bool = False,
    access_token_lifetime: int = 3600,
) -> ScenarioSeed:
    """Replace the state file with a freshly seeded scenario; returns what was seeded.

    Written under the state's inter-process lock, so processes sharing the file load the new
    state at their next request instead of writing their old one back over it.
    """
    state = build_state(
        scenario,
        time.time(),
        live_account=live_account,
        access_token_lifetime=access_token_lifetime,
    )
    with state_lock(state_file):
        save_state(state_file, state)
    return ScenarioSeed.from_json(state.scenario_seed)


def load_scenario_seed(state_file: Path) -> ScenarioSeed | None:
    """What the state file's scenario seeded, or None when there is no state file yet."""
    state = load_state(state_file)
    return ScenarioSeed.from_json(state.scenario_seed) if state is not None else None


def load_credentials(state_file: Path) -> SandboxCredentials | None:
    state = load_state(state_file)
    return credentials_of(state) if state is not None else None
