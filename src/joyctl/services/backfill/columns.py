"""Which of a file's columns hold which event field, checked before anything is sent.

A store's own export rarely names its columns as a backfill file does (`Customer Email`,
`Activity`, `Date` rather than `email`, `metric`, `time`). `--map FIELD=COLUMN` says which
column holds a field; the mapping is applied to every record (CSV cells or JSON keys) before
the record is read as an event, and a CSV's header is checked up front, so a file none of whose
rows could be sent is refused at once, naming the columns it has, instead of quarantined row
by row.

A quarantine file is a source too: each of its lines (`{"line", "reason", "record"}`) is read
as the record it holds, so fixed records can be sent again as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from joyctl.errors import DataError, UsageError
from joyctl.files.formats import FileFormat
from joyctl.files.reader import Record, columns_as_written, open_binary, read_records
from joyctl.services.backfill.records import KNOWN_KEYS, PROPERTIES_KEY

FIELDS = (*KNOWN_KEYS, PROPERTIES_KEY)
IDENTITY_FIELDS = ("email", "external_id")
REQUIRED = ("metric", "time")


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """`FIELD=COLUMN` options as {field: column}; UsageError names the bad one."""
    mapping: dict[str, str] = {}
    columns: set[str] = set()
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field, column = field.strip().lower(), column.strip()
        if not sep or not field or not column:
            raise UsageError(
                f"--map {pair!r} is not FIELD=COLUMN", hint='e.g. --map email="Customer Email"'
            )
        if field not in FIELDS:
            raise UsageError(
                f"--map names no event field {field!r}", hint=f"fields: {', '.join(FIELDS)}"
            )
        if field in mapping:
            raise UsageError(f"--map gives the field {field} twice", hint="map it once")
        if column.lower() in columns:
            raise UsageError(f"--map reads the column {column!r} twice", hint="map it once")
        mapping[field] = column
        columns.add(column.lower())
    return mapping


def mapped_header(cells: list[str], *, mapping: Mapping[str, str]) -> list[str]:
    """A CSV header with mapped columns renamed to their fields, checked up front.

    Refused (DataError, or UsageError for a `--map` naming no column) when a mapped column is
    missing, when a mapping would hide a column already named for its field, or when the
    header lacks a field every event needs: then no row could be sent.
    """
    header = columns_as_written(cells)
    by_name = {name.lower(): name for name in header}
    renamed = {}
    for field, column in mapping.items():
        found = by_name.get(column.lower())
        if found is None:
            raise UsageError(
                f"--map {field}={column}: the file has no column {column!r}",
                hint=f"its columns: {', '.join(header)}",
            )
        if field in by_name and by_name[field] != found:
            raise UsageError(
                f"--map {field}={column}: the file has a column {by_name[field]!r} already",
                hint="map that column instead, or rename one of them",
            )
        renamed[found] = field
    columns = [renamed.get(name, name) for name in header]
    _require_fields(columns, header)
    return columns


def check_header(path: Path, mapping: Mapping[str, str]) -> None:
    """Read a CSV's header (and its first record) as a run would, to refuse a bad one now."""
    with open_binary(path) as handle:
        header = partial(mapped_header, mapping=mapping)
        next(iter(read_records(handle, FileFormat.CSV, header=header)), None)


def _require_fields(columns: list[str], header: list[str]) -> None:
    present = {name.lower() for name in columns}
    missing = [name for name in REQUIRED if name not in present]
    if not present & set(IDENTITY_FIELDS):
        missing.insert(0, "email or external_id")
    if missing:
        raise DataError(
            f"the file's header has no {' and no '.join(missing)}, so no row could be sent;"
            f" its columns: {', '.join(header)}",
            hint=f"name the columns that hold them: {_suggestion(missing)}",
        )


def _suggestion(missing: list[str]) -> str:
    fields = [name.split(" or ")[0] for name in missing]
    return " ".join(f"--map {field}=COLUMN" for field in fields)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A record as the event reader takes it: fields named, and whether cells are all text."""

    record: Record
    text_cells: bool
    """Its values came from CSV cells (CSV, or a quarantined CSV row): extra columns are
    properties, and field names match whatever their case."""


def prepared_records(
    records: Iterable[Record], mapping: Mapping[str, str], *, csv: bool
) -> Iterator[SourceRecord]:
    """Each record with quarantine entries unwrapped and mapped columns renamed."""
    renames = {column.lower(): field for field, column in mapping.items()}
    for record in records:
        values, text_cells = record.values, csv
        if record.problem is None and _is_quarantine_entry(values):
            values = values["record"]
            text_cells = csv or all(isinstance(value, str) for value in values.values())
        if renames and record.problem is None:
            values = {renames.get(key.lower(), key): value for key, value in values.items()}
        if values is not record.values:
            record = Record(record.line, values, record.end, record.problem)
        yield SourceRecord(record, text_cells)


def _is_quarantine_entry(values: Mapping[str, Any]) -> bool:
    """A quarantine line: the reason, the record as read, and where it was (a line or entry)."""
    return (
        len(values) == 3
        and "reason" in values
        and "record" in values
        and isinstance(values.get("record"), dict)
        and isinstance(values.get("reason"), str)
    )
