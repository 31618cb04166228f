"""Signed webhook deliveries per second that `joyctl webhooks listen` stores, verifies and decides.

A store profile (`shop`) is set up with members, an enabled write-review program, its connected
account and a webhook secret (in the profile's 0600 file: the keyring is switched off for the
run). `joyctl --json webhooks listen --no-push` then runs in its own process while several
client threads post signed deliveries, each with a few review events for members, for
`--seconds` (60 by default). Each delivery's answer time is taken from the request to its
answer; once sending stops, the bench waits until the listener has decided every delivery
(its `delivery` line), so the rate counts deliveries stored, verified and decided.

Target: at least 300 deliveries/s sustained for a minute, with the p99 answer time printed.

Run: python bench/listen.py [--seconds N] [--clients N] [--events N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from pydantic import SecretStr  # noqa: E402 - after the keyring is chosen

from joyctl import envvars  # noqa: E402
from joyctl.config_file import read_config, write_config  # noqa: E402
from joyctl.engine import WriteReviewProgram  # noqa: E402
from joyctl.klaviyo import signing  # noqa: E402
from joyctl.ledger.customers import CustomerFields, upsert_customer  # noqa: E402
from joyctl.ledger.db import open_ledger, transaction  # noqa: E402
from joyctl.ledger.programs import record_program_version  # noqa: E402
from joyctl.paths import Paths, resolve_paths  # noqa: E402
from joyctl.services.connection.credential_store import credential_store  # noqa: E402

PROFILE = "shop"
ACCOUNT = "BenchAc"
WEBHOOK = "01HBENCHWEBHOOK0000000000A"
SECRET = "bench-listen-secret-0123456789abcdef"  # noqa: S105 - the bench's own webhook
MEMBERS = 2_000
TARGET = 300.0
PATH = "/klaviyo/webhooks"


def _set_up(home: Path) -> tuple[Paths, dict[str, str]]:
    env = {**os.environ, envvars.HOME: str(home), envvars.PROFILE: PROFILE}
    env.pop(envvars.JSON, None)
    subprocess.run(
        [sys.executable, "-m", "joyctl", "profiles", "add", PROFILE],
        env=env,
        check=True,
        capture_output=True,
    )
    paths = resolve_paths({envvars.HOME: str(home)})
    data = read_config(paths.config_file)
    connected_at = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    facts = {"account_id": ACCOUNT, "method": "api_key", "connected_at": connected_at}
    data["profiles"][PROFILE]["connection"] = facts
    write_config(paths.config_file, data)
    connection = open_ledger(paths.ledger_file(PROFILE))
    try:
        with transaction(connection):
            for number in range(MEMBERS):
                upsert_customer(connection, CustomerFields(email=_email(number)))
            program = WriteReviewProgram(enabled=True, points_per_review=50, frequency_limit=0)
            settings = program.model_dump(mode="json")
            record_program_version(connection, "write-review", settings, list(settings))
    finally:
        connection.close()
    store = credential_store(paths, PROFILE, insecure_storage=True)
    store.write_webhook_secret(WEBHOOK, SecretStr(SECRET))
    return paths, env


def _email(number: int) -> str:
    return f"member{number}@example.com"


def _body(serial: int, events: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    data = []
    for index in range(events):
        review_id = f"bench-{serial}-{index}"
        properties = {
            "review_id": review_id,
            "review_type": "review",
            "content": f"A smooth, fragrant tea that I brew every single morning ({review_id}).",
            "status": "published",
            "product_id": f"product-{serial}-{index}",
            "email": _email((serial * events + index) % MEMBERS),
        }
        payload = {
            "type": "event",
            "id": f"evt-{review_id}",
            "attributes": {"event_properties": properties, "datetime": now},
        }
        data.append(
            {
                "external_id": f"evt-{review_id}",
                "topic": "event:klaviyo.submitted_review",
                "payload": payload,
            }
        )
    meta = {
        "klaviyo_account_id": ACCOUNT,
        "klaviyo_webhook_id": WEBHOOK,
        "timestamp": now,
        "version": "2024-06-28",
    }
    return json.dumps({"data": data, "meta": meta}).encode("utf-8")


def _headers(body: bytes) -> dict[str, str]:
    timestamp = formatdate(usegmt=True)
    return {
        "Content-Type": "application/json",
        signing.HEADER_WEBHOOK_ID: WEBHOOK,
        signing.HEADER_TIMESTAMP: timestamp,
        signing.HEADER_SIGNATURE: signing.sign(SECRET, body, timestamp),
    }


class Load:
    """Client threads posting signed deliveries until told to stop; answer times kept."""

    def __init__(self, port: int, events: int) -> None:
        self.port = port
        self.events = events
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.serial = 0
        self.answers: list[float] = []
        self.failures: dict[int, int] = {}

    def _next(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            body = _body(self._next(), self.events)
            headers = _headers(body)
            started = time.perf_counter()
            try:
                connection.request("POST", PATH, body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status = 0
            elapsed = time.perf_counter() - started
            with self.lock:
                if status == 200:
                    self.answers.append(elapsed)
                else:
                    self.failures[status] = self.failures.get(status, 0) + 1
        connection.close()


def _lines(process: subprocess.Popen[str], into: queue.Queue[dict[str, Any]]) -> None:
    assert process.stdout is not None
    for text in process.stdout:
        into.put(json.loads(text)["data"])


def _wait_for(lines: queue.Queue[dict[str, Any]], kind: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line["kind"] == kind:
            return line
    raise SystemExit(f"the listener printed no {kind!r} line")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to send")
    parser.add_argument("--clients", type=int, default=8, help="client threads posting")
    parser.add_argument("--events", type=int, default=3, help="review events per delivery")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _, env = _set_up(Path(folder) / "home")
        command = [sys.executable, "-m", "joyctl", "--json", "webhooks", "listen"]
        command += ["--port", "0", "--no-push"]
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ) as process:
            lines: queue.Queue[dict[str, Any]] = queue.Queue()
            threading.Thread(target=_lines, args=(process, lines), daemon=True).start()
            ready = _wait_for(lines, "listening", 30)
            port = int(ready["url"].rsplit(":", 1)[1].split("/")[0])
            load = Load(port, options.events)
            threads = [threading.Thread(target=load.run) for _ in range(options.clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            time.sleep(options.seconds)
            load.stop.set()
            for thread in threads:
                thread.join()
            sent_for = time.perf_counter() - started
            decided, awarded = _decided(lines, len(load.answers))
            decided_in = time.perf_counter() - started
            process.terminate()
            process.wait(timeout=30)
    _print(load, options, sent_for, decided, awarded, decided_in)
    return 0


def _decided(lines: queue.Queue[dict[str, Any]], accepted: int) -> tuple[int, int]:
    """Delivery lines read until every accepted delivery is decided (or 60 s pass)."""
    decided = awarded = 0
    deadline = time.monotonic() + 60
    while decided < accepted and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line["kind"] == "delivery" and line["verdict"] == "verified":
            decided += 1
            awarded += int(line["awarded"])
    return decided, awarded


def _print(
    load: Load,
    options: argparse.Namespace,
    sent_for: float,
    decided: int,
    awarded: int,
    decided_in: float,
) -> None:
    accepted = len(load.answers)
    rate = decided / decided_in
    print(f"clients {options.clients}, {options.events} review events per delivery")
    print(f"answered 200: {accepted} in {sent_for:.1f} s ({accepted / sent_for:.0f}/s)")
    print(f"other answers: {load.failures or 'none'}")
    print(f"decided: {decided} ({awarded} awarded) by {decided_in:.1f} s")
    if load.answers:
        p50, p99 = _percentile(load.answers, 0.5), _percentile(load.answers, 0.99)
        print(f"answer time: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    verdict = "ok" if rate >= TARGET else "MISSED"
    print(f"stored, verified and decided: {rate:.0f} deliveries/s (>= {TARGET:.0f}) {verdict}")


if __name__ == "__main__":
    sys.exit(main())
