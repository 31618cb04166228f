"""Each trigger a ledger change produces goes through the outbox and the pusher with Joy's
properties; a disabled trigger queues (so sends) nothing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from joyctl.klaviyo import joy_events
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.resources.metrics import find_metric_by_name, get_events
from joyctl.ledger import outbox
from joyctl.ledger.customers import CustomerFields, find_customer, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.points import EntryKind, NewEntry, append_entry
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.ledger_admin.adjust import adjust_points
from joyctl.services.outbox.pusher import push_outbox
from joyctl.services.triggers.catalogue import set_triggers
from joyctl.services.triggers.feed import queue_entry_trigger
from tests.conftest import Cli
from tests.sandbox.conftest import FAST

EMAIL = "lena.kim@example.com"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(scenario="empty", **FAST)) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[KlaviyoClient]:
    with build_client(
        base_url=server.base_url, auth=ApiKeyAuth(server.credentials.private_key)
    ) as built:
        yield built


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    with transaction(connection):
        upsert_customer(
            connection,
            CustomerFields(email=EMAIL, first_name="Lena", last_name="Kim", tier="Silver"),
        )
    yield connection
    connection.close()


def _queued_events(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    return [row.payload for row in outbox.iter_unsent(connection, kind="event")]


def _events_in_klaviyo(client: KlaviyoClient, metric: str) -> list[dict[str, Any]]:
    found = find_metric_by_name(client, metric)
    if found is None:
        return []
    return [{"properties": e.event_properties} for e in get_events(client, metric_id=found.id)]


def _append(connection: sqlite3.Connection, kind: EntryKind, delta: int, key: str) -> bool:
    customer = find_customer(connection, EMAIL)
    assert customer is not None
    with transaction(connection):
        entry = append_entry(
            connection,
            NewEntry(customer.id, kind, delta, key, meta={"discount_code": "JOY-10OFF"}),
        ).entry
        return queue_entry_trigger(connection, customer, entry)


def test_a_positive_adjustment_sends_earn_point(
    ledger: sqlite3.Connection, client: KlaviyoClient, server: SandboxServer
) -> None:
    adjust_points(ledger, EMAIL, 120, reason="goodwill")
    (event,) = _queued_events(ledger)
    assert event["metric"] == joy_events.EARN_POINT_METRIC
    assert event["properties"]["Earned points"] == "120 points"
    assert event["properties"]["Customer points"] == 120
    assert event["properties"]["Customer name"] == "Lena Kim"
    assert push_outbox(client, ledger).events_sent == 1
    (sent,) = _events_in_klaviyo(client, joy_events.EARN_POINT_METRIC)
    assert sent["properties"]["Program name"] == "Manual adjustment"


def test_a_negative_adjustment_sends_nothing(ledger: sqlite3.Connection) -> None:
    adjust_points(ledger, EMAIL, 50, reason="opening")
    adjust_points(ledger, EMAIL, -20, reason="correction")
    assert len(_queued_events(ledger)) == 1


def test_redeem_sends_redeem_points_when_enabled(
    ledger: sqlite3.Connection, client: KlaviyoClient, server: SandboxServer
) -> None:
    adjust_points(ledger, EMAIL, 300, reason="opening")
    assert _append(ledger, EntryKind.REDEEM, -100, "redeem:1") is False  # disabled by default
    set_triggers(ledger, ["Redeem Points"], enabled=True)
    assert _append(ledger, EntryKind.REDEEM, -100, "redeem:2") is True
    push_outbox(client, ledger)
    (sent,) = _events_in_klaviyo(client, joy_events.REDEEM_POINTS_METRIC)
    assert sent["properties"]["Redeemed points"] == "100 points"
    assert sent["properties"]["Discount code"] == "JOY-10OFF"
    assert sent["properties"]["Customer points"] == 100


def test_expire_sends_upon_point_expiration_when_enabled(
    ledger: sqlite3.Connection, client: KlaviyoClient, server: SandboxServer
) -> None:
    adjust_points(ledger, EMAIL, 80, reason="opening")
    set_triggers(ledger, ["Joy: Upon Point Expiration"], enabled=True)
    assert _append(ledger, EntryKind.EXPIRE, -80, "expire:1") is True
    push_outbox(client, ledger)
    (sent,) = _events_in_klaviyo(client, joy_events.POINT_EXPIRATION_METRIC)
    assert sent["properties"]["Points expire"] == 80
    assert len(sent["properties"]["Expired at"]) == 10  # YYYY-MM-DD


def test_a_disabled_earn_point_is_not_sent(
    ledger: sqlite3.Connection, client: KlaviyoClient, server: SandboxServer
) -> None:
    set_triggers(ledger, ["Joy: Earn Point"], enabled=False)
    adjust_points(ledger, EMAIL, 120, reason="goodwill")
    assert _queued_events(ledger) == []
    assert push_outbox(client, ledger).events_sent == 0
    assert _events_in_klaviyo(client, joy_events.EARN_POINT_METRIC) == []


def _import(cli: Cli, path: Path, tier: str) -> None:
    path.write_text(f"email,tier,points\n{EMAIL},{tier},10\n", encoding="utf-8")
    result = cli("ledger", "import", str(path))
    assert result.exit_code == 0, result.stdout + result.stderr


def _tier_events(cli: Cli) -> list[dict[str, Any]]:
    connection = open_ledger(Path(_ledger_path(cli)))
    try:
        events = _queued_events(connection)
    finally:
        connection.close()
    return [e for e in events if e["metric"] == joy_events.TIER_ACHIEVED_METRIC]


def test_a_tier_change_seen_by_import_sends_tier_achieved(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    customers = tmp_path / "customers.csv"
    _import(cli, customers, "Silver")
    assert cli("triggers", "enable", "Tier Achieved").exit_code == 0
    _import(cli, customers, "Silver")  # no change: nothing
    assert _tier_events(cli) == []
    _import(cli, customers, "Gold")
    (event,) = _tier_events(cli)
    assert event["properties"]["New tier name"] == "Gold"
    assert event["properties"]["Old tier name"] == "Silver"
    assert event["profile"]["email"] == EMAIL


def test_a_disabled_tier_trigger_sends_nothing(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    customers = tmp_path / "customers.csv"
    _import(cli, customers, "Silver")
    _import(cli, customers, "Gold")
    assert _tier_events(cli) == []


SANDBOX = ("--json", "--profile", "sandbox")
REVIEW = "A wonderful, fragrant blend that I now brew every single morning."


def _review_events(cli: Cli, product: str) -> list[str]:
    result = cli(
        *SANDBOX,
        "reviews",
        "simulate",
        "--email",
        "ava.martinez@example.com",
        "--product",
        product,
        "--content",
        f"{REVIEW} Bought as {product}, and glad I did.",
        "--commit",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    decision = json.loads(result.stdout)["data"]["decisions"][0]
    assert decision["outcome"] == "award", decision
    status = cli(*SANDBOX, "ledger", "history", "ava.martinez@example.com")
    assert status.exit_code == 0
    connection = open_ledger(Path(_ledger_path(cli)))
    try:
        return [e["metric"] for e in _queued_events(connection)]
    finally:
        connection.close()


def _ledger_path(cli: Cli) -> str:
    result = cli("--json", "ledger", "path")
    return str(json.loads(result.stdout)["data"]["path"])


def test_a_review_award_sends_earn_point_unless_disabled(cli: Cli) -> None:
    assert cli("--profile", "sandbox", "connect").exit_code == 0
    assert _review_events(cli, "product-one") == [joy_events.EARN_POINT_METRIC]
    assert cli("--profile", "sandbox", "triggers", "disable", "Earn Point").exit_code == 0
    assert _review_events(cli, "product-two") == [joy_events.EARN_POINT_METRIC]  # only the first
