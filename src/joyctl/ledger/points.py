"""Point entries: the append-only log every balance is derived from.

`append_entry` is the one way points move. It runs inside the caller's transaction
(`ledger.db.transaction`, BEGIN IMMEDIATE), so reading the latest balance and appending the next
entry cannot interleave with another process. Each entry carries the balance after it, which
makes a balance one indexed read and lets `ledger verify` check the chain against SUM(delta).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from joyctl.errors import DataError
from joyctl.files.limits import MAX_POINTS


class EntryKind(StrEnum):
    OPENING = "opening"  # an imported opening balance
    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    ADJUST = "adjust"  # signed, with a reason
    REVOKE = "revoke"  # takes back an earn; points at it with reverses_id


_NEGATIVE_KINDS = frozenset({EntryKind.REDEEM, EntryKind.EXPIRE, EntryKind.REVOKE})


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append. For a revoke, `delta` is what should be taken back (negative)."""

    customer_id: int
    kind: EntryKind
    delta: int
    idempotency_key: str
    program: str | None = None
    source_kind: str | None = None
    source_id: str | None = None
    reverses_id: int | None = None
    reason: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PointEntry:
    id: int
    customer_id: int
    kind: str
    delta: int
    balance_after: int
    program: str | None
    source_kind: str | None
    source_id: str | None
    idempotency_key: str
    reverses_id: int | None
    reason: str | None
    meta: dict[str, Any]
    created_at: str


@dataclass(frozen=True, slots=True)
class Appended:
    """The stored entry; `created` is False when the idempotency key was already recorded."""

    entry: PointEntry
    created: bool


class InsufficientPointsError(DataError):
    """The entry would take a balance below zero."""

    code = "insufficient_points"

    def __init__(self, balance: int, delta: int, *, owner: str = "the customer") -> None:
        super().__init__(
            f"{owner} has {balance} points; {delta:+d} would leave {balance + delta}",
            hint=f"a balance never goes below zero: take at most {balance} points",
        )
        self.balance = balance
        self.delta = delta


ENTRY_COLUMNS = ", ".join(item.name for item in fields(PointEntry))


def append_entry(connection: sqlite3.Connection, new: NewEntry) -> Appended:
    """Append `new` unless its idempotency key is already recorded (then return that entry).

    A balance never goes below zero: any kind but a revoke is refused with
    InsufficientPointsError; a revoke is clamped at zero and records the part it could not take
    back as `shortfall` in `meta`. Must run inside `transaction(connection)`.
    """
    if not connection.in_transaction:
        raise RuntimeError("append_entry must run inside ledger.db.transaction()")
    # One statement for both look-ups: imports call this for every record.
    existing_id, balance = connection.execute(
        "SELECT (SELECT id FROM point_entries WHERE idempotency_key = ?), coalesce((SELECT"
        " balance_after FROM point_entries WHERE customer_id = ? ORDER BY id DESC LIMIT 1), 0)",
        (new.idempotency_key, new.customer_id),
    ).fetchone()
    if existing_id is not None:
        existing = entry_from_row(
            connection.execute(
                f"SELECT {ENTRY_COLUMNS} FROM point_entries WHERE id = ?",  # noqa: S608 - constant columns
                (existing_id,),
            ).fetchone()
        )
        _check_same_intent(existing, new)
        return Appended(existing, created=False)
    _check_sign(new)
    delta, meta = new.delta, dict(new.meta)
    if new.kind is EntryKind.REVOKE:
        _check_revoke_target(connection, new)
        if balance + delta < 0:
            meta.update(requested=delta, shortfall=-(balance + delta))
            delta = -balance
    elif balance + delta < 0:
        raise InsufficientPointsError(balance, delta, owner=f"customer {new.customer_id}")
    elif balance + delta > MAX_POINTS:
        raise DataError(
            f"customer {new.customer_id} has {balance:,} points; {delta:+,} would pass the"
            f" {MAX_POINTS:,} a balance may hold"
        )
    return Appended(_insert(connection, new, delta, balance + delta, meta), created=True)


def _insert(
    connection: sqlite3.Connection,
    new: NewEntry,
    delta: int,
    balance_after: int,
    meta: dict[str, Any],
) -> PointEntry:
    created_at = (new.created_at or datetime.now(UTC)).astimezone(UTC).isoformat()
    cursor = connection.execute(
        "INSERT INTO point_entries (customer_id, kind, delta, balance_after, program,"
        " source_kind, source_id, idempotency_key, reverses_id, reason, meta, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new.customer_id,
            new.kind.value,
            delta,
            balance_after,
            new.program,
            new.source_kind,
            new.source_id,
            new.idempotency_key,
            new.reverses_id,
            new.reason,
            json.dumps(meta, sort_keys=True, separators=(",", ":")) if meta else None,
            created_at,
        ),
    )
    return PointEntry(
        # lastrowid is always set after an INSERT into a rowid table; it saves a RETURNING.
        id=int(cursor.lastrowid or 0),
        customer_id=new.customer_id,
        kind=new.kind.value,
        delta=delta,
        balance_after=balance_after,
        program=new.program,
        source_kind=new.source_kind,
        source_id=new.source_id,
        idempotency_key=new.idempotency_key,
        reverses_id=new.reverses_id,
        reason=new.reason,
        meta=meta,
        created_at=created_at,
    )


