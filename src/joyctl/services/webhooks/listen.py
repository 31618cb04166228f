"""`joyctl webhooks listen` and `webhooks replay`: wiring the ledger, secrets and Klaviyo.

The account a delivery must come from is the profile's connected account (recorded at connect
time, or else asked of Klaviyo once at start). The signing secret is JOYCTL_WEBHOOK_SECRET when
the environment holds one (a container's way); otherwise it is read from the profile's
credential store by the webhook id a delivery names, and kept in memory once found. Once it
listens, the listener checks what will arrive, answers health requests and keeps Klaviyo, the
OAuth grant and stuck deliveries moving (service.py).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from joyctl.credentials import CredentialStore
from joyctl.errors import CredentialStoreError, JoyctlError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.ledger import deliveries as delivery_queries
from joyctl.ledger.deliveries import RejectReason, Verdict
from joyctl.services.rewards.reviews import program_connection_facts
from joyctl.services.webhooks.intake import (
    DeliveryIntake,
    ListenerStarted,
    ListenerStopped,
    SecretLookup,
)
from joyctl.services.webhooks.process import (
    DeliveryProcessor,
    ReplaySummary,
    klaviyo_review_fetcher,
    replay_deliveries,
)
from joyctl.services.webhooks.receiver import (
    DEFAULT_MAX_BODY_BYTES,
    ListenOptions,
    Pusher,
    Report,
    WebhookReceiver,
    wait_for_signal,
)
from joyctl.services.webhooks.review_lookup import (
    DEFAULT_WINDOW,
    KlaviyoReviewFinder,
    ReviewLookup,
)
from joyctl.services.webhooks.service import ListenerService
from joyctl.services.webhooks.upkeep import UpkeepOptions
from joyctl.services.webhooks.verify import DeliveryRequest, VerifyRules, reject, verify_delivery

# Klaviyo's webhook ids are ULIDs; anything far from that shape is not worth a keyring lookup.
_PLAUSIBLE_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
MISSING_TTL_SECONDS = 10.0
_MISSING_KEPT = 1024


@dataclass
class WebhookDeps:
    """What listen and replay need from the profile; `klaviyo` is called only when needed."""

    connection: sqlite3.Connection
    credentials: CredentialStore
    klaviyo: Callable[[], KlaviyoClient]
    connection_info: Mapping[str, Any]
    ledger_path: Path  # the listener's pusher opens its own connection to it
    lookup_window: timedelta = DEFAULT_WINDOW  # events without a review id: see review_lookup
    webhook_secret: SecretStr | None = None  # JOYCTL_WEBHOOK_SECRET, for every delivery
    public_url: str | None = None  # where Klaviyo delivers (the profile's webhook_endpoint)


class SecretCache:
    """Webhook secrets by id, from the credential store. A missing one is asked again after
    `MISSING_TTL_SECONDS`, since the webhook may have been created after the listener started;
    until then requests naming it cost no keyring call."""

    def __init__(self, store: CredentialStore, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        self._known: dict[str, str] = {}
        self._missing: dict[str, float] = {}  # webhook id -> when the store last lacked it
        self._lock = threading.Lock()

    def __call__(self, webhook_id: str) -> str | None:
        if not _PLAUSIBLE_WEBHOOK_ID.match(webhook_id):
            return None
        with self._lock:
            if webhook_id in self._known:
                return self._known[webhook_id]
            missed = self._missing.get(webhook_id)
            if missed is not None and self._clock() - missed < MISSING_TTL_SECONDS:
                return None
        found = self._read(webhook_id)
        with self._lock:
            if found is None:
                if len(self._missing) >= _MISSING_KEPT:
                    self._missing.clear()
                self._missing[webhook_id] = self._clock()
                return None
            self._known[webhook_id] = found
            return found

    def _read(self, webhook_id: str) -> str | None:
        try:
            found = self._store.read_webhook_secret(webhook_id)
        except CredentialStoreError:
            raise
        except JoyctlError:
            return None
        return found.value.get_secret_value() if found is not None else None


def memoized(factory: Callable[[], KlaviyoClient]) -> Callable[[], KlaviyoClient]:
    """Build the client on first use only, once, whichever thread asks first."""
    lock = threading.Lock()
    built: list[KlaviyoClient] = []

    def get() -> KlaviyoClient:
        with lock:
            if not built:
                built.append(factory())
            return built[0]

    return get


def connected_account_id(deps: WebhookDeps) -> str:
    recorded = deps.connection_info.get("account_id")
    if recorded:
        return str(recorded)
    from joyctl.klaviyo.resources.accounts import get_account

    return get_account(deps.klaviyo()).id


def _processor(deps: WebhookDeps, lock: threading.RLock) -> DeliveryProcessor:
    processor = DeliveryProcessor(
        deps.connection,
        program_connection_facts(dict(deps.connection_info), deps.connection),
        klaviyo_review_fetcher(deps.klaviyo),
        lock=lock,
    )
    finder = KlaviyoReviewFinder(deps.klaviyo)
    processor.lookup = ReviewLookup(finder, processor.known_review_ids, deps.lookup_window).find
    return processor


def environment_first(secret: SecretStr | None, stored: SecretLookup) -> SecretLookup:
    """The environment's secret for every webhook when it holds one, else the store's."""
    if secret is None:
        return stored
    value = secret.get_secret_value()
    return lambda _webhook_id: value


def one_at_a_time(push: Pusher) -> Pusher:
    """The worker and the upkeep thread both send the outbox; never at the same time."""
    lock = threading.Lock()

    def pushed() -> int:
        with lock:
            return push()

    return pushed


def outbox_pusher(deps: WebhookDeps) -> Pusher:
    """Send the outbox on a connection of its own, opened per push: the shared one stays free
    for requests while Klaviyo is slow, and nothing is left open if the process ends mid-push."""
    from joyctl.ledger.db import open_ledger
    from joyctl.services.outbox.pusher import push_outbox

    def push() -> int:
        connection = open_ledger(deps.ledger_path)
        try:
            report = push_outbox(deps.klaviyo(), connection)
        finally:
            connection.close()
        return report.events_sent + report.profiles_sent

    return push


def listen(
    deps: WebhookDeps,
    options: ListenOptions,
    report: Report,
    *,
    push: bool = True,
    upkeep: UpkeepOptions | None = None,
) -> ListenerStopped:
    """Receive deliveries until SIGINT or SIGTERM; reports a line for each one. With `push`,
    what each delivery earns is sent to Klaviyo (Joy events, points on the profile) at once."""
    account_id = connected_account_id(deps)
    lock = threading.RLock()  # one ledger connection, shared by request and worker threads
    secret_for = environment_first(deps.webhook_secret, SecretCache(deps.credentials))
    intake = DeliveryIntake(
        deps.connection,
        lock,
        secret_for,
        account_id,
        options.tolerance_seconds,
        keep_rejected=options.keep_rejected,
    )
    pusher = one_at_a_time(outbox_pusher(deps)) if push else None
    receiver = WebhookReceiver(options, intake, _processor(deps, lock), report, pusher)
    service = ListenerService(
        receiver,
        deps.connection,
        lock,
        deps.klaviyo,
        secret_for,
        env_secret=deps.webhook_secret is not None,
        public_url=deps.public_url,
        options=upkeep,
    )

    # Before threads share the connection: judge what an earlier run stored but never checked,
    # so the upkeep's first round can finish the whole backlog.
    recheck_pending(deps, options.tolerance_seconds)
    backlog = delivery_queries.unprocessed_count(deps.connection)
    unmatched = delivery_queries.unmatched_events(deps.connection).count

    def ready() -> None:
        url = receiver.start()
        limits = _limits(options, backlog)
        started = ListenerStarted(url=url, account_id=account_id, unmatched=unmatched, **limits)
        receiver.emit(started)
        service.start(url)

    try:
        wait_for_signal(ready)
    finally:
        service.stop()
        receiver.stop()
    with lock:
        unprocessed = delivery_queries.unprocessed_count(deps.connection)
    return ListenerStopped(deliveries=receiver.deliveries, unprocessed=unprocessed)


def _limits(options: ListenOptions, backlog: int) -> dict[str, Any]:
    return {"tolerance_seconds": options.tolerance_seconds, "unprocessed": backlog}


def replay(
    deps: WebhookDeps,
    *,
    ids: Sequence[int] = (),
    since: datetime | None = None,
    tolerance_seconds: float = 300.0,
    push: bool = False,
) -> ReplaySummary:
    """Judge deliveries stored but never verified, then re-run verified ones through the
    reward pipeline; safe to repeat. With `push`, the outbox is sent to Klaviyo after."""
    rechecked = recheck_pending(deps, tolerance_seconds)
    processor = _processor(deps, threading.RLock())
    summary = replay_deliveries(deps.connection, processor, ids=ids, since=since)
    summary = summary.model_copy(update={"rechecked": rechecked})
    if not push:
        return summary
    from joyctl.services.outbox.pusher import push_outbox

    pushed = push_outbox(deps.klaviyo(), deps.connection)
    sent = pushed.events_sent + pushed.profiles_sent
    return summary.model_copy(update={"pushed": sent, "push_pending": pushed.pending})


def recheck_pending(deps: WebhookDeps, tolerance_seconds: float) -> int:
    """Verify each delivery stored but never judged, as of the moment it arrived."""
    pending = delivery_queries.pending_deliveries(deps.connection)
    if not pending:
        return 0
    secret_for = environment_first(deps.webhook_secret, SecretCache(deps.credentials))
    account_id = connected_account_id(deps)
    for stored in pending:
        verdict = _recheck(stored, secret_for, account_id, tolerance_seconds)
        delivery_queries.record_verdict(deps.connection, stored.id, verdict)
    return len(pending)


def _recheck(
    stored: delivery_queries.StoredDelivery,
    secret_for: Callable[[str], str | None],
    account_id: str,
    tolerance_seconds: float,
) -> Verdict:
    """The verdict on a stored delivery as of its arrival; a row that cannot even be read as a
    request (a damaged ledger) is rejected as malformed rather than stopping the replay."""
    try:
        complete = len(stored.body) == stored.body_bytes
        request = DeliveryRequest(
            {str(name): str(value) for name, value in dict(stored.headers).items()},
            stored.body if complete else None,  # refused unread: it was too large
            stored.body_bytes,
            DEFAULT_MAX_BODY_BYTES,
        )
        arrived = datetime.fromisoformat(stored.received_at)
        rules = VerifyRules(secret_for, account_id, tolerance_seconds, arrived)
        return verify_delivery(request, rules)
    except (TypeError, ValueError, OverflowError) as exc:
        detail = f"the stored request cannot be checked: {type(exc).__name__}"
        return reject(RejectReason.MALFORMED, detail)
