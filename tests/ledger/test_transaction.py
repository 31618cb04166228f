"""The one transaction helper: commit, roll back on any exception, roll back on purpose."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from joyctl.ledger.db import open_ledger, transaction
from tests.ledger.support import InterruptedConnection


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    ledger = tmp_path / "ledger.sqlite3"
    with closing(open_ledger(ledger)) as connection:
        connection.execute("CREATE TABLE scratch (x INTEGER NOT NULL)")
    yield ledger


@pytest.fixture
def ledger(path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(path)
    try:
        yield connection
    finally:
        connection.close()


def _other(path: Path) -> sqlite3.Connection:
    """A second process's view of the file; it gives up at once when the file is locked."""
    return sqlite3.connect(path, isolation_level=None, timeout=0)


def _rows(path: Path) -> list[int]:
    other = _other(path)
    try:
        return [row[0] for row in other.execute("SELECT x FROM scratch ORDER BY x")]
    finally:
        other.close()


def test_a_block_that_ends_normally_is_committed(ledger: sqlite3.Connection, path: Path) -> None:
    with transaction(ledger):
        ledger.execute("INSERT INTO scratch VALUES (1)")
        assert _rows(path) == []  # not visible to anyone else before COMMIT
    assert not ledger.in_transaction
    assert _rows(path) == [1]


def test_an_exception_rolls_back_and_propagates(ledger: sqlite3.Connection, path: Path) -> None:
    with pytest.raises(ValueError, match="boom"), transaction(ledger):
        ledger.execute("INSERT INTO scratch VALUES (1)")
        raise ValueError("boom")
    assert not ledger.in_transaction
    assert _rows(path) == []


def test_an_interrupt_rolls_back_too(ledger: sqlite3.Connection, path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), transaction(ledger):
        ledger.execute("INSERT INTO scratch VALUES (1)")
        raise KeyboardInterrupt
    assert not ledger.in_transaction
    assert _rows(path) == []


def test_rollback_mode_reads_its_own_writes_then_keeps_none(
    ledger: sqlite3.Connection, path: Path
) -> None:
    with transaction(ledger, rollback=True):
        ledger.execute("INSERT INTO scratch VALUES (1)")
        assert [row[0] for row in ledger.execute("SELECT x FROM scratch")] == [1]
    assert not ledger.in_transaction
    assert _rows(path) == []
    with transaction(ledger):  # the connection is ready for the next transaction
        ledger.execute("INSERT INTO scratch VALUES (2)")
    assert _rows(path) == [2]


def test_rollback_mode_still_propagates_an_exception(
    ledger: sqlite3.Connection, path: Path
) -> None:
    with pytest.raises(ValueError, match="boom"), transaction(ledger, rollback=True):
        ledger.execute("INSERT INTO scratch VALUES (1)")
        raise ValueError("boom")
    assert not ledger.in_transaction
    assert _rows(path) == []


def test_immediate_takes_the_write_lock_up_front(ledger: sqlite3.Connection, path: Path) -> None:
    other = _other(path)
    try:
        with transaction(ledger), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        with transaction(ledger, immediate=False):
            ledger.execute("SELECT count(*) FROM scratch").fetchone()
            other.execute("BEGIN IMMEDIATE")  # a deferred reader does not hold the write lock
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_nesting_is_refused_and_the_outer_block_rolls_back(
    ledger: sqlite3.Connection, path: Path
) -> None:
    refused = pytest.raises(sqlite3.OperationalError, match="within a transaction")
    with refused, transaction(ledger):
        ledger.execute("INSERT INTO scratch VALUES (1)")
        with transaction(ledger):
            ledger.execute("INSERT INTO scratch VALUES (2)")
    assert not ledger.in_transaction
    assert _rows(path) == []


@pytest.mark.parametrize(
    ("after", "before"),
    [("BEGIN IMMEDIATE", None), (None, "COMMIT")],
    ids=["as BEGIN returns", "before COMMIT runs"],
)
def test_an_interrupt_at_either_edge_leaves_no_transaction_open(
    path: Path, after: str | None, before: str | None
) -> None:
    connection = InterruptedConnection(path, after=after, before=before)
    try:
        with pytest.raises(KeyboardInterrupt), transaction(connection):
            connection.execute("INSERT INTO scratch VALUES (1)")
        assert not connection.in_transaction
        connection.execute("INSERT INTO scratch VALUES (2)")  # autocommit: kept at once
        assert _rows(path) == [2]
    finally:
        connection.close()
