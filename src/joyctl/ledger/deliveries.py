"""Webhook deliveries as received, their verdicts, per-event de-duplication, and subscriptions.

A delivery row is written before anything else looks at the request, so a crash at any later
point leaves the raw request to verify or replay; a trigger keeps the raw part unchanged.
Events are keyed by Klaviyo's `external_id`: the first delivery that carries one claims it, and
`processed_at` says whether the reward pipeline has run it to the end. A review event whose
review could not be found is kept unfinished with the outcome `unmatched` and the reason in
`detail`; `webhooks replay` picks its delivery up again until it is matched.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

VERIFIED = "verified"
REJECTED = "rejected"
PENDING = "pending"


class RejectReason(StrEnum):
    """Why a delivery was refused; stored in `webhook_deliveries.reason`."""

    TOO_LARGE = "too_large"
    LENGTH_REQUIRED = "length_required"
    BAD_REQUEST = "bad_request"  # framing the receiver cannot read: a bad length, chunk or pace
    MISSING_HEADERS = "missing_headers"
    UNKNOWN_WEBHOOK = "unknown_webhook"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed_json"
    WEBHOOK_ID_MISMATCH = "webhook_id_mismatch"
    UNKNOWN_ACCOUNT = "unknown_account"
    STALE = "stale_timestamp"


# A secret that no longer matches (rotated, or the webhook re-created elsewhere) shows up as
# one of these; diagnose reports them together.
SIGNATURE_FAILURES = (RejectReason.BAD_SIGNATURE, RejectReason.UNKNOWN_WEBHOOK)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    received_at: str
    webhook_id: str | None
    headers: Mapping[str, str]
    body: bytes
    body_bytes: int


@dataclass(frozen=True, slots=True)
class StoredDelivery:
    id: int
    received_at: str
    webhook_id: str | None
    headers: dict[str, str]
    body: bytes
    body_bytes: int
    verdict: str
    reason: str | None
    detail: str | None
    status_code: int | None
    account_id: str | None
    event_count: int
    processed_at: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    status_code: int
    reason: str | None = None
    detail: str | None = None
    account_id: str | None = None
    sent_at: str | None = None
    event_count: int = 0


@dataclass(frozen=True, slots=True)
class EventKey:
    external_id: str
    topic: str
    review_id: str | None


UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What became of one event; `finished` False keeps it for a later try (unmatched)."""

    external_id: str
    outcome: str
    review_id: str | None = None
    detail: str | None = None
    finished: bool = True


@dataclass(frozen=True, slots=True)
class UnmatchedEvents:
    """Review events kept because their review could not be found, oldest first."""

    count: int
    oldest_seen_at: str | None
    examples: list[tuple[str, int, str]]  # (external_id, delivery_id, reason)


@dataclass
class DeliveryStats:
    """What diagnose and status need to know about deliveries, from one query each."""

    total: int = 0
    verified: int = 0
    rejected: int = 0
    pending: int = 0
    unprocessed: int = 0
    signature_failures: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    last_received_at: str | None = None
    last_verified_at: str | None = None
    last_signature_failure_at: str | None = None
    last_review_event_at: str | None = None


def store_delivery(connection: sqlite3.Connection, delivery: NewDelivery) -> int:
    """Keep the raw request; one statement, so it is committed when this returns."""
    row = connection.execute(
        "INSERT INTO webhook_deliveries (received_at, webhook_id, headers, body, body_bytes)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (
            delivery.received_at,
            delivery.webhook_id,
            json.dumps(dict(delivery.headers), sort_keys=True),
            delivery.body,
            delivery.body_bytes,
        ),
    ).fetchone()
    return int(row[0])


def store_rejection(connection: sqlite3.Connection, delivery: NewDelivery, verdict: Verdict) -> int:
    """Keep a refused request, verdict and all, in one statement (no pending moment)."""
    row = connection.execute(
        "INSERT INTO webhook_deliveries (received_at, webhook_id, headers, body, body_bytes,"
        " verdict, status_code, reason, detail, account_id, sent_at, event_count)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            delivery.received_at,
            delivery.webhook_id,
            json.dumps(dict(delivery.headers), sort_keys=True),
            delivery.body,
            delivery.body_bytes,
            verdict.verdict,
            verdict.status_code,
            verdict.reason,
            verdict.detail,
            verdict.account_id,
            verdict.sent_at,
            verdict.event_count,
        ),
    ).fetchone()
    return int(row[0])


def prune_rejected(connection: sqlite3.Connection, keep: int) -> int:
    """Delete rejected deliveries but the newest `keep`; returns how many went."""
    cursor = connection.execute(
        "DELETE FROM webhook_deliveries WHERE verdict = 'rejected' AND id < ("
        " SELECT id FROM webhook_deliveries WHERE verdict = 'rejected'"
        " ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (max(1, keep) - 1,),
    )
    return cursor.rowcount


