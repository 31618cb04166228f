from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from joyctl.klaviyo.client import KlaviyoClient, build_client
from tests.klaviyo.support import FakeClock, FakeKlaviyo

ClientFactory = Callable[..., KlaviyoClient]


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
