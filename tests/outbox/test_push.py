"""The outbox pusher: live events and profile updates, refusals isolated, nothing sent twice."""

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
from joyctl.klaviyo.retry import RetryPolicy
from joyctl.ledger import outbox
from joyctl.ledger.db import open_ledger
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.sandbox.store.persistence import load_state
from joyctl.services.outbox.pusher import MAX_ATTEMPTS, UPSERT_LIMIT, push_outbox
from tests.conftest import Cli
from tests.klaviyo.conftest import FAST_SANDBOX

QUICK = RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=8)
NOW = "2026-07-20T12:00:00+00:00"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(scenario="empty", **FAST_SANDBOX)) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[KlaviyoClient]:
    auth = ApiKeyAuth(server.credentials.private_key)
    with build_client(base_url=server.base_url, auth=auth, retry=QUICK) as built:
        yield built


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    yield connection
    connection.close()


def earn(connection: sqlite3.Connection, number: int, **changes: Any) -> None:
    event = joy_events.earn_point_event(
        unique_id=f"joyctl-entry-{number}",
        email=f"customer{number % 7}@example.com",
        external_id=None,
        program_name="Write a review",
        points=50,
        balance_after=50 * number,
        time=NOW,
        review_id=f"review-{number}",
        product_id=None,
        customer_id=number,
    )
    event.update(changes)
    outbox.enqueue(connection, kind="event", unique_id=event["unique_id"], payload=event, now=NOW)


def balance(connection: sqlite3.Connection, email: str, points: int, key: str) -> None:
    update = joy_events.points_profile_update(email=email, external_id=None, balance=points)
    outbox.enqueue(connection, kind="profile", unique_id=key, payload=update, now=NOW)


def points_in_klaviyo(server: SandboxServer) -> dict[str, Any]:
    profiles = server.inspect()["profiles"]["items"]
    return {p["email"]: p["properties"].get(joy_events.PROFILE_POINTS) for p in profiles}


def test_pushes_every_event_once_and_marks_the_rows_sent(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    for number in range(1, 2_501):
        earn(ledger, number)

    first = push_outbox(client, ledger)
    second = push_outbox(client, ledger)

    assert (first.events_sent, first.requests, first.pending) == (2_500, 3, 0)
    assert (second.events_sent, second.requests) == (0, 0)
    events = server.inspect()["events"]
    assert (events["total"], events["duplicates_dropped"]) == (2_500, 0)
    assert outbox.outbox_counts(ledger).sent == 2_500


def test_an_event_klaviyo_refuses_is_set_aside_and_the_rest_arrive(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    for number in range(1, 41):
        earn(ledger, number, time="1980-01-01T00:00:00+00:00" if number == 17 else NOW)
    earn(ledger, 99, metric=None)

    report = push_outbox(client, ledger)

    assert (report.events_sent, report.events_refused, report.pending) == (39, 2, 2)
    assert server.inspect()["events"]["total"] == 39
    failed = ledger.execute("SELECT unique_id, last_error FROM outbox WHERE sent_at IS NULL")
    reasons = {row["unique_id"]: row["last_error"] for row in failed}
    assert "Klaviyo refused it" in reasons["joyctl-entry-17"]
    assert "1990" in reasons["joyctl-entry-17"]
    assert "payload" in reasons["joyctl-entry-99"]


def test_rows_refused_again_and_again_are_given_up(
    client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    earn(ledger, 1, metric=None)
    for _ in range(MAX_ATTEMPTS):
        push_outbox(client, ledger)

    report = push_outbox(client, ledger)

    assert (report.events_refused, report.given_up, report.pending) == (0, 1, 1)


def test_only_the_newest_balance_of_each_profile_is_sent(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    balance(ledger, "ann@example.com", 50, "p1")
    balance(ledger, "bob@example.com", 10, "p2")
    balance(ledger, "ann@example.com", 120, "p3")

    report = push_outbox(client, ledger)

    assert (report.profiles_sent, report.pending) == (2, 0)
    assert points_in_klaviyo(server) == {"ann@example.com": 120, "bob@example.com": 10}


def test_many_profile_updates_go_in_one_import_job(
    server: SandboxServer, client: KlaviyoClient, ledger: sqlite3.Connection
) -> None:
    count = UPSERT_LIMIT * 4
    for number in range(count):
        balance(ledger, f"customer{number}@example.com", number, f"p{number}")
    balance(ledger, "not-an-email", 5, "bad")

    report = push_outbox(client, ledger, sleep=lambda seconds: None)

    assert (report.profiles_sent, report.profiles_refused, report.pending) == (count, 1, 1)
    state = server.inspect()
    assert [job["status"] for job in state["import_jobs"]] == ["complete"]
    assert points_in_klaviyo(server)[f"customer{count - 1}@example.com"] == count - 1


def test_reviews_replay_push_sends_the_rewards_it_recorded(cli: Cli, isolated_home: Path) -> None:
    assert cli("sandbox", "reset", "--scenario", "healthy", "--yes").exit_code == 0

    result = cli("--json", "--profile", "sandbox", "reviews", "replay", "--push")

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["awarded"] > 0
    assert data["push"]["events_sent"] == data["awarded"]
    assert data["push"]["profiles_sent"] == data["customers"]
    assert data["push"]["pending"] == 0
    state_file = isolated_home / "data" / "profiles" / "sandbox" / "sandbox-state.json"
    state = load_state(state_file)
    assert state is not None
    metric_ids = {m["id"] for m in state.metrics.values() if m["name"] == "Joy: Earn Point"}
    earned = [e for e in state.events.values() if e["metric_id"] in metric_ids]
    assert len(earned) == data["awarded"]

    again = cli("--json", "--profile", "sandbox", "reviews", "replay", "--push")
    assert json.loads(again.stdout)["data"]["push"]["events_sent"] == 0


def test_push_with_dry_run_is_refused(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "reviews", "replay", "--push", "--dry-run")
    assert result.exit_code == 2
    assert "--dry-run" in result.stderr
