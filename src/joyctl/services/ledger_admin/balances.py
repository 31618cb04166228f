"""`joyctl ledger balance|history|adjust`: one customer's points.

Apart from the file operations (`operations`) so that a balance loads neither the file readers
nor the checks.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import DataError, NotFoundError, UsageError
from joyctl.ledger.customers import Customer, find_customer
from joyctl.ledger.db import transaction
from joyctl.ledger.points import (
    EntryKind,
    InsufficientPointsError,
    NewEntry,
    PointEntry,
    append_entry,
    current_balance,
    entry_history,
)
from joyctl.services.triggers.feed import queue_entry_trigger

MAX_HISTORY = 1000


class EntryView(BaseModel):
    id: int
    kind: str
    delta: int
    balance_after: int
    reason: str | None
    program: str | None
    source_kind: str | None
    source_id: str | None
    idempotency_key: str
    reverses_id: int | None
    meta: dict[str, Any]
    created_at: str
    note: str = ""
    """Why the entry exists, for people: its reason, and the review it is for."""


class BalanceView(BaseModel):
    email: str
    customer_id: int
    member_status: str
    tier: str | None
    balance: int


class HistoryView(BalanceView):
    entries: list[EntryView]
    next_before: int | None
    """Pass as --before to see older entries; None when there are none."""


class AdjustResult(BalanceView):
    created: bool
    entry: EntryView


def _entry_view(entry: PointEntry) -> EntryView:
    view = EntryView.model_validate(entry, from_attributes=True)
    return view.model_copy(update={"note": entry_note(entry)})


def entry_note(entry: PointEntry) -> str:
    """The entry's reason and, for a review's earn or revoke, the review: what `history` shows."""
    review = entry.meta.get("review_id") or (
        entry.source_id if entry.source_kind == "review" else None
    )
    parts = [entry.reason] if entry.reason else []
    if review:
        parts.append(f"review {review}")
    elif not parts and entry.source_kind and entry.source_id:
        parts.append(f"{entry.source_kind} {entry.source_id}")
    return "; ".join(parts)


def _customer(connection: sqlite3.Connection, email: str) -> Customer:
    try:
        customer = find_customer(connection, email)
    except DataError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    if customer is None:
        raise NotFoundError(
            f"no customer with email {email.strip()!r} in this ledger",
            hint=f"customers come in with `{command('ledger', 'import', 'FILE')}`",
        )
    return customer


def _balance_fields(customer: Customer, balance: int) -> dict[str, Any]:
    return {
        "email": customer.email,
        "customer_id": customer.id,
        "member_status": customer.member_status,
        "tier": customer.tier,
        "balance": balance,
    }


def customer_balance(connection: sqlite3.Connection, email: str) -> BalanceView:
    customer = _customer(connection, email)
    return BalanceView(**_balance_fields(customer, current_balance(connection, customer.id)))


def customer_history(
    connection: sqlite3.Connection, email: str, *, limit: int = 20, before: int | None = None
) -> HistoryView:
    """A page of the customer's entries, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise UsageError(f"--limit must be between 1 and {MAX_HISTORY}", hint="page with --before")
    customer = _customer(connection, email)
    entries = entry_history(connection, customer.id, limit=limit + 1, before_id=before)
    more = len(entries) > limit
    page = entries[:limit]
    return HistoryView(
        **_balance_fields(customer, current_balance(connection, customer.id)),
        entries=[_entry_view(entry) for entry in page],
        next_before=page[-1].id if more else None,
    )


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
        customer = _customer(connection, email)
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
        **_balance_fields(customer, balance),
        created=appended.created,
        entry=_entry_view(appended.entry),
    )
