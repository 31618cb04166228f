"""Audience sync edge cases against a standalone emulator: refusals, stale ids, resuming, caps."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from joyctl.errors import RateLimitedError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources import lists as klaviyo_lists
from joyctl.ledger import audiences as store
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.audiences.definition import build_definition
from joyctl.services.audiences.manage import ListTarget, create_audience, map_audience
from joyctl.services.audiences.sync import sync_audiences
from tests.klaviyo.sandbox_support import client_for, control, key_auth
from tests.sandbox.support import key_client

NOW = "2026-03-01T00:00:00+00:00"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    config = SandboxConfig(scenario="empty", rate_limits="x1000", job_step_seconds=0.05)
    with SandboxServer(config) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[KlaviyoClient]:
    with client_for(server, key_auth(server)) as built:
        yield built


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    yield connection
    connection.close()


def _gold(ledger: sqlite3.Connection, count: int, *, bad: Sequence[str] = ()) -> None:
    with transaction(ledger):
        for number in range(count):
            upsert_customer(ledger, CustomerFields(f"c{number}@example.com", tier="Gold"))
        for email in bad:  # lower case and trimmed, so the ledger takes it; Klaviyo does not
            ledger.execute(
                "INSERT INTO customers (email, tier, created_at, updated_at)"
                " VALUES (?, 'Gold', ?, ?)",
                (email, NOW, NOW),
            )


def _mapped(client: KlaviyoClient, ledger: sqlite3.Connection) -> str:
    create_audience(ledger, "gold", build_definition(tiers=["Gold"]))
    target = ListTarget(list_name="Gold", create=True)
    return map_audience(client, ledger, "gold", target).list_id


def _members(server: SandboxServer, list_id: str) -> int:
    lists = {item["id"]: item for item in server.inspect()["lists"]}
    return int(lists[list_id]["member_count"])


def _quick(seconds: float) -> None:
    """Polls import jobs without the real pause (the emulator's jobs take 0.1 s)."""
    import time

    time.sleep(min(seconds, 0.05))


@pytest.mark.parametrize("count", [3, 150])  # one upsert each, and bulk import jobs
def test_profiles_klaviyo_refuses_are_named_and_the_rest_added(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection, count: int
) -> None:
    _gold(ledger, count, bad=["bad@@example.com"])
    list_id = _mapped(client, ledger)
    report = sync_audiences(lambda: client, ledger, sleep=_quick)
    result = report.audiences[0]
    assert (result.added, result.profiles_created, result.unresolved) == (count, count, 1)
    assert result.unresolved_examples[0].email == "bad@@example.com"
    assert "Invalid email" in result.unresolved_examples[0].reason
    assert _members(server, list_id) == count
    again = sync_audiences(lambda: client, ledger, sleep=_quick).audiences[0]
    assert (again.added, again.unresolved, again.membership_requests) == (0, 1, 0)


def test_a_stale_remembered_profile_id_is_resolved_again(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    _gold(ledger, 5)
    list_id = _mapped(client, ledger)
    sync_audiences(lambda: client, ledger, sleep=_quick)
    with transaction(ledger):
        upsert_customer(ledger, CustomerFields("late@example.com", tier="Gold"))
        late = ledger.execute("SELECT id FROM customers WHERE email = 'late@example.com'")
        customer_id = late.fetchone()[0]
        # As if Klaviyo had merged the profile this email resolved to before.
        store.remember_profile_ids(ledger, [(customer_id, "late@example.com", "01GONE")], NOW)
    result = sync_audiences(lambda: client, ledger, sleep=_quick).audiences[0]
    assert (result.added, result.profiles_created, result.unresolved) == (1, 1, 0)
    assert _members(server, list_id) == 6
    row = ledger.execute(
        "SELECT profile_id FROM audience_members WHERE customer_id = ?", (customer_id,)
    )
    assert row.fetchone()[0] != "01GONE"


def test_an_interrupted_sync_is_finished_by_the_next(
    server: SandboxServer,
    client: KlaviyoClient,
    ledger: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _gold(ledger, 2500)
    list_id = _mapped(client, ledger)
    real_add = klaviyo_lists.add_profiles_to_list
    calls: list[int] = []

    def interrupted(client: KlaviyoClient, list_id: str, ids: Sequence[str]) -> int:
        calls.append(len(ids))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_add(client, list_id, ids)

    monkeypatch.setattr(klaviyo_lists, "add_profiles_to_list", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sync_audiences(lambda: client, ledger, sleep=_quick)
    assert store.count_synced(ledger, 1) == 2000
    monkeypatch.setattr(klaviyo_lists, "add_profiles_to_list", real_add)

    resumed = sync_audiences(lambda: client, ledger, sleep=_quick).audiences[0]
    assert (resumed.added, resumed.unchanged, resumed.profiles_created) == (500, 2000, 0)
    assert resumed.membership_requests == 1
    assert _members(server, list_id) == 2500


def _away_from_midnight(server: SandboxServer) -> None:
    """The daily cap resets at midnight UTC: start far enough from it to stay in one day."""
    now = datetime.fromisoformat(server.inspect()["now"].replace("Z", "+00:00"))
    left = 86_400 - (now.hour * 3600 + now.minute * 60 + now.second)
    if left < 900:
        control(server, "clock", {"advance_seconds": left + 60})


def test_creating_a_list_past_the_daily_cap_says_so(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    _away_from_midnight(server)
    body: dict[str, Any] = {"data": {"type": "list", "attributes": {"name": "filler"}}}
    with key_client(server) as raw:
        for _ in range(150):
            assert raw.post("/api/lists", json=body).status_code == 201
    create_audience(ledger, "gold", build_definition(tiers=["Gold"]))
    with pytest.raises(RateLimitedError) as raised:
        map_audience(client, ledger, "gold", ListTarget(list_name="Gold", create=True))
    assert raised.value.code == "list_cap"
    assert "150 lists a day" in raised.value.message
    assert "--list-name without --create-list" in (raised.value.hint or "")
    assert store.audience_mappings(ledger) == []


def test_a_departing_member_under_a_stale_profile_id_is_still_removed(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    _gold(ledger, 5)
    list_id = _mapped(client, ledger)
    sync_audiences(lambda: client, ledger, sleep=_quick)
    with transaction(ledger):
        ledger.execute("UPDATE audience_members SET profile_id = '01GONE' WHERE customer_id = 1")
        upsert_customer(ledger, CustomerFields("c0@example.com", tier="Silver"))
        upsert_customer(ledger, CustomerFields("c1@example.com", tier="Silver"))
    result = sync_audiences(lambda: client, ledger, sleep=_quick).audiences[0]
    assert (result.removed, result.unchanged) == (2, 3)
    removals = server.inspect()["requests"]["by_route"][
        "DELETE /api/lists/{id}/relationships/profiles"
    ]
    assert removals == {"400": 1, "204": 1}
    assert _members(server, list_id) == 3
    assert store.count_synced(ledger, 1) == 3
