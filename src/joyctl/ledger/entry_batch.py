"""Earn entries appended together: the batch-oriented sibling of `points.append_entry`.

The reward pipeline appends hundreds of earn entries per `BEGIN IMMEDIATE` transaction. Holding
the write lock, it can read every balance and taken idempotency key it will need in two
statements, then compute each `balance_after` in memory and insert all entries together
(`many_rows.insert_rows`) before COMMIT. Only what `append_entry` would do without any check
failing takes this path (a new key, an earn of at least one point); anything else goes through
`append_entry` after `flush`, so its guarantees stay in one place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from joyctl.files.limits import MAX_POINTS
from joyctl.ledger.many_rows import RowsInsert, insert_rows
from joyctl.ledger.points import EntryKind, PointEntry

_INSERT = RowsInsert(
    "INSERT INTO point_entries (id, customer_id, kind, delta, balance_after, program,"
    " source_kind, source_id, idempotency_key, reverses_id, reason, meta, created_at) VALUES",
    13,
)
_EARN = EntryKind.EARN.value


EarnSource = tuple[str | None, str | None, str | None]
"""An earn entry's program, source_kind and source_id."""


class EntryBatch:
    """Earn entries of one transaction, written by `flush`; ids and balances kept in memory."""

    def __init__(
        self, connection: sqlite3.Connection, customer_ids: Iterable[int], keys: Iterable[str]
    ) -> None:
        if not connection.in_transaction:
            raise RuntimeError("EntryBatch must run inside ledger.db.transaction()")
        self.connection = connection
        self._balances = _balances(connection, customer_ids)
        self._taken = _taken_keys(connection, keys)
        row = connection.execute("SELECT max(id) FROM point_entries").fetchone()
        # Without AUTOINCREMENT SQLite gives max(id) + 1, which no one else can take under the lock.
        self._next_id = int(row[0] or 0) + 1
        self._rows: list[tuple[object, ...]] = []
        self._created: tuple[datetime | None, str] = (None, "")

    def append_earn(
        self,
        customer_id: int,
        delta: int,
        key: str,
        source: EarnSource,
        meta_text: str,
        created_at: datetime,
    ) -> tuple[int, int] | None:
        """Queue a new earn entry; its (id, balance_after), or None when it must take the long way.

        None unless it is a new key, of a customer whose balance was read, for at least one
        point, within the most a balance may hold: the others take `append_entry` after a
        `flush`. `meta_text` must be the meta
        exactly as `append_entry` encodes it (sorted keys, no spaces).
        """
        balance = self._balances.get(customer_id)
        if balance is None or delta <= 0 or key in self._taken or not key.strip():
            return None
        if balance + delta > MAX_POINTS:  # `append_entry` refuses it, saying why
            return None
        balance_after = balance + delta
        entry_id = self._next_id
        self._rows.append(
            (
                entry_id,
                customer_id,
                _EARN,
                delta,
                balance_after,
                *source,
                key,
                None,
                None,
                meta_text,
                self._created_text(created_at),
            )
        )
        self._next_id = entry_id + 1
        self._balances[customer_id] = balance_after
        self._taken.add(key)
        return entry_id, balance_after

    def _created_text(self, moment: datetime) -> str:
        # A batch's entries share one decision time: format it once.
        if moment is not self._created[0]:
            self._created = (moment, moment.astimezone(UTC).isoformat())
        return self._created[1]

    def note(self, entry: PointEntry) -> None:
        """Take in an entry `append_entry` wrote after a `flush`."""
        self._balances[entry.customer_id] = entry.balance_after
        self._taken.add(entry.idempotency_key)
        self._next_id = max(self._next_id, entry.id + 1)

    def flush(self) -> None:
        if self._rows:
            insert_rows(self.connection, _INSERT, self._rows)
            self._rows = []


def _balances(connection: sqlite3.Connection, customer_ids: Iterable[int]) -> dict[int, int]:
    """Current balance of each customer (0 before the first entry), in one statement."""
    # One index seek per customer, as append_entry reads it; GROUP BY would visit every entry.
    rows = connection.execute(
        "SELECT value, coalesce((SELECT balance_after FROM point_entries WHERE customer_id = value"
        " ORDER BY id DESC LIMIT 1), 0) FROM json_each(?)",
        (json.dumps(list(customer_ids)),),
    )
    return {int(customer_id): int(balance) for customer_id, balance in rows}


def _taken_keys(connection: sqlite3.Connection, keys: Iterable[str]) -> set[str]:
    rows = connection.execute(
        "SELECT idempotency_key FROM point_entries"
        " WHERE idempotency_key IN (SELECT value FROM json_each(?))",
        (json.dumps(list(keys)),),
    )
    return {key for (key,) in rows}
