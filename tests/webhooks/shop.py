"""A store on a sandbox server, a `joyctl` profile pointing at it, and a listener subprocess.

The profile `shop` holds the sandbox's OAuth token in the environment (webhooks need OAuth or
Advanced KDP), its connection facts in config.toml, and its customers and program in the
ledger. Secrets go to a keyring file shared with the `joyctl webhooks listen` subprocess.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joyctl import envvars
from joyctl.config_file import read_config, write_config
from joyctl.ledger.db import open_ledger
from joyctl.paths import Paths, resolve_paths
from joyctl.sandbox import SandboxServer
from tests.conftest import Cli
from tests.webhooks.support import KEYRING_BACKEND, KEYRING_FILE_VARIABLE, seed_ledger

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "shop"


@dataclass
class Shop:
    server: SandboxServer
    env: dict[str, str]
    paths: Paths
    emails: list[str]

    @property
    def account_id(self) -> str:
        return self.server.credentials.account_id

    def query(self, sql: str, *params: Any) -> list[Any]:
        """Rows from the profile's ledger, read on a connection of their own."""
        connection = open_ledger(self.paths.ledger_file(PROFILE))
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()


def set_up_shop(server: SandboxServer, cli: Cli, home: Path, keyring_file: Path) -> Shop:
    seed = server.scenario_seed
    assert seed.connection is not None
    env = {
        envvars.PROFILE: PROFILE,
        envvars.ACCESS_TOKEN: seed.connection.access_token,
        KEYRING_FILE_VARIABLE: str(keyring_file),
        "PYTHON_KEYRING_BACKEND": KEYRING_BACKEND,
    }
    added = cli("profiles", "add", PROFILE, "--base-url", server.base_url)
    assert added.exit_code == 0, added.stderr
    paths = resolve_paths({envvars.HOME: str(home)})
    data = read_config(paths.config_file)
    data["profiles"][PROFILE]["connection"] = {
        "account_id": seed.account_id,
        "method": "oauth",
        "connected_at": seed.connection.connected_at,
    }
    write_config(paths.config_file, data)
    emails = [customer.email for customer in seed.customers]
    connection = open_ledger(paths.ledger_file(PROFILE))
    try:
        seed_ledger(connection, emails)
    finally:
        connection.close()
    return Shop(server, env, paths, emails)


def cli_data(cli: Cli, shop: Shop, *args: str) -> Any:
    result = cli("--json", *args, env=shop.env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


@dataclass
class Listener:
    """`joyctl --json webhooks listen` in its own process, its JSON lines read as they come."""

    process: subprocess.Popen[str]
    log: Path
    lines: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, shop: Shop, port: int, *extra: str, json_lines: bool = True) -> Listener:
        mode = ["--json"] if json_lines else []
        command = [sys.executable, "-m", "joyctl", *mode, "webhooks", "listen"]
        log = shop.paths.profile_data_dir(PROFILE).parent / f"listener-{port}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as stderr:  # a file, so a chatty stderr can never fill a pipe
            process = subprocess.Popen(
                [*command, "--port", str(port), *extra],
                cwd=ROOT,
                env={**os.environ, **shop.env},
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        listener = cls(process, log)
        listener.reader = threading.Thread(target=listener._read, daemon=True)
        listener.reader.start()
        return listener

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            self.lines.put(json.loads(text)["data"])

    def expect(self, kind: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line["kind"] == kind:
                return line
        raise AssertionError(f"no {kind!r} line; listener said: {self.finish()[1]}")

    def finish(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Stop (or kill) the process; returns its exit status and what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(timeout=30)
        if self.reader is not None:
            self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode, self.log.read_text()
