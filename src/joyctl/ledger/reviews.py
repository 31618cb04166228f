"""The review inbox, the engine's decisions on each review, and the approval queue's verdicts.

A review is held for approval while its latest decision is AWAITING_APPROVAL (rule 13). Its
verdict, approve or reject, is kept in `review_approvals` with who gave it and when; a verdict
is final (triggers refuse changes), and an approval also stamps the inbox row's `approved_at`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from joyctl.ledger.many_rows import RowsInsert, insert_rows


@dataclass(frozen=True, slots=True)
class InboxReview:
    """One Klaviyo review as joyctl received it (replay, webhook, simulate --commit)."""

    review_id: str
    email: str | None
    customer_id: int | None
    product_id: str | None
    review_type: str
    status: str
    verified: bool
    rating: int | None
    has_images: bool
    created_at: str
    updated_at: str | None
    origin: str
    raw: dict[str, Any]
    approved_at: str | None = None


HELD_REASON = "AWAITING_APPROVAL"
APPROVE = "approve"
REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Approval:
    """A verdict of the approval queue: who approved or rejected the review, when, and why."""

    review_id: str
    verdict: str  # APPROVE or REJECT
    decided_by: str
    reason: str | None
    decided_at: str


@dataclass(frozen=True, slots=True)
class HeldReview:
    """A review waiting in the approval queue, and since when its decision has held it."""

    review: InboxReview
    held_since: str


@dataclass(frozen=True, slots=True)
class StoredDecision:
    id: int
    review_id: str
    program: str
    outcome: str
    reason_code: str | None
    points: int
    rule_values: dict[str, Any]
    review_status: str
    entry_id: int | None
    decided_at: str


_INBOX_COLUMNS = (
    "review_id, email, customer_id, product_id, review_type, status, verified, rating,"
    " has_images, created_at, updated_at, origin, raw, approved_at"
)

_PREFIXED_COLUMNS = ", ".join(f"r.{name.strip()}" for name in _INBOX_COLUMNS.split(","))


_UPSERT_REVIEWS = RowsInsert(
    "INSERT INTO reviews (review_id, email, customer_id, product_id, review_type, status,"
    " verified, rating, has_images, created_at, updated_at, raw, origin, first_seen_at,"
    " last_seen_at) VALUES",
    15,
    " ON CONFLICT (review_id) DO UPDATE SET email = excluded.email,"
    " customer_id = excluded.customer_id, product_id = excluded.product_id,"
    " review_type = excluded.review_type, status = excluded.status,"
    " verified = excluded.verified, rating = excluded.rating,"
    " has_images = excluded.has_images, created_at = excluded.created_at,"
    " updated_at = excluded.updated_at, raw = excluded.raw,"
    " last_seen_at = excluded.last_seen_at",
)

_IDS_PER_STATEMENT = 500  # well under SQLite's limit on bound parameters

_INSERT_DECISIONS = RowsInsert(
    "INSERT INTO review_decisions (review_id, program, outcome, reason_code, points,"
    " rule_values, review_status, entry_id, decided_at) VALUES",
    9,
)

# The same text as json.dumps with these options; one encoder instead of one per call.
_RAW_ENCODER = json.JSONEncoder(default=str)
_VALUES_ENCODER = json.JSONEncoder(sort_keys=True, default=str)


def review_row(
    review: InboxReview, now: str, *, customer_id: int | None = None
) -> tuple[object, ...]:
    """The parameters of one inbox upsert, for `record_reviews`."""
    return (
        review.review_id,
        review.email,
        customer_id if customer_id is not None else review.customer_id,
        review.product_id,
        review.review_type,
        review.status,
        int(review.verified),
        review.rating,
        int(review.has_images),
        review.created_at,
        review.updated_at,
        _RAW_ENCODER.encode(review.raw),
        review.origin,
        now,
        now,
    )


def record_reviews(connection: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    """Insert or refresh many `review_row`s, in order."""
    insert_rows(connection, _UPSERT_REVIEWS, rows)


def seen_before(connection: sqlite3.Connection, review_ids: list[str], now: str) -> set[str]:
    """The reviews the inbox holds from another time than `now`: upserting them is no news."""
    rows = connection.execute(
        "SELECT review_id FROM reviews WHERE review_id IN (SELECT value FROM json_each(?))"
        " AND first_seen_at != ?",
        (json.dumps(review_ids), now),
    )
    return {review_id for (review_id,) in rows}


def approve_review(connection: sqlite3.Connection, review_id: str, now: str) -> bool:
    cursor = connection.execute(
        "UPDATE reviews SET approved_at = ? WHERE review_id = ? AND approved_at IS NULL",
        (now, review_id),
    )
    return cursor.rowcount == 1


def record_approval(connection: sqlite3.Connection, approval: Approval) -> None:
    """Keep a verdict; a second verdict on one review is refused by the primary key."""
    connection.execute(
        "INSERT INTO review_approvals (review_id, verdict, decided_by, reason, decided_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            approval.review_id,
            approval.verdict,
            approval.decided_by,
            approval.reason,
            approval.decided_at,
        ),
    )
    if approval.verdict == APPROVE:
        approve_review(connection, approval.review_id, approval.decided_at)


def approvals_for(connection: sqlite3.Connection, review_ids: list[str]) -> dict[str, Approval]:
    """The verdicts given on any of these reviews, in one read."""
    rows = connection.execute(
        "SELECT * FROM review_approvals WHERE review_id IN (SELECT value FROM json_each(?))",
        (json.dumps(review_ids),),
    )
    return {row["review_id"]: _approval_from_row(row) for row in rows}


def held_reviews(
    connection: sqlite3.Connection,
    *,
    review_ids: list[str] | None = None,
    created_since: str | None = None,
) -> list[HeldReview]:
    """Reviews whose latest decision holds them for approval, oldest first.

    Only these ids when `review_ids` is given; only those written at or after `created_since`.
    """
    sql = (
        f"SELECT {_PREFIXED_COLUMNS}, d.decided_at AS held_since"  # noqa: S608 - constant
        " FROM review_decisions d JOIN reviews r ON r.review_id = d.review_id"
        " WHERE d.reason_code = ? AND d.id = (SELECT max(id) FROM review_decisions"
        " WHERE review_id = d.review_id)"
        " AND (? IS NULL OR d.review_id IN (SELECT value FROM json_each(?)))"
        " AND (? IS NULL OR r.created_at >= ?)"
        " ORDER BY r.created_at, r.review_id"
    )
    wanted = None if review_ids is None else json.dumps(review_ids)
    rows = connection.execute(
        sql, (HELD_REASON, wanted, wanted, created_since, created_since)
    ).fetchall()
    return [HeldReview(_review_from_row(row), row["held_since"]) for row in rows]


def review_customer(connection: sqlite3.Connection, review_id: str) -> tuple[int, str] | None:
    """(id, email) of the customer the review belongs to: the one its award went to, if any.

    An award's entry names the customer who got the points, whatever the inbox row says later.
    """
    row = connection.execute(
        "SELECT c.id, c.email FROM review_decisions d JOIN point_entries e ON e.id = d.entry_id"
        " JOIN customers c ON c.id = e.customer_id WHERE d.review_id = ? AND d.outcome = 'award'"
        " ORDER BY d.id LIMIT 1",
        (review_id,),
    ).fetchone()
    if row is None:
        row = connection.execute(
            "SELECT c.id, c.email FROM reviews r JOIN customers c ON c.id = r.customer_id"
            " WHERE r.review_id = ?",
            (review_id,),
        ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def get_review(connection: sqlite3.Connection, review_id: str) -> InboxReview | None:
    row = connection.execute(
        f"SELECT {_INBOX_COLUMNS} FROM reviews WHERE review_id = ?",  # noqa: S608 - constant
        (review_id,),
    ).fetchone()
    return None if row is None else _review_from_row(row)


def iter_reviews(
    connection: sqlite3.Connection,
    *,
    status: str | None = None,
    outcome: str | None = None,
    limit: int = 50,
) -> Iterator[tuple[InboxReview, StoredDecision | None]]:
    """Newest first, each with its latest decision."""
    sql = (
        f"SELECT {_PREFIXED_COLUMNS}, d.id AS d_id FROM reviews r"  # noqa: S608 - constant
        " LEFT JOIN review_decisions d ON d.id = (SELECT max(id) FROM review_decisions"
        " WHERE review_id = r.review_id) WHERE (? IS NULL OR r.status = ?)"
        " AND (? IS NULL OR d.outcome = ?) ORDER BY r.created_at DESC, r.review_id LIMIT ?"
    )
    rows = connection.execute(sql, (status, status, outcome, outcome, limit)).fetchall()
    for row in rows:
        decision = None if row["d_id"] is None else _decision_by_id(connection, row["d_id"])
        yield _review_from_row(row), decision


def decision_row(
    review_id: str,
    program: str,
    outcome: str,
    reason_code: str | None,
    points: int,
    rule_values: Mapping[str, Any],
    review_status: str,
    entry_id: int | None,
    decided_at: str,
) -> tuple[object, ...]:
    """The parameters of one decision insert (a `StoredDecision` without its id), for
    `record_decisions`."""
    return (
        review_id,
        program,
        outcome,
        reason_code,
        points,
        # Most decisions (every award) have no rule values: skip the encoder for those.
        _VALUES_ENCODER.encode(rule_values) if rule_values else "{}",
        review_status,
        entry_id,
        decided_at,
    )


def record_decisions(connection: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    insert_rows(connection, _INSERT_DECISIONS, rows)


def latest_outcomes(
    connection: sqlite3.Connection, review_ids: list[str]
) -> dict[str, tuple[str, str | None, str]]:
    """(outcome, reason_code, review_status) of each review's latest decision, in one read."""
    rows = connection.execute(
        "SELECT review_id, max(id), outcome, reason_code, review_status FROM review_decisions"
        " WHERE review_id IN (SELECT value FROM json_each(?)) GROUP BY review_id",
        (json.dumps(review_ids),),
    )
    return {row[0]: (row[2], row[3], row[4]) for row in rows}


