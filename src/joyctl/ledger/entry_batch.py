"""Earn entries appended together: the batch-oriented sibling of `points.append_entry`.

The reward pipeline appends hundreds of earn entries per `BEGIN IMMEDIATE` transaction. Holding
the write lock, it can read every balance and taken idempotency key it will need in two
statements, then compute each `balance_after` in memory and insert all entries with one
`executemany` before COMMIT. Only what `append_entry` would do without any check failing takes
this path (a new key, an earn of at least one point); anything else goes through
`append_entry` after `flush`, so its guarantees stay in one place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from joyctl.ledger.points import EntryKind, NewEntry, PointEntry

# Same output as append_entry's json.dumps; one encoder instead of one per call.
_META_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))

_INSERT = (
    "INSERT INTO point_entries (id, customer_id, kind, delta, balance_after, program,"
    " source_kind, source_id, idempotency_key, reverses_id, reason, meta, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


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

    def can_append(self, new: NewEntry) -> bool:
        """True when `append` would store exactly what `append_entry` would."""
        return (
            new.kind is EntryKind.EARN
            and new.delta > 0
            and new.reverses_id is None
            and bool(new.idempotency_key.strip())
            and new.idempotency_key not in self._taken
            and new.customer_id in self._balances
        )

    def append(self, new: NewEntry, meta_text: str | None = None) -> PointEntry:
        """Queue a new earn entry (check `can_append` first) and return it as it will be stored.

        `meta_text`, when given, must be `new.meta` exactly as `append_entry` encodes it.
        """
        balance_after = self._balances[new.customer_id] + new.delta
        meta = dict(new.meta)
        created_at = self._created_text(new.created_at)
        entry = PointEntry(
            self._next_id,
            new.customer_id,
            new.kind.value,
            new.delta,
            balance_after,
            new.program,
            new.source_kind,
            new.source_id,
            new.idempotency_key,
            None,
            new.reason,
            meta,
            created_at,
        )
        self._rows.append(
            (
                *_columns(entry),
                meta_text or (_META_ENCODER.encode(meta) if meta else None),
                created_at,
            )
        )
        self._next_id += 1
        self._balances[new.customer_id] = balance_after
        self._taken.add(new.idempotency_key)
        return entry

    def _created_text(self, moment: datetime | None) -> str:
        # A batch's entries share one decision time: format it once.
        if moment is None:
            return datetime.now(UTC).astimezone(UTC).isoformat()
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
            self.connection.executemany(_INSERT, self._rows)
            self._rows = []


def _columns(entry: PointEntry) -> tuple[object, ...]:
    return (
        entry.id,
        entry.customer_id,
        entry.kind,
        entry.delta,
        entry.balance_after,
        entry.program,
        entry.source_kind,
        entry.source_id,
        entry.idempotency_key,
        entry.reverses_id,
        entry.reason,
    )


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
