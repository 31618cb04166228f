"""Taking in one webhook request: check it, store it, record the verdict; and the lines
`joyctl webhooks listen` reports.

The cheap checks come first (framing, headers, a known webhook, the signature). Only a signed
request is stored in full, and it is written before its document is looked at, so whatever
happens next (a crash, a bug in the document checks) leaves it in the ledger to verify or
replay later. A request refused earlier is kept as a small audit row: its verdict, its kept
headers shortened, the size of its body but not the body, so forged requests cannot fill the
disk. Rejected rows past the newest `keep_rejected` are deleted as new ones arrive.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal, TypeAlias

from pydantic import BaseModel

from joyctl.ledger import deliveries as delivery_queries
from joyctl.ledger.db import transaction
from joyctl.ledger.deliveries import Verdict
from joyctl.services.webhooks.notices import ListenerNotice
from joyctl.services.webhooks.outcomes import ReviewOutcome
from joyctl.services.webhooks.verify import (
    DeliveryRequest,
    VerifyRules,
    kept_headers,
    screen_headers,
    verify_document,
    verify_signature,
)

SecretLookup = Callable[[str], str | None]
DEFAULT_KEEP_REJECTED = 1000
AUDIT_HEADER_CHARS = 200  # each kept header of a refused request is cut to this


class ListenerStarted(BaseModel):
    kind: Literal["listening"] = "listening"
    url: str
    account_id: str
    tolerance_seconds: float
    unprocessed: int
    unmatched: int = 0  # review events kept because their review was not found


class DeliveryLine(BaseModel):
    """One line per delivery: its verdict and, once processed, what each review got."""

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
    rejected: int = 0
    held: int = 0
    unmatched: int = 0
    ignored: int = 0
    reviews: list[ReviewOutcome] = []
    """Every review in the delivery: `awarded 50`, `rejected TOO_SHORT`, `held for approval`,
    `unmatched`, `already done`."""
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
        *,
        keep_rejected: int = DEFAULT_KEEP_REJECTED,
    ) -> None:
        self.connection = connection
        self.lock = lock
        self.secret_for = secret_for
        self.account_id = account_id
        self.tolerance_seconds = tolerance_seconds
        self.clock = clock
        self.keep_rejected = keep_rejected

    def rules(self, now: datetime) -> VerifyRules:
        return VerifyRules(self.secret_for, self.account_id, self.tolerance_seconds, now)

    def screen(self, headers: Mapping[str, str]) -> Verdict | None:
        """A rejection decided from the headers alone, before the body is read; else None."""
        return screen_headers(headers, self.rules(self.clock()))

    def receive(self, request: DeliveryRequest) -> DeliveryLine:
        """Judge a request read in full (or refused unread) and keep what it deserves."""
        received = self.clock()
        rules = self.rules(received)
        refused = verify_signature(request, rules)
        if refused is not None:
            return self.refuse(request, refused, received)
        stored = _new_delivery(request, received, request.body or b"", kept_headers)
        with self.lock:
            delivery_id = delivery_queries.store_delivery(self.connection, stored)
        verdict = verify_document(request, rules)
        with self.lock, transaction(self.connection):
            delivery_queries.record_verdict(self.connection, delivery_id, verdict)
            if verdict.verdict == delivery_queries.REJECTED:
                delivery_queries.prune_rejected(self.connection, self.keep_rejected)
        return _line(delivery_id, stored, verdict)

    def refuse(
        self, request: DeliveryRequest, verdict: Verdict, received: datetime | None = None
    ) -> DeliveryLine:
        """Keep a small audit row for a request refused before its signature held."""
        stored = _new_delivery(request, received or self.clock(), b"", _audit_headers)
        with self.lock, transaction(self.connection):
            delivery_id = delivery_queries.store_rejection(self.connection, stored, verdict)
            delivery_queries.prune_rejected(self.connection, self.keep_rejected)
        return _line(delivery_id, stored, verdict)


def _new_delivery(
    request: DeliveryRequest,
    received: datetime,
    body: bytes,
    headers: Callable[[Mapping[str, str]], dict[str, str]],
) -> delivery_queries.NewDelivery:
    size = len(request.body) if request.body is not None else request.declared_length
    return delivery_queries.NewDelivery(
        received_at=received.isoformat(),
        webhook_id=_header_webhook_id(request),
        headers=headers(request.headers),
        body=body,
        body_bytes=size or 0,
    )


def _audit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value[:AUDIT_HEADER_CHARS] for name, value in kept_headers(headers).items()}


def _line(delivery_id: int, stored: delivery_queries.NewDelivery, verdict: Verdict) -> DeliveryLine:
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
