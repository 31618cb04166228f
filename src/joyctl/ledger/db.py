"""Opening a ledger (pragmas, then every pending migration), transactions, and copies.

`transaction` is the only place the ledger's transactions begin, commit or roll back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from joyctl.errors import DataError

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode: joyctl opens every transaction explicitly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        # WAL makes NORMAL durable across application crashes; only an OS crash can lose
        # the last transactions, never corrupt the file.
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise DataError(
            f"{path} is not a joyctl ledger: {exc}",
            hint="restore it from a `joyctl ledger backup`, or move it away to start anew",
        ) from exc
    return connection


def open_ledger(path: Path) -> sqlite3.Connection:
    from joyctl.ledger.migrations import migrate

    connection = connect(path)
    try:
        migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def copy_into(connection: sqlite3.Connection, target: Path) -> None:
    """VACUUM INTO writes a consistent, compact copy while other processes keep writing."""
    connection.execute("VACUUM INTO ?", (str(target),))


@contextmanager
def transaction(
    connection: sqlite3.Connection, *, immediate: bool = True, rollback: bool = False
) -> Iterator[None]:
    """Run the block in one transaction: committed if it ends normally, rolled back if it raises.

    IMMEDIATE takes the write lock up front so two processes serialize. Any exception, a
    KeyboardInterrupt included, rolls back and propagates. With `rollback` the block runs in
    full and is then rolled back all the same: a dry run writes and reads back exactly what a
    real run would, and keeps none of it. Nesting is refused by SQLite itself ("cannot start a
    transaction within a transaction"), which leaves the outer transaction to roll back.
    """
    outer = connection.in_transaction
    # BEGIN and COMMIT sit inside the `try`: a KeyboardInterrupt (Ctrl-C, or SIGTERM in a
    # backfill) often lands the moment BEGIN returns, and a transaction left open there would
    # take in every later write on the connection, to be lost when it closes.
    try:
        connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        yield
        connection.execute("ROLLBACK" if rollback else "COMMIT")
    except BaseException:
        if connection.in_transaction and not outer:
            connection.execute("ROLLBACK")
        raise


def roll_back_cut_off(connection: sqlite3.Connection) -> None:
    """Roll back a transaction an interrupt cut off, so what is written next is kept.

    A KeyboardInterrupt can land as a `transaction` block ends, before its context manager
    resumes to commit; the transaction then stays open until that context manager is collected.
    """
    if connection.in_transaction:
        connection.execute("ROLLBACK")
