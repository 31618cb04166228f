"""Row counts and the newest rows of named tables, for the diagnose bundle.

Table names are the caller's constants, never input: SQLite cannot bind a table name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any


def table_counts(connection: sqlite3.Connection, tables: Iterable[str]) -> dict[str, int]:
    """Rows in each of `tables`, in the order given; a table this ledger lacks is left out."""
    existing = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    counts = {}
    for table in tables:
        if table in existing:
            counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
    return counts


def newest_rows(connection: sqlite3.Connection, table: str, limit: int) -> list[dict[str, Any]]:
    """The table's last `limit` rows, newest first; none when this ledger lacks the table."""
    try:
        rows = connection.execute(
            f"SELECT * FROM {table} ORDER BY rowid DESC LIMIT ?",  # noqa: S608 - fixed names
            (limit,),
        )
    except sqlite3.OperationalError:
        return []  # the table does not exist in this ledger's schema yet
    return [dict(row) for row in rows]
