"""Helpers for backfill tests: event files, what the sandbox recorded, the run's checkpoint."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import build_client
from joyctl.sandbox import SandboxServer
from tests.conftest import Cli, Result

METRIC = "Joy: Earn Point"


@dataclass
class Shop:
    """The `shop` profile and its sandbox; calls joyctl with the sandbox's private key."""

    cli: Cli
    server: SandboxServer

    @property
    def env(self) -> dict[str, str]:
        return {"JOYCTL_KLAVIYO_API_KEY": self.server.credentials.private_key}

    def __call__(self, *args: str) -> Result:
        return self.cli("-p", "shop", *args, env=self.env)

    def data(self, *args: str) -> Any:
        result = self("--json", *args)
        assert result.exit_code == 0, result.stdout + result.stderr
        return json.loads(result.stdout)["data"]

    def ledger_file(self, home: Path) -> Path:
        return home / "data" / "profiles" / "shop" / "ledger.sqlite3"


def event_record(number: int, *, customers: int = 500, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"evt-{number}",
        "email": f"customer{number % customers}@example.com",
        "metric": METRIC,
        "time": "2025-03-01T12:00:00Z",
        "properties": {"Earned points": "10 points", "seq": number},
    }
    record.update(extra)
    return record


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            text = record if isinstance(record, str) else json.dumps(record)
            handle.write(text + "\n")
    return path


def write_events(path: Path, count: int, **extra: Any) -> Path:
    return write_jsonl(path, (event_record(number, **extra) for number in range(count)))


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def recorded_sequence(server: SandboxServer) -> list[int]:
    """The `seq` property of every event the sandbox recorded, read back through the API."""
    seqs: list[int] = []
    auth = ApiKeyAuth(server.credentials.private_key)
    with build_client(base_url=server.base_url, auth=auth, pacing=False) as client:
        for event in client.paginate("/api/events"):
            seqs.append(event["attributes"]["event_properties"]["seq"])
    return sorted(seqs)


def runs_table(ledger: Path) -> list[dict[str, Any]]:
    """The ledger's runs, read as another process would while a run is going on."""
    if not ledger.exists():
        return []
    with closing(sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5)) as connection:
        connection.row_factory = sqlite3.Row
        try:
            rows = connection.execute("SELECT * FROM runs ORDER BY started_at").fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated yet
    return [
        {**dict(row), "counters": json.loads(row["counters"]), "params": json.loads(row["params"])}
        for row in rows
    ]