def _check_same_intent(existing: PointEntry, new: NewEntry) -> None:
    """A reused key must describe the same movement, or a retry could hide a different one."""
    if existing.customer_id != new.customer_id or existing.kind != new.kind.value:
        raise DataError(
            f"idempotency key {new.idempotency_key!r} is already used by entry {existing.id}"
            f" ({existing.kind} for customer {existing.customer_id})",
            hint="use a new key for a different change",
        )


def _check_sign(new: NewEntry) -> None:
    if not new.idempotency_key.strip():
        raise DataError("an entry needs an idempotency key")
    wrong = (
        (new.kind in _NEGATIVE_KINDS and new.delta >= 0)
        or (new.kind is EntryKind.EARN and new.delta <= 0)
        or (new.kind is EntryKind.OPENING and new.delta < 0)
        or (new.kind is EntryKind.ADJUST and new.delta == 0)
    )
    if wrong:
        raise DataError(f"a {new.kind.value} entry cannot move {new.delta:+d} points")
    if abs(new.delta) > MAX_POINTS:
        # Far beyond any program, and far below what SQLite's 64-bit integers can sum.
        raise DataError(f"an entry moves at most {MAX_POINTS:,} points, not {new.delta:+,}")
    if (new.kind is EntryKind.REVOKE) != (new.reverses_id is not None):
        raise DataError("a revoke, and only a revoke, names the entry it reverses")


def _check_revoke_target(connection: sqlite3.Connection, new: NewEntry) -> None:
    target = get_entry(connection, new.reverses_id or 0)
    if target is None or target.kind != EntryKind.EARN or target.customer_id != new.customer_id:
        raise DataError(
            f"entry {new.reverses_id} is not an earn entry of customer {new.customer_id}",
            hint="a revoke takes back an earn of the same customer",
        )
    reversal = connection.execute(
        "SELECT id FROM point_entries WHERE reverses_id = ?", (target.id,)
    ).fetchone()
    if reversal is not None:
        raise DataError(
            f"entry {target.id} was already reversed by entry {reversal[0]}",
            hint="an earn is reversed at most once",
        )


def current_balance(connection: sqlite3.Connection, customer_id: int) -> int:
    """The balance after the customer's latest entry (0 before the first)."""
    row = connection.execute(
        "SELECT balance_after FROM point_entries WHERE customer_id = ? ORDER BY id DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    return 0 if row is None else int(row[0])


def find_entry_by_key(connection: sqlite3.Connection, idempotency_key: str) -> PointEntry | None:
    row = connection.execute(
        f"SELECT {ENTRY_COLUMNS} FROM point_entries WHERE idempotency_key = ?",  # noqa: S608 - constant columns
        (idempotency_key,),
    ).fetchone()
    return None if row is None else entry_from_row(row)


def get_entry(connection: sqlite3.Connection, entry_id: int) -> PointEntry | None:
    row = connection.execute(
        f"SELECT {ENTRY_COLUMNS} FROM point_entries WHERE id = ?",  # noqa: S608 - constant columns
        (entry_id,),
    ).fetchone()
    return None if row is None else entry_from_row(row)


def entry_history(
    connection: sqlite3.Connection,
    customer_id: int,
    *,
    limit: int = 50,
    before_id: int | None = None,
) -> list[PointEntry]:
    """The customer's entries, newest first; pass the last id seen as `before_id` for more."""
    rows = connection.execute(
        f"SELECT {ENTRY_COLUMNS} FROM point_entries"  # noqa: S608 - constant columns
        " WHERE customer_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        (customer_id, before_id if before_id is not None else 2**63 - 1, limit),
    )
    return [entry_from_row(row) for row in rows]


def last_entry_id(connection: sqlite3.Connection) -> int:
    """The id of the newest entry in the ledger (0 before the first)."""
    row = connection.execute("SELECT max(id) FROM point_entries").fetchone()
    return int(row[0] or 0)


def entries_after(connection: sqlite3.Connection, entry_id: int) -> Iterator[sqlite3.Row]:
    """Entries newer than `entry_id`, oldest first, each with the meta of the entry it reverses.

    Raw rows, not `PointEntry`s: the reward pipeline catches up on thousands at a time and
    reads only id, customer_id, kind, delta, balance_after, program, source_kind, meta and
    `target_meta` (NULL for an entry that reverses none).
    """
    return connection.execute(
        "SELECT e.id, e.customer_id, e.kind, e.delta, e.balance_after, e.program,"
        " e.source_kind, e.meta, t.meta AS target_meta FROM point_entries e"
        " LEFT JOIN point_entries t ON t.id = e.reverses_id WHERE e.id > ? ORDER BY e.id",
        (entry_id,),
    )


def entry_from_row(row: sqlite3.Row) -> PointEntry:
    return PointEntry(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=row["kind"],
        delta=row["delta"],
        balance_after=row["balance_after"],
        program=row["program"],
        source_kind=row["source_kind"],
        source_id=row["source_id"],
        idempotency_key=row["idempotency_key"],
        reverses_id=row["reverses_id"],
        reason=row["reason"],
        meta=json.loads(row["meta"]) if row["meta"] else {},
        created_at=row["created_at"],
    )
