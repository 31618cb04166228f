"""Many rows in few INSERTs: a VALUES list of a fixed number of rows instead of one per row.

`executemany` runs its statement once per row and pays SQLite's reset, bind and step for each;
an INSERT whose VALUES list holds many rows steps once for all of them. SQLite inserts the rows
of a VALUES list in the order given, each meeting the statement's ON CONFLICT clause as it would
alone (a later row updates an earlier one with the same key), so the table ends as
`executemany` would leave it. Every full chunk uses the same statement, so each table keeps
one long statement prepared, not one per batch size; the rows left over take `executemany`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

CHUNK_ROWS = 50
"""Rows per long statement: past a few dozen, longer ones save nothing more."""


@dataclass(frozen=True)
class RowsInsert:
    """`INSERT INTO table (columns) VALUES` + one (?, ...) group per row + `tail`."""

    head: str
    columns: int
    tail: str = ""

    @cached_property
    def one_row(self) -> str:
        return self._with_rows(1)

    @cached_property
    def chunk(self) -> str:
        return self._with_rows(CHUNK_ROWS)

    def _with_rows(self, rows: int) -> str:
        group = "(" + ", ".join("?" * self.columns) + ")"
        return f"{self.head} {', '.join([group] * rows)}{self.tail}"


def insert_rows(
    connection: sqlite3.Connection, insert: RowsInsert, rows: Sequence[tuple[object, ...]]
) -> None:
    """Insert `rows` in order, as `executemany` of the one-row statement would."""
    whole = len(rows) - len(rows) % CHUNK_ROWS
    for start in range(0, whole, CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        connection.execute(insert.chunk, [value for row in chunk for value in row])
    if whole < len(rows):
        connection.executemany(insert.one_row, rows[whole:])
