"""`joyctl triggers test`: send one realistic Joy event for a customer, as `stripe trigger` does.

The event carries a unique id and, where the ledger knows them, the customer's real name,
balance and tier; `--set` overrides any property. A live (non-test) Klaviyo account is refused
unless the caller allows it: a test event starts real flows there.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from joyctl.errors import UsageError
from joyctl.klaviyo import joy_events
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.events import EventInput, create_event
from joyctl.klaviyo.resources.metrics import find_metric_by_name, get_events
from joyctl.klaviyo.resources.profiles import get_profile_by_email
from joyctl.ledger.customers import find_customer
from joyctl.ledger.points import current_balance
from joyctl.services.triggers.catalogue import resolve_names
from joyctl.services.triggers.feed import customer_properties, tier_change_properties

LIVE_ACCOUNT_CODE = "live_account"


class FiredTrigger(BaseModel):
    metric: str
    email: str
    unique_id: str
    account_id: str
    test_account: bool
    properties: dict[str, Any]
    waited: bool
    emails_sent: list[str]
    """Subjects of the flow emails Klaviyo recorded as received after this event (--wait)."""


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """`PROPERTY=VALUE` pairs; the property may contain spaces, the value anything."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"--set {pair!r} is not PROPERTY=VALUE", hint="e.g. --set 'Reward=10% off'"
            )
        found[name.strip()] = value
    return found


def sample_properties(connection: sqlite3.Connection, metric: str, email: str) -> dict[str, Any]:
    """Realistic values for every property of `metric`; the ledger's where it knows them."""
    customer = find_customer(connection, email)
    balance = current_balance(connection, customer.id) if customer else 250
    tier = (customer.tier if customer else None) or "Gold"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    values: dict[str, Any] = {
        "Program name": "Test trigger",
        "Earned points": "50 points",
        "Redeemed points": "100 points",
        "Discount code": "JOY-TEST-10",
        "Created at": now,
        "Points expire": 50,
        "Expired at": now[:10],
        "Birthday": (customer.birthday if customer and customer.birthday else "06/15"),
        "rewardType": "Point",
        "reward": "50 points",
        "Reward": "50 points",
        "Milestone name": "First 1,000 points",
        **tier_change_properties("Silver", tier),
    }
    wanted = joy_events.metric_properties(metric)
    properties = {name: values[name] for name in wanted if name in values}
    if customer is not None:
        properties.update(customer_properties(customer, balance))
    else:
        properties.update({"Customer name": "", "Customer points": balance, "Customer ID": None})
    return properties


def fire_trigger(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    *,
    name: str,
    email: str,
    overrides: dict[str, str],
    allow_live_account: bool,
    wait: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> FiredTrigger:
    (metric,) = resolve_names([name])
    account = get_account(client)
    if not account.test_account and not allow_live_account:
        raise UsageError(
            f"account {account.id} is a live Klaviyo account: a test event would start its flows",
            hint="use a test account, or pass --allow-live-account",
        )
    properties = {**sample_properties(connection, metric, email), **overrides}
    unique_id = f"joyctl-test-{uuid.uuid4()}"
    sent_at = datetime.now(UTC).replace(microsecond=0)
    customer = find_customer(connection, email)
    profile: dict[str, Any] = {"email": email}
    if customer is not None and customer.external_id:
        profile["external_id"] = customer.external_id
    create_event(client, EventInput(metric, properties, sent_at, unique_id), profile)
    subjects = _emails_received(client, email, sent_at, wait, sleep) if wait > 0 else []
    return FiredTrigger(
        metric=metric,
        email=email,
        unique_id=unique_id,
        account_id=account.id,
        test_account=account.test_account,
        properties=properties,
        waited=wait > 0,
        emails_sent=subjects,
    )


def _emails_received(
    client: KlaviyoClient, email: str, since: datetime, wait: float, sleep: Callable[[float], None]
) -> list[str]:
    """Subjects of `Received Email` events for the profile since `since`, polled up to `wait`."""
    deadline = time.monotonic() + wait
    while True:
        received = find_metric_by_name(client, joy_events.RECEIVED_EMAIL_METRIC)
        profile = get_profile_by_email(client, email)
        if received is not None and profile is not None:
            events = get_events(client, metric_id=received.id, profile_id=profile.id, since=since)
            subjects = [str(event.event_properties.get("Subject", "")) for event in events]
            if subjects:
                return subjects
        if time.monotonic() >= deadline:
            return []
        sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))
