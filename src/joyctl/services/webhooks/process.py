"""Running verified webhook deliveries through the reward pipeline, for `listen` and `replay`.

Each event of a delivery is claimed by its `external_id` first, so an event Klaviyo delivers
twice is decided once. Review events then go through the same `RewardPipeline` as replayed and
simulated reviews; when the payload lacks a field the engine needs, or holds one out of bounds,
the review is read from `GET /api/reviews/{id}`. A review whose own fields are out of bounds is
marked processed as "quarantined: reason", judged once and never tried again. Events are marked
processed only after the pipeline has committed, and the pipeline's idempotency keys make a
repeat harmless, so a crash anywhere in between is recovered by `joyctl webhooks replay`
without a second award.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel

from joyctl.engine import ConnectionFacts, WriteReviewProgram
from joyctl.errors import DataError, JoyctlError, NotFoundError, UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.ledger import deliveries as delivery_queries
from joyctl.ledger.db import transaction
from joyctl.services.rewards.pipeline import IncomingReview, RewardPipeline
from joyctl.services.rewards.program import current_program
from joyctl.services.rewards.sources import incoming_from_fields, incoming_from_klaviyo
from joyctl.services.webhooks.verify import DeliveryEvent, delivery_events, parse_document

SUBMITTED_REVIEW_TOPIC = "event:klaviyo.submitted_review"
REVIEW_EVENT_TOPICS = frozenset({SUBMITTED_REVIEW_TOPIC, "event:klaviyo.submitted_rating"})
ORIGIN = "webhook"
# What the engine decides on. Klaviyo's event payload carries no email, so in practice the
# review is fetched; a payload that has them all saves the call.
REQUIRED_FIELDS = ("email", "content", "status", "review_type")

ReviewFetcher = Callable[[str], IncomingReview | None]  # None: Klaviyo no longer has it


class UnusableReviewError(DataError):
    """Klaviyo's own copy of a review has a field out of bounds: it can never be decided."""


class ProcessResult(BaseModel):
    delivery_id: int
    events: int
    processed: int
    duplicates: int
    awarded: int
    points: int
    error: str | None = None


class ReplaySummary(BaseModel):
    rechecked: int = 0  # stored but never judged before this replay
    deliveries: int
    events: int
    processed: int
    duplicates: int
    awarded: int
    points: int
    failed: int
    errors: list[str]
    pushed: int | None = None  # Joy events and profile updates sent, with --push
    push_pending: int | None = None


def klaviyo_review_fetcher(client: Callable[[], KlaviyoClient]) -> ReviewFetcher:
    """Read a review from Klaviyo; `client` is called only when a fetch is needed."""
    from joyctl.klaviyo.resources.reviews import get_review

    def fetch(review_id: str) -> IncomingReview | None:
        try:
            review = get_review(client(), review_id)
        except NotFoundError:
            return None
        try:
            return incoming_from_klaviyo(review, origin=ORIGIN)
        except DataError as exc:
            raise UnusableReviewError(exc.message) from None

    return fetch


