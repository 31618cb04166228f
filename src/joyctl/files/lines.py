"""The physical lines of a record file, each bounded in size, with the exact byte offset after it.

The file is read in binary and decoded line by line. Lines end at LF, CRLF or a lone CR, as in
Python's own newline handling, and a byte-order mark at the start is skipped. A line longer than
the limit is never held in memory: its first bytes are kept for the quarantine and the rest is
skipped to its line end, so one enormous line costs no more than a normal one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")
_SKIP_BYTES = 1024 * 1024
HEAD_BYTES = 1024
"""How much of an over-long line is kept to say which line it was."""


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
class Oversized:
    """A line over the limit, skipped: its size in bytes and its start, decoded."""

    size: int
    head: str


class Lines:
    """Decoded lines from a place, counting the bytes and lines taken so far."""

    def __init__(self, handle: IO[bytes], start: Position, *, max_line_bytes: int) -> None:
        self._handle = handle
        self._limit = max_line_bytes
        self._pending: list[bytes] = []
        self.offset = self.line = 0
        self.valid = True  # the last line was valid UTF-8
        self.seek(start)

    def seek(self, position: Position) -> None:
        """Read on from `position` (one this reader gave, or the start of the file)."""
        self._handle.seek(position.offset)
        self._pending = []
        self.offset, self.line = position.offset, position.line
        if position.offset == 0:
            if self._handle.read(len(_BOM)) == _BOM:
                self.offset = len(_BOM)
            else:
                self._handle.seek(0)

    @property
    def position(self) -> Position:
        return Position(self.offset, self.line)

    def next_line(self) -> str | Oversized | None:
        """The next line with its line end, an over-long line skipped, or None at the end."""
        found = self._next_raw()
        if found is None:
            return None
        raw, size = found
        self.offset += size
        self.line += 1
        if size > self._limit:
            self.valid = True
            return Oversized(size, raw[:HEAD_BYTES].decode("utf-8", errors="replace"))
        try:
            text, self.valid = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            text, self.valid = raw.decode("utf-8", errors="replace"), False
        return text

    def _next_raw(self) -> tuple[bytes, int] | None:
        """A line's bytes and its size: the whole line, or only its start when it is too long."""
        if self._pending:
            raw = self._pending.pop()
            return raw, len(raw)
        raw = self._handle.readline(self._limit + 1)
        if not raw:
            return None
        if b"\r" in raw:
            raw = self._first_line(raw)
        elif len(raw) > self._limit and not raw.endswith(b"\n"):
            return raw[:HEAD_BYTES], len(raw) + self._skip_rest()
        return raw, len(raw)

    def _first_line(self, raw: bytes) -> bytes:
        """readline ends lines at LF only; a lone CR ends a line too. The other lines wait."""
        pieces = [piece for piece in _LONE_CR.split(raw) if piece]
        if len(raw) > self._limit and not raw.endswith(b"\n"):  # the read stopped at the limit
            if pieces[-1].endswith(b"\r"):
                # The CR is the last byte read: an LF may follow it, making one CRLF.
                following = self._handle.read(1)
                if following == b"\n":
                    pieces[-1] += following
                elif following:
                    self._handle.seek(-1, io.SEEK_CUR)
            else:
                # A line cut short by the limit, after a lone CR: it is read again from its start.
                self._handle.seek(-len(pieces.pop()), io.SEEK_CUR)
        self._pending = pieces[:0:-1]
        return pieces[0]

    def _skip_rest(self) -> int:
        """Skip to the end of the current line; the number of bytes skipped."""
        skipped = 0
        while chunk := self._handle.readline(_SKIP_BYTES):
            cr = chunk.find(b"\r")
            if cr < 0:
                skipped += len(chunk)
                if chunk.endswith(b"\n"):
                    return skipped
                continue
            end = cr + 1
            if end < len(chunk):
                end += chunk[end : end + 1] == b"\n"
                self._handle.seek(end - len(chunk), io.SEEK_CUR)
                return skipped + end
            following = self._handle.read(1)
            if following and following != b"\n":
                self._handle.seek(-1, io.SEEK_CUR)
            return skipped + end + (following == b"\n")
        return skipped
