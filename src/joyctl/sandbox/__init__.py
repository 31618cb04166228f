"""The sandbox: a faithful local emulator of the part of Klaviyo joyctl uses.

It serves real HTTP on loopback, so any Klaviyo client pointed at its base URL works unchanged:

    with SandboxServer(SandboxConfig(scenario="legacy-permissions")) as server:
        base_url, creds = server.base_url, server.credentials

Nothing here imports Typer or Rich; the `joyctl sandbox` commands are built on this API.
"""

# Names load with the module that defines them, on first use: a command on the built-in
# profile needs the server, not the scenarios that only seed a new state file.
from typing import TYPE_CHECKING

from joyctl.lazy_names import lazy_getattr

if TYPE_CHECKING:
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

_HOMES = {
    "ConnectionSeed": "joyctl.sandbox.scenarios.seeds",
    "DEFAULT_REDIRECT_URIS": "joyctl.sandbox.config",
    "DEFAULT_SCENARIO": "joyctl.sandbox.config",
    "FaultSpec": "joyctl.sandbox.faults",
    "LoyaltyCustomer": "joyctl.sandbox.scenarios.seeds",
    "ProgramSeed": "joyctl.sandbox.scenarios.seeds",
    "RateLimitMode": "joyctl.sandbox.config",
    "ReviewSeed": "joyctl.sandbox.scenarios.seeds",
    "SandboxConfig": "joyctl.sandbox.config",
    "SandboxCredentials": "joyctl.sandbox.scenarios.seeds",
    "SandboxServer": "joyctl.sandbox.server",
    "ScenarioInfo": "joyctl.sandbox.scenarios.seeds",
    "ScenarioSeed": "joyctl.sandbox.scenarios.seeds",
    "is_loopback_host": "joyctl.loopback",
    "list_scenarios": "joyctl.sandbox.scenarios.catalogue",
    "load_credentials": "joyctl.sandbox.server",
    "load_scenario_seed": "joyctl.sandbox.server",
    "lock_path": "joyctl.sandbox.store.shared",
    "parse_faults": "joyctl.sandbox.faults",
    "parse_rate_limits": "joyctl.sandbox.config",
    "reset": "joyctl.sandbox.server",
    "state_lock": "joyctl.sandbox.store.shared",
}


__getattr__ = lazy_getattr(__name__, _HOMES)

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
