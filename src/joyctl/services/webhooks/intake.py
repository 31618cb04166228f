"""Taking in one webhook request: store it, verify it, record the verdict; and the lines
`joyctl webhooks listen` reports.

The raw request is written before it is looked at, so whatever happens next (a crash, a bug in
verification) leaves it in the ledger to verify or replay later.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, TypeAlias

from pydantic import BaseModel

from joyctl.ledger import deliveries as delivery_queries
from joyctl.services.webhooks.notices import ListenerNotice
from joyctl.services.webhooks.verify import (
    DeliveryRequest,
    VerifyRules,
    kept_headers,
    verify_delivery,
)

SecretLookup = Callable[[str], str | None]


class ListenerStarted(BaseModel):
    kind: Literal["listening"] = "listening"
    url: str
    account_id: str
    tolerance_seconds: float
    unprocessed: int


class DeliveryLine(BaseModel):
    """One line per delivery: its verdict and, once processed, what it earned."""

    kind: Literal["delivery"] = "delivery"
    delivery_id: int
    received_at: str
    webhook_id: str | None
    status_code: int
    verdict: str
    reason: str | None = None
    detail: str | None = None
    events: int = 0
    processed: int = 0
    duplicates: int = 0
    awarded: int = 0
    points: int = 0
    pushed: int = 0  # Joy events and profile updates sent to Klaviyo after this delivery
    error: str | None = None
    push_error: str | None = None


class ListenerStopped(BaseModel):
    kind: Literal["stopped"] = "stopped"
    deliveries: int
    unprocessed: int


ListenLine: TypeAlias = ListenerStarted | DeliveryLine | ListenerStopped | ListenerNotice
"""What `webhooks listen` reports: that it listens, each delivery, notices, that it stopped."""


class DeliveryIntake:
    """Store, verify and record the verdict of one request; the connection is shared."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        lock: threading.RLock,
        secret_for: SecretLookup,
        account_id: str,
        tolerance_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connection = connection
        self.lock = lock
        self.secret_for = secret_for
        self.account_id = account_id
        self.tolerance_seconds = tolerance_seconds
        self.clock = clock

    def receive(self, request: DeliveryRequest) -> DeliveryLine:
        received = self.clock()
        stored = delivery_queries.NewDelivery(
            received_at=received.isoformat(),
            webhook_id=_header_webhook_id(request),
            headers=kept_headers(request.headers),
            body=request.body or b"",
            body_bytes=request.declared_length or 0,
        )
        with self.lock:
            delivery_id = delivery_queries.store_delivery(self.connection, stored)
        rules = VerifyRules(self.secret_for, self.account_id, self.tolerance_seconds, received)
        verdict = verify_delivery(request, rules)
        with self.lock:
            delivery_queries.record_verdict(self.connection, delivery_id, verdict)
        return DeliveryLine(
            delivery_id=delivery_id,
            received_at=stored.received_at,
            webhook_id=stored.webhook_id,
            status_code=verdict.status_code,
            verdict=verdict.verdict,
            reason=verdict.reason,
            detail=verdict.detail,
            events=verdict.event_count,
        )


def _header_webhook_id(request: DeliveryRequest) -> str | None:
    value = request.headers.get("klaviyo-webhook-id")
    return value[:100] if value else None
