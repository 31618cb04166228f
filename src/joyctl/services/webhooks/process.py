"""Running verified webhook deliveries through the reward pipeline, for `listen` and `replay`.

Each event of a delivery is claimed by its `external_id` first, so an event Klaviyo delivers
twice is decided once. Review events then go through the same `RewardPipeline` as replayed and
simulated reviews; when the payload lacks a field the engine needs, or holds one out of bounds,
the review is read from `GET /api/reviews/{id}`. A review whose own fields are out of bounds is
marked processed as "quarantined: reason", judged once and never tried again. An event that
names no review id (under any name `review_event` accepts) is matched through `review_lookup`;
one that cannot be matched is kept as unmatched, with the reason, and tried again by every
`webhooks replay` until it is.

Events are marked processed only after the pipeline has committed, and the pipeline's
idempotency keys make a repeat harmless, so a crash anywhere in between is recovered by
`joyctl webhooks replay` without a second award.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.engine import ConnectionFacts, WriteReviewProgram
from joyctl.errors import AuthError, DataError, JoyctlError, NotFoundError, UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.ledger import deliveries as delivery_queries
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.db import transaction
from joyctl.services.rewards.pipeline import IncomingReview, RewardPipeline
from joyctl.services.rewards.program import current_program
from joyctl.services.rewards.sources import incoming_from_fields, incoming_from_klaviyo
from joyctl.services.webhooks import outcomes
from joyctl.services.webhooks.outcomes import ReviewOutcome
from joyctl.services.webhooks.review_event import EventClues, Match, event_clues
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
    rejected: int = 0
    held: int = 0
    unmatched: int = 0
    ignored: int = 0
    reviews: list[ReviewOutcome] = []
    """Every review event of the delivery with what it came to (repeats: `already done`)."""
    error: str | None = None


class ReplaySummary(BaseModel):
    rechecked: int = 0  # stored but never judged before this replay
    deliveries: int
    events: int
    processed: int
    duplicates: int
    awarded: int
    points: int
    rejected: int = 0
    held: int = 0  # held for approval: `joyctl reviews pending`
    unmatched: int = 0  # kept until their review is found; the next replay tries again
    ignored: int = 0  # not review events, or reviews Klaviyo no longer has
    already_done: int = 0
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
    """Decides the events of stored deliveries; `lock` guards a connection shared by threads.

    `lookup` finds the review of an event that names none; without it such events stay
    unmatched.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        facts: ConnectionFacts,
        fetch_review: ReviewFetcher,
        *,
        lookup: Callable[[EventClues, frozenset[str]], Match] | None = None,
        lock: threading.RLock | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connection = connection
        self.facts = facts
        self.fetch_review = fetch_review
        self.lookup = lookup
        self.lock = lock if lock is not None else threading.RLock()
        self.clock = clock
        self._pipeline: RewardPipeline | None = None

    def known_review_ids(self, review_ids: list[str]) -> set[str]:
        """Which of these reviews the ledger holds (for a lookup's tie-break)."""
        with self.lock:
            return review_queries.known_review_ids(self.connection, review_ids)

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
        results, prepared, error = self._prepare(chosen)
        with self.lock:
            self._decide(prepared, results)
            with transaction(self.connection):
                stamp = self._stamp()
                delivery_queries.record_event_outcomes(
                    self.connection, [_stored(result) for result in results.values()], stamp
                )
                delivery_queries.finish_delivery(self.connection, delivery.id, stamp, error)
            taken = {event.external_id for event in chosen}
            repeats = self._repeats([event for event in events if event.external_id not in taken])
        reviews = [r for r in results.values() if r.kind != "ignored" or r.review_id] + repeats
        counts = outcomes.count(results.values())
        return ProcessResult(
            delivery_id=delivery.id,
            events=len(events),
            processed=sum(1 for r in results.values() if r.kind != "unmatched"),
            duplicates=len(events) - len(chosen),
            awarded=counts.awarded,
            points=counts.points,
            rejected=counts.rejected,
            held=counts.held,
            unmatched=counts.unmatched,
            ignored=counts.ignored,
            reviews=reviews,
            error=error,
        )

    def _prepare(
        self, events: Sequence[DeliveryEvent]
    ) -> tuple[dict[str, ReviewOutcome], list[tuple[str, IncomingReview]], str | None]:
        """Outcomes of events that need no decision, the reviews to decide, the last error.

        Events whose review could not be read (Klaviyo failed) get no outcome: they stay
        unprocessed for a later replay. Events whose review cannot be told are `unmatched`.
        """
        results: dict[str, ReviewOutcome] = {}
        prepared: list[tuple[str, IncomingReview]] = []
        error: str | None = None
        for event in events:
            if event.topic not in REVIEW_EVENT_TOPICS:
                results[event.external_id] = outcomes.ignored(
                    event.external_id, None, "not a review topic"
                )
                continue
            taken = frozenset(incoming.inbox.review_id for _, incoming in prepared)
            try:
                found = self._review_of(event, taken)
            except JoyctlError as exc:
                named = event.review_id
                error = (
                    f"{f'review {named}' if named else f'event {event.external_id}'}: {exc.message}"
                )
                continue
            if isinstance(found, IncomingReview):
                prepared.append((event.external_id, found))
            else:
                results[event.external_id] = found
        return results, prepared, error

    def _review_of(
        self, event: DeliveryEvent, taken: frozenset[str]
    ) -> IncomingReview | ReviewOutcome:
        clues = event_clues(event.payload)
        if clues.review_id is not None:
            try:
                incoming = self._incoming(event, clues.review_id)
            except UnusableReviewError as exc:
                # Judged once, for good: a later replay does not meet it again.
                return outcomes.quarantined(event.external_id, clues.review_id, exc.message)
            if incoming is None:
                why = "review not found in Klaviyo"
                return outcomes.ignored(event.external_id, clues.review_id, why)
            return incoming
        if self.lookup is None:
            return outcomes.unmatched(event.external_id, "the event names no review id")
        match = self.lookup(clues, taken)
        if match.settled:
            return outcomes.already_done(event.external_id, None)
        if match.review is None:
            return outcomes.unmatched(event.external_id, match.reason or "no review found")
        return incoming_from_klaviyo(match.review, origin=ORIGIN)

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
        self, prepared: list[tuple[str, IncomingReview]], results: dict[str, ReviewOutcome]
    ) -> None:
        if not prepared:
            return
        pipeline = self._current_pipeline()
        reviews = [incoming for _, incoming in prepared]
        for (external_id, _), outcome in zip(prepared, pipeline.run(reviews), strict=True):
            results[external_id] = outcomes.decided(external_id, outcome)

    def _repeats(self, events: list[DeliveryEvent]) -> list[ReviewOutcome]:
        """Review events another delivery already brought: `already done`."""
        repeated = [event for event in events if event.topic in REVIEW_EVENT_TOPICS]
        if not repeated:
            return []
        stored = delivery_queries.stored_review_ids(
            self.connection, [event.external_id for event in repeated]
        )
        return [
            outcomes.already_done(event.external_id, stored.get(event.external_id))
            for event in repeated
        ]

    def _current_pipeline(self) -> RewardPipeline:
        """One pipeline while the program stays the same (its history is then kept warm)."""
        program: WriteReviewProgram = current_program(self.connection)
        if self._pipeline is None or self._pipeline.program != program:
            self._pipeline = RewardPipeline(self.connection, program, self.facts)
        return self._pipeline

    def _stamp(self) -> str:
        return self.clock().isoformat()


