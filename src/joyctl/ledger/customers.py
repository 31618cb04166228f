"""Customers: normalised fields, upsert by email, and look-ups.

A customer is keyed by its normalised email (trimmed, lower case), which is how Klaviyo and the
review apps match people. Upserts follow Klaviyo's profile-import rule: a field given as None is
left as it is, so a partial import never wipes data it did not mention.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from joyctl.errors import DataError
from joyctl.files import limits

MEMBER_STATUSES = ("member", "guest", "excluded")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MONTH_DAY = re.compile(r"^(\d{2})/(\d{2})$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT_LIMIT = 1000
# A leap year, so 02/29 is a valid birthday without a year.
_LEAP_YEAR = 2000


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """What an upsert sets. None means "leave as is" (or the column default on insert)."""

    email: str
    external_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    tier: str | None = None
    birthday: str | None = None
    referral_url: str | None = None
    member_status: str | None = None
    referred: bool | None = None
    last_activity_at: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    email: str
    external_id: str | None
    first_name: str | None
    last_name: str | None
    tier: str | None
    birthday: str | None
    referral_url: str | None
    member_status: str
    referred: bool
    last_activity_at: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Upserted:
    customer_id: int
    created: bool


CUSTOMER_COLUMNS = ", ".join(field.name for field in fields(Customer))
_FIELD_NAMES = [field.name for field in fields(CustomerFields)]


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased; refused unless it looks like one address."""
    email = raw.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise DataError(
            f"{limits.shown(raw.strip())} is not an email address", hint="write it as name@domain"
        )
    return email


def normalize_birthday(raw: str) -> str:
    """MM/DD (no year) or YYYY-MM-DD from 1900 on, checked against the calendar."""
    text = raw.strip()
    month_day = _MONTH_DAY.match(text)
    hint = "write it as MM/DD or YYYY-MM-DD"
    try:
        if month_day:
            date(_LEAP_YEAR, int(month_day.group(1)), int(month_day.group(2)))
            return text
    except ValueError:
        pass
    if not _FULL_DATE.match(text):
        raise DataError(f"birthday {limits.shown(text)} is not a date", hint=hint)
    try:
        return limits.calendar_date(text, "birthday").isoformat()
    except DataError as exc:
        raise DataError(exc.message, hint=hint) from None


def normalize_timestamp(raw: str) -> str:
    """An ISO 8601 date-time from 1900 to 2200 (UTC assumed without an offset), stored in UTC."""
    try:
        moment = limits.moment(raw, "time")
    except DataError:
        raise DataError(
            f"{limits.shown(raw.strip())} is not a date-time from 1900 to 2200",
            hint="write it as ISO 8601, e.g. 2026-01-31T12:00Z",
        ) from None
    return moment.astimezone(UTC).isoformat()


def normalize_fields(raw: CustomerFields) -> CustomerFields:
    """The same fields, validated and in their stored form; DataError names the bad one."""
    status = raw.member_status.strip().lower() if raw.member_status is not None else None
    if status is not None and status not in MEMBER_STATUSES:
        raise DataError(
            f"member_status {limits.shown(raw.member_status)} is not one of"
            f" {', '.join(MEMBER_STATUSES)}",
            hint="leave it empty for member",
        )
    url = _text("referral_url", raw.referral_url)
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise DataError(
            f"referral_url {limits.shown(url)} is not an http(s) URL", hint="write the full URL"
        )
    return CustomerFields(
        email=normalize_email(raw.email),
        external_id=_text("external_id", raw.external_id),
        first_name=_text("first_name", raw.first_name),
        last_name=_text("last_name", raw.last_name),
        tier=_text("tier", raw.tier),
        birthday=normalize_birthday(raw.birthday) if raw.birthday else None,
        referral_url=url,
        member_status=status,
        referred=raw.referred,
        last_activity_at=normalize_timestamp(raw.last_activity_at)
        if raw.last_activity_at
        else None,
    )


