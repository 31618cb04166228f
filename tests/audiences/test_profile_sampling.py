"""Thousands of members without known ids: a sample decides between look-ups and an import.

On a new account a look-up of every member would find nothing and, with the read-back of the
created profiles, pass Klaviyo's 750 profile reads a minute; on an account that has them, an
import would be wasted. Both cases against a standalone emulator, counted by route.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from joyctl import envvars
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.audiences.profiles import SAMPLE_ABOVE
from tests.conftest import Cli

MEMBERS = SAMPLE_ABOVE + 500
LOOKUPS = "GET /api/profiles"
IMPORTS = "POST /api/profile-bulk-import-jobs"


@pytest.fixture
def emulator() -> Iterator[SandboxServer]:
    config = SandboxConfig(scenario="empty", rate_limits="off", job_step_seconds=0.05)
    with SandboxServer(config) as server:
        yield server


def _store(cli: Cli, home: Path, name: str, server: SandboxServer) -> dict[str, str]:
    """A profile of its own on the emulator, its ledger holding MEMBERS Gold customers."""
    assert cli("profiles", "add", name, "--base-url", server.base_url).exit_code == 0
    connection = open_ledger(home / "data" / "profiles" / name / "ledger.sqlite3")
    try:
        with transaction(connection):
            for number in range(MEMBERS):
                fields = CustomerFields(f"c{number}@example.com", tier="Gold")
                upsert_customer(connection, fields)
    finally:
        connection.close()
    env = {envvars.API_KEY: server.credentials.private_key, envvars.PROFILE: name}
    _data(cli, env, "audiences", "create", "gold", "--tier", "Gold")
    _data(cli, env, "audiences", "map", "gold", "--list-name", f"Gold {name}", "--create-list")
    return env


def _data(cli: Cli, env: dict[str, str], *args: str) -> Any:
    result = cli("--json", *args, env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


def _calls(server: SandboxServer) -> dict[str, int]:
    by_route = server.inspect()["requests"]["by_route"]
    return {route: sum(by_route.get(route, {}).values()) for route in (LOOKUPS, IMPORTS)}


@pytest.mark.slow
def test_a_new_account_is_sampled_then_imported_without_a_look_up_each(
    cli: Cli, isolated_home: Path, emulator: SandboxServer
) -> None:
    env = _store(cli, isolated_home, "shop", emulator)
    before = _calls(emulator)
    synced = _data(cli, env, "audiences", "sync")["audiences"][0]
    after = _calls(emulator)
    assert (synced["added"], synced["profiles_created"], synced["unresolved"]) == (
        MEMBERS,
        MEMBERS,
        0,
    )
    reads_back = math.ceil(MEMBERS / 100)
    # One look-up for the sample, then the read-back of the new profiles (and its last page).
    assert after[LOOKUPS] - before[LOOKUPS] <= 1 + reads_back + 1
    assert after[IMPORTS] - before[IMPORTS] == 1


@pytest.mark.slow
def test_an_account_that_has_the_profiles_is_looked_up_and_imports_nothing(
    cli: Cli, isolated_home: Path, emulator: SandboxServer
) -> None:
    _data(cli, _store(cli, isolated_home, "shop", emulator), "audiences", "sync")
    # A second store's ledger knows none of the ids, but Klaviyo has every profile now.
    env = _store(cli, isolated_home, "other", emulator)
    before = _calls(emulator)
    synced = _data(cli, env, "audiences", "sync")["audiences"][0]
    after = _calls(emulator)
    assert (synced["added"], synced["profiles_created"]) == (MEMBERS, 0)
    assert after[IMPORTS] == before[IMPORTS]
    assert after[LOOKUPS] - before[LOOKUPS] == math.ceil(MEMBERS / 100)
