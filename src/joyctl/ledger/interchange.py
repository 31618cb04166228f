"""The ledger's file format for customers and balances: CSV or JSON Lines, row by row.

`ledger import` reads it and `ledger export` writes it, with the same columns, so an export
loads back into an empty ledger unchanged. Readers yield one record at a time and never hold
the file in memory; a record that cannot be read carries its problem instead of raising, so
the caller can quarantine it and go on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from joyctl.errors import DataError, UsageError
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
_UNDECODABLE = "\ufffd"  # what errors="replace" leaves where bytes were not UTF-8


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


_EXTENSIONS = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL}


def detect_format(path: Path, given: FileFormat | None) -> FileFormat:
    """The format given, else the one the file name's extension says."""
    if given is not None:
        return given
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell the format of {path.name} from its extension",
            hint="name it .csv or .jsonl, or pass --format csv|jsonl",
        )
    return found


@dataclass(frozen=True, slots=True)
class Record:
    """One record of an import file; `problem` is set when it could not be read."""

    line: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ImportRow:
    fields: CustomerFields
    points: int


def read_records(handle: IO[str], file_format: FileFormat) -> Iterator[Record]:
    if file_format is FileFormat.CSV:
        return _read_csv(handle)
    return _read_jsonl(handle)


def _read_csv(handle: IO[str]) -> Iterator[Record]:
    reader = csv.reader(handle)
    header = _csv_header(next(reader, None))
    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values: dict[str, Any] = dict(zip(header, cells, strict=False))
        if len(cells) != len(header):
            values["_extra"] = cells[len(header) :]
            problem = f"{len(cells)} fields, but the header has {len(header)}"
            yield Record(line, values, problem)
        elif any(_UNDECODABLE in cell for cell in cells):
            yield Record(line, values, "not valid UTF-8 text")
        else:
            yield Record(line, {key: cell or None for key, cell in values.items()})


def _csv_header(cells: list[str] | None) -> list[str]:
    if not cells:
        raise DataError("the file is empty", hint="the first line names the columns, e.g. email")
    header = [cell.strip().lower() for cell in cells]
    unknown = [name for name in header if name not in COLUMNS]
    problem = None
    if unknown:
        problem = f"unknown columns {', '.join(unknown)}"
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


def _read_jsonl(handle: IO[str]) -> Iterator[Record]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(line, {"_raw": text.rstrip("\n")}, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            yield Record(line, {"_raw": text.rstrip("\n")}, "not a JSON object")
            continue
        unknown = sorted(str(key) for key in value if key not in COLUMNS)
        if unknown:
            yield Record(line, value, f"unknown keys {', '.join(unknown)}")
        elif _UNDECODABLE in text:
            yield Record(line, value, "not valid UTF-8 text")
        else:
            yield Record(line, value)


def open_import_file(path: Path) -> IO[str]:
    try:
        # utf-8-sig drops the byte-order mark spreadsheets write; undecodable bytes become
        # U+FFFD so the record holding them is quarantined instead of failing the whole file.
        return path.open(encoding="utf-8-sig", errors="replace", newline="")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist", hint="check the path") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None


def default_quarantine_path(path: Path) -> Path:
    return path.with_name(path.name + ".quarantine.jsonl")


def parse_row(values: Mapping[str, Any]) -> ImportRow:
    """Turn one record's values into customer fields and an opening balance (DataError if bad)."""
    text = {name: _as_text(name, values.get(name)) for name in _TEXT_COLUMNS}
    email = text.pop("email")
    if email is None:
        raise DataError("email is missing")
    return ImportRow(
        fields=CustomerFields(email=email, referred=_as_flag(values.get("referred")), **text),
        points=_as_points(values.get("points")),
    )


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
    raise DataError(f"referred {value!r} is not true or false")


def _as_points(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DataError(f"points {value!r} is not a whole number of at least 0")
    return value


def export_values(customer: Customer, balance: int) -> dict[str, Any]:
    """One customer as a record with the import columns; `points` is the current balance."""
    values: dict[str, Any] = {name: getattr(customer, name) for name in COLUMNS[:-1]}
    values["points"] = balance
    return values


class RecordWriter:
    """Writes records in one format to an open text stream."""

    def __init__(self, handle: IO[str], file_format: FileFormat) -> None:
        self._handle = handle
        self._format = file_format
        self._csv = csv.writer(handle, lineterminator="\n")
        if file_format is FileFormat.CSV:
            self._csv.writerow(COLUMNS)

    def write(self, values: Mapping[str, Any]) -> None:
        if self._format is FileFormat.JSONL:
            self._handle.write(json.dumps(dict(values), ensure_ascii=False) + "\n")
        else:
            self._csv.writerow([_csv_cell(values.get(name)) for name in COLUMNS])

    def write_all(self, records: Iterable[Mapping[str, Any]]) -> int:
        count = 0
        for values in records:
            self.write(values)
            count += 1
        return count


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
