"""`joyctl ledger adjust`: add or take a customer's points by hand, with the trigger it earns."""

from __future__ import annotations

import sqlite3
import uuid

from joyctl.errors import DataError, UsageError
from joyctl.ledger.db import transaction
from joyctl.ledger.points import (
    EntryKind,
    InsufficientPointsError,
    NewEntry,
    append_entry,
    current_balance,
)
from joyctl.services.ledger_admin.balances import (
    BalanceView,
    EntryView,
    balance_fields,
    entry_view,
    find_member,
)
from joyctl.services.triggers.feed import queue_entry_trigger


class AdjustResult(BalanceView):
    created: bool
    entry: EntryView


def adjust_points(
    connection: sqlite3.Connection,
    email: str,
    points: int,
    *,
    reason: str,
    idempotency_key: str | None = None,
) -> AdjustResult:
    """Add or take points by hand, never below zero; a repeated key records nothing new."""
    if points == 0:
        raise UsageError("POINTS must not be 0", hint="give a positive or negative number")
    if not reason.strip():
        raise UsageError("--reason must not be empty", hint="say why, for the customer's history")
    key = f"adjust:{idempotency_key.strip() if idempotency_key else uuid.uuid4()}"
    with transaction(connection):
        customer = find_member(connection, email)
        new = NewEntry(
            customer.id, EntryKind.ADJUST, points, key, reason=reason.strip(), source_kind="cli"
        )
        try:
            appended = append_entry(connection, new)
        except InsufficientPointsError as exc:
            raise InsufficientPointsError(exc.balance, points, owner=customer.email) from None
        if appended.entry.delta != points:
            raise DataError(
                f"idempotency key {idempotency_key!r} already recorded an adjustment of"
                f" {appended.entry.delta:+d} points",
                hint="use a new key for a different adjustment",
            )
        if appended.created:  # an enabled trigger (a positive adjustment earns) goes out with it
            queue_entry_trigger(connection, customer, appended.entry)
        balance = current_balance(connection, customer.id)
    return AdjustResult(
        **balance_fields(customer, balance),
        created=appended.created,
        entry=entry_view(appended.entry),
    )