def latest_decision(connection: sqlite3.Connection, review_id: str) -> StoredDecision | None:
    row = connection.execute(
        "SELECT * FROM review_decisions WHERE review_id = ? ORDER BY id DESC LIMIT 1",
        (review_id,),
    ).fetchone()
    return None if row is None else _decision_from_row(row)


def decisions_for(connection: sqlite3.Connection, review_id: str) -> list[StoredDecision]:
    rows = connection.execute(
        "SELECT * FROM review_decisions WHERE review_id = ? ORDER BY id", (review_id,)
    )
    return [_decision_from_row(row) for row in rows]


def review_ids_by_email(connection: sqlite3.Connection, email: str) -> list[str]:
    """The inbox reviews stored under this exact email, oldest first."""
    rows = connection.execute(
        "SELECT review_id FROM reviews WHERE email = ? ORDER BY created_at", (email,)
    )
    return [review_id for (review_id,) in rows]


def known_review_ids(connection: sqlite3.Connection, review_ids: list[str]) -> set[str]:
    """Those of `review_ids` the inbox holds."""
    found: set[str] = set()
    for start in range(0, len(review_ids), _IDS_PER_STATEMENT):
        chunk = review_ids[start : start + _IDS_PER_STATEMENT]
        marks = ",".join("?" * len(chunk))
        rows = connection.execute(
            f"SELECT review_id FROM reviews WHERE review_id IN ({marks})",  # noqa: S608 - placeholders only
            chunk,
        )
        found.update(review_id for (review_id,) in rows)
    return found


