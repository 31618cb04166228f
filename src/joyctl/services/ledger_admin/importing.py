"""Loading a customer file into the ledger in batches, the records it cannot use quarantined.

Every batch of records is one transaction (`joyctl.ledger.bulk.load_batch`). A record that
cannot be read or parsed, or that the ledger refuses, goes to the quarantine file, in input
order, once its batch is committed; the rest of the batch is kept.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from joyctl.errors import DataError
from joyctl.files.formats import FileFormat
from joyctl.files.quarantine import QuarantineLog
from joyctl.files.reader import Record
from joyctl.ledger.bulk import BatchResult, CustomerRow, LoadCounts, load_batch
from joyctl.ledger.points import current_balance
from joyctl.ledger.triggers import customer_with_id
from joyctl.services.ledger_admin.customer_file import customer_row, record_values
from joyctl.services.triggers.catalogue import enabled_metrics
from joyctl.services.triggers.feed import TIER_TRIGGER, queue_tier_change

MISMATCH_LINES_KEPT = 20


@dataclass
class ImportTally(LoadCounts):
    records: int = 0
    opening_mismatches: int = 0
    mismatch_lines: list[int] = field(default_factory=list)
    """Lines whose points differ from the opening balance recorded earlier (the first few)."""
    batches: int = 0

    def add(self, records: int, result: BatchResult) -> None:
        self.add_counts(result)
        self.records += records
        self.opening_mismatches += len(result.mismatch_lines)
        room = MISMATCH_LINES_KEPT - len(self.mismatch_lines)
        self.mismatch_lines += result.mismatch_lines[: max(room, 0)]
        self.batches += 1


@dataclass(frozen=True, slots=True)
class _Bad:
    line: int
    reason: str
    values: Any


def load_customer_file(
    connection: sqlite3.Connection,
    records: Iterator[Record],
    file_format: FileFormat,
    quarantine: QuarantineLog,
    *,
    source: str,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> ImportTally:
    """Load every record; `on_batch` hears the running record count after each commit."""
    tally = ImportTally()
    tier_watch = tier_trigger_watch(connection)
    for batch in _batches(records, batch_size):
        rows, bad, values_at = _parse(batch, file_format)
        result = load_batch(connection, rows, source=source, on_tier_change=tier_watch)
        bad += [_Bad(no.line, no.reason, values_at[no.line]) for no in result.refused]
        for entry in sorted(bad, key=lambda entry: entry.line):
            quarantine.add(entry.line, entry.reason, entry.values)
        quarantine.flush()
        tally.add(len(batch), result)
        if on_batch is not None:
            on_batch(tally.records)
    return tally


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    while batch := list(itertools.islice(records, size)):
        yield batch


def _parse(
    batch: list[Record], file_format: FileFormat
) -> tuple[list[CustomerRow], list[_Bad], dict[int, Any]]:
    """The rows to load, the records already bad, and every record's values by line."""
    rows: list[CustomerRow] = []
    bad: list[_Bad] = []
    values_at: dict[int, Any] = {}
    for record in batch:
        values = values_at[record.line] = record_values(record, file_format)
        if record.problem is not None:
            bad.append(_Bad(record.line, record.problem, values))
            continue
        try:
            rows.append(customer_row(record.line, values))
        except DataError as exc:
            bad.append(_Bad(record.line, exc.message, values))
    return rows, bad, values_at


def tier_trigger_watch(
    connection: sqlite3.Connection,
) -> Callable[[sqlite3.Connection, int, str | None], None] | None:
    """What queues `Joy: Tier Achieved` for a tier the import changes (None when disabled:
    the import then skips the extra look-up per row)."""
    if TIER_TRIGGER not in enabled_metrics(connection):
        return None
    stamp = datetime.now(UTC).isoformat()

    def queue(connection: sqlite3.Connection, customer_id: int, before: str | None) -> None:
        customer = customer_with_id(connection, customer_id)
        if customer is not None:
            balance = current_balance(connection, customer_id)
            queue_tier_change(connection, customer, before, balance, stamp)

    return queue
