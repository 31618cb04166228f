"""Reading a CSV or JSON Lines file as a stream of records, each with its position.

The file is read in binary and decoded line by line, so the position after each record is an
exact byte offset (with the number of lines read up to it): a caller that stopped can seek there
and read on instead of reading the file again, and reports name a record by its first line.
Lines end at LF, CRLF or a lone CR, as in Python's own newline handling. A byte-order mark at
the start is skipped. A CSV's header is read from the start of the file on every call and
checked by the caller's rule. A record that cannot be read carries its problem instead of
raising, so the caller can quarantine it and go on; only an unusable header or file raises.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from joyctl.errors import DataError, UsageError
from joyctl.files.formats import FileFormat

_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")
_IDENTITY_BYTES = 64 * 1024
# A CSV cell may hold a JSON object of properties; Klaviyo's own cap on a request is 5 MB.
_CSV_FIELD_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Position:
    """A place to read on from: a byte offset and the number of lines before it."""

    offset: int = 0
    line: int = 0

    def to_json(self) -> dict[str, int]:
        return {"offset": self.offset, "line": self.line}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Position:
        return cls(int(value.get("offset", 0)), int(value.get("line", 0)))


START = Position()


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


def read_records(
    handle: IO[bytes],
    file_format: FileFormat,
    *,
    start: Position = START,
    header: HeaderRule = columns_as_written,
) -> Iterator[Record]:
    """The records after `start` (a record's `end`, or the start of the file).

    Blank lines are skipped. `header` checks a CSV's first row and names its columns.
    """
    if file_format is FileFormat.CSV:
        return _csv_records(handle, start, header)
    return _jsonl_records(handle, start)


class _Lines:
    """Decoded lines from a position, counting the bytes and lines taken so far."""

    def __init__(self, handle: IO[bytes], start: Position) -> None:
        handle.seek(start.offset)
        self._handle = handle
        self._pending: list[bytes] = []
        self.offset = start.offset
        self.line = start.line
        self.valid = True  # the last line was valid UTF-8
        self.undecodable = False  # some line since the caller last reset this was not

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self._next_raw()
        if self.offset == 0 and raw.startswith(_BOM):
            raw, self.offset = raw[len(_BOM) :], len(_BOM)
        try:
            text, self.valid = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            text, self.valid = raw.decode("utf-8", errors="replace"), False
        self.offset += len(raw)
        self.line += 1
        self.undecodable = self.undecodable or not self.valid
        return text

    def _next_raw(self) -> bytes:
        if self._pending:
            return self._pending.pop()
        raw = self._handle.readline()
        if not raw:
            raise StopIteration
        if b"\r" in raw:
            # readline ends lines at LF only; a lone CR ends a line too.
            self._pending = [piece for piece in reversed(_LONE_CR.split(raw)) if piece]
            return self._pending.pop()
        return raw

    @property
    def position(self) -> Position:
        return Position(self.offset, self.line)


def _jsonl_records(handle: IO[bytes], start: Position) -> Iterator[Record]:
    lines = _Lines(handle, start)
    for text in lines:
        if not text.strip():
            continue
        problem, values = _parse_json_line(text, lines.valid)
        yield Record(lines.line, values, lines.position, problem)


def _parse_json_line(text: str, valid: bool) -> tuple[str | None, dict[str, Any]]:
    raw = {"_raw": text.rstrip("\r\n")}
    if not valid:
        return "not valid UTF-8 text", raw
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg})", raw
    if not isinstance(value, dict):
        return "not a JSON object", raw
    return None, value


def _csv_header(handle: IO[bytes], rule: HeaderRule) -> tuple[list[str], Position]:
    """The header's column names and the position just after it."""
    lines = _Lines(handle, START)
    try:
        cells = next(csv.reader(lines), None)
    except csv.Error as exc:
        raise DataError(f"cannot read the CSV header: {exc}", hint="check the first line") from None
    return rule(cells or []), lines.position


def _csv_records(handle: IO[bytes], start: Position, rule: HeaderRule) -> Iterator[Record]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    header, after_header = _csv_header(handle, rule)
    lines = _Lines(handle, max(start, after_header, key=lambda place: place.offset))
    reader = csv.reader(lines)
    while True:
        first_line, lines.undecodable = lines.line + 1, False
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(first_line, {}, lines.position, f"not valid CSV ({exc})")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        values, problem = _csv_values(header, cells, lines.undecodable)
        yield Record(first_line, values, lines.position, problem)


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
