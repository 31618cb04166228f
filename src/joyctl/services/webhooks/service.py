"""What makes `webhooks listen` a service: start-up checks, health answers and upkeep.

Assembled around a started receiver: the start-up checks say whether anything will arrive and
can be verified (startup.py), `/healthz` and `/readyz` answer from the receiver's own port
(health.py), and the upkeep thread keeps Klaviyo, the OAuth grant, stuck deliveries and the
outbox moving for as long as the listener runs (upkeep.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from joyctl.errors import JoyctlError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Webhook
from joyctl.ledger import deliveries as delivery_queries
from joyctl.services.webhooks.health import ListenerHealth
from joyctl.services.webhooks.intake import DeliveryLine, SecretLookup
from joyctl.services.webhooks.receiver import WebhookReceiver
from joyctl.services.webhooks.startup import Endpoint, check_at_start
from joyctl.services.webhooks.upkeep import Upkeep, UpkeepOptions, UpkeepTasks

LEDGER_WAIT_SECONDS = 2.0  # how long /readyz waits for the ledger before calling it busy


class ListenerService:
    """The start-up checks, health and upkeep of one listener, started once it listens."""

    def __init__(
        self,
        receiver: WebhookReceiver,
        connection: sqlite3.Connection,
        lock: threading.RLock,
        klaviyo: Callable[[], KlaviyoClient],
        secret_for: SecretLookup,
        *,
        env_secret: bool,
        public_url: str | None,
        options: UpkeepOptions | None = None,
    ) -> None:
        self._receiver = receiver
        self._connection = connection
        self._lock = lock
        self._klaviyo = klaviyo
        self._secret_for = secret_for
        self._env_secret = env_secret
        self._public_url = public_url
        self._options = options or UpkeepOptions()
        self._webhook_ids: list[str] = []
        self._started_at = datetime.now(UTC).isoformat()
        self._retries = RetrySchedule(self._options.interval, self._options.longest_wait)
        self.health = ListenerHealth(
            ledger=self._ledger_answers,
            signing_secret=self._secret_is_known,
            stale_after=3 * self._options.interval,
        )
        self._upkeep: Upkeep | None = None

    def start(self, url: str) -> None:
        """Answer health requests now; check what will arrive here and keep things moving on
        the upkeep thread (Klaviyo may be slow to answer, and a stop must not wait for it)."""
        self._receiver.health = self.health
        tasks = UpkeepTasks(self._probe, self._retry_backlog, self._receiver.push)
        self._upkeep = Upkeep(tasks, self.health, self._receiver.emit, self._options)
        self._upkeep.start(first=lambda: self._check_at_start(url))

    def _check_at_start(self, url: str) -> None:
        with self._lock:
            ours = delivery_queries.subscriptions(self._connection)
        report = check_at_start(
            self._list_webhooks,
            ours,
            Endpoint(url, self._public_url),
            secret_known=lambda webhook_id: self._secret_for(webhook_id) is not None,
            env_secret=self._env_secret,
        )
        self._webhook_ids = report.webhook_ids
        if report.klaviyo_answered:
            self.health.klaviyo_answered()
        for notice in report.notices:
            self._receiver.emit(notice)

    def stop(self) -> None:
        if self._upkeep is not None:
            self._upkeep.stop()

    def _list_webhooks(self) -> list[Webhook]:
        from joyctl.klaviyo.resources.webhooks import list_webhooks

        return list(list_webhooks(self._klaviyo()))

    def _probe(self) -> None:
        from joyctl.klaviyo.resources.accounts import get_account

        get_account(self._klaviyo())

    def _retry_backlog(self) -> int:
        """Hand the worker each delivery a failure left unprocessed, or an earlier run left,
        when its turn in the retry schedule has come."""
        with self._lock:
            stored = delivery_queries.select_deliveries(self._connection, unprocessed_only=True)
        handed = 0
        for delivery in stored:
            fresh = delivery.last_error is None and delivery.received_at >= self._started_at
            if fresh or not self._retries.due(delivery.id):
                continue  # a new one is the worker's already
            line = DeliveryLine(
                delivery_id=delivery.id,
                received_at=delivery.received_at,
                webhook_id=delivery.webhook_id,
                status_code=delivery.status_code or 200,
                verdict=delivery.verdict,
                events=delivery.event_count,
            )
            if self._receiver.retry(line):
                handed += 1
        return handed

    def _ledger_answers(self) -> tuple[bool, str | None]:
        if not self._lock.acquire(timeout=LEDGER_WAIT_SECONDS):
            return False, f"the ledger has been busy for over {LEDGER_WAIT_SECONDS:g}s"
        try:
            delivery_queries.unprocessed_count(self._connection)
        except sqlite3.Error as exc:
            return False, f"the ledger cannot be read: {exc}"
        finally:
            self._lock.release()
        return True, None

    def _secret_is_known(self) -> tuple[bool, str | None]:
        if self._env_secret:
            return True, None
        ids = self._webhook_ids
        if not ids:
            with self._lock:
                ids = list(delivery_queries.subscriptions(self._connection))
        if not ids:
            return False, "no webhook is known to deliver here"
        for webhook_id in ids:
            try:
                if self._secret_for(webhook_id) is not None:
                    return True, None
            except JoyctlError as exc:
                return False, exc.message
        return False, f"the signing secret of webhook {', '.join(ids)} is not known"


class RetrySchedule:
    """When each stuck delivery is tried again: at once, then after `first`, doubling up to
    `longest`, so one that keeps failing costs little and fills no log."""

    def __init__(
        self, first: float, longest: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._first = first
        self._longest = longest
        self._clock = clock
        self._next: dict[int, tuple[float, float]] = {}  # id -> (when, the wait after that)

    def due(self, delivery_id: int) -> bool:
        now = self._clock()
        when, wait = self._next.get(delivery_id, (now, self._first))
        if now < when:
            return False
        self._next[delivery_id] = (now + wait, min(wait * 2, self._longest))
        return True
