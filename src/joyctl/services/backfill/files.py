"""Reading a backfill file as a stream, with a byte position after every record.

The file is read in binary and decoded line by line, so the position after each record is an
exact byte offset: a resumed run seeks there instead of reading the file again. A CSV's header
is read from the start of the file each time. Records that cannot be read carry their problem
instead of raising, so they are quarantined and the rest goes on.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from joyctl.errors import DataError, UsageError

FORMATS = ("jsonl", "csv")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_BOM = b"\xef\xbb\xbf"
_IDENTITY_BYTES = 64 * 1024
# A CSV cell may hold a JSON object of properties; Klaviyo's own cap on a request is 5 MB.
_CSV_FIELD_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record: its first line, its values, and the position just after it."""

    line: int
    values: dict[str, Any]
    offset: int
    last_line: int
    problem: str | None = None

    @property
    def position(self) -> dict[str, int]:
        return {"offset": self.offset, "line": self.last_line}


def detect_format(path: Path, given: str | None) -> str:
    if given is not None:
        if given not in FORMATS:
            raise UsageError(f"unknown format {given!r}", hint="use --format csv or jsonl")
        return given
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell the format of {path.name} from its extension",
            hint="name it .csv or .jsonl, or pass --format csv|jsonl",
        )
    return found


def open_binary(path: Path) -> IO[bytes]:
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


def check_same_file(path: Path, recorded: dict[str, Any], offset: int) -> None:
    """A resumed run must read the file it started on; appending to it is fine."""
    current = file_identity(path)
    if current["head_sha256"] != recorded.get("head_sha256") or current["size"] < offset:
        raise DataError(
            f"{path} is not the file this run started on (it changed since)",
            hint="start a new run without --resume; events sent already are not duplicated",
        )


def read_records(
    handle: IO[bytes], file_format: str, *, offset: int = 0, line: int = 0
) -> Iterator[SourceRecord]:
    if file_format == "csv":
        return _csv_records(handle, offset, line)
    return _jsonl_records(handle, offset, line)


def _decode(raw: bytes, offset: int) -> tuple[str, bool]:
    """The text of one line, and whether its bytes were valid UTF-8."""
    if offset == 0 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), False


def _jsonl_records(handle: IO[bytes], offset: int, line: int) -> Iterator[SourceRecord]:
    handle.seek(offset)
    for raw in handle:
        text, valid = _decode(raw, offset)
        offset += len(raw)
        line += 1
        if not text.strip():
            continue
        problem, values = _parse_json_line(text, valid)
        yield SourceRecord(line, values, offset, line, problem)


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


class _LineFeed:
    """Decoded lines for the csv module, counting the bytes and lines it took."""

    def __init__(self, handle: IO[bytes], offset: int, line: int) -> None:
        handle.seek(offset)
        self._handle = handle
        self.offset = offset
        self.line = line
        self.undecodable = False

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        raw = self._handle.readline()
        if not raw:
            raise StopIteration
        text, valid = _decode(raw, self.offset)
        self.offset += len(raw)
        self.line += 1
        self.undecodable = self.undecodable or not valid
        return text


def csv_header(handle: IO[bytes]) -> tuple[list[str], int, int]:
    """The header's column names and the position just after it."""
    feed = _LineFeed(handle, 0, 0)
    try:
        cells = next(csv.reader(feed), None)
    except csv.Error as exc:
        raise DataError(f"cannot read the CSV header: {exc}", hint="check the first line") from None
    if not cells or not any(cell.strip() for cell in cells):
        raise DataError("the file is empty", hint="the first line names the columns")
    header = [cell.strip() for cell in cells]
    if len({name.lower() for name in header}) != len(header):
        raise DataError("the CSV header names a column twice", hint="rename one of them")
    return header, feed.offset, feed.line


def _csv_records(handle: IO[bytes], offset: int, line: int) -> Iterator[SourceRecord]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    header, header_end, header_lines = csv_header(handle)
    if offset < header_end:
        offset, line = header_end, header_lines
    feed = _LineFeed(handle, offset, line)
    reader = csv.reader(feed)
    while True:
        first_line, feed.undecodable = feed.line + 1, False
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SourceRecord(first_line, {}, feed.offset, feed.line, f"not valid CSV ({exc})")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        values, problem = _csv_values(header, cells, feed.undecodable)
        yield SourceRecord(first_line, values, feed.offset, feed.line, problem)


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
