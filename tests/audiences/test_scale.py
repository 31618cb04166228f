"""A 50,000-member audience against a standalone emulator: membership requests and idempotence.

The store is a profile of its own pointing at the emulator with its private key, and its ledger
is filled directly; Klaviyo starts with no profiles, so the first sync also creates all of them
through bulk import jobs.
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
from tests.conftest import Cli

MEMBERS = 50_000
OTHERS = 700
ADD = "POST /api/lists/{id}/relationships/profiles"
REMOVE = "DELETE /api/lists/{id}/relationships/profiles"


@pytest.fixture
def emulator() -> Iterator[SandboxServer]:
    # Limits scaled up a hundredfold: the client adopts them from the RateLimit headers.
    config = SandboxConfig(scenario="empty", rate_limits="x100", job_step_seconds=0.05)
    with SandboxServer(config) as server:
        yield server


def _fill_ledger(path: Path) -> None:
    connection = open_ledger(path)
    try:
        with transaction(connection):
            for number in range(MEMBERS + OTHERS):
                tier = "Gold" if number < MEMBERS else "Silver"
                upsert_customer(connection, CustomerFields(f"c{number}@example.com", tier=tier))
    finally:
        connection.close()


def _data(cli: Cli, env: dict[str, str], *args: str) -> Any:
    result = cli("--json", *args, env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


def _membership_calls(server: SandboxServer) -> dict[str, dict[str, int]]:
    by_route = server.inspect()["requests"]["by_route"]
    return {route: by_route.get(route, {}) for route in (ADD, REMOVE)}


@pytest.mark.slow
def test_fifty_thousand_members_take_the_requests_the_cap_implies(
    cli: Cli, isolated_home: Path, emulator: SandboxServer
) -> None:
    assert cli("profiles", "add", "shop", "--base-url", emulator.base_url).exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0
    env = {envvars.API_KEY: emulator.credentials.private_key}
    _fill_ledger(isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3")
    assert _data(cli, env, "audiences", "create", "gold", "--tier", "Gold")["members"] == MEMBERS
    list_id = _data(cli, env, "audiences", "map", "gold", "--list-name", "Gold", "--create-list")[
        "list_id"
    ]

    first = _data(cli, env, "audiences", "sync")["audiences"][0]
    expected_requests = math.ceil(MEMBERS / 1000)
    assert (first["added"], first["profiles_created"]) == (MEMBERS, MEMBERS)
    assert first["membership_requests"] == expected_requests
    assert _membership_calls(emulator) == {ADD: {"204": expected_requests}, REMOVE: {}}
    lists = {item["id"]: item for item in emulator.inspect()["lists"]}
    assert lists[list_id]["member_count"] == MEMBERS

    second = _data(cli, env, "audiences", "sync")["audiences"][0]
    assert (second["added"], second["removed"], second["unchanged"]) == (0, 0, MEMBERS)
    assert _membership_calls(emulator) == {ADD: {"204": expected_requests}, REMOVE: {}}
