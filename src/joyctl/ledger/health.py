"""Is this file a sound joyctl ledger? The cheap checks made at every open, and what they find.

Every command opens the ledger, so the checks here read only the file's first bytes and its
schema (a few pages): a file that is empty or not SQLite, a page SQLite cannot read, a table,
index or trigger that is missing or not the one joyctl created (a no-op trigger in place of an
append-only one reads as intact otherwise), and migration rows that joyctl did not write.
`ledger verify` adds SQLite's full integrity check, which reads every page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from joyctl.command_line import command
from joyctl.errors import DataError

SQLITE_HEADER = b"SQLite format 3\x00"


def recovery_hint() -> str:
    return (
        f"see what is wrong with `{command('ledger', 'verify')}`; put a good copy back with"
        f" `{command('ledger', 'restore', 'FILE')}` (a file written by"
        f" `{command('ledger', 'backup')}`)"
    )


PROBLEMS_IN_MESSAGE = 3
# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB.
_DAMAGE_CODES = frozenset({11, 26})
# Result codes that say nothing about the file's content: PERM, BUSY, LOCKED, NOMEM, READONLY,
# INTERRUPT, IOERR, FULL, CANTOPEN, AUTH. Any other failure while opening is the file's doing.
_CIRCUMSTANCE_CODES = frozenset({3, 5, 6, 7, 8, 9, 10, 13, 14, 23})
# Python's sqlite3 says this of text that is not UTF-8, which joyctl never writes.
_NOT_UTF8 = "Could not decode to UTF-8"
# What reading a damaged file can raise: Python decodes SQLite's messages as UTF-8 too, and a
# message quoting a damaged name is not.
UNREADABLE = (sqlite3.DatabaseError, UnicodeDecodeError)


class DamagedLedgerError(DataError):
    """The ledger file cannot be used as it is: damaged, truncated, emptied or altered."""

    code = "ledger_damaged"

    def __init__(self, path: Path | None, problems: Sequence[str], *, hint: str | None = None):
        self.path = path
        self.problems = list(problems)
        where = f"the ledger {path}" if path is not None else "the ledger"
        super().__init__(
            f"{where} is damaged: {summarize(self.problems)}", hint=hint or recovery_hint()
        )


def summarize(problems: Sequence[str]) -> str:
    """The first few problems on one line."""
    shown = "; ".join(problems[:PROBLEMS_IN_MESSAGE])
    more = len(problems) - PROBLEMS_IN_MESSAGE
    return f"{shown} (and {more} more)" if more > 0 else shown


def is_damage(error: BaseException) -> bool:
    """A SQLite error that means the file is damaged, not that it is busy or misused."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return str(error).startswith(_NOT_UTF8)
    return code & 0xFF in _DAMAGE_CODES


def is_damage_on_open(error: BaseException) -> bool:
    """Whether a failure while opening means the file's content is wrong.

    Opening reads only the header, the schema and the migration rows, all written by joyctl:
    any failure there but a busy, locked, full or unreadable file is the content's doing
    ("unsupported file format", a schema SQLite cannot parse, text that is not UTF-8).
    """
    if isinstance(error, UnicodeDecodeError) or is_damage(error):
        return True
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.DatabaseError) and (
        code is not None and code & 0xFF not in _CIRCUMSTANCE_CODES
    )