def record_verdict(connection: sqlite3.Connection, delivery_id: int, verdict: Verdict) -> None:
    connection.execute(
        "UPDATE webhook_deliveries SET verdict = ?, status_code = ?, reason = ?, detail = ?,"
        " account_id = ?, sent_at = ?, event_count = ? WHERE id = ?",
        (
            verdict.verdict,
            verdict.status_code,
            verdict.reason,
            verdict.detail,
            verdict.account_id,
            verdict.sent_at,
            verdict.event_count,
            delivery_id,
        ),
    )


def get_delivery(connection: sqlite3.Connection, delivery_id: int) -> StoredDelivery | None:
    row = connection.execute(
        "SELECT * FROM webhook_deliveries WHERE id = ?", (delivery_id,)
    ).fetchone()
    return _delivery(row) if row is not None else None


def select_deliveries(
    connection: sqlite3.Connection,
    *,
    ids: Sequence[int] = (),
    received_since: str | None = None,
    unprocessed_only: bool = False,
) -> list[StoredDelivery]:
    """Verified deliveries, oldest first: these ids, those received since, or the unprocessed."""
    clauses = ["verdict = 'verified'"]
    params: list[object] = []
    if ids:
        clauses.append(f"id IN ({', '.join('?' for _ in ids)})")
        params.extend(ids)
    if received_since is not None:
        clauses.append("received_at >= ?")
        params.append(received_since)
    if unprocessed_only:
        clauses.append(
            "(processed_at IS NULL OR id IN (SELECT delivery_id FROM webhook_events"
            " WHERE processed_at IS NULL AND outcome = 'unmatched'))"
        )
    where = " AND ".join(clauses)
    rows = connection.execute(
        f"SELECT * FROM webhook_deliveries WHERE {where} ORDER BY id",  # noqa: S608 - fixed clauses
        params,
    )
    return [_delivery(row) for row in rows.fetchall()]


def pending_deliveries(connection: sqlite3.Connection) -> list[StoredDelivery]:
    """Deliveries stored but never given a verdict (the process ended in between)."""
    rows = connection.execute("SELECT * FROM webhook_deliveries WHERE verdict = 'pending'")
    return [_delivery(row) for row in rows.fetchall()]


def missing_ids(connection: sqlite3.Connection, ids: Iterable[int]) -> list[int]:
    wanted = list(ids)
    marks = ", ".join("?" for _ in wanted)
    query = f"SELECT id FROM webhook_deliveries WHERE id IN ({marks})"  # noqa: S608 - only ?s
    found = {row[0] for row in connection.execute(query, wanted)}
    return [delivery_id for delivery_id in wanted if delivery_id not in found]


def claim_events(
    connection: sqlite3.Connection, delivery_id: int, events: Sequence[EventKey], now: str
) -> set[str]:
    """Record each event once; returns the external ids not processed yet (new or left over)."""
    connection.executemany(
        "INSERT INTO webhook_events (external_id, delivery_id, topic, review_id, first_seen_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (external_id) DO NOTHING",
        [(e.external_id, delivery_id, e.topic, e.review_id, now) for e in events],
    )
    rows = connection.execute(
        "SELECT external_id FROM webhook_events WHERE processed_at IS NULL"
        " AND external_id IN (SELECT value FROM json_each(?))",
        (json.dumps([e.external_id for e in events]),),
    )
    return {row[0] for row in rows}


def mark_events_processed(
    connection: sqlite3.Connection, outcomes: Mapping[str, str], now: str
) -> None:
    connection.executemany(
        "UPDATE webhook_events SET processed_at = ?, outcome = ? WHERE external_id = ?",
        [(now, outcome, external_id) for external_id, outcome in outcomes.items()],
    )


def record_event_outcomes(
    connection: sqlite3.Connection, outcomes: Sequence[EventOutcome], now: str
) -> None:
    """Each event's outcome; a finished one is processed, an unmatched one stays pending."""
    connection.executemany(
        "UPDATE webhook_events SET processed_at = ?, outcome = ?, detail = ?,"
        " review_id = coalesce(?, review_id) WHERE external_id = ?",
        [
            (now if o.finished else None, o.outcome, o.detail, o.review_id, o.external_id)
            for o in outcomes
        ],
    )


def stored_review_ids(
    connection: sqlite3.Connection, external_ids: Sequence[str]
) -> dict[str, str | None]:
    """The review each of these events was found to be about (None: not known)."""
    rows = connection.execute(
        "SELECT external_id, review_id FROM webhook_events"
        " WHERE external_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(external_ids)),),
    )
    return {row[0]: row[1] for row in rows}


def unmatched_events(connection: sqlite3.Connection, examples: int = 3) -> UnmatchedEvents:
    """How many review events wait to be matched, since when, and the first few reasons."""
    count, oldest = connection.execute(
        "SELECT count(*), min(first_seen_at) FROM webhook_events"
        " WHERE processed_at IS NULL AND outcome = ?",
        (UNMATCHED,),
    ).fetchone()
    rows = connection.execute(
        "SELECT external_id, delivery_id, detail FROM webhook_events"
        " WHERE processed_at IS NULL AND outcome = ? ORDER BY first_seen_at LIMIT ?",
        (UNMATCHED, examples),
    ).fetchall()
    listed = [(row[0], int(row[1]), str(row[2] or "")) for row in rows]
    return UnmatchedEvents(int(count), oldest, listed)


