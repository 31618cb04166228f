"""`diagnose --bundle FILE`: a redacted archive a support engineer can attach to a ticket.

It holds the versions (joyctl, Python, the platform, SQLite, the ledger's schema, the Klaviyo
revision), the report, the profile's settings and connection facts (config.toml never holds a
secret), ledger statistics, and the recent runs and deliveries. Every member is scanned for the
profile's known secrets before it is written, and any hit is replaced, so the archive is safe
to share even if a secret slipped into a stored payload. The archive is readable by its owner
only (0600), and it never replaces a file or creates a folder unasked.
"""

from __future__ import annotations

import io
import json
import platform
import sqlite3
import sys
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from joyctl import __version__
from joyctl.errors import UsageError
from joyctl.files.atomic import write_atomic
from joyctl.ledger.migrations import schema_version
from joyctl.ledger.stats import newest_rows, table_counts
from joyctl.services.diagnose.model import DiagnoseReport
from joyctl.settings import Profile

REDACTED = "[redacted]"
TABLES = ("customers", "point_entries", "reviews", "review_decisions", "outbox", "runs")
RECENT_ROWS = 20


class BundleWritten(BaseModel):
    path: str
    members: list[str]
    bytes: int


def _profile_facts(profile: Profile) -> dict[str, Any]:
    settings = {key: resolved.value for key, resolved in profile.values.items()}
    return {"name": profile.name, "settings": settings, "connection": profile.connection}


def _versions(profile: Profile, connection: sqlite3.Connection) -> dict[str, Any]:
    return {
        "joyctl": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "ledger_schema": schema_version(connection),
        "klaviyo_revision": profile.revision,
    }


def check_bundle_target(path: Path, *, force: bool) -> None:
    """Refuse a folder that does not exist, or a file that does (unless `force`)."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder", hint="give a file name, e.g. ticket.tar.gz")
    if not path.parent.is_dir():
        raise UsageError(
            f"the folder {path.parent} does not exist", hint="create it, or choose another place"
        )
    if path.exists() and not force:
        raise UsageError(f"{path} exists already", hint="pass --force to replace it")


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    return text


def write_bundle(
    path: Path,
    report: DiagnoseReport,
    profile: Profile,
    connection: sqlite3.Connection,
    secrets: Iterable[str],
    *,
    force: bool = False,
) -> BundleWritten:
    check_bundle_target(path, force=force)
    known = [secret for secret in secrets if secret]
    members = {
        "versions.json": _versions(profile, connection),
        "report.json": report.model_dump(mode="json"),
        "profile.json": _profile_facts(profile),
        "ledger-stats.json": table_counts(connection, (*TABLES, "webhook_deliveries")),
        "recent-runs.json": newest_rows(connection, "runs", RECENT_ROWS),
        "recent-deliveries.json": newest_rows(connection, "webhook_deliveries", RECENT_ROWS),
    }
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as archive:
        for name, content in members.items():
            data = _scrub(json.dumps(content, indent=2, default=str), known).encode("utf-8")
            info = tarfile.TarInfo(name=f"joyctl-diagnose/{name}")
            info.size = len(data)
            info.mtime = int(time.time())
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(data))
    write_atomic(path, packed.getvalue())  # 0600: it names the store, its account and customers
    return BundleWritten(path=str(path), members=list(members), bytes=path.stat().st_size)
