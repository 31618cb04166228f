"""Properties of the customer file of `ledger import`: any row is a customer or a reason."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.files.formats import FileFormat
from joyctl.files.limits import EARLIEST_DATE, LATEST_DATE, MAX_POINTS
from joyctl.files.quarantine import QuarantineLog
from joyctl.files.reader import read_records
from joyctl.files.writer import RecordWriter
from joyctl.ledger.customers import MEMBER_STATUSES, Customer, normalize_fields
from joyctl.ledger.db import open_ledger
from joyctl.ledger.verify import verify_ledger
from joyctl.services.ledger_admin.customer_file import (
    COLUMNS,
    customer_columns,
    customer_row,
    export_values,
    record_values,
)
from joyctl.services.ledger_admin.importing import load_customer_file
from tests.conftest import Cli

HOSTILE = [
    "9" * 5000,
    str(2**64),
    str(2**63),
    "NaN",
    "inf",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "١٢",
    "²",
    "x" * 2000,
]
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(HOSTILE)
)
_VALUES = st.dictionaries(
    st.sampled_from([*COLUMNS, "Email", "other"]),
    _SCALARS
    | st.lists(_SCALARS, max_size=2)
    | st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2),
    max_size=8,
)


@settings(max_examples=500)
@given(values=_VALUES, line=st.integers(min_value=1, max_value=10**9))
def test_any_row_is_a_customer_or_a_data_error(values: dict[str, Any], line: int) -> None:
    try:
        row = customer_row(line, values)
        fields = normalize_fields(row.fields)
    except DataError as exc:
        assert exc.message and len(exc.message) < 400
        return
    assert 0 <= row.points <= MAX_POINTS
    assert fields.email == fields.email.strip().lower()


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=30).map(str.strip)
_CUSTOMERS = st.builds(
    Customer,
    id=st.just(1),
    email=st.from_regex(r"[a-z0-9.]{1,10}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
    external_id=st.none() | _TEXT.filter(bool),
    first_name=st.none() | _TEXT.filter(bool),
    last_name=st.none() | _TEXT.filter(bool),
    tier=st.none() | _TEXT.filter(bool),
    birthday=st.none() | st.dates(EARLIEST_DATE, LATEST_DATE).map(lambda day: day.isoformat()),
    referral_url=st.none()
    | st.from_regex(r"https://[a-z]{1,8}\.com/[a-z0-9]{0,8}", fullmatch=True),
    member_status=st.sampled_from(MEMBER_STATUSES),
    referred=st.booleans(),
    last_activity_at=st.none() | st.just("2026-01-31T12:00:00+00:00"),
    created_at=st.just(""),
    updated_at=st.just(""),
)


@settings(max_examples=200)
@given(
    customer=_CUSTOMERS,
    balance=st.integers(min_value=0, max_value=MAX_POINTS),
    fmt=st.sampled_from(FileFormat),
)
def test_exported_customers_import_back_unchanged(
    customer: Customer, balance: int, fmt: FileFormat
) -> None:
    text = io.StringIO(newline="")
    RecordWriter(text, fmt, COLUMNS).write(export_values(customer, balance))

    (record,) = read_records(
        io.BytesIO(text.getvalue().encode("utf-8")), fmt, header=customer_columns
    )
    row = customer_row(record.line, record_values(record, fmt))
    fields = normalize_fields(row.fields)

    assert row.points == balance
    for name in (
        "email",
        "external_id",
        "first_name",
        "last_name",
        "tier",
        "birthday",
        "referral_url",
    ):
        assert getattr(fields, name) == getattr(customer, name), name
    assert (fields.member_status, fields.referred) == (customer.member_status, customer.referred)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(open_ledger(tmp_path / "ledger.sqlite3")) as connection:
        yield connection


_ROW_CELLS = st.lists(
    st.tuples(
        st.sampled_from(["ann@example.com", "bob@example.com", "bad", ""]),
        st.sampled_from(["", "5", "0", "-1", *HOSTILE]),
        st.sampled_from(["", "1990-05-01", "02/29", *HOSTILE]),
        st.sampled_from(["", "2026-01-31T12:00Z", *HOSTILE]),
    ),
    max_size=8,
)


@settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(rows=_ROW_CELLS)
def test_any_rows_load_or_are_quarantined_and_the_ledger_stays_sound(
    rows: list[tuple[str, str, str, str]], ledger: sqlite3.Connection, tmp_path: Path
) -> None:
    text = io.StringIO(newline="")
    writer = RecordWriter(text, FileFormat.CSV, ("email", "points", "birthday", "last_activity_at"))
    for email, points, birthday, active in rows:
        writer.write(
            {"email": email, "points": points, "birthday": birthday, "last_activity_at": active}
        )
    records = read_records(
        io.BytesIO(text.getvalue().encode()), FileFormat.CSV, header=customer_columns
    )
    quarantine = QuarantineLog(tmp_path / "q.jsonl", resumed=False)

    with closing(quarantine):
        tally = load_customer_file(
            ledger, records, FileFormat.CSV, quarantine, source="test", batch_size=3
        )

    kept = tally.customers_created + tally.customers_updated
    assert kept + quarantine.count == tally.records
    assert all(check.ok for check in verify_ledger(ledger))


def test_hostile_values_through_ledger_import(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    lines = [
        {"email": "a1@example.com", "points": int("9" * 30)},
        {"email": "a2@example.com", "points": 2**64},
        {"email": "a3@example.com", "points": 2**63 - 1},
        {"email": "a4@example.com", "last_activity_at": "9999-12-31T23:59:59-14:00"},
        {"email": "a5@example.com", "last_activity_at": "0001-01-01T00:00:00+14:00"},
        {"email": "a6@example.com", "birthday": "0001-01-01"},
        {"email": "a7@example.com", "first_name": "x" * 5000},
        {"email": "good@example.com", "points": 12},
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    text = text.replace(str(int("9" * 30)), "9" * 5000)  # a 5,000-digit integer, as written
    text += '\n{"email": "nan@example.com", "points": NaN}\n{"email": "deep@example.com", "tier": '
    text += "[" * 10_000 + "]" * 10_000 + "}\n"
    source = tmp_path / "hostile.jsonl"
    source.write_text(text, encoding="utf-8")

    result = cli("-p", "shop", "--json", "ledger", "import", str(source))

    assert result.exit_code == 7, result.stderr
    assert "internal error" not in result.stdout + result.stderr
    data = json.loads(result.stdout)["data"]
    assert (data["records"], data["quarantined"], data["opening_points"]) == (10, 9, 12)
    quarantine = tmp_path / "hostile.jsonl.quarantine.jsonl"
    entries = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert [entry["line"] for entry in entries] == [1, 2, 3, 4, 5, 6, 7, 9, 10]
    assert all(entry["reason"] for entry in entries)
    verified = cli("-p", "shop", "ledger", "verify")
    assert verified.exit_code == 0, verified.stderr
