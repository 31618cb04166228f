"""Ledger changes become Joy trigger events in the outbox, in the writer's own transaction.

Each entry produces at most one metric (`entry_trigger`): an earn or a positive adjustment
`Joy: Earn Point`, a redemption `Joy: Redeem Points`, an expiry `Joy: Upon Point Expiration`.
A tier change seen by `ledger import` produces `Joy: Tier Achieved`. Only enabled triggers are
queued; the pusher then sends them like every other outbox event. The unique id is the entry's
(`joyctl-entry-{id}`, as the review pipeline uses), so a retry sends nothing twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any

from joyctl.klaviyo import joy_events
from joyctl.ledger import outbox
from joyctl.ledger.customers import Customer
from joyctl.ledger.points import EntryKind, PointEntry
from joyctl.services.triggers.catalogue import enabled_metrics

ADJUSTMENT_PROGRAM = "Manual adjustment"
TIER_TRIGGER = joy_events.TIER_ACHIEVED_METRIC


def customer_properties(customer: Customer, balance: int) -> dict[str, Any]:
    """What every Joy event carries about the customer."""
    name = " ".join(part for part in (customer.first_name, customer.last_name) if part)
    return {"Customer name": name, "Customer points": balance, "Customer ID": customer.id}


def entry_trigger(entry: PointEntry) -> tuple[str, dict[str, Any]] | None:
    """The metric an entry produces and its own properties; None for entries Joy never sends."""
    points, when = abs(entry.delta), entry.created_at
    program = entry.program or ADJUSTMENT_PROGRAM
    if entry.kind == EntryKind.EARN or (entry.kind == EntryKind.ADJUST and entry.delta > 0):
        program_type = "adjust" if entry.kind == EntryKind.ADJUST else entry.source_kind
        return joy_events.EARN_POINT_METRIC, {
            "Program name": program,
            "Program type": program_type,
            "Earned points": f"{points} points",
            "Created at": when,
        }
    if entry.kind == EntryKind.REDEEM:
        return joy_events.REDEEM_POINTS_METRIC, {
            "Program name": program,
            "Redeemed points": f"{points} points",
            "Discount code": entry.meta.get("discount_code"),
            "Created at": when,
        }
    if entry.kind == EntryKind.EXPIRE:
        return joy_events.POINT_EXPIRATION_METRIC, {
            "Points expire": points,
            "Expired at": when[:10],
        }
    return None


def queue_entry_trigger(
    connection: sqlite3.Connection,
    customer: Customer,
    entry: PointEntry,
    *,
    enabled: Collection[str] | None = None,
) -> bool:
    """Queue the event `entry` produces when its trigger is enabled; True when queued."""
    produced = entry_trigger(entry)
    if produced is None:
        return False
    metric, own = produced
    if metric not in (enabled_metrics(connection) if enabled is None else enabled):
        return False
    properties = {**own, **customer_properties(customer, entry.balance_after)}
    return _enqueue(
        connection,
        customer,
        metric,
        f"joyctl-entry-{entry.id}",
        properties,
        entry.created_at,
        entry.id,
    )


def tier_change_properties(old: str | None, new: str) -> dict[str, Any]:
    return {
        "New tier name": new,
        "Old tier name": old or "",
        "Current tier name": new,
        "Amount to next tier": None,
        "isHighestTier": None,
        "typeCalculator": None,
    }


def queue_tier_change(
    connection: sqlite3.Connection,
    customer: Customer,
    old: str | None,
    balance: int,
    now: str,
    *,
    enabled: Collection[str] | None = None,
) -> bool:
    """Queue `Joy: Tier Achieved` for a customer whose tier an import changed to a new one."""
    metric = joy_events.TIER_ACHIEVED_METRIC
    new = customer.tier
    if not new or new == old:
        return False
    if metric not in (enabled_metrics(connection) if enabled is None else enabled):
        return False
    properties = {**tier_change_properties(old, new), **customer_properties(customer, balance)}
    unique_id = f"joyctl-tier-{customer.id}-{new}-{now}"
    return _enqueue(connection, customer, metric, unique_id, properties, now, None)


def _enqueue(
    connection: sqlite3.Connection,
    customer: Customer,
    metric: str,
    unique_id: str,
    properties: dict[str, Any],
    time: str,
    entry_id: int | None,
) -> bool:
    payload = joy_events.joy_event(
        metric=metric,
        unique_id=unique_id,
        email=customer.email,
        external_id=customer.external_id,
        time=time,
        properties=properties,
    )
    return outbox.enqueue(
        connection,
        kind="event",
        unique_id=unique_id,
        payload=payload,
        now=time,
        customer_id=customer.id,
        entry_id=entry_id,
    )
