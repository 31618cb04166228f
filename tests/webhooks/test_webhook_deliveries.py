"""The deliveries table: raw requests kept unchanged, events claimed once, stats for diagnose."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from joyctl.ledger import deliveries as queries
from joyctl.ledger.db import open_ledger


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    opened = open_ledger(tmp_path / "ledger.sqlite3")
    yield opened
    opened.close()


def _store(connection: sqlite3.Connection, at: str, verdict: queries.Verdict) -> int:
    new = queries.NewDelivery(at, "01HWEBHOOK", {"klaviyo-signature": "ab"}, b"{}", 2)
    delivery_id = queries.store_delivery(connection, new)
    queries.record_verdict(connection, delivery_id, verdict)
    return delivery_id


def _rejected(reason: queries.RejectReason) -> queries.Verdict:
    return queries.Verdict(queries.REJECTED, 401, str(reason), "detail")


def test_stats_count_verdicts_reasons_and_latest_times(connection: sqlite3.Connection) -> None:
    assert queries.delivery_stats(connection) == queries.DeliveryStats()
    verified = queries.Verdict(queries.VERIFIED, 200, event_count=1)
    first = _store(connection, "2026-05-01T10:00:00+00:00", verified)
    _store(connection, "2026-05-01T11:00:00+00:00", _rejected(queries.RejectReason.BAD_SIGNATURE))
    _store(connection, "2026-05-01T12:00:00+00:00", _rejected(queries.RejectReason.UNKNOWN_WEBHOOK))
    _store(connection, "2026-05-01T13:00:00+00:00", _rejected(queries.RejectReason.STALE))
    queries.claim_events(
        connection, first, [queries.EventKey("e1", "t", "r1")], "2026-05-01T10:00:01+00:00"
    )

    stats = queries.delivery_stats(connection)
    assert (stats.total, stats.verified, stats.rejected, stats.unprocessed) == (4, 1, 3, 1)
    assert stats.signature_failures == 2
    assert stats.rejected_by_reason == {
        "bad_signature": 1,
        "stale_timestamp": 1,
        "unknown_webhook": 1,
    }
    assert stats.last_received_at == "2026-05-01T13:00:00+00:00"
    assert stats.last_verified_at == "2026-05-01T10:00:00+00:00"
    assert stats.last_signature_failure_at == "2026-05-01T12:00:00+00:00"
    assert stats.last_review_event_at == "2026-05-01T10:00:01+00:00"

    queries.finish_delivery(connection, first, "2026-05-01T10:00:02+00:00")
    assert queries.delivery_stats(connection).unprocessed == 0


def test_the_raw_request_cannot_be_changed(connection: sqlite3.Connection) -> None:
    rejected = _rejected(queries.RejectReason.BAD_SIGNATURE)
    delivery_id = _store(connection, "2026-05-01T10:00:00+00:00", rejected)
    with pytest.raises(sqlite3.IntegrityError, match="keeps its raw request"):
        connection.execute(
            "UPDATE webhook_deliveries SET body = x'00' WHERE id = ?", (delivery_id,)
        )
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute(
            "UPDATE webhook_deliveries SET headers = '{}' WHERE id = ?", (delivery_id,)
        )


def test_an_event_is_claimed_once_and_pending_until_processed(
    connection: sqlite3.Connection,
) -> None:
    verified = queries.Verdict(queries.VERIFIED, 200, event_count=2)
    first = _store(connection, "2026-05-01T10:00:00+00:00", verified)
    second = _store(connection, "2026-05-01T10:05:00+00:00", verified)
    events = [queries.EventKey("e1", "t", "r1"), queries.EventKey("e2", "t", None)]
    assert queries.claim_events(connection, first, events, "now") == {"e1", "e2"}
    queries.mark_events_processed(connection, {"e1": "award 50"}, "later")
    # A second delivery of the same events sees only what is left to do.
    assert queries.claim_events(connection, second, events, "now") == {"e2"}
    owner = connection.execute(
        "SELECT delivery_id FROM webhook_events WHERE external_id = 'e2'"
    ).fetchone()[0]
    assert owner == first