class DeliveryProcessor:
    """Decides the events of stored deliveries; `lock` guards a connection shared by threads."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        facts: ConnectionFacts,
        fetch_review: ReviewFetcher,
        *,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connection = connection
        self.facts = facts
        self.fetch_review = fetch_review
        self.lock = lock if lock is not None else threading.RLock()
        self.clock = clock
        self._pipeline: RewardPipeline | None = None

    def process(
        self, delivery: delivery_queries.StoredDelivery, *, rerun: bool = False
    ) -> ProcessResult:
        """Decide the delivery's events not processed yet (every event with `rerun`)."""
        events = _unique(delivery_events(parse_document(delivery.body)))
        with self.lock, transaction(self.connection):
            pending = delivery_queries.claim_events(
                self.connection, delivery.id, [event.key for event in events], self._stamp()
            )
        chosen = [event for event in events if rerun or event.external_id in pending]
        outcomes, prepared, error = self._prepare(chosen)
        with self.lock:
            awarded, points = self._decide(prepared, outcomes)
            with transaction(self.connection):
                stamp = self._stamp()
                delivery_queries.mark_events_processed(self.connection, outcomes, stamp)
                delivery_queries.finish_delivery(self.connection, delivery.id, stamp, error)
        return ProcessResult(
            delivery_id=delivery.id,
            events=len(events),
            processed=len(outcomes),
            duplicates=len(events) - len(chosen),
            awarded=awarded,
            points=points,
            error=error,
        )

    def _prepare(
        self, events: Sequence[DeliveryEvent]
    ) -> tuple[dict[str, str], list[tuple[str, IncomingReview]], str | None]:
        """Outcomes of events that need no decision, the reviews to decide, the last error.

        Events whose review could not be fetched get no outcome: they stay unprocessed for a
        later replay.
        """
        outcomes: dict[str, str] = {}
        prepared: list[tuple[str, IncomingReview]] = []
        error: str | None = None
        for event in events:
            if event.topic not in REVIEW_EVENT_TOPICS:
                outcomes[event.external_id] = "ignored: not a review topic"
            elif event.review_id is None:
                outcomes[event.external_id] = "ignored: no review_id"
            else:
                try:
                    incoming = self._incoming(event, event.review_id)
                except UnusableReviewError as exc:
                    # Judged once, for good: a later replay does not meet it again.
                    outcomes[event.external_id] = f"quarantined: {exc.message}"
                    continue
                except JoyctlError as exc:
                    error = f"review {event.review_id}: {exc.message}"
                    continue
                if incoming is None:
                    outcomes[event.external_id] = "ignored: review not found in Klaviyo"
                else:
                    prepared.append((event.external_id, incoming))
        return outcomes, prepared, error

    def _incoming(self, event: DeliveryEvent, review_id: str) -> IncomingReview | None:
        fields = dict(event.properties)
        if all(fields.get(name) is not None for name in REQUIRED_FIELDS):
            attributes = event.payload.get("attributes")
            if isinstance(attributes, dict):
                fields.setdefault("created", attributes.get("datetime"))
            fields["id"] = review_id
            try:
                return incoming_from_fields(fields, origin=ORIGIN)
            except DataError:
                pass  # a payload field out of bounds: Klaviyo's own copy of the review decides
        return self.fetch_review(review_id)

    def _decide(
        self, prepared: list[tuple[str, IncomingReview]], outcomes: dict[str, str]
    ) -> tuple[int, int]:
        if not prepared:
            return 0, 0
        pipeline = self._current_pipeline()
        awarded = points = 0
        reviews = [incoming for _, incoming in prepared]
        for (external_id, _), outcome in zip(prepared, pipeline.run(reviews), strict=True):
            if outcome.outcome == "award" and outcome.changed and outcome.points > 0:
                awarded += 1
                points += outcome.points
                outcomes[external_id] = f"award {outcome.points}"
            elif outcome.changed:
                outcomes[external_id] = f"{outcome.outcome} {outcome.reason or ''}".strip()
            else:
                outcomes[external_id] = "unchanged"
        return awarded, points

    def _current_pipeline(self) -> RewardPipeline:
        """One pipeline while the program stays the same (its history is then kept warm)."""
        program: WriteReviewProgram = current_program(self.connection)
        if self._pipeline is None or self._pipeline.program != program:
            self._pipeline = RewardPipeline(self.connection, program, self.facts)
        return self._pipeline

    def _stamp(self) -> str:
        return self.clock().isoformat()


def _unique(events: list[DeliveryEvent]) -> list[DeliveryEvent]:
    """One event per external id: a batch may repeat an event, which counts once."""
    first: dict[str, DeliveryEvent] = {}
    for event in events:
        first.setdefault(event.external_id, event)
    return list(first.values())


def replay_deliveries(
    connection: sqlite3.Connection,
    processor: DeliveryProcessor,
    *,
    ids: Sequence[int] = (),
    since: datetime | None = None,
) -> ReplaySummary:
    """Re-run stored verified deliveries: the given ones, those since a time, or else every
    delivery not processed to the end. Selected deliveries re-run all their events."""
    _check_ids(connection, ids)
    selected = delivery_queries.select_deliveries(
        connection,
        ids=ids,
        received_since=since.astimezone(UTC).isoformat() if since else None,
        unprocessed_only=not ids and since is None,
    )
    rerun = bool(ids) or since is not None
    results = [processor.process(delivery, rerun=rerun) for delivery in selected]
    errors = [f"delivery {r.delivery_id}: {r.error}" for r in results if r.error]
    return ReplaySummary(
        deliveries=len(results),
        events=sum(r.events for r in results),
        processed=sum(r.processed for r in results),
        duplicates=sum(r.duplicates for r in results),
        awarded=sum(r.awarded for r in results),
        points=sum(r.points for r in results),
        failed=len(errors),
        errors=errors,
    )


def _check_ids(connection: sqlite3.Connection, ids: Sequence[int]) -> None:
    missing = delivery_queries.missing_ids(connection, ids) if ids else []
    if missing:
        raise NotFoundError(
            f"no stored delivery {missing[0]}",
            hint="delivery ids are the numbers `joyctl webhooks listen` prints",
        )
    for delivery_id in ids:
        stored = delivery_queries.get_delivery(connection, delivery_id)
        if stored is not None and stored.verdict != delivery_queries.VERIFIED:
            raise UsageError(
                f"delivery {delivery_id} was {stored.verdict} ({stored.reason}):"
                " only verified deliveries earn points",
                hint="a rejected delivery stays in the ledger as evidence; it is never replayed",
            )
