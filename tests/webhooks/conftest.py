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
from joyctl.services.rewards import IncomingReview
from joyctl.services.webhook_receiver import (
    DeliveryIntake,
    DeliveryLine,
    ListenOptions,
    WebhookReceiver,
)
from joyctl.services.webhooks_process import DeliveryProcessor, ReviewFetcher
from tests.webhooks.support import seed_ledger

SECRET = "receiver-test-secret-0123456789"
WEBHOOK = "01HRECEIVERWEBHOOK00000000"
ACCOUNT = "AbC123"
MEMBERS = ("ann@example.com", "bob@example.com")
MAX_BODY = 4096
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

    def start(fetch: ReviewFetcher = no_fetch, **options: Any) -> Listening:
        lock = threading.RLock()
        secrets = {WEBHOOK: SECRET}
        intake = DeliveryIntake(ledger, lock, secrets.get, ACCOUNT, 300.0)
        processor = DeliveryProcessor(ledger, ConnectionFacts(CONNECTED_AT), fetch, lock=lock)
        listen = ListenOptions(port=0, max_body_bytes=MAX_BODY, **options)
        listening = Listening("", ledger)
        receiver = WebhookReceiver(listen, intake, processor, listening.lines.append)
        listening.url = receiver.start()
        started.append(receiver)
        return listening

    yield start
    for receiver in started:
        receiver.stop()
