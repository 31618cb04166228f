"""Audience filters compiled to SQL: each criterion, their combination, and hostile values."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from joyctl.ledger import audiences as store
from joyctl.ledger.audiences import Departing, MemberFilter, SyncedMember
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import transaction
from joyctl.ledger.points import EntryKind, NewEntry, append_entry

NOW = "2026-03-01T00:00:00+00:00"


def _customer(connection: sqlite3.Connection, points: int, fields: CustomerFields) -> int:
    with transaction(connection):
        customer_id = upsert_customer(connection, fields).customer_id
        if points:
            entry = NewEntry(customer_id, EntryKind.OPENING, points, f"opening:{fields.email}")
            append_entry(connection, entry)
    return customer_id


@pytest.fixture
def shop(ledger: sqlite3.Connection) -> sqlite3.Connection:
    ann = CustomerFields("ann@example.com", tier="Gold", birthday="02/29", referred=True,
                         last_activity_at="2026-02-20T10:00Z")  # fmt: skip
    bob = CustomerFields("bob@example.com", tier="Silver", birthday="1990-05-01",
                         member_status="guest", last_activity_at="2025-06-01T00:00Z")  # fmt: skip
    _customer(ledger, 1800, ann)
    _customer(ledger, 600, bob)
    _customer(ledger, 100, CustomerFields("cyd@example.com", tier="gold", birthday="1985-02-03"))
    _customer(ledger, 0, CustomerFields("dee@example.com", member_status="excluded"))
    return ledger


def _emails(connection: sqlite3.Connection, member_filter: MemberFilter) -> list[str]:
    rows = store.sample_members(connection, member_filter, 100)
    assert store.count_members(connection, member_filter) == len(rows)
    return [row.email for row in rows]


@pytest.mark.parametrize(
    ("member_filter", "expected"),
    [
        (MemberFilter(), ["ann", "bob", "cyd", "dee"]),
        (MemberFilter(tiers=("GOLD",)), ["ann", "cyd"]),
        (MemberFilter(tiers=("Silver", "Gold")), ["ann", "bob", "cyd"]),
        (MemberFilter(points_at_least=600), ["ann", "bob"]),
        (MemberFilter(points_at_most=600), ["bob", "cyd", "dee"]),
        (MemberFilter(points_at_least=100, points_at_most=600), ["bob", "cyd"]),
        (MemberFilter(statuses=("guest", "excluded")), ["bob", "dee"]),
        (MemberFilter(birthday_months=(2,)), ["ann", "cyd"]),
        (MemberFilter(birthday_months=(5, 12)), ["bob"]),
        (MemberFilter(last_activity_after="2026-01-01T00:00:00+00:00"), ["ann"]),
        (MemberFilter(last_activity_before="2026-01-01T00:00:00+00:00"), ["bob"]),
        (MemberFilter(referred=True), ["ann"]),
        (MemberFilter(referred=False), ["bob", "cyd", "dee"]),
        (MemberFilter(tiers=("gold",), birthday_months=(2,), points_at_least=1000), ["ann"]),
    ],
)
def test_each_criterion_selects_its_customers(
    shop: sqlite3.Connection, member_filter: MemberFilter, expected: list[str]
) -> None:
    assert _emails(shop, member_filter) == [f"{name}@example.com" for name in expected]


def test_the_balance_is_the_current_one_after_later_entries(shop: sqlite3.Connection) -> None:
    bob = store.sample_members(shop, MemberFilter(tiers=("Silver",)), 1)[0].customer_id
    with transaction(shop):
        append_entry(shop, NewEntry(bob, EntryKind.REDEEM, -550, "redeem:bob"))
    assert _emails(shop, MemberFilter(points_at_most=50)) == [
        "bob@example.com",
        "dee@example.com",
    ]


@pytest.mark.parametrize(
    "hostile", ["Gold') OR 1=1 --", "'; DROP TABLE customers; --", ":tier_0", "?", "%"]
)
def test_values_are_bound_never_spliced(shop: sqlite3.Connection, hostile: str) -> None:
    compiled = store.compile_filter(MemberFilter(tiers=(hostile,)))
    assert compiled.where == "lower(m.tier) IN (:tier_0)"
    assert compiled.params == {"tier_0": hostile.lower()}
    assert _emails(shop, MemberFilter(tiers=(hostile,))) == []
    assert store.count_members(shop, MemberFilter()) == 4


def test_diff_against_the_membership_last_synced(shop: sqlite3.Connection) -> None:
    with transaction(shop):
        audience = store.insert_audience(shop, "gold", "{}", NOW)
        store.set_mapping(
            shop, audience, list_id="L1", list_name="Gold", list_created=True, now=NOW
        )
    gold = MemberFilter(tiers=("gold",))
    to_add = store.members_to_add(shop, audience, gold)
    assert [c.email for c in to_add] == ["ann@example.com", "cyd@example.com"]
    with transaction(shop):
        store.remember_profile_ids(shop, [(to_add[0].customer_id, to_add[0].email, "P-ann")], NOW)
        store.record_added(
            shop, audience, "L1", [SyncedMember(to_add[0].customer_id, "P-ann")], NOW
        )
    left = store.members_to_add(shop, audience, gold)
    assert [(c.email, c.known_profile_id) for c in left] == [("cyd@example.com", None)]
    assert store.members_to_remove(shop, audience, MemberFilter(tiers=("Silver",))) == [
        Departing(to_add[0].customer_id, "ann@example.com", "P-ann")
    ]
    assert store.audience_mappings(shop)[0].synced_members == 1

    with transaction(shop):  # another list: what was synced to the first no longer counts
        store.set_mapping(shop, audience, list_id="L2", list_name=None, list_created=False, now=NOW)
    assert store.count_synced(shop, audience) == 0
    candidates = store.members_to_add(shop, audience, gold)
    assert [c.known_profile_id for c in candidates] == ["P-ann", None]


def test_deleting_an_audience_drops_its_mapping_and_membership(shop: sqlite3.Connection) -> None:
    stamp = datetime(2026, 3, 1, tzinfo=UTC).isoformat()
    with transaction(shop):
        audience = store.insert_audience(shop, "Gold Members", "{}", stamp)
        store.set_mapping(
            shop, audience, list_id="L1", list_name="G", list_created=False, now=stamp
        )
        store.record_added(shop, audience, "L1", [SyncedMember(1, "P1")], stamp)
    assert store.find_audience(shop, "gold members") is not None
    with transaction(shop):
        store.delete_audience(shop, audience)
    assert store.audience_mappings(shop) == []
    assert shop.execute("SELECT count(*) FROM audience_members").fetchone()[0] == 0
