"""find_customers answers as find_customer would for each email, in one statement."""

from __future__ import annotations

import sqlite3

from joyctl.ledger.customers import CustomerFields, find_customer, find_customers, upsert_customer
from joyctl.ledger.db import transaction


def test_find_customers_matches_find_customer_for_each_email(ledger: sqlite3.Connection) -> None:
    with transaction(ledger):
        upsert_customer(ledger, CustomerFields(email="ann@example.com"))
        upsert_customer(ledger, CustomerFields(email="bo@example.com"))
    emails = ["ann@example.com", " Ann@Example.COM", "bo@example.com", "cy@example.com"]

    found = find_customers(ledger, emails)

    assert found == {email: find_customer(ledger, email) for email in emails}
    assert found["cy@example.com"] is None


def test_find_customers_leaves_out_emails_find_customer_refuses(
    ledger: sqlite3.Connection,
) -> None:
    assert find_customers(ledger, ["not an email", "ann@example.com"]) == {"ann@example.com": None}
