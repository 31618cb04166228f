"""A ledger connection that an interrupt (Ctrl-C, or SIGTERM in a backfill) hits at a set moment.

A signal handler's KeyboardInterrupt is raised in the main thread as soon as the statement it
arrived during returns; this connection raises it there, around one statement, exactly once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


class InterruptedConnection(sqlite3.Connection):
    """KeyboardInterrupt as a statement starting with `after` returns, or before `before` runs.

    `skip` lets that many `after` statements through first.
    """

    def __init__(
        self, path: Path, *, after: str | None = None, before: str | None = None, skip: int = 0
    ) -> None:
        super().__init__(path, isolation_level=None, check_same_thread=False)
        self.row_factory = sqlite3.Row
        self.after, self.before, self.skip = after, before, skip

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.before is not None and sql.startswith(self.before):
            self.before = None
            raise KeyboardInterrupt
        cursor = super().execute(sql, *args)
        if self.after is not None and sql.startswith(self.after):
            if self.skip == 0:
                self.after = None
                raise KeyboardInterrupt
            self.skip -= 1
        return cursor
