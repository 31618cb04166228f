"""The outbox: every effect on Klaviyo is written here, in the same transaction as its cause.

A pusher sends unsent rows and marks them sent only after Klaviyo accepted them; a retry
resends with the same `unique_id`, which Klaviyo de-duplicates, so nothing arrives twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from joyctl.ledger.many_rows import RowsInsert, insert_rows

_ENQUEUE = (
    "INSERT INTO outbox (kind, unique_id, customer_id, entry_id, payload, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (unique_id) DO NOTHING"
)

_ENQUEUE_MANY = RowsInsert(
    "INSERT INTO outbox (kind, unique_id, customer_id, entry_id, payload, created_at) VALUES",
    6,
    " ON CONFLICT (unique_id) DO NOTHING",
)

# The same text as json.dumps(payload, sort_keys=True); one encoder instead of one per call.
_PAYLOAD_ENCODER = json.JSONEncoder(sort_keys=True)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    kind: str
    unique_id: str
    customer_id: int | None
    entry_id: int | None
    payload: dict[str, Any]
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    failed: int
    sent: int
    oldest_pending: str | None


def enqueue(
    connection: sqlite3.Connection,
    *,
    kind: str,
    unique_id: str,
    payload: dict[str, Any],
    now: str,
    customer_id: int | None = None,
    entry_id: int | None = None,
) -> bool:
    """Add a row unless one with this unique id exists; True when added."""
    text = _PAYLOAD_ENCODER.encode(payload)
    row = outbox_text_row(kind, unique_id, text, now, customer_id, entry_id)
    return connection.execute(_ENQUEUE, row).rowcount == 1


def outbox_text_row(
    kind: str,
    unique_id: str,
    payload_text: str,
    now: str,
    customer_id: int | None = None,
    entry_id: int | None = None,
) -> tuple[object, ...]:
    """The parameters of one `enqueue`, for `enqueue_many`, with the payload in its stored form
    (sorted-key JSON)."""
    return (kind, unique_id, customer_id, entry_id, payload_text, now)


def enqueue_many(connection: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    """Add `outbox_text_row`s in order, skipping any whose unique id exists, as `enqueue` does."""
    insert_rows(connection, _ENQUEUE_MANY, rows)


def iter_unsent(
    connection: sqlite3.Connection, *, kind: str | None = None, after_id: int = 0, limit: int = 1000
) -> Iterator[OutboxRow]:
    rows = connection.execute(
        "SELECT id, kind, unique_id, customer_id, entry_id, payload, attempts, last_error"
        " FROM outbox WHERE sent_at IS NULL AND id > ? AND (? IS NULL OR kind = ?)"
        " ORDER BY id LIMIT ?",
        (after_id, kind, kind, limit),
    )
    for row in rows.fetchall():
        yield OutboxRow(
            id=row["id"],
            kind=row["kind"],
            unique_id=row["unique_id"],
            customer_id=row["customer_id"],
            entry_id=row["entry_id"],
            payload=json.loads(row["payload"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
        )


def mark_sent(connection: sqlite3.Connection, ids: list[int], now: str) -> None:
    connection.executemany(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
        [(now, row_id) for row_id in ids],
    )


def mark_failed(connection: sqlite3.Connection, ids: list[int], error: str) -> None:
    connection.executemany(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
        [(error[:500], row_id) for row_id in ids],
    )


def outbox_counts(connection: sqlite3.Connection) -> OutboxCounts:
    row = connection.execute(
        "SELECT sum(sent_at IS NULL) AS pending,"
        " sum(sent_at IS NULL AND last_error IS NOT NULL) AS failed,"
        " sum(sent_at IS NOT NULL) AS sent,"
        " min(CASE WHEN sent_at IS NULL THEN created_at END) AS oldest FROM outbox"
    ).fetchone()
    return OutboxCounts(
        pending=row["pending"] or 0,
        failed=row["failed"] or 0,
        sent=row["sent"] or 0,
        oldest_pending=row["oldest"],
    )


def first_event_sent_at(connection: sqlite3.Connection) -> str | None:
    """When the first outbox event was sent to Klaviyo (ISO text), or None if none was yet."""
    row = connection.execute(
        "SELECT min(sent_at) FROM outbox WHERE kind = 'event' AND sent_at IS NOT NULL"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])
