"""Bulk loading of customers and opening balances, one transaction per batch of records.

Each record is upserted and its opening balance appended under a key derived from the
customer, so loading the same records again records nothing twice. A record that fails goes
to the quarantine and the rest of its batch is kept.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from joyctl.errors import DataError
from joyctl.ledger.customers import upsert_customer
from joyctl.ledger.db import transaction
from joyctl.ledger.interchange import Record, parse_row
from joyctl.ledger.points import Appended, EntryKind, NewEntry, append_entry
from joyctl.quarantine import QuarantineLog

MISMATCH_LINES_KEPT = 20


@dataclass
class LoadTally:
    records: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    openings_recorded: int = 0
    opening_points: int = 0
    openings_already_recorded: int = 0
    opening_mismatches: int = 0
    mismatch_lines: list[int] = field(default_factory=list)
    """Lines whose points differ from the opening balance recorded earlier (the first few)."""
    batches: int = 0


@dataclass(frozen=True, slots=True)
class _Context:
    tally: LoadTally
    bad: QuarantineLog
    source: str
    now: datetime


def opening_key(customer_id: int) -> str:
    """The idempotency key of a customer's opening balance: there is at most one."""
    return f"opening:customer:{customer_id}"


def load_records(
    connection: sqlite3.Connection,
    records: Iterator[Record],
    bad: QuarantineLog,
    *,
    source: str,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> LoadTally:
    """Load every record; `on_batch` hears the running record count after each commit."""
    tally = LoadTally()
    for batch in _batches(records, batch_size):
        now = datetime.now(UTC)  # one timestamp per batch: the batch commits as one
        with transaction(connection):
            for record in batch:
                _load_record(connection, record, _Context(tally, bad, source, now))
        bad.flush()
        tally.batches += 1
        if on_batch is not None:
            on_batch(tally.records)
    return tally


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while batch := list(itertools.islice(records, size)):
        yield batch


def _load_record(connection: sqlite3.Connection, record: Record, context: _Context) -> None:
    context.tally.records += 1
    if record.problem is not None:
        context.bad.add(record.line, record.problem, record.values)
        return
    try:
        row = parse_row(record.values)
        # Customer and opening balance are all or nothing; a lone upsert is one statement.
        with _savepoint(connection) if row.points else contextlib.nullcontext():
            upserted = upsert_customer(connection, row.fields, now=context.now)
            opening = _record_opening(connection, upserted.customer_id, row.points, context)
    except DataError as exc:
        context.bad.add(record.line, exc.message, record.values)
        return
    _count(context.tally, record, row.points, upserted.created, opening)


def _record_opening(
    connection: sqlite3.Connection, customer_id: int, points: int, context: _Context
) -> Appended | None:
    if points == 0:
        return None
    entry = NewEntry(
        customer_id,
        EntryKind.OPENING,
        points,
        opening_key(customer_id),
        reason="opening balance",
        source_kind="import",
        source_id=context.source,
        created_at=context.now,
    )
    return append_entry(connection, entry)


def _count(
    tally: LoadTally, record: Record, points: int, created: bool, opening: Appended | None
) -> None:
    if created:
        tally.customers_created += 1
    else:
        tally.customers_updated += 1
    if opening is None:
        return
    if opening.created:
        tally.openings_recorded += 1
        tally.opening_points += points
    elif opening.entry.delta == points:
        tally.openings_already_recorded += 1
    else:
        tally.opening_mismatches += 1
        if len(tally.mismatch_lines) < MISMATCH_LINES_KEPT:
            tally.mismatch_lines.append(record.line)


@contextlib.contextmanager
def _savepoint(connection: sqlite3.Connection) -> Iterator[None]:
    """One record is all or nothing without giving up the batch's transaction."""
    connection.execute("SAVEPOINT load_record")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK TO load_record")
        connection.execute("RELEASE load_record")
        raise
    connection.execute("RELEASE load_record")
