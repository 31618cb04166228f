from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from joyctl.klaviyo.client import KlaviyoClient, build_client
from tests.klaviyo.support import FakeClock, FakeKlaviyo

if TYPE_CHECKING:
    from joyctl.sandbox import SandboxServer

ClientFactory = Callable[..., KlaviyoClient]
SandboxFactory = Callable[..., "SandboxServer"]
# Short waits keep the suite quick; tests that need Klaviyo's real limits ask for them.
FAST_SANDBOX: dict[str, Any] = {
    "rate_limits": "off",
    "job_step_seconds": 0.05,
    "delivery_batch_seconds": 0.02,
    "save_debounce_seconds": 0.02,
}


@pytest.fixture
def fake() -> Iterator[FakeKlaviyo]:
    api = FakeKlaviyo()
    yield api
    assert api.unused() == [], "stubbed replies were never requested"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def waits() -> list[tuple[float, str]]:
    return []


@pytest.fixture
def make_client(
    fake: FakeKlaviyo, clock: FakeClock, waits: list[tuple[float, str]]
) -> Iterator[ClientFactory]:
    built: list[KlaviyoClient] = []

    def make(**overrides: Any) -> KlaviyoClient:
        options: dict[str, Any] = {
            "transport": fake.transport(),
            "sleep": clock.sleep,
            "clock": clock,
            "rng": random.Random(7),
            "pacing": False,
            "on_wait": lambda seconds, reason: waits.append((seconds, reason)),
        }
        options.update(overrides)
        client = build_client(**options)
        built.append(client)
        return client

    yield make
    for client in built:
        client.close()


@pytest.fixture
def make_sandbox() -> Iterator[SandboxFactory]:
    """Local Klaviyo emulators with fast settings, stopped after the test."""
    sandbox = pytest.importorskip(
        "joyctl.sandbox",
        reason="the sandbox package (joyctl.sandbox) cannot be imported",
        exc_type=ImportError,
    )
    started: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        server: SandboxServer = sandbox.SandboxServer(
            sandbox.SandboxConfig(**{**FAST_SANDBOX, **overrides})
        )
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
