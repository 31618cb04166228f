"""Which Joy triggers a profile sends: the merchant's choices, one row per metric chosen.

Kept in the ledger (not config.toml) so the writers that queue trigger events read the choice
inside the same transaction as the ledger change: an entry and its outbox row always agree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from joyctl.ledger.customers import CUSTOMER_COLUMNS, Customer, customer_from_row, normalize_email


def trigger_choices(connection: sqlite3.Connection) -> dict[str, bool]:
    """Every metric the merchant enabled or disabled, by name."""
    rows = connection.execute("SELECT metric, enabled FROM trigger_settings")
    return {str(row[0]): bool(row[1]) for row in rows}


def enabled_triggers(connection: sqlite3.Connection, defaults: Iterable[str]) -> frozenset[str]:
    """The metrics enabled now: the defaults, changed by the merchant's choices."""
    choices = trigger_choices(connection)
    enabled = {name for name in defaults if choices.get(name, True)}
    enabled.update(name for name, on in choices.items() if on)
    return frozenset(enabled)


def record_choice(
    connection: sqlite3.Connection, metrics: Iterable[str], *, enabled: bool, now: str
) -> None:
    """Enable or disable each metric (inside the caller's transaction)."""
    connection.executemany(
        "INSERT INTO trigger_settings (metric, enabled, changed_at) VALUES (?, ?, ?)"
        " ON CONFLICT (metric) DO UPDATE SET enabled = excluded.enabled,"
        " changed_at = excluded.changed_at",
        [(metric, int(enabled), now) for metric in metrics],
    )


def customer_tier(connection: sqlite3.Connection, email: str) -> str | None:
    """The tier recorded for a customer before an import changes it (None: new or no tier)."""
    row = connection.execute(
        "SELECT tier FROM customers WHERE email = ?", (normalize_email(email),)
    ).fetchone()
    return None if row is None else row[0]


def customer_with_id(connection: sqlite3.Connection, customer_id: int) -> Customer | None:
    row = connection.execute(
        f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?",  # noqa: S608 - constant columns
        (customer_id,),
    ).fetchone()
    return None if row is None else customer_from_row(row)
