"""A store profile (`shop`) pointed at a sandbox server per test, with a private key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.backfill.support import Shop
from tests.conftest import Cli

# Quick settings; pacing is left to the tests that are about it.
FAST: dict[str, Any] = {
    "scenario": "empty",
    "rate_limits": "off",
    "job_step_seconds": 0.05,
    "delivery_batch_seconds": 0.02,
    "save_debounce_seconds": 0.02,
}
ShopFactory = Callable[..., Shop]


@pytest.fixture
def make_shop(cli: Cli) -> Iterator[ShopFactory]:
    servers: list[SandboxServer] = []

    def make(**overrides: Any) -> Shop:
        server = SandboxServer(SandboxConfig(**{**FAST, **overrides}))
        server.start()
        servers.append(server)
        added = cli("profiles", "add", "shop", "--base-url", server.base_url)
        assert added.exit_code == 0, added.stderr
        return Shop(cli, server)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def shop(make_shop: ShopFactory) -> Shop:
    return make_shop()
