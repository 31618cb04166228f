"""A migrated ledger file per test, closed afterwards."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    try:
        yield connection
    finally:
        connection.close()


def add_customer(connection: sqlite3.Connection, email: str = "ann@example.com") -> int:
    with transaction(connection):
        return upsert_customer(connection, CustomerFields(email=email)).customer_id
