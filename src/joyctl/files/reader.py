"""Reading a CSV or JSON Lines file as a stream of records, each with its position.

The file is read line by line (`joyctl.files.lines`), so the position after each record is an
exact byte offset (with the number of lines read up to it): a caller that stopped can seek there
and read on instead of reading the file again, and reports name a record by its first line.
A CSV's header is read from the start of the file on every call and checked by the caller's
rule. A record that cannot be read carries its problem instead of raising, so the caller can
quarantine it and go on; only an unusable header or file raises.

Every record is bounded (`joyctl.files.limits`): a line over `MAX_LINE_BYTES` is a problem of its
own, JSON is parsed by the bounded loader, and a CSV record may span at most `MAX_RECORD_LINES`
lines. CSV is read strictly: a quote must close before the next separator. A record that spans
several lines and still cannot be read (a quote left open to the end of the file, a closing
quote in the wrong place, a wrong number of cells) had a quote left open on its first line,
most likely by mistake: that first line alone is the bad record, and reading goes on at the
line after it, so an unclosed quote never swallows the records that follow.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from joyctl.errors import DataError, UsageError
from joyctl.files.formats import FileFormat
from joyctl.files.limits import MAX_LINE_BYTES, MAX_RECORD_LINES, load_json
from joyctl.files.lines import START, Lines, Oversized, Position

__all__ = [
    "START",
    "Bounds",
    "HeaderRule",
    "Position",
    "Record",
    "columns_as_written",
    "file_identity",
    "open_binary",
    "read_records",
    "same_file",
]

_IDENTITY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Record:
    """One record: its first line, its values, and the position just after it.

    `problem` says why the record could not be read; its values are then what could be kept
    (the CSV cells, or `{"_raw": text}` for a JSON line).
    """

    line: int
    values: dict[str, Any]
    end: Position
    problem: str | None = None


HeaderRule = Callable[[list[str]], list[str]]
"""Turns a CSV's first row into its column names, or raises DataError saying what is wrong."""


def columns_as_written(cells: list[str]) -> list[str]:
    """The header's names without surrounding spaces; refused when blank or a name repeats."""
    if not any(cell.strip() for cell in cells):
        raise DataError("the file is empty", hint="the first line names the columns")
    header = [cell.strip() for cell in cells]
    if len({name.lower() for name in header}) != len(header):
        raise DataError("the CSV header names a column twice", hint="rename one of them")
    return header


def open_binary(path: Path) -> IO[bytes]:
    """The file, opened for `read_records` (UsageError when it cannot be)."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist", hint="check the path") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None


def file_identity(path: Path) -> dict[str, Any]:
    """Size and a digest of the first 64 KiB: enough to notice a different file on resume."""
    with open_binary(path) as handle:
        head = handle.read(_IDENTITY_BYTES)
    return {"size": path.stat().st_size, "head_sha256": hashlib.sha256(head).hexdigest()}


def same_file(path: Path, identity: Mapping[str, Any], offset: int) -> bool:
    """Whether `path` is still the file `identity` describes, at least `offset` bytes long.

    Records appended after its first 64 KiB keep it the same file: a run reading on from
    `offset` then meets them.
    """
    current = file_identity(path)
    return bool(current["head_sha256"] == identity.get("head_sha256")) and current["size"] >= offset


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long a line and a CSV record may be (the defaults are `joyctl.files.limits`)."""

    line_bytes: int = MAX_LINE_BYTES
    record_lines: int = MAX_RECORD_LINES


def read_records(
    handle: IO[bytes],
    file_format: FileFormat,
    *,
    start: Position = START,
    header: HeaderRule = columns_as_written,
    bounds: Bounds = Bounds(),
) -> Iterator[Record]:
    """The records after `start` (a record's `end`, or the start of the file).

    Blank lines are skipped. `header` checks a CSV's first row and names its columns.
    """
    if file_format is FileFormat.CSV:
        return _csv_records(handle, start, header, bounds)
    return _jsonl_records(handle, start, bounds)


def _oversized(line: int, found: Oversized, end: Position, bounds: Bounds) -> Record:
    problem = f"the line is {found.size:,} bytes; a line may hold at most {bounds.line_bytes:,}"
    return Record(line, {"_raw": found.head, "_bytes": found.size}, end, problem)


def _jsonl_records(handle: IO[bytes], start: Position, bounds: Bounds) -> Iterator[Record]:
    lines = Lines(handle, start, max_line_bytes=bounds.line_bytes)
    while (found := lines.next_line()) is not None:
        if isinstance(found, Oversized):
            yield _oversized(lines.line, found, lines.position, bounds)
        elif found.strip():
            problem, values = _parse_json_line(found, lines.valid)
            yield Record(lines.line, values, lines.position, problem)


