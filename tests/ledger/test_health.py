"""The checks made at every open: what counts as damage, what does not, and whole creation.

The property tests damage a real ledger file at random (any bytes, any overwrite of a real
ledger's pages) and assert that opening it, reading it and verifying it end in joyctl's own
errors, never in another exception.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
import threading
from contextlib import closing
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joyctl.errors import JoyctlError
from joyctl.ledger.db import open_ledger
from joyctl.ledger.health import DamagedLedgerError, damage_in, structure_problems
from joyctl.ledger.migrations import MIGRATIONS, migrate
from joyctl.ledger.verify import verify_file
from tests.ledger.conftest import add_customer

NEWEST = MIGRATIONS[-1].version  # the gap test names the newest recorded migration


def _sql(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        for statement in statements:
            connection.execute(statement)


def _problems(path: Path) -> list[str]:
    with pytest.raises(DamagedLedgerError) as raised:
        open_ledger(path).close()
    assert raised.value.path == path
    return raised.value.problems


def test_a_ledger_of_an_older_joyctl_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as old:
        migrate(old, [m for m in MIGRATIONS if m.version <= 3])
    connection = open_ledger(path)
    with closing(connection):
        versions = [row[0] for row in connection.execute("SELECT version FROM schema_migrations")]
        assert versions == [m.version for m in MIGRATIONS]
        assert structure_problems(connection) == []


def test_an_index_of_ones_own_is_allowed_a_trigger_is_not(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    _sql(path, "CREATE INDEX customers_by_tier ON customers(tier)")
    open_ledger(path).close()
    _sql(
        path,
        "CREATE TRIGGER forget AFTER INSERT ON point_entries"
        " BEGIN DELETE FROM customers WHERE id = -1; END",
    )
    assert _problems(path) == ["trigger forget is not joyctl's"]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            "UPDATE schema_migrations SET name = 'mine' WHERE version = 2",
            "migration 2 is recorded as 'mine', not 'program_versions'",
        ),
        (
            "DELETE FROM schema_migrations WHERE version = 3",
            f"migration 3 (reviews_outbox_runs) is not recorded, though {NEWEST} is",
        ),
        ("DROP TABLE schema_migrations", "it has no schema_migrations table: not a joyctl ledger"),
        ("DROP INDEX outbox_unsent", "index outbox_unsent is missing"),
    ],
)
def test_migration_rows_and_objects_joyctl_did_not_write(
    tmp_path: Path, statement: str, problem: str
) -> None:
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    _sql(path, statement)
    assert _problems(path) == [problem]


def test_a_table_recreated_with_other_columns_is_not_joyctls(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    _sql(path, "DROP TABLE connections", "CREATE TABLE connections (id INTEGER PRIMARY KEY)")
    assert _problems(path) == ["table connections is not the one joyctl created"]


def test_a_blank_sqlite_file_is_a_ledger_not_yet_migrated(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    _sql(path, "PRAGMA user_version = 1")  # a valid database file without a table
    assert path.stat().st_size > 0
    with closing(open_ledger(path)) as connection:
        assert connection.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(
            MIGRATIONS
        )


def test_a_log_without_its_ledger_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    log = tmp_path / "ledger.sqlite3-wal"
    log.write_bytes(b"frames of a ledger that was deleted")
    with pytest.raises(DamagedLedgerError, match="its write-ahead log ledger.sqlite3-wal"):
        open_ledger(path)
    assert not path.exists()
    assert log.read_bytes() == b"frames of a ledger that was deleted"


def test_processes_creating_one_ledger_at_once_share_it(tmp_path: Path) -> None:
    path = tmp_path / "profiles" / "new" / "ledger.sqlite3"
    failures: list[BaseException] = []

    def create() -> None:
        try:
            connection = open_ledger(path)
            add_customer(connection, f"{threading.get_ident()}@example.com")
            connection.close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchone()[0] == 8
        rows = connection.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
        assert rows == len(MIGRATIONS)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_a_new_ledger_is_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "data" / "profiles" / "shop" / "ledger.sqlite3"
        with closing(open_ledger(path)) as connection:
            add_customer(connection)  # the log files exist while it is open
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        os.umask(previous)
    assert modes == {
        "ledger.sqlite3": 0o600,
        "ledger.sqlite3-wal": 0o600,
        "ledger.sqlite3-shm": 0o600,
    }
    for folder in (tmp_path / "data", path.parent.parent, path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_older_joyctls_open_ledger_is_tightened_but_not_a_folder_it_did_not_create(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shop"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "ledger.sqlite3"
    open_ledger(path).close()
    path.chmod(0o644)
    open_ledger(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The folder is the caller's: joyctl tightens its own data folders (`Paths.own_folder`,
    # tests/cli/test_private_files.py), never one a ledger merely sits in, such as /tmp.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    created = tmp_path / "new" / "deeper" / "ledger.sqlite3"
    open_ledger(created).close()
    assert stat.S_IMODE(created.parent.stat().st_mode) == 0o700


# --- properties ------------------------------------------------------------------------------


@cache
def _sound_ledger() -> bytes:
    """A small, checkpointed ledger with rows in most tables, as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.sqlite3"
        connection = open_ledger(path)
        for number in range(40):
            customer = add_customer(connection, f"c{number}@example.com")
            connection.execute(
                "INSERT INTO point_entries (customer_id, kind, delta, balance_after,"
                " idempotency_key, created_at) VALUES (?, 'opening', 5, 5, ?, 'now')",
                (customer, f"opening:{customer}"),
            )
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.close()
        return path.read_bytes()


def _open_and_read(path: Path) -> None:
    """What a command does: open, read every table, verify; joyctl's errors only."""
    try:
        with closing(open_ledger(path)) as connection:
            for table in ("customers", "point_entries", "schema_migrations"):
                connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
    except JoyctlError:
        return
    except sqlite3.DatabaseError as exc:
        # A damaged page met after the open: the boundary names it (AppContext.ledger_damage).
        assert damage_in(exc, [path]) is not None, repr(exc)


def _verify(path: Path) -> None:
    try:
        results = verify_file(path)
    except JoyctlError:
        return  # e.g. a damaged version number that reads as a newer schema
    assert [result.name for result in results][:3] == ["file", "file_integrity", "schema"]


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(content=st.binary(max_size=4096))
def test_any_bytes_are_refused_as_damage_or_opened(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.sqlite3"
        path.write_bytes(content)
        _open_and_read(path)
        _verify(path)


@PROPERTY
@given(data=st.data())
def test_any_overwrite_of_a_real_ledger_ends_in_joyctls_errors(data: st.DataObject) -> None:
    sound = _sound_ledger()
    offset = data.draw(st.integers(0, len(sound) - 1), label="offset")
    junk = data.draw(st.binary(min_size=1, max_size=256), label="junk")
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(sound))), label="cut")
    damaged = (sound[:offset] + junk + sound[offset + len(junk) :])[: len(sound)]
    if cut is not None:
        damaged = damaged[:cut]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.sqlite3"
        path.write_bytes(damaged)
        _verify(path)
        _open_and_read(path)
