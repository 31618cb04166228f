"""Bulk loading of customers and opening balances, one transaction per batch of rows.

Each row is upserted and its opening balance appended under a key derived from the customer, so
loading the same rows again records nothing twice. A row the ledger refuses (a bad or clashing
value) is reported with its reason and the rest of its batch is kept; what becomes of it (the
quarantine file of `ledger import`) is the caller's business.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from joyctl.errors import DataError
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import transaction
from joyctl.ledger.points import Appended, EntryKind, NewEntry, append_entry
from joyctl.ledger.triggers import customer_tier

TierChange = Callable[[sqlite3.Connection, int, str | None], None]
"""Hears (connection, customer id, the tier before) inside the batch's transaction."""


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One customer to load, its opening balance, and the input line it came from."""

    line: int
    fields: CustomerFields
    points: int


@dataclass(frozen=True, slots=True)
class Refusal:
    line: int
    reason: str


@dataclass
class LoadCounts:
    customers_created: int = 0
    customers_updated: int = 0
    openings_recorded: int = 0
    opening_points: int = 0
    openings_already_recorded: int = 0

    def add_counts(self, other: LoadCounts) -> None:
        for counter in fields(LoadCounts):
            name = counter.name
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class BatchResult(LoadCounts):
    mismatch_lines: list[int] = field(default_factory=list)
    """Lines whose points differ from the opening balance recorded earlier."""
    refused: list[Refusal] = field(default_factory=list)
    """Rows not loaded, in input order."""


def opening_key(customer_id: int) -> str:
    """The idempotency key of a customer's opening balance: there is at most one."""
    return f"opening:customer:{customer_id}"


def load_batch(
    connection: sqlite3.Connection,
    rows: Iterable[CustomerRow],
    *,
    source: str,
    on_tier_change: TierChange | None = None,
) -> BatchResult:
    """Load the rows in one transaction; the ones refused are reported, the rest committed.

    `on_tier_change` hears every existing customer whose tier a row changes.
    """
    result = BatchResult()
    now = datetime.now(UTC)  # one timestamp per batch: the batch commits as one
    with transaction(connection):
        for row in rows:
            try:
                # Customer and opening balance are all or nothing; a lone upsert is one statement.
                with _savepoint(connection) if row.points else contextlib.nullcontext():
                    watch = on_tier_change is not None and bool(row.fields.tier)
                    before = customer_tier(connection, row.fields.email) if watch else None
                    upserted = upsert_customer(connection, row.fields, now=now)
                    opening = _record_opening(connection, upserted.customer_id, row, source, now)
                if watch and on_tier_change is not None and not upserted.created:
                    on_tier_change(connection, upserted.customer_id, before)
            except DataError as exc:
                result.refused.append(Refusal(row.line, exc.message))
                continue
            _count(result, row, upserted.created, opening)
    return result


def _record_opening(
    connection: sqlite3.Connection, customer_id: int, row: CustomerRow, source: str, now: datetime
) -> Appended | None:
    if row.points == 0:
        return None
    entry = NewEntry(
        customer_id,
        EntryKind.OPENING,
        row.points,
        opening_key(customer_id),
        reason="opening balance",
        source_kind="import",
        source_id=source,
        created_at=now,
    )
    return append_entry(connection, entry)


def _count(result: BatchResult, row: CustomerRow, created: bool, opening: Appended | None) -> None:
    if created:
        result.customers_created += 1
    else:
        result.customers_updated += 1
    if opening is None:
        return
    if opening.created:
        result.openings_recorded += 1
        result.opening_points += row.points
    elif opening.entry.delta == row.points:
        result.openings_already_recorded += 1
    else:
        result.mismatch_lines.append(row.line)


@contextlib.contextmanager
def _savepoint(connection: sqlite3.Connection) -> Iterator[None]:
    """One row is all or nothing without giving up the batch's transaction."""
    connection.execute("SAVEPOINT load_record")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK TO load_record")
        connection.execute("RELEASE load_record")
        raise
    connection.execute("RELEASE load_record")