def _parse_json_line(text: str, valid: bool) -> tuple[str | None, dict[str, Any]]:
    if not valid:
        return "not valid UTF-8 text", _raw(text)
    try:
        value = load_json(text)
    except DataError as exc:
        return exc.message, _raw(text)
    if not isinstance(value, dict):
        return "not a JSON object", _raw(text)
    return None, value


def _raw(text: str) -> dict[str, Any]:
    """What a line that is not a record keeps: its text, for the quarantine."""
    return {"_raw": text.rstrip("\r\n")}


class _OversizedLine(Exception):
    def __init__(self, found: Oversized) -> None:
        self.found = found


class _RunOn(Exception):
    """A quoted cell runs on past the bounds of one record."""


class _RecordLines:
    """The lines of one CSV record at a time, for `csv.reader`: bounded in lines and bytes."""

    def __init__(self, lines: Lines, bounds: Bounds) -> None:
        self.lines = lines
        self.bounds = bounds
        self.begin()

    def begin(self) -> None:
        """A new record starts at the next line."""
        self.start_offset, self.start_line = self.lines.offset, self.lines.line
        self.count = 0
        self.undecodable = False
        self.first_text = ""
        self.first_end = (self.start_offset, self.start_line)

    @property
    def first(self) -> tuple[str, Position]:
        """The record's first line and the position after it."""
        return self.first_text, Position(*self.first_end)

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        if self.count >= self.bounds.record_lines:
            raise _RunOn(f"it is still open after {self.bounds.record_lines:,} lines")
        found = self.lines.next_line()
        if found is None:
            raise StopIteration
        if isinstance(found, Oversized):
            if self.count == 0:
                raise _OversizedLine(found)
            raise _RunOn(f"it runs into a line of {found.size:,} bytes")
        self.count += 1
        if self.count == 1:
            self.first_text, self.first_end = found, (self.lines.offset, self.lines.line)
        elif self.lines.offset - self.start_offset > self.bounds.line_bytes:
            raise _RunOn(f"it is still open after {self.bounds.line_bytes:,} bytes")
        self.undecodable = self.undecodable or not self.lines.valid
        return found


def _csv_header(reader: Iterator[list[str]], source: _RecordLines, rule: HeaderRule) -> list[str]:
    source.begin()
    try:
        cells = next(reader, None)
    except (csv.Error, _RunOn) as exc:
        raise DataError(f"cannot read the CSV header: {exc}", hint="check the first line") from None
    except _OversizedLine as exc:
        raise DataError(
            f"cannot read the CSV header: its line is {exc.found.size:,} bytes",
            hint="check the first line",
        ) from None
    return rule(cells or [])


def _csv_records(
    handle: IO[bytes], start: Position, rule: HeaderRule, bounds: Bounds
) -> Iterator[Record]:
    # A record's bytes are bounded here, below csv's own limit, which then never trips.
    csv.field_size_limit(max(csv.field_size_limit(), bounds.line_bytes + 1))
    lines = Lines(handle, START, max_line_bytes=bounds.line_bytes)
    source = _RecordLines(lines, bounds)
    reader = csv.reader(source, strict=True)
    header = _csv_header(reader, source, rule)
    if start.offset > lines.offset:
        lines.seek(start)
    while True:
        source.begin()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _OversizedLine as exc:
            yield _oversized(source.start_line + 1, exc.found, lines.position, bounds)
            continue
        except (csv.Error, _RunOn) as exc:
            yield _unreadable(source, exc)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if source.count > 1 and len(cells) != len(header):
            detail = f"the record it starts has {len(cells)} fields, the header {len(header)}"
            yield _first_line_alone(source, detail)
            continue
        values, problem = _csv_values(header, cells, source.undecodable)
        yield Record(source.start_line + 1, values, lines.position, problem)


def _unreadable(source: _RecordLines, error: Exception) -> Record:
    """The record csv could not read: the first line alone when it ran on past it."""
    detail = str(error)
    at_end = isinstance(error, csv.Error) and detail == "unexpected end of data"
    if at_end:
        detail = "the file ends inside it"
    if isinstance(error, _RunOn) or source.count > 1 or at_end:
        return _first_line_alone(source, detail)
    text, end = source.first
    return Record(end.line, {"_raw": text.rstrip("\r\n")}, end, f"not valid CSV ({detail})")


def _first_line_alone(source: _RecordLines, detail: str) -> Record:
    text, end = source.first
    source.lines.seek(end)
    problem = f"not valid CSV: a quoted cell opened on this line does not close ({detail})"
    return Record(end.line, {"_raw": text.rstrip("\r\n")}, end, problem)


def _csv_values(
    header: list[str], cells: list[str], undecodable: bool
) -> tuple[dict[str, Any], str | None]:
    values: dict[str, Any] = dict(zip(header, cells, strict=False))
    if len(cells) != len(header):
        values["_extra"] = cells[len(header) :]
        return values, f"{len(cells)} fields, but the header has {len(header)}"
    if undecodable:
        return values, "not valid UTF-8 text"
    return values, None
