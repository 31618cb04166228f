"""A sandbox server per test on a free loopback port, fast settings, stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from joyctl.sandbox import SandboxConfig, SandboxServer

ServerFactory = Callable[..., SandboxServer]

# Short waits so the whole suite stays quick; tests that need Klaviyo's real limits ask for them.
FAST: dict[str, Any] = {
    "rate_limits": "off",
    "job_step_seconds": 0.05,
    "delivery_batch_seconds": 0.02,
    "delivery_backoff_seconds": 0.05,
    "delivery_timeout_seconds": 2.0,
    "save_debounce_seconds": 0.02,
}


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    started: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**{**FAST, **overrides}))
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: ServerFactory) -> SandboxServer:
    """The legacy-permissions store, rate limits off."""
    return make_server()


@pytest.fixture
def empty_server(make_server: ServerFactory) -> SandboxServer:
    return make_server(scenario="empty")


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "sandbox" / "state.json"
