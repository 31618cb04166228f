"""Many rows in few INSERTs leave a table exactly as `executemany` of the one-row statement does."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing

from hypothesis import given
from hypothesis import strategies as st

from joyctl.ledger.many_rows import CHUNK_ROWS, RowsInsert, insert_rows

_TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, key TEXT UNIQUE, value TEXT, seen INTEGER)"
_UPSERT = RowsInsert(
    "INSERT INTO t (key, value, seen) VALUES",
    3,
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
)
_SKIP = RowsInsert("INSERT INTO t (key, value, seen) VALUES", 3, " ON CONFLICT (key) DO NOTHING")

_integers = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.one_of(st.none(), st.text(max_size=5), _integers, st.floats(allow_nan=False)),
        _integers,
    ),
    max_size=3 * CHUNK_ROWS + 7,
)


Write = Callable[[sqlite3.Connection, Sequence[tuple[object, ...]]], object]


def _table(rows: Sequence[tuple[object, ...]], write: Write) -> list[tuple[object, ...]]:
    """The table after `write` (insert_rows, or executemany of the one-row statement)."""
    with closing(sqlite3.connect(":memory:")) as connection:
        connection.execute(_TABLE)
        write(connection, rows)
        return connection.execute("SELECT * FROM t ORDER BY id").fetchall()


@given(_rows, st.sampled_from([_UPSERT, _SKIP]))
def test_many_rows_leave_the_table_executemany_leaves(
    rows: list[tuple[object, ...]], insert: RowsInsert
) -> None:
    expected = _table(rows, lambda c, r: c.executemany(insert.one_row, r))
    assert _table(rows, lambda c, r: insert_rows(c, insert, r)) == expected


def test_a_later_row_updates_an_earlier_one_in_the_same_statement() -> None:
    count = CHUNK_ROWS * 2 + 3  # two long statements and three rows one by one
    rows = [(f"k{index % 7}", f"v{index}", index) for index in range(count)]
    table = _table(rows, lambda c, r: insert_rows(c, _UPSERT, r))
    last_of_each = {f"k{index % 7}": f"v{index}" for index in range(count)}
    assert {key: value for _, key, value, _ in table} == last_of_each
    assert [key for _, key, _, _ in table] == [f"k{index}" for index in range(7)]


def test_no_rows_write_nothing() -> None:
    assert _table([], lambda c, r: insert_rows(c, _UPSERT, r)) == []
