"""The record file formats joyctl reads and writes: CSV and JSON Lines.

One `FileFormat` for every command that takes a file of records (`ledger import`/`export`,
`backfill events`): chosen by an explicit `--format` name, else by the file name's extension.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from joyctl.errors import UsageError


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def named(cls, name: str) -> FileFormat:
        """The format an explicit `--format` names (UsageError for any other name)."""
        try:
            return cls(name)
        except ValueError:
            raise UsageError(f"unknown format {name!r}", hint="use --format csv or jsonl") from None


_EXTENSIONS = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL}


def format_of(path: Path) -> FileFormat | None:
    """The format the file name's extension says, or None when it says none."""
    return _EXTENSIONS.get(path.suffix.lower())


def choose_format(path: Path, given: FileFormat | None) -> FileFormat:
    """The format given, else the one the extension says (UsageError when there is neither)."""
    if given is not None:
        return given
    found = format_of(path)
    if found is None:
        raise UsageError(
            f"cannot tell the format of {path.name} from its extension",
            hint="name it .csv or .jsonl, or pass --format csv|jsonl",
        )
    return found