def finish_delivery(
    connection: sqlite3.Connection, delivery_id: int, now: str, error: str | None = None
) -> None:
    """Processed to the end (`error` None), or not, with the error to retry after."""
    if error is None:
        connection.execute(
            "UPDATE webhook_deliveries SET processed_at = ?, last_error = NULL WHERE id = ?",
            (now, delivery_id),
        )
    else:
        connection.execute(
            "UPDATE webhook_deliveries SET last_error = ? WHERE id = ?",
            (error[:500], delivery_id),
        )


def unprocessed_count(connection: sqlite3.Connection) -> int:
    """Deliveries `webhooks replay` would pick up: verified and unfinished, or never judged."""
    row = connection.execute(
        "SELECT count(*) FROM webhook_deliveries WHERE verdict = 'pending'"
        " OR (verdict = 'verified' AND processed_at IS NULL)"
    ).fetchone()
    return int(row[0])


def delivery_stats(connection: sqlite3.Connection) -> DeliveryStats:
    """Counts, rejections by reason, and the latest times, for diagnose and status."""
    failures = tuple(str(reason) for reason in SIGNATURE_FAILURES)
    row = connection.execute(
        "SELECT count(*) AS total, sum(verdict = 'verified') AS verified,"
        " sum(verdict = 'rejected') AS rejected, sum(verdict = 'pending') AS pending,"
        " sum(verdict = 'verified' AND processed_at IS NULL) AS unprocessed,"
        " max(received_at) AS last_received,"
        " max(CASE WHEN verdict = 'verified' THEN received_at END) AS last_verified,"
        " max(CASE WHEN reason IN (?, ?) THEN received_at END) AS last_signature_failure"
        " FROM webhook_deliveries",
        failures,
    ).fetchone()
    by_reason = {
        str(reason): int(count)
        for reason, count in connection.execute(
            "SELECT reason, count(*) FROM webhook_deliveries WHERE verdict = 'rejected'"
            " GROUP BY reason ORDER BY reason"
        )
    }
    last_review = connection.execute(
        "SELECT max(first_seen_at) FROM webhook_events WHERE review_id IS NOT NULL"
    ).fetchone()[0]
    return DeliveryStats(
        total=row["total"] or 0,
        verified=row["verified"] or 0,
        rejected=row["rejected"] or 0,
        pending=row["pending"] or 0,
        unprocessed=row["unprocessed"] or 0,
        signature_failures=sum(by_reason.get(reason, 0) for reason in failures),
        rejected_by_reason=by_reason,
        last_received_at=row["last_received"],
        last_verified_at=row["last_verified"],
        last_signature_failure_at=row["last_signature_failure"],
        last_review_event_at=last_review,
    )


def _delivery(row: sqlite3.Row) -> StoredDelivery:
    return StoredDelivery(
        id=row["id"],
        received_at=row["received_at"],
        webhook_id=row["webhook_id"],
        headers=json.loads(row["headers"]),
        body=bytes(row["body"]),
        body_bytes=row["body_bytes"],
        verdict=row["verdict"],
        reason=row["reason"],
        detail=row["detail"],
        status_code=row["status_code"],
        account_id=row["account_id"],
        event_count=row["event_count"],
        processed_at=row["processed_at"],
        last_error=row["last_error"],
    )


# --- subscriptions joyctl created (Klaviyo masks endpoint URLs, so keep ours) ------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    webhook_id: str
    endpoint_url: str
    topics: tuple[str, ...]
    created_at: str
    deleted_at: str | None


def record_subscription(
    connection: sqlite3.Connection,
    webhook_id: str,
    endpoint_url: str,
    topics: Sequence[str],
    now: str,
) -> None:
    connection.execute(
        "INSERT INTO webhook_subscriptions (webhook_id, endpoint_url, topics, created_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (webhook_id) DO UPDATE SET"
        " endpoint_url = excluded.endpoint_url, topics = excluded.topics, deleted_at = NULL",
        (webhook_id, endpoint_url, json.dumps(list(topics)), now),
    )


def mark_subscription_deleted(connection: sqlite3.Connection, webhook_id: str, now: str) -> None:
    connection.execute(
        "UPDATE webhook_subscriptions SET deleted_at = ? WHERE webhook_id = ?", (now, webhook_id)
    )


def subscriptions(connection: sqlite3.Connection) -> dict[str, Subscription]:
    """Every subscription joyctl created in this profile and has not deleted, by webhook id."""
    rows = connection.execute(
        "SELECT * FROM webhook_subscriptions WHERE deleted_at IS NULL ORDER BY created_at"
    )
    return {
        row["webhook_id"]: Subscription(
            webhook_id=row["webhook_id"],
            endpoint_url=row["endpoint_url"],
            topics=tuple(json.loads(row["topics"])),
            created_at=row["created_at"],
            deleted_at=row["deleted_at"],
        )
        for row in rows
    }
