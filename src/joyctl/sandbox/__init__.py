"""The sandbox: a faithful local emulator of the part of Klaviyo joyctl uses.

It serves real HTTP on loopback, so any Klaviyo client pointed at its base URL works unchanged:

    with SandboxServer(SandboxConfig(scenario="legacy-permissions")) as server:
        base_url, creds = server.base_url, server.credentials

Nothing here imports Typer or Rich; the `joyctl sandbox` commands are built on this API.
"""

from __future__ import annotations

from joyctl.loopback import is_loopback_host
from joyctl.sandbox.config import (
    DEFAULT_REDIRECT_URIS,
    DEFAULT_SCENARIO,
    RateLimitMode,
    SandboxConfig,
    parse_rate_limits,
)
from joyctl.sandbox.faults import FaultSpec, parse_faults
from joyctl.sandbox.scenarios.catalogue import list_scenarios
from joyctl.sandbox.scenarios.seeds import (
    ConnectionSeed,
    LoyaltyCustomer,
    ProgramSeed,
    ReviewSeed,
    SandboxCredentials,
    ScenarioInfo,
    ScenarioSeed,
)
from joyctl.sandbox.server import (
    SandboxServer,
    load_credentials,
    load_scenario_seed,
    reset,
)
from joyctl.sandbox.store.shared import lock_path, state_lock

__all__ = [
    "DEFAULT_REDIRECT_URIS",
    "DEFAULT_SCENARIO",
    "ConnectionSeed",
    "FaultSpec",
    "LoyaltyCustomer",
    "ProgramSeed",
    "RateLimitMode",
    "ReviewSeed",
    "SandboxConfig",
    "SandboxCredentials",
    "SandboxServer",
    "ScenarioInfo",
    "ScenarioSeed",
    "is_loopback_host",
    "list_scenarios",
    "load_credentials",
    "load_scenario_seed",
    "lock_path",
    "parse_faults",
    "parse_rate_limits",
    "reset",
    "state_lock",
]