def _stored(result: ReviewOutcome) -> delivery_queries.EventOutcome:
    if result.kind == "unmatched":
        return delivery_queries.EventOutcome(
            result.external_id, delivery_queries.UNMATCHED, detail=result.reason, finished=False
        )
    return delivery_queries.EventOutcome(result.external_id, result.outcome, result.review_id)


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
    results = [_replay_one(processor, delivery, rerun) for delivery in selected]
    errors = [f"delivery {r.delivery_id}: {r.error}" for r in results if r.error]
    return ReplaySummary(
        deliveries=len(results),
        events=sum(r.events for r in results),
        processed=sum(r.processed for r in results),
        duplicates=sum(r.duplicates for r in results),
        awarded=sum(r.awarded for r in results),
        points=sum(r.points for r in results),
        rejected=sum(r.rejected for r in results),
        held=sum(r.held for r in results),
        unmatched=sum(r.unmatched for r in results),
        ignored=sum(r.ignored for r in results),
        already_done=sum(
            1 for r in results for review in r.reviews if review.kind == "already_done"
        ),
        failed=len(errors),
        errors=errors,
    )


def _replay_one(
    processor: DeliveryProcessor, delivery: delivery_queries.StoredDelivery, rerun: bool
) -> ProcessResult:
    """Process one stored delivery; one that cannot be processed is marked with the reason
    (its `last_error`) and the replay goes on to the next. Failures of the whole run (the
    ledger, credentials, a missing program) still stop it."""
    try:
        return processor.process(delivery, rerun=rerun)
    except (sqlite3.Error, AuthError, UsageError):
        raise
    except Exception as exc:  # noqa: BLE001 - one bad stored row must not stop the replay
        reason = exc.message if isinstance(exc, JoyctlError) else _unprocessable(exc)
        with processor.lock, transaction(processor.connection):
            delivery_queries.finish_delivery(
                processor.connection, delivery.id, processor.clock().isoformat(), reason
            )
        return ProcessResult(
            delivery_id=delivery.id,
            events=0,
            processed=0,
            duplicates=0,
            awarded=0,
            points=0,
            error=reason,
        )


def _unprocessable(exc: Exception) -> str:
    detail = str(exc)[:200] if isinstance(exc, ValueError) else type(exc).__name__
    return f"cannot be processed: {detail}"


def _check_ids(connection: sqlite3.Connection, ids: Sequence[int]) -> None:
    missing = delivery_queries.missing_ids(connection, ids) if ids else []
    if missing:
        raise NotFoundError(
            f"no stored delivery {missing[0]}",
            hint=f"delivery ids are the numbers `{command('webhooks', 'listen')}` prints",
        )
    for delivery_id in ids:
        stored = delivery_queries.get_delivery(connection, delivery_id)
        if stored is not None and stored.verdict != delivery_queries.VERIFIED:
            raise UsageError(
                f"delivery {delivery_id} was {stored.verdict} ({stored.reason}):"
                " only verified deliveries earn points",
                hint="a rejected delivery stays in the ledger as evidence; it is never replayed",
            )
