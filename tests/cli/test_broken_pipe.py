"""A reader that stops early (`joyctl ledger export | head`) is not an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from joyctl.ledger.db import open_ledger
from tests.conftest import Cli


def test_closed_stdout_exits_0_quietly(cli: Cli, isolated_home: Path) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    connection = open_ledger(isolated_home / "data/profiles/shop/ledger.sqlite3")
    rows = [(f"c{n}@example.com", "now", "now") for n in range(50_000)]
    connection.executemany(
        "INSERT INTO customers (email, created_at, updated_at) VALUES (?, ?, ?)", rows
    )
    connection.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "joyctl", "-p", "shop", "ledger", "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "JOYCTL_HOME": str(isolated_home)},
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"email,")
    process.stdout.close()  # the reader goes away, as `head` does
    error = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in error
