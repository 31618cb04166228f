"""Opening a ledger (checks, pragmas, pending migrations), creating one whole, transactions, copies.

`transaction` is the only place the ledger's transactions begin, commit or roll back.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from joyctl.command_line import command
from joyctl.errors import JoyctlError
from joyctl.ledger.health import (
    UNREADABLE,
    DamagedLedgerError,
    describe,
    is_damage_on_open,
    recovery_hint,
    structure_problems,
)
from joyctl.paths import PRIVATE_FILE_MODE, make_private_folder, restrict_to_owner

BUSY_TIMEOUT_MS = 10_000
EMPTY_FILE = "the file is empty (0 bytes)"
SIDE_FILES = ("-wal", "-shm", "-journal")


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode: joyctl opens every transaction explicitly."""
    make_private_folder(path.parent)  # missing levels 0700; existing folders are the caller's
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        # WAL makes NORMAL durable across application crashes; only an OS crash can lose
        # the last transactions, never corrupt the file.
        connection.execute("PRAGMA synchronous = NORMAL")
    except UNREADABLE as exc:
        connection.close()
        if is_damage_on_open(exc):
            raise DamagedLedgerError(path, [describe(exc)]) from exc
        raise
    return connection


def connect_read_only(path: Path, *, own: bool = False) -> sqlite3.Connection:
    """A connection that changes no row, to look at a ledger or a backup as it is.

    Someone else's file (`own` false) is opened read-only and never written; SQLite may leave
    empty -wal and -shm files beside a copy in WAL mode. joyctl's own ledger is opened for
    queries only, so that closing it folds the log back into the file and removes it, as every
    other joyctl command does. Neither ever creates the file.
    """
    mode = "rw" if own else "ro"
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode={mode}", uri=True, isolation_level=None
    )
    connection.row_factory = sqlite3.Row
    # What this connection reads goes into reports: a damaged text never stops the report.
    connection.text_factory = lambda data: data.decode("utf-8", "replace")
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA query_only = ON")
    return connection


def open_ledger(path: Path) -> sqlite3.Connection:
    """The ledger at `path`, checked and migrated; created (complete, or not at all) if missing.

    A file that is empty, not SQLite, damaged or altered raises DamagedLedgerError naming it:
    never re-created, never migrated on top of what is wrong.
    """
    from joyctl.ledger.migrations import migrate

    if not path.exists():
        create_ledger(path)
    try:
        # Never open the file outside SQLite here: closing any other descriptor of a database
        # drops the POSIX locks SQLite holds on it in this process (a listener's connections,
        # say), so its header is left to SQLite ("file is not a database", below).
        problem = EMPTY_FILE if path.stat().st_size == 0 else None
    except OSError as exc:
        raise JoyctlError(
            f"cannot read the ledger {path}: {exc.strerror or exc}",
            code="io",
            hint="check the owner and permissions of the file and its folder",
        ) from None
    if problem is not None:
        raise DamagedLedgerError(path, [problem], hint=_hint_for(problem))
    restrict_ledger_files(path)
    connection = connect(path)
    try:
        problems = structure_problems(connection)
        if problems:
            raise DamagedLedgerError(path, problems)
        migrate(connection)
    except BaseException as exc:
        connection.close()
        if is_damage_on_open(exc):
            raise DamagedLedgerError(path, [describe(exc)]) from exc
        raise
    return connection


def create_ledger(path: Path) -> None:
    """A new, migrated ledger appears at `path` in one step, so a crash leaves no empty file.

    It is built under a temporary name (mode 0600) and linked into place only if no other
    process has created the ledger meanwhile.
    """
    from joyctl.ledger.migrations import migrate

    make_private_folder(path.parent)  # missing levels 0700; existing folders are the caller's
    stale = side_file(path, "-wal")
    if stale.exists() and stale.stat().st_size > 0:
        # Replayed onto a new file, another database's log would corrupt it.
        raise DamagedLedgerError(
            path,
            [f"the file is missing but its write-ahead log {stale.name} is still there"],
            hint=f"put the ledger file back beside {stale.name}, or move {stale.name} away to"
            f" start a new ledger, or `{command('ledger', 'restore', 'FILE')}`",
        )
    with staged_beside(path, ".new") as staged:
        connection = sqlite3.connect(staged, isolation_level=None)
        try:
            migrate(connection)
        finally:
            connection.close()
        _link_into_place(staged, path)


@contextmanager
def staged_beside(path: Path, suffix: str) -> Iterator[Path]:
    """An empty file (mode 0600) beside `path` to build a database in, then rename into place.

    Removed afterwards, with any log SQLite left beside it, unless it was renamed away.
    SQLite gives a database's -wal and -shm files the database file's own mode.
    """
    make_private_folder(path.parent)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(descriptor)
    staged = Path(name)
    try:
        yield staged
    finally:
        for leftover in (staged, *(side_file(staged, end) for end in SIDE_FILES)):
            leftover.unlink(missing_ok=True)


def side_file(path: Path, suffix: str) -> Path:
    """SQLite's -wal, -shm or -journal file of the database at `path`."""
    return path.with_name(path.name + suffix)


def restrict_ledger_files(path: Path) -> None:
    """Make the ledger and its side files 0600 where an older joyctl left them readable."""
    for candidate in (path, *(side_file(path, suffix) for suffix in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            restrict_to_owner(candidate, PRIVATE_FILE_MODE)


def _link_into_place(staged: Path, path: Path) -> None:
    try:
        os.link(staged, path)  # fails if the path exists: a ledger is never replaced here
    except FileExistsError:
        pass  # another process created it first; use theirs
    except OSError:
        # A file system without hard links: a rename, which could replace a ledger another
        # process created this very moment; so only when there is still none.
        if not path.exists():
            os.replace(staged, path)


def _hint_for(problem: str) -> str:
    if problem.startswith("the file is empty"):
        return (
            f"put a good copy back with `{command('ledger', 'restore', 'FILE')}`, or delete the"
            " empty file to start a new, empty ledger"
        )
    return recovery_hint()


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
        if not rollback:
            connection.execute("COMMIT")
        elif connection.in_transaction:  # a read of a damaged file may have ended it already
            connection.execute("ROLLBACK")
    except BaseException:
        # SQLite may have rolled back already (a damaged page, a full disk): then there is
        # nothing to undo, and trying would hide the error that matters. A transaction this
        # block did not start (nesting, refused by SQLite) is the outer block's to end.
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
