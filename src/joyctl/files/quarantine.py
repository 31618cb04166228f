"""Quarantine files: records a run could not use, as JSON Lines, beside the work that went on.

Every line is `{"line": N, "reason": "...", "record": {...}}` (the origin's name can differ,
e.g. a byte offset), written in input order. A new run starts the file afresh; a resumed run
keeps it and does not write again what it already holds. A run killed while writing a line
leaves half a line at the end: a resumed run cuts it off before appending, and writes that
entry again in full. Text no UTF-8 file can hold (a lone surrogate) is written as its JSON
escape. Unless told otherwise, the file of an input `FILE` is `FILE.quarantine.jsonl` beside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from joyctl.errors import DataError, UsageError
from joyctl.files.limits import load_json
from joyctl.files.private import PRIVATE_FILE_MODE, make_private_folder, restrict_to_owner


def default_quarantine_path(source: Path) -> Path:
    """Where the quarantine of `source` goes unless the user chooses: `FILE.quarantine.jsonl`."""
    return source.with_name(source.name + ".quarantine.jsonl")


class QuarantineLog:
    """Bad records as JSON Lines (line, reason, record), appended in input order.

    A new run starts the file afresh. A resumed run may meet records it quarantined after its
    last checkpoint was saved; lines up to the last one already in the file are not written again.
    """

    def __init__(self, path: Path, *, resumed: bool, origin_name: str = "line") -> None:
        self.path = path
        self.origin_name = origin_name
        self.count = 0
        if not resumed:
            _remove(path)
        self._written_through = _last_whole_entry(path, origin_name) if resumed else 0
        self._handle: IO[str] | None = None

    def add(self, origin: int, reason: str, record: Any) -> None:
        self.count += 1
        if origin <= self._written_through:
            return
        entry = {self.origin_name: origin, "reason": reason, "record": record}
        self._open().write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _open(self) -> IO[str]:
        if self._handle is None:
            try:
                make_private_folder(self.path.parent)
                self._handle = _open_private(self.path)
            except OSError as exc:
                raise UsageError(
                    f"cannot write the quarantine file {self.path}: {exc.strerror}",
                    hint="choose another place with --quarantine PATH",
                ) from None
        return self._handle


def _open_private(path: Path) -> IO[str]:
    """Append, creating the file 0600: quarantined records hold customers' emails."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    handle = os.fdopen(
        os.open(path, flags, PRIVATE_FILE_MODE), "a", encoding="utf-8", errors="backslashreplace"
    )
    restrict_to_owner(path)  # a file kept from an earlier run, or an older joyctl's
    return handle


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot replace the quarantine file {path}: {exc.strerror}",
            hint="choose another place with --quarantine PATH",
        ) from None


def _last_whole_entry(path: Path, origin_name: str) -> int:
    """The last origin the file holds a whole line for; a torn last line is cut off."""
    last = whole = 0
    try:
        with path.open("r+b") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break  # written in part when the run stopped
                whole += len(raw)
                last = max(last, _origin(raw, origin_name))
            handle.truncate(whole)
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise UsageError(
            f"cannot read the quarantine file {path}: {exc.strerror}",
            hint="choose another place with --quarantine PATH",
        ) from None
    return last


def _origin(raw: bytes, origin_name: str) -> int:
    try:
        value = load_json(raw).get(origin_name, 0)
    except (DataError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
