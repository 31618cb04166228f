"""System-webhook deliveries: batched, signed as Klaviyo signs them, retried with backoff.

Deliveries live in the state (so a restart resumes them); a worker thread sends the due ones
outside the state's transaction and records every attempt. The body is fixed at the first
attempt; each attempt gets a fresh `Klaviyo-Timestamp` and signature over body + timestamp.

When a delivery is due follows the sandbox's clock, but its timestamps (`meta.timestamp`, the
`Klaviyo-Timestamp` header) are the wall clock's: the receiver checks them against its own
clock, which moving the sandbox's clock forward (to age tokens) does not move.

When several processes share the state (the built-in sandbox profile), each runs a worker, and
whichever sees a delivery due first claims it in the state (`claimed_until`) before sending:
the others leave it alone until the claim is finished or has run out (its process died).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.utils import formatdate

import httpx

from joyctl.klaviyo import signing
from joyctl.sandbox.clock import Clock, iso, iso_precise
from joyctl.sandbox.ids import ulid
from joyctl.sandbox.latency import RETRIED_STATUSES, LatencyProfile
from joyctl.sandbox.store.records import (
    DeliveryAttemptRecord,
    DeliveryItem,
    DeliveryRecord,
    JsonObject,
)
from joyctl.sandbox.store.state import SandboxState

MAX_BATCH = 1000
PAYLOAD_VERSION = "2024-06-28"
USER_AGENT = "Klaviyo-Webhooks (joyctl sandbox)"
CLAIM_MARGIN_SECONDS = 5.0  # a claim outlives the send's timeout by this much
Transaction = Callable[[], AbstractContextManager[None]]


def enqueue(
    state: SandboxState, topic: str, external_id: str, payload: JsonObject, ready_at: float
) -> int:
    """Queue an event for every enabled webhook on `topic`; returns how many webhooks it reaches.

    Events join a delivery of the same webhook whose body is not fixed yet, which is what
    batches them. Once the worker has fixed a body (its first attempt is under way or done),
    later events go into the next delivery, so none is left out of what is sent.
    """
    reached = 0
    for webhook in state.webhooks.values():
        if not webhook["enabled"] or topic not in webhook["topics"]:
            continue
        reached += 1
        item = DeliveryItem(external_id=external_id, topic=topic, payload=payload)
        open_delivery = next(
            (
                d
                for d in state.deliveries.values()
                if d["webhook_id"] == webhook["id"]
                and d["status"] == "pending"
                and d["body"] is None
                and len(d["items"]) < MAX_BATCH
            ),
            None,
        )
        if open_delivery is not None:
            open_delivery["items"].append(item)
            continue
        delivery = DeliveryRecord(
            id=ulid(ready_at),
            webhook_id=webhook["id"],
            items=[item],
            status="pending",
            attempts=0,
            next_attempt_at=ready_at,
            body=None,
        )
        state.deliveries[delivery["id"]] = delivery
    return reached


@dataclass(frozen=True)
class _Job:
    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    body: bytes
    attempt: int
    event_count: int


class DeliveryWorker:
    """Sends due deliveries; `transaction` and `state_of` give it the application's state."""

    def __init__(
        self,
        transaction: Transaction,
        state_of: Callable[[], SandboxState],
        clock: Clock,
        latency_of: Callable[[], LatencyProfile],
        on_change: Callable[[], None],
        *,
        tick: Callable[[], None] = lambda: None,
        timeout: float = 5.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._transaction = transaction
        self._state_of = state_of
        self._clock = clock
        self._latency_of = latency_of
        self._on_change = on_change
        self._tick = tick  # other timed work, done under the lock on every turn
        self._timeout = timeout
        self._wall_clock = wall_clock
        self._in_flight: set[str] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-deliveries", daemon=True)
        self._client: httpx.Client | None = None  # made on first use: building TLS is slow

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._client is not None:
            self._client.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            jobs, idle = self._take_due()
            for index, job in enumerate(jobs):
                if self._stopping.is_set():
                    self._release(jobs[index:])
                    return
                self._finish(job, *self._send(job))
            if not jobs:
                self._wake.wait(idle)
                self._wake.clear()

    def _take_due(self) -> tuple[list[_Job], float]:
        """The deliveries due now, claimed, and how long to sleep when there are none (at
        most 0.1 s, so a moved clock, a changed setting or another process's work is noticed
        soon)."""
        with self._transaction():
            self._tick()
            state, now = self._state_of(), self._clock.now()
            jobs, idle = [], 0.1
            for delivery in state.deliveries.values():
                if delivery["status"] != "pending" or delivery["id"] in self._in_flight:
                    continue
                if delivery.get("claimed_until", 0.0) > now:  # another process is sending it
                    continue
                if delivery["next_attempt_at"] > now:
                    idle = min(idle, delivery["next_attempt_at"] - now)
                    continue
                job = self._prepare(state, delivery, now)
                if job is not None:
                    jobs.append(job)
            if jobs:
                self._on_change()  # the claims and fixed bodies, for the other processes
            return jobs, max(idle, 0.001)

    def _release(self, jobs: list[_Job]) -> None:
        """Give back the claims of deliveries this worker stops before sending."""
        with self._transaction():
            state = self._state_of()
            for job in jobs:
                self._in_flight.discard(job.delivery_id)
                delivery = state.deliveries.get(job.delivery_id)
                if delivery is not None:
                    delivery.pop("claimed_until", None)
            self._on_change()

    def _prepare(self, state: SandboxState, delivery: DeliveryRecord, now: float) -> _Job | None:
        webhook = state.webhooks.get(delivery["webhook_id"])
        if webhook is None or not webhook["enabled"]:
            delivery["status"] = "failed"
            return None
        body = delivery["body"]
        if body is None:
            document = {
                "data": delivery["items"],
                "meta": {
                    "klaviyo_account_id": state.account["id"],
                    "klaviyo_webhook_id": webhook["id"],
                    "timestamp": iso_precise(self._wall_clock()),
                    "version": PAYLOAD_VERSION,
                },
            }
            body = json.dumps(document, separators=(",", ":"))
            delivery["body"] = body
        self._in_flight.add(delivery["id"])
        delivery["claimed_until"] = now + self._timeout + CLAIM_MARGIN_SECONDS
        return _Job(
            delivery["id"],
            webhook["id"],
            webhook["endpoint_url"],
            webhook["secret_key"],
            body.encode("utf-8"),
            delivery["attempts"] + 1,
            len(delivery["items"]),
        )

    def _send(self, job: _Job) -> tuple[int | None, str | None]:
        timestamp = formatdate(self._wall_clock(), usegmt=True)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signing.HEADER_WEBHOOK_ID: job.webhook_id,
            signing.HEADER_TIMESTAMP: timestamp,
            signing.HEADER_SIGNATURE: signing.sign(job.secret, job.body, timestamp),
        }
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout, trust_env=False)
        try:
            response = self._client.post(job.url, content=job.body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _finish(self, job: _Job, status: int | None, error: str | None) -> None:
        delivered = status is not None and 200 <= status < 300
        retryable = status is None or status in RETRIED_STATUSES
        with self._transaction():
            state, now = self._state_of(), self._clock.now()
            state.delivery_attempts.append(
                DeliveryAttemptRecord(
                    delivery_id=job.delivery_id,
                    webhook_id=job.webhook_id,
                    attempt=job.attempt,
                    at=iso(now),
                    status_code=status,
                    error=error,
                    event_count=job.event_count,
                    delivered=delivered,
                )
            )
            self._in_flight.discard(job.delivery_id)
            delivery = state.deliveries.get(job.delivery_id)
            if delivery is not None:
                delivery.pop("claimed_until", None)
                self._schedule(delivery, job.attempt, delivered, retryable, now)
            self._on_change()

    def _schedule(
        self, delivery: DeliveryRecord, attempt: int, delivered: bool, retryable: bool, now: float
    ) -> None:
        """Klaviyo retries no answer, 429 and 500/502/503 on its schedule; other answers fail."""
        delivery["attempts"] = attempt
        wait = self._latency_of().retry_after(attempt)
        if delivered:
            delivery["status"] = "delivered"
        elif not retryable or wait is None:
            delivery["status"] = "failed"
        else:
            delivery["next_attempt_at"] = now + wait
