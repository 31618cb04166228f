"""The customer file of `ledger import` and `ledger export`: its columns and their values.

The same columns both ways, in CSV or JSON Lines (read and written by `joyctl.files`), so an
export loads back into an empty ledger unchanged. A CSV header must name known columns, email
among them; a JSON line must hold no other keys. Empty cells mean "leave as is".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joyctl.errors import DataError
from joyctl.files import limits
from joyctl.files.formats import FileFormat
from joyctl.files.reader import Record
from joyctl.ledger.bulk import CustomerRow
from joyctl.ledger.customers import Customer, CustomerFields

COLUMNS = (
    "email",
    "external_id",
    "first_name",
    "last_name",
    "tier",
    "birthday",
    "referral_url",
    "member_status",
    "referred",
    "last_activity_at",
    "points",
)
_TEXT_COLUMNS = frozenset(COLUMNS) - {"referred", "points"}
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def customer_columns(cells: list[str]) -> list[str]:
    """A CSV header's column names (any case); DataError unless every one is known."""
    if not cells:
        raise DataError("the file is empty", hint="the first line names the columns, e.g. email")
    header = [cell.strip().lower() for cell in cells]
    unknown = [name for name in header if name not in COLUMNS]
    problem = None
    if unknown:
        problem = f"unknown columns {limits.shown_names(unknown)}"
    elif "email" not in header:
        problem = "no email column"
    elif len(set(header)) != len(header):
        problem = "a column named twice"
    if problem is not None:
        raise DataError(
            f"cannot import this CSV: its header has {problem}",
            hint=f"the columns are {', '.join(COLUMNS)} (only email is required)",
        )
    return header


def record_values(record: Record, file_format: FileFormat) -> dict[str, Any]:
    """The values to load and to quarantine: a readable CSV row's empty cells become None."""
    if file_format is FileFormat.CSV and record.problem is None:
        return {key: cell or None for key, cell in record.values.items()}
    return record.values


def customer_row(line: int, values: Mapping[str, Any]) -> CustomerRow:
    """One record's customer fields and opening balance (DataError names what is wrong)."""
    unknown = sorted(str(key) for key in values if key not in COLUMNS)
    if unknown:
        raise DataError(f"unknown keys {limits.shown_names(unknown)}")
    text = {name: _as_text(name, values.get(name)) for name in _TEXT_COLUMNS}
    email = text.pop("email")
    if email is None:
        raise DataError("email is missing")
    return CustomerRow(
        line,
        CustomerFields(email=email, referred=_as_flag(values.get("referred")), **text),
        _as_points(values.get("points")),
    )


def export_values(customer: Customer, balance: int) -> dict[str, Any]:
    """One customer as a record with the import columns; `points` is the current balance."""
    values: dict[str, Any] = {name: getattr(customer, name) for name in COLUMNS[:-1]}
    values["points"] = balance
    return values


def _as_text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"{name} must be text, not {type(value).__name__}")
    return str(value)


def _as_flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise DataError(f"referred {limits.shown(value)} is not true or false")


def _as_points(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        return limits.whole_number(value, "points", low=0, high=limits.MAX_POINTS)
    except DataError:
        raise DataError(
            f"points {limits.shown(value)} is not a whole number from 0 to {limits.MAX_POINTS:,}"
        ) from None
