"""A seeded ledger and an in-process receiver with a stub Klaviyo, stopped after each test."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from joyctl.engine import ConnectionFacts
from joyctl.ledger.db import open_ledger
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.rewards.pipeline import IncomingReview
from joyctl.services.webhooks.intake import DeliveryIntake, DeliveryLine
from joyctl.services.webhooks.process import DeliveryProcessor, ReviewFetcher
from joyctl.services.webhooks.receiver import ListenOptions, WebhookReceiver
from joyctl.services.webhooks.review_event import EventClues, Match
from tests.conftest import Cli
from tests.webhooks.shop import Shop, set_up_shop
from tests.webhooks.support import KEYRING_FILE_VARIABLE, SharedFileKeyring, seed_ledger

SECRET = "receiver-test-secret-0123456789"
WEBHOOK = "01HRECEIVERWEBHOOK00000000"
ACCOUNT = "AbC123"
MEMBERS = ("ann@example.com", "bob@example.com")
MAX_BODY = 4096
FAST_SANDBOX: dict[str, Any] = {
    "rate_limits": "off",
    "job_step_seconds": 0.05,
    "delivery_batch_seconds": 0.02,
    "delivery_backoff_seconds": 0.2,
    "save_debounce_seconds": 0.02,
}
CONNECTED_AT = datetime.now(UTC) - timedelta(days=30)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    seed_ledger(connection, MEMBERS)
    yield connection
    connection.close()


def no_fetch(review_id: str) -> IncomingReview | None:
    raise AssertionError(f"review {review_id} was fetched although the payload had every field")


@dataclass
class Listening:
    url: str
    connection: sqlite3.Connection
    receiver: WebhookReceiver | None = None
    lines: list[BaseModel] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[DeliveryLine]:
        """The first `count` delivery lines, once the receiver has reported them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if isinstance(line, DeliveryLine)]
            if len(found) >= count:
                return found[:count]
            time.sleep(0.01)
        raise AssertionError(f"only {len(self.lines)} lines: {self.lines}")


ReceiverFactory = Callable[..., Listening]


@pytest.fixture
def start_receiver(ledger: sqlite3.Connection) -> Iterator[ReceiverFactory]:
    started: list[WebhookReceiver] = []

    def start(
        fetch: ReviewFetcher = no_fetch,
        lookup: Callable[[EventClues, frozenset[str]], Match] | None = None,
        **options: Any,
    ) -> Listening:
        lock = threading.RLock()
        secrets = {WEBHOOK: SECRET}
        listen = ListenOptions(**{"port": 0, "max_body_bytes": MAX_BODY, **options})
        intake = DeliveryIntake(
            ledger, lock, secrets.get, ACCOUNT, 300.0, keep_rejected=listen.keep_rejected
        )
        facts = ConnectionFacts(CONNECTED_AT)
        processor = DeliveryProcessor(ledger, facts, fetch, lookup=lookup, lock=lock)
        listening = Listening("", ledger)
        receiver = WebhookReceiver(listen, intake, processor, listening.lines.append)
        listening.url = receiver.start()
        listening.receiver = receiver
        started.append(receiver)
        return listening

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def shop(
    cli: Cli, isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Shop]:
    """The `healthy` store on its own sandbox server, and a profile connected to it by OAuth."""
    import keyring

    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv(KEYRING_FILE_VARIABLE, str(keyring_file))
    previous = keyring.get_keyring()
    keyring.set_keyring(SharedFileKeyring())
    server = SandboxServer(SandboxConfig(scenario="healthy", **FAST_SANDBOX))
    server.start()
    try:
        yield set_up_shop(server, cli, isolated_home, keyring_file)
    finally:
        server.stop()
        keyring.set_keyring(previous)
