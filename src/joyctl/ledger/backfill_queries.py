"""Reads for backfills: point entries with their customer, customers with their balance.

Everything is read in pages keyed by id, never through one long-lived cursor: a backfill
writes a checkpoint after every request, and in SQLite's autocommit mode a statement still
being read would hold those writes back until it finished.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

from joyctl.ledger.customers import CUSTOMER_COLUMNS, Customer, customer_from_row
from joyctl.ledger.points import ENTRY_COLUMNS, PointEntry, entry_from_row

PAGE_SIZE = 2000
# SQLite allows 32,766 bound parameters per statement; stay far below it.
_PARAMETERS_PER_STATEMENT = 500


@dataclass(frozen=True, slots=True)
class EntryRow(PointEntry):
    """A point entry with its customer's identifiers, as an event for Klaviyo needs them."""

    email: str = ""
    external_id: str | None = None


def _entry_filter(
    kinds: Sequence[str], since: str | None, until: str | None
) -> tuple[str, list[Any]]:
    marks = ", ".join("?" for _ in kinds)
    sql = f" AND e.kind IN ({marks})"
    params: list[Any] = list(kinds)
    if since is not None:
        sql += " AND e.created_at >= ?"
        params.append(since)
    if until is not None:
        sql += " AND e.created_at <= ?"
        params.append(until)
    return sql, params


_ENTRY_FIELDS = ", ".join(f"e.{column.strip()}" for column in ENTRY_COLUMNS.split(","))
_ENTRIES_SQL = (
    f"SELECT {_ENTRY_FIELDS}, c.email, c.external_id"  # noqa: S608 - constant columns
    " FROM point_entries e JOIN customers c ON c.id = e.customer_id WHERE e.id > ?"
)


def iter_entries(
    connection: sqlite3.Connection,
    *,
    after_id: int,
    kinds: Sequence[str],
    since: str | None = None,
    until: str | None = None,
    page: int = PAGE_SIZE,
) -> Iterator[EntryRow]:
    """Entries of these kinds after `after_id`, in id order; times are ISO 8601 in UTC."""
    condition, params = _entry_filter(kinds, since, until)
    while True:
        rows = connection.execute(
            _ENTRIES_SQL + condition + " ORDER BY e.id LIMIT ?", (after_id, *params, page)
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield _entry_from_row(row)
        after_id = rows[-1]["id"]


def count_entries(
    connection: sqlite3.Connection,
    *,
    after_id: int,
    kinds: Sequence[str],
    since: str | None = None,
    until: str | None = None,
) -> int:
    condition, params = _entry_filter(kinds, since, until)
    row = connection.execute(
        f"SELECT count(*) FROM point_entries e WHERE e.id > ?{condition}",  # noqa: S608
        (after_id, *params),
    ).fetchone()
    return int(row[0])


def _entry_from_row(row: sqlite3.Row) -> EntryRow:
    entry = entry_from_row(row)
    values = {name.name: getattr(entry, name.name) for name in fields(PointEntry)}
    return EntryRow(**values, email=row["email"], external_id=row["external_id"])


def sent_unique_ids(connection: sqlite3.Connection, unique_ids: Sequence[str]) -> set[str]:
    """Which of these unique ids the outbox has sent already."""
    found: set[str] = set()
    for start in range(0, len(unique_ids), _PARAMETERS_PER_STATEMENT):
        part = unique_ids[start : start + _PARAMETERS_PER_STATEMENT]
        marks = ", ".join("?" for _ in part)
        rows = connection.execute(
            f"SELECT unique_id FROM outbox WHERE unique_id IN ({marks})"  # noqa: S608
            " AND sent_at IS NOT NULL",
            part,
        )
        found.update(row[0] for row in rows)
    return found


def mark_outbox_sent(connection: sqlite3.Connection, unique_ids: Sequence[str], now: str) -> None:
    """Outbox rows for events a backfill delivered need not be pushed again."""
    connection.executemany(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL"
        " WHERE unique_id = ? AND sent_at IS NULL",
        [(now, unique_id) for unique_id in unique_ids],
    )


def _customer_filter(since: str | None) -> tuple[str, list[Any]]:
    if since is None:
        return "", []
    changed = (
        " AND (c.updated_at >= ? OR EXISTS (SELECT 1 FROM point_entries p"
        " WHERE p.customer_id = c.id AND p.created_at >= ?))"
    )
    return changed, [since, since]


def iter_customers(
    connection: sqlite3.Connection,
    *,
    after_id: int,
    since: str | None = None,
    page: int = PAGE_SIZE,
) -> Iterator[tuple[Customer, int]]:
    """Customers after `after_id` in id order with their balance; with `since`, only those
    whose fields or points changed since then."""
    condition, params = _customer_filter(since)
    columns = ", ".join(f"c.{name.strip()}" for name in CUSTOMER_COLUMNS.split(","))
    while True:
        rows = connection.execute(
            f"SELECT {columns}, coalesce((SELECT p.balance_after FROM point_entries p"  # noqa: S608
            " WHERE p.customer_id = c.id ORDER BY p.id DESC LIMIT 1), 0) AS balance"
            f" FROM customers c WHERE c.id > ?{condition} ORDER BY c.id LIMIT ?",
            (after_id, *params, page),
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield customer_from_row(row), int(row["balance"])
        after_id = rows[-1]["id"]


def count_customers(connection: sqlite3.Connection, *, after_id: int, since: str | None) -> int:
    condition, params = _customer_filter(since)
    row = connection.execute(
        f"SELECT count(*) FROM customers c WHERE c.id > ?{condition}",  # noqa: S608
        (after_id, *params),
    ).fetchone()
    return int(row[0])
