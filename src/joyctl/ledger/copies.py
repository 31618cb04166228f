"""Whole-file operations on a ledger through SQLite: copying one, and folding its log back in.

`ledger restore` copies a backup beside the ledger and installs it by rename; these are the
SQLite statements it needs, kept in the ledger layer with the rest of joyctl's SQL.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from joyctl.ledger.db import connect_read_only
from joyctl.ledger.migrations import schema_version


def copy_database(source: Path, target: Path) -> None:
    """Copy `source` (its own log included) into a new single file at `target`, with no log."""
    with (
        contextlib.closing(connect_read_only(source)) as reading,
        contextlib.closing(sqlite3.connect(target, isolation_level=None)) as writing,
    ):
        reading.backup(writing)
        # One file, no log beside it: what is renamed into place is all there is.
        writing.execute("PRAGMA journal_mode = DELETE")


def contents(path: Path) -> tuple[int, int, int]:
    """Customers, point entries and schema version of a ledger file joyctl owns."""
    with contextlib.closing(connect_read_only(path, own=True)) as connection:
        customers = connection.execute("SELECT count(*) FROM customers").fetchone()[0]
        entries = connection.execute("SELECT count(*) FROM point_entries").fetchone()[0]
        return int(customers), int(entries), schema_version(connection)


def quick_check(connection: sqlite3.Connection, limit: int = 5) -> list[str]:
    """SQLite's quick check: the first `limit` problems, or [] for a sound file."""
    rows = connection.execute(f"PRAGMA quick_check({int(limit)})")
    return [str(row[0]) for row in rows if row[0] != "ok"]


def leave_wal_mode(path: Path, timeout_seconds: float) -> str:
    """Fold the write-ahead log into the file; the journal mode after, or "wal" if in use.

    Leaving WAL mode needs the only connection to the file, so this also proves that no other
    process has the ledger open.
    """
    connection = sqlite3.connect(path, isolation_level=None, timeout=timeout_seconds)
    try:
        return str(connection.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower()
    except sqlite3.OperationalError:
        return "wal"
    finally:
        connection.close()


def database_file(connection: sqlite3.Connection) -> str:
    """The path of the connection's main database file ("" for an in-memory one)."""
    main = connection.execute("PRAGMA database_list").fetchone()
    return str(main[2]) if main is not None else ""