def rejection_counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Reviews whose latest decision is a rejection, by reason code, most frequent first."""
    rows = connection.execute(
        "SELECT d.reason_code, count(*) FROM review_decisions d WHERE d.id IN"
        " (SELECT max(id) FROM review_decisions GROUP BY review_id) AND d.outcome = 'reject'"
        " GROUP BY d.reason_code ORDER BY 2 DESC"
    ).fetchall()
    return {row[0]: row[1] for row in rows}


def _decision_by_id(connection: sqlite3.Connection, decision_id: int) -> StoredDecision:
    row = connection.execute(
        "SELECT * FROM review_decisions WHERE id = ?", (decision_id,)
    ).fetchone()
    return _decision_from_row(row)


def _decision_from_row(row: sqlite3.Row) -> StoredDecision:
    return StoredDecision(
        id=row["id"],
        review_id=row["review_id"],
        program=row["program"],
        outcome=row["outcome"],
        reason_code=row["reason_code"],
        points=row["points"],
        rule_values=json.loads(row["rule_values"] or "{}"),
        review_status=row["review_status"],
        entry_id=row["entry_id"],
        decided_at=row["decided_at"],
    )


def _approval_from_row(row: sqlite3.Row) -> Approval:
    return Approval(
        review_id=row["review_id"],
        verdict=row["verdict"],
        decided_by=row["decided_by"],
        reason=row["reason"],
        decided_at=row["decided_at"],
    )


def _review_from_row(row: sqlite3.Row) -> InboxReview:
    return InboxReview(
        review_id=row["review_id"],
        email=row["email"],
        customer_id=row["customer_id"],
        product_id=row["product_id"],
        review_type=row["review_type"],
        status=row["status"],
        verified=bool(row["verified"]),
        rating=row["rating"],
        has_images=bool(row["has_images"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        origin=row["origin"],
        raw=json.loads(row["raw"] or "{}"),
        approved_at=row["approved_at"],
    )