def damage_in(error: BaseException, files: Sequence[Path]) -> DamagedLedgerError | None:
    """The damage behind `error` (or what it was raised from), naming the open ledger file."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DamagedLedgerError):
            return seen
        if is_damage(seen):
            path = files[0] if len(files) == 1 else None
            return DamagedLedgerError(path, [describe(seen)])
        seen = seen.__cause__ or seen.__context__
    return None


def file_problem(path: Path) -> str | None:
    """Why the file at `path` cannot be a SQLite database, read from its first bytes."""
    try:
        return header_problem(path)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"


def header_problem(path: Path) -> str | None:
    """As `file_problem`, but a file that cannot be read at all raises OSError: not damage."""
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        return "the file is empty (0 bytes)"
    if header != SQLITE_HEADER:
        return "the file is not a SQLite database"
    return None


def structure_problems(
    connection: sqlite3.Connection, *, require_ledger: bool = False
) -> list[str]:
    """What is wrong with the migration rows and the schema; [] when nothing is.

    A database without any table is a ledger not yet migrated (unless `require_ledger`). A
    schema newer than this joyctl raises DataError: it is not damage, joyctl is too old.
    """
    from joyctl.ledger.migrations import refuse_newer  # migrations import db, which imports us

    found = _schema(connection)
    if not found and not require_ledger:
        return []
    if ("table", "schema_migrations") not in found:
        return ["it has no schema_migrations table: not a joyctl ledger"]
    rows = connection.execute("SELECT version, name FROM schema_migrations").fetchall()
    applied = {version: str(name) for version, name in rows if isinstance(version, int)}
    odd = [f"a migration row has version {v!r}" for v, _ in rows if not isinstance(v, int)]
    refuse_newer(set(applied))
    problems = odd + _migration_problems(applied)
    if problems:
        # The reference schema is built from the recorded migrations in order; with a gap in
        # them a later migration may not even apply, and the gap is the finding that matters.
        return problems
    expected = _expected_schema(frozenset(applied))
    problems += _schema_problems(expected, found)
    return problems


def describe(error: BaseException) -> str:
    """One line for a failure to read the file."""
    if isinstance(error, UnicodeDecodeError):
        return "SQLite reports damage in a name that is not even text"
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0]
    # SQLite's words for a header that is not its own; said as the file check says it.
    return "the file is not a SQLite database" if first == "file is not a database" else first


def _schema(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    rows = connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {(str(kind), str(name)): _normalized(sql) for kind, name, sql in rows}


def _normalized(sql: object) -> str:
    return " ".join(str(sql or "").split())


def _migration_problems(applied: dict[int, str]) -> list[str]:
    from joyctl.ledger.migrations import MIGRATIONS

    problems: list[str] = []
    if not applied:
        return ["no migration is recorded in schema_migrations"]
    newest = max(applied)
    for migration in MIGRATIONS:
        if migration.version > newest:
            break
        name = applied.get(migration.version)
        if name is None:
            problems.append(
                f"migration {migration.version} ({migration.name}) is not recorded,"
                f" though {newest} is"
            )
        elif name != migration.name:
            problems.append(
                f"migration {migration.version} is recorded as {name!r}, not {migration.name!r}"
            )
    return problems


def _schema_problems(
    expected: dict[tuple[str, str], str], found: dict[tuple[str, str], str]
) -> list[str]:
    problems: list[str] = []
    for (kind, name), sql in expected.items():
        if (kind, name) not in found:
            problems.append(f"{kind} {name} is missing")
        elif found[kind, name] != sql:
            problems.append(f"{kind} {name} is not the one joyctl created")
    # A trigger joyctl did not write runs on every write: it could delete what it likes.
    extra = sorted(name for kind, name in found.keys() - expected.keys() if kind == "trigger")
    problems += [f"trigger {name} is not joyctl's" for name in extra]
    return problems


@lru_cache(maxsize=8)
def _expected_schema(applied: frozenset[int]) -> dict[tuple[str, str], str]:
    """The schema the applied migrations create, built in memory from the migrations' own SQL."""
    from joyctl.ledger.migrations import MIGRATIONS, apply_migration, ensure_migrations_table

    reference = sqlite3.connect(":memory:", isolation_level=None)
    try:
        ensure_migrations_table(reference)
        for migration in sorted(MIGRATIONS, key=lambda m: m.version):
            if migration.version in applied:
                apply_migration(reference, migration)
        return _schema(reference)
    finally:
        reference.close()
