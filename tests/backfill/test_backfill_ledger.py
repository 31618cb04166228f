"""The ledger as a source: point entries as Joy's metrics, and Joy's profile properties."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from joyctl.ledger import outbox
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.points import EntryKind, NewEntry, append_entry
from joyctl.sandbox.store.persistence import load_state
from tests.backfill.support import Shop
from tests.conftest import Cli

START = datetime(2025, 1, 1, tzinfo=UTC)


def seed_ledger(ledger: Path) -> None:
    """Three customers: opening balances, earns, a redemption, an expiry, an adjustment."""
    with closing(open_ledger(ledger)) as connection, transaction(connection):
        ids = [
            upsert_customer(
                connection,
                CustomerFields(email=f"c{n}@example.com", tier="Gold" if n == 0 else None,
                               birthday="1990-04-07" if n == 0 else None,
                               referral_url=f"https://shop.example/r/{n}"),
            ).customer_id
            for n in range(3)
        ]  # fmt: skip
        entries = [
            (ids[0], EntryKind.OPENING, 100),
            (ids[0], EntryKind.EARN, 50),
            (ids[1], EntryKind.EARN, 20),
            (ids[0], EntryKind.REDEEM, -30),
            (ids[1], EntryKind.EXPIRE, -20),
            (ids[2], EntryKind.ADJUST, 5),
        ]
        for number, (customer, kind, delta) in enumerate(entries, start=1):
            append_entry(
                connection,
                NewEntry(customer_id=customer, kind=kind, delta=delta,
                         idempotency_key=f"seed-{number}", reason="seed", program="write_review",
                         source_kind="order", created_at=START + timedelta(days=number)),
            )  # fmt: skip


def metrics_in(shop: Shop) -> dict[str, int]:
    counts: dict[str, int] = shop.server.inspect()["events"]["by_metric"]
    return counts


def profiles_in(shop: Shop) -> dict[str, dict[str, Any]]:
    items = shop.server.inspect()["profiles"]["items"]
    return {item["email"]: item["properties"] for item in items}


@pytest.fixture
def ledger(shop: Shop, isolated_home: Path) -> Path:
    path = shop.ledger_file(isolated_home)
    seed_ledger(path)
    return path


def test_ledger_entries_become_joy_events(shop: Shop, ledger: Path) -> None:
    plan = shop.data("backfill", "events", "--dry-run")
    assert (plan["events"], plan["requests"]) == (4, 1)

    summary = shop.data("backfill", "events")

    assert summary["sent"] == 4
    assert metrics_in(shop) == {
        "Joy: Earn Point": 2,
        "Joy: Redeem Points": 1,
        "Joy: Upon Point Expiration": 1,
    }


def test_entries_the_outbox_sent_are_not_sent_again_and_pending_ones_are_settled(
    shop: Shop, ledger: Path
) -> None:
    with closing(open_ledger(ledger)) as connection:
        for entry_id in (2, 3):
            outbox.enqueue(connection, kind="event", unique_id=f"joyctl-entry-{entry_id}",
                           payload={}, now="2025-01-01T00:00:00+00:00")  # fmt: skip
        row = next(outbox.iter_unsent(connection))
        outbox.mark_sent(connection, [row.id], "2025-01-01T00:00:00+00:00")

    summary = shop.data("backfill", "events")

    assert (summary["sent"], summary["already_sent"]) == (3, 1)
    with closing(open_ledger(ledger)) as connection:
        assert outbox.outbox_counts(connection).pending == 0


def test_metric_and_time_select_ledger_entries(shop: Shop, ledger: Path) -> None:
    summary = shop.data(
        "backfill", "events", "--metric", "Joy: Earn Point", "--since", "2025-01-04T00:00:00Z"
    )
    assert summary["sent"] == 1
    assert metrics_in(shop) == {"Joy: Earn Point": 1}


def test_profiles_get_joy_properties_and_leave_unknown_ones_alone(shop: Shop, ledger: Path) -> None:
    plan = shop.data("backfill", "profiles", "--dry-run")
    assert (plan["profiles"], plan["jobs"]) == (3, 1)

    summary = shop.data("backfill", "profiles")

    assert (summary["profiles"], summary["jobs"], summary["imported"]) == (3, 1, 3)
    properties = profiles_in(shop)
    assert properties["c0@example.com"] == {
        "Joy Loyalty Points": 120,
        "Joy Vip tier": "Gold",
        "Joy member status": "member",
        "Joy Referral URL": "https://shop.example/r/0",
        "Birthday": "04/07",
    }
    assert "Joy Vip tier" not in properties["c1@example.com"]
    assert properties["c2@example.com"]["Joy Loyalty Points"] == 5


def test_profiles_klaviyo_cannot_import_are_reported_with_exit_7(shop: Shop, ledger: Path) -> None:
    with closing(open_ledger(ledger)) as connection:
        connection.execute(
            "INSERT INTO customers (email, created_at, updated_at) VALUES (?, ?, ?)",
            ("not-an-email", "2025-01-01", "2025-01-01"),
        )

    result = shop("--json", "backfill", "profiles")

    assert result.exit_code == 7
    summary = json.loads(result.stdout)["data"]
    assert (summary["imported"], summary["failed"]) == (3, 1)
    assert summary["problems"][0]["email"] == "not-an-email"
    assert "email" in summary["problems"][0]["reason"].lower()


def test_status_lists_runs_newest_first(shop: Shop, ledger: Path) -> None:
    events_run = shop.data("backfill", "events")["run_id"]
    profiles_run = shop.data("backfill", "profiles")["run_id"]

    listed = shop.data("backfill", "status")
    assert [run["run_id"] for run in listed] == [profiles_run, events_run]
    table = shop("backfill", "status")
    assert table.stdout.splitlines()[0].split("\t")[:3] == ["RUN", "KIND", "STATUS"]
    assert "4 sent" in table.stdout


def test_the_embedded_sandbox_profile_backfills_its_store(cli: Cli, isolated_home: Path) -> None:
    result = cli("--json", "--profile", "sandbox", "backfill", "profiles")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["data"]
    assert summary["imported"] == summary["profiles"] > 0
    state = load_state(isolated_home / "data" / "profiles" / "sandbox" / "sandbox-state.json")
    assert state is not None
    pointed = [p for p in state.profiles.values() if "Joy Loyalty Points" in p["properties"]]
    assert len(pointed) == summary["profiles"]
