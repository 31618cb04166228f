"""`joyctl ledger balance|history`: one customer's points, read only.

Apart from the file operations (`operations`) and from adjustments (`adjust`) so that a balance
loads neither the file readers, the checks nor the triggers an adjustment queues.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import DataError, NotFoundError, UsageError
from joyctl.ledger.customers import Customer, find_customer
from joyctl.ledger.points import PointEntry, current_balance, entry_history

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


def entry_view(entry: PointEntry) -> EntryView:
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


def find_member(connection: sqlite3.Connection, email: str) -> Customer:
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


def balance_fields(customer: Customer, balance: int) -> dict[str, Any]:
    return {
        "email": customer.email,
        "customer_id": customer.id,
        "member_status": customer.member_status,
        "tier": customer.tier,
        "balance": balance,
    }


def customer_balance(connection: sqlite3.Connection, email: str) -> BalanceView:
    customer = find_member(connection, email)
    return BalanceView(**balance_fields(customer, current_balance(connection, customer.id)))


def customer_history(
    connection: sqlite3.Connection, email: str, *, limit: int = 20, before: int | None = None
) -> HistoryView:
    """A page of the customer's entries, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise UsageError(f"--limit must be between 1 and {MAX_HISTORY}", hint="page with --before")
    customer = find_member(connection, email)
    entries = entry_history(connection, customer.id, limit=limit + 1, before_id=before)
    more = len(entries) > limit
    page = entries[:limit]
    return HistoryView(
        **balance_fields(customer, current_balance(connection, customer.id)),
        entries=[entry_view(entry) for entry in page],
        next_before=page[-1].id if more else None,
    )