def _text(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > _TEXT_LIMIT:
        raise DataError(f"{name} is longer than {_TEXT_LIMIT} characters", hint="shorten it")
    return value.strip()


def upsert_customer(
    connection: sqlite3.Connection, raw: CustomerFields, *, now: datetime | None = None
) -> Upserted:
    """Create the customer or update the fields given; DataError on bad or clashing values."""
    values = normalize_fields(raw)
    stamp = (now or datetime.now(UTC)).isoformat()
    params: dict[str, object] = {name: getattr(values, name) for name in _FIELD_NAMES}
    params["referred"] = None if values.referred is None else int(values.referred)
    params["now"] = stamp
    try:
        # Insert first: a new customer costs one statement, which matters on large imports.
        inserted = connection.execute(_INSERT_SQL, params)
        if inserted.rowcount == 1:
            return Upserted(int(inserted.lastrowid or 0), created=True)
        row = connection.execute(_UPDATE_SQL, params).fetchone()
    except sqlite3.IntegrityError as exc:
        if "external_id" in str(exc):
            raise DataError(
                f"external_id {limits.shown(values.external_id)} belongs to another customer",
                hint="each external id can name only one email",
            ) from None
        raise
    return Upserted(int(row[0]), created=False)


_INSERT_SQL = (
    "INSERT INTO customers (email, external_id, first_name, last_name, tier, birthday,"
    " referral_url, member_status, referred, last_activity_at, created_at, updated_at)"
    " VALUES (:email, :external_id, :first_name, :last_name, :tier, :birthday,"
    " :referral_url, coalesce(:member_status, 'member'), coalesce(:referred, 0),"
    " :last_activity_at, :now, :now) ON CONFLICT (email) DO NOTHING"
)
_UPDATE_SQL = (
    "UPDATE customers SET "  # noqa: S608 - column names are constants
    + ", ".join(f"{name} = coalesce(:{name}, {name})" for name in _FIELD_NAMES if name != "email")
    + ", updated_at = :now WHERE email = :email RETURNING id"
)


def find_customer(connection: sqlite3.Connection, email: str) -> Customer | None:
    """The customer with this email (normalised first), or None."""
    row = connection.execute(
        f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE email = ?",  # noqa: S608 - constant columns
        (normalize_email(email),),
    ).fetchone()
    return None if row is None else customer_from_row(row)


def find_customers(
    connection: sqlite3.Connection, emails: Iterable[str]
) -> dict[str, Customer | None]:
    """`find_customer` for many emails in one statement, keyed by the emails as given.

    Emails `find_customer` would refuse are left out, so the caller's own look-up reports them.
    """
    wanted: dict[str, list[str]] = {}
    for email in emails:
        try:
            wanted.setdefault(normalize_email(email), []).append(email)
        except DataError:
            continue
    found: dict[str, Customer | None] = {
        email: None for names in wanted.values() for email in names
    }
    rows = connection.execute(
        f"SELECT {CUSTOMER_COLUMNS} FROM customers"  # noqa: S608 - constant columns
        " WHERE email IN (SELECT value FROM json_each(?))",
        (json.dumps(list(wanted)),),
    )
    for row in rows:
        customer = customer_from_row(row)
        for email in wanted[customer.email]:
            found[email] = customer
    return found


def latest_balances(connection: sqlite3.Connection, limit: int) -> dict[str, int]:
    """Email and balance of the `limit` customers whose points moved last, most recent first."""
    rows = connection.execute(
        "SELECT c.email, e.balance_after FROM customers c JOIN point_entries e ON e.id ="
        " (SELECT max(id) FROM point_entries WHERE customer_id = c.id)"
        " ORDER BY e.id DESC LIMIT ?",
        (limit,),
    )
    return {row[0]: row[1] for row in rows}


def iter_customers_with_balances(
    connection: sqlite3.Connection,
) -> Iterator[tuple[Customer, int]]:
    """Every customer in id order with its balance, read lazily so memory stays flat."""
    cursor = connection.execute(
        f"SELECT {CUSTOMER_COLUMNS}, coalesce((SELECT p.balance_after FROM point_entries p"  # noqa: S608 - constant columns
        " WHERE p.customer_id = customers.id ORDER BY p.id DESC LIMIT 1), 0) AS balance"
        " FROM customers ORDER BY id"
    )
    try:
        for row in cursor:
            yield customer_from_row(row), int(row["balance"])
    finally:
        cursor.close()


def customer_from_row(row: sqlite3.Row) -> Customer:
    return Customer(
        id=row["id"],
        email=row["email"],
        external_id=row["external_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        tier=row["tier"],
        birthday=row["birthday"],
        referral_url=row["referral_url"],
        member_status=row["member_status"],
        referred=bool(row["referred"]),
        last_activity_at=row["last_activity_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
