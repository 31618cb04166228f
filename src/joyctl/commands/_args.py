"""Checks of command-line values that the options' types cannot express, shared by commands.

Every one raises UsageError (exit 2) naming the option and what is allowed, and runs before a
command reads credentials, opens the ledger or calls Klaviyo: a bad argument is refused the
same way whatever the environment. Bounds on plain numbers are the options' own `min`/`max`.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from joyctl import values
from joyctl.errors import UsageError

# Bounds the options share, so the same kind of value has the same range everywhere.
ROW_ID_MAX = values.LONGEST_DB_INTEGER
POINTS_MAX = 1_000_000_000  # one adjustment or audience bound; balances stay far from 2**63
LIST_LIMIT_MAX = 10_000
ID_LIMIT = 128
EMAIL_LIMIT = 320


def moment_option(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time option in UTC (one without an offset is UTC)."""
    return None if value is None else values.moment(value, what=option)


def email_option(option: str, value: str) -> str:
    """An email address, checked by the ledger's own rule (trimmed and lower-cased)."""
    from joyctl.errors import DataError
    from joyctl.ledger.customers import normalize_email

    try:
        return normalize_email(values.text(value, what=option, limit=EMAIL_LIMIT))
    except DataError as exc:
        raise UsageError(f"{option}: {exc.message}", hint=exc.hint) from None


def resource_id(option: str, value: str) -> str:
    """An id of something in Klaviyo or the ledger: one line of printable text, not too long."""
    checked = values.text(value, what=option, limit=ID_LIMIT)
    if not checked:
        raise UsageError(f"{option} is empty", hint="give the id as the list commands show it")
    return checked


def input_file(option: str, path: Path) -> Path:
    """A file the command will read: it exists, is not a folder, and may be read."""
    if not path.exists():
        raise UsageError(f"{option}: {path} does not exist", hint="check the path")
    if path.is_dir():
        raise UsageError(f"{option}: {path} is a folder, not a file", hint="name a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{option}: cannot read {path}", hint="check the file's permissions")
    return path


def output_file(option: str, path: Path) -> Path:
    """A file the command will write: not a folder, in a folder that exists or can be made."""
    if path.is_dir():
        raise UsageError(f"{option}: {path} is a folder", hint="name a file to write")
    parent = _nearest_existing(path.parent)
    if not parent.is_dir():
        raise UsageError(f"{option}: {parent} is not a folder", hint="check the path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: cannot write in {parent}", hint="check its permissions")
    return path


def _nearest_existing(folder: Path) -> Path:
    # The command creates missing folders; what matters is the first one that exists.
    current = folder.absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current
