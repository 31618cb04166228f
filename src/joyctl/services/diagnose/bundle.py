"""`diagnose --bundle FILE`: a redacted archive a support engineer can attach to a ticket.

It holds the report, the profile's settings and connection facts (config.toml never holds a
secret), ledger statistics, and the recent runs and deliveries. Every member is scanned for the
profile's known secrets before it is written, and any hit is replaced, so the archive is safe
to share even if a secret slipped into a stored payload.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from joyctl.ledger.stats import newest_rows, table_counts
from joyctl.paths import PRIVATE_FILE_MODE, make_private_folder, restrict_to_owner
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
) -> BundleWritten:
    known = [secret for secret in secrets if secret]
    members = {
        "report.json": report.model_dump(mode="json"),
        "profile.json": _profile_facts(profile),
        "ledger-stats.json": table_counts(connection, (*TABLES, "webhook_deliveries")),
        "recent-runs.json": newest_rows(connection, "runs", RECENT_ROWS),
        "recent-deliveries.json": newest_rows(connection, "webhook_deliveries", RECENT_ROWS),
    }
    make_private_folder(path.parent)
    # 0600 from the start: raw deliveries hold reviewers' emails until someone shares the file.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    restrict_to_owner(path)  # a file written over keeps its old mode otherwise
    with (
        os.fdopen(descriptor, "wb") as stream,
        tarfile.open(fileobj=stream, mode="w:gz") as archive,
    ):
        for name, content in members.items():
            data = _scrub(json.dumps(content, indent=2, default=str), known).encode("utf-8")
            info = tarfile.TarInfo(name=f"joyctl-diagnose/{name}")
            info.size = len(data)
            info.mtime = int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return BundleWritten(path=str(path), members=list(members), bytes=path.stat().st_size)
