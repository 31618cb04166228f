"""Customers: normalised emails and fields, and upserts that leave unnamed fields alone."""

from __future__ import annotations

import sqlite3

import pytest

from joyctl.errors import DataError
from joyctl.ledger.customers import (
    CustomerFields,
    find_customer,
    normalize_birthday,
    normalize_email,
    normalize_timestamp,
    upsert_customer,
)
from joyctl.ledger.db import transaction


def _upsert(connection: sqlite3.Connection, fields: CustomerFields) -> tuple[int, bool]:
    with transaction(connection):
        result = upsert_customer(connection, fields)
    return result.customer_id, result.created


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    for bad in ["", "ann", "ann@", "@example.com", "a b@example.com", "ann@example"]:
        with pytest.raises(DataError, match="is not an email address"):
            normalize_email(bad)


@pytest.mark.parametrize(
    ("raw", "stored"), [("02/29", "02/29"), ("12/31", "12/31"), (" 1990-05-01 ", "1990-05-01")]
)
def test_birthdays_are_month_day_or_full_dates(raw: str, stored: str) -> None:
    assert normalize_birthday(raw) == stored


@pytest.mark.parametrize("raw", ["13/01", "02/30", "1990-02-30", "5/1", "May 1", "1990/05/01"])
def test_impossible_birthdays_are_refused(raw: str) -> None:
    with pytest.raises(DataError, match="is not a date"):
        normalize_birthday(raw)


def test_timestamps_are_stored_in_utc() -> None:
    assert normalize_timestamp("2026-01-31T12:00Z") == "2026-01-31T12:00:00+00:00"
    assert normalize_timestamp("2026-01-31T14:00+02:00") == "2026-01-31T12:00:00+00:00"
    assert normalize_timestamp("2026-01-31") == "2026-01-31T00:00:00+00:00"
    with pytest.raises(DataError, match="is not a date-time"):
        normalize_timestamp("yesterday")


def test_upsert_creates_then_updates_only_the_fields_given(ledger: sqlite3.Connection) -> None:
    first = CustomerFields(
        email=" Ann@Example.com",
        external_id="shopify-1",
        first_name="Ann",
        tier="Gold",
        birthday="02/29",
        referral_url="https://shop.example/r/ann",
        member_status="Guest",
        referred=True,
    )
    customer_id, created = _upsert(ledger, first)
    assert created
    again = _upsert(ledger, CustomerFields(email="ann@example.com", last_name="Lee", tier="Silver"))
    assert again == (customer_id, False)
    ann = find_customer(ledger, "ANN@example.com ")
    assert ann is not None
    assert (ann.first_name, ann.last_name, ann.tier) == ("Ann", "Lee", "Silver")
    assert (ann.member_status, ann.referred, ann.birthday) == ("guest", True, "02/29")
    assert ann.external_id == "shopify-1"


def test_new_customers_are_members_by_default(ledger: sqlite3.Connection) -> None:
    _upsert(ledger, CustomerFields(email="bob@example.com"))
    bob = find_customer(ledger, "bob@example.com")
    assert bob is not None
    assert (bob.member_status, bob.referred) == ("member", False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (CustomerFields(email="a@example.com", member_status="vip"), "member_status"),
        (CustomerFields(email="a@example.com", referral_url="shop.example/r"), "http"),
        (CustomerFields(email="a@example.com", tier="x" * 1001), "longer than"),
        (CustomerFields(email="a@example.com", birthday="31/12"), "not a date"),
    ],
)
def test_bad_fields_are_refused(
    ledger: sqlite3.Connection, fields: CustomerFields, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        _upsert(ledger, fields)
    assert find_customer(ledger, "a@example.com") is None


def test_an_external_id_names_one_customer(ledger: sqlite3.Connection) -> None:
    first = _upsert(ledger, CustomerFields(email="ann@example.com", external_id="42"))
    again = _upsert(ledger, CustomerFields(email="ann@example.com", external_id="42", tier="G"))
    assert again == (first[0], False)
    with pytest.raises(DataError, match="belongs to another customer"):
        _upsert(ledger, CustomerFields(email="bob@example.com", external_id="42"))
