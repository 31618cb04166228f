"""Per-feature access from scopes and probes, and the ledger's connection history."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from joyctl.api_contract import FEATURE_SCOPES, all_required_scopes
from joyctl.ledger.connections import close_connections, connection_history, record_connection
from joyctl.ledger.db import open_ledger
from joyctl.services.connection.capabilities import (
    Access,
    Probe,
    ProbeFixes,
    blocking,
    features_from_probes,
    features_from_scopes,
    verified_scopes,
)

FIXES = ProbeFixes(missing_scope="add {scopes}", plan_gate="use OAuth")


def test_scopes_name_what_each_feature_lacks() -> None:
    granted = [s for s in all_required_scopes() if not s.startswith("webhooks:")]
    report = {f.feature: f for f in features_from_scopes(granted, all_required_scopes(), "fix")}
    assert set(report) == set(FEATURE_SCOPES)
    assert report["webhooks"].access is Access.MISSING
    assert report["webhooks"].missing == ["webhooks:read", "webhooks:write"]
    assert report["review_rewards"].missing == ["webhooks:read", "webhooks:write"]
    assert report["events"].access is Access.OK and report["events"].fix is None
    assert {f.feature for f in blocking(report.values())} == {"webhooks", "review_rewards"}


def test_a_feature_outside_the_required_scopes_does_not_block() -> None:
    required = ["accounts:read", "events:read", "events:write", "metrics:read"]
    report = features_from_scopes(required, required, "fix")
    assert {f.feature for f in report if f.required} == {"connection", "events"}
    assert blocking(report) == []


def test_probes_stand_for_features_when_scopes_are_unknown() -> None:
    probes = {
        "events": Probe.OK,
        "profiles": Probe.MISSING_SCOPE,
        "lists": Probe.OK,
        "webhooks": Probe.PLAN_GATE,
        "reviews": Probe.ERROR,
    }
    report = {f.feature: f for f in features_from_probes(probes, all_required_scopes(), FIXES)}
    assert report["connection"].access is Access.OK
    assert report["events"].access is Access.OK
    assert report["profiles"].access is Access.MISSING
    assert report["profiles"].fix == "add profiles:read"
    assert report["webhooks"].access is Access.PLAN_GATE
    assert report["webhooks"].fix == "use OAuth"
    assert report["review_rewards"].access is Access.UNKNOWN
    assert verified_scopes(probes) == ["accounts:read", "events:read", "lists:read"]


def test_nothing_probed_means_unknown() -> None:
    report = features_from_probes(None, all_required_scopes(), FIXES)
    assert {f.access for f in report if f.feature != "connection"} == {Access.UNKNOWN}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    yield connection
    connection.close()


def test_a_new_connection_closes_the_previous_one(ledger: sqlite3.Connection) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    record_connection(
        ledger, account_id="A", account_name="Shop", method="oauth", scopes=["a:read"],
        connected_at=first,
    )  # fmt: skip
    later = first + timedelta(days=1)
    record_connection(
        ledger, account_id="A", account_name=None, method="api_key", scopes=[],
        connected_at=later,
    )  # fmt: skip
    newest, oldest = connection_history(ledger)
    assert oldest.disconnected_at == later.isoformat() and oldest.scopes == ("a:read",)
    assert newest.disconnected_at is None and newest.method == "api_key"
    assert close_connections(ledger) == 1
    assert close_connections(ledger) == 0
    assert all(row.disconnected_at for row in connection_history(ledger))
