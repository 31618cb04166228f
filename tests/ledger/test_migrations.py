"""Ledger core: pragmas, migrations applied atomically, append-only entries, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from joyctl.errors import DataError
from joyctl.ledger.db import open_ledger
from joyctl.ledger.migrations import MIGRATIONS, Migration, migrate
from tests.conftest import Cli


def _tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


def test_blank_database_gets_every_migration(tmp_path: Path) -> None:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
    assert versions == [m.version for m in MIGRATIONS]
    assert {"customers", "point_entries", "connections"} <= _tables(connection)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_reopening_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection) == []


def test_failing_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    broken = Migration(999, "broken", "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM nowhere;")
    connection = sqlite3.connect(path, isolation_level=None)
    before = _tables(connection)
    with pytest.raises(sqlite3.OperationalError):
        migrate(connection, [*MIGRATIONS, broken])
    assert _tables(connection) == before
    assert 999 not in {
        row[0] for row in connection.execute("SELECT version FROM schema_migrations")
    }


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    connection = open_ledger(path)
    connection.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'now')")
    connection.close()
    with pytest.raises(DataError, match="newer than this joyctl knows"):
        open_ledger(path)


def test_not_a_database_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataError, match="is damaged: the file is not a SQLite database"):
        open_ledger(path)


def test_point_entries_are_append_only_and_never_negative(tmp_path: Path) -> None:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    connection.execute(
        "INSERT INTO customers (email, created_at, updated_at) VALUES ('a@b.co', 'now', 'now')"
    )
    insert = (
        "INSERT INTO point_entries (customer_id, kind, delta, balance_after, idempotency_key,"
        " created_at) VALUES (1, 'earn', ?, ?, ?, 'now')"
    )
    connection.execute(insert, (50, 50, "k1"))
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute(insert, (10, 60, "k1"))  # same idempotency key
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute(insert, (-60, -10, "k2"))  # below zero
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE point_entries SET delta = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM point_entries")


def test_backup_is_a_consistent_copy(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    result = cli("ledger", "backup", str(target))
    assert result.exit_code == 0
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    again = cli("ledger", "backup", str(target))
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert cli("ledger", "backup", str(target), "--force").exit_code == 0


def test_ledger_path_names_the_profile_file(cli: Cli, isolated_home: Path) -> None:
    result = cli("ledger", "path")
    assert result.exit_code == 0
    assert result.stdout.strip() == str(isolated_home / "data/profiles/sandbox/ledger.sqlite3")
