"""Tolerant intake over real HTTP: the review id under other names, or found by a lookup; an
event that cannot be matched is kept, said, and finished by a later replay."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from joyctl.engine import ConnectionFacts
from joyctl.klaviyo.models import Review as KlaviyoReview
from joyctl.ledger import deliveries as delivery_queries
from joyctl.services.rewards.pipeline import IncomingReview
from joyctl.services.webhooks.process import DeliveryProcessor, replay_deliveries
from joyctl.services.webhooks.review_event import EventClues, Match
from joyctl.services.webhooks.review_lookup import ReviewLookup
from tests.webhooks.conftest import ACCOUNT, CONNECTED_AT, SECRET, WEBHOOK, ReceiverFactory
from tests.webhooks.support import (
    LONG_TEXT,
    REVIEW_TOPIC,
    balance,
    delivery_body,
    post,
    signed_headers,
)

ANN = "ann@example.com"
BOB = "bob@example.com"


def _event(external_id: str, properties: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    """A Submitted Review event whose properties are exactly `properties`."""
    return {
        "external_id": external_id,
        "topic": REVIEW_TOPIC,
        "payload": {
            "type": "event",
            "id": external_id,
            "attributes": {
                "event_properties": properties,
                "datetime": datetime.now(UTC).isoformat(),
                **attributes,
            },
            "relationships": {"profile": {"data": {"type": "profile", "id": "PROFILE-ANN"}}},
        },
    }


def _send(url: str, *events: dict[str, Any]) -> httpx.Response:
    body = delivery_body(list(events), account_id=ACCOUNT, webhook_id=WEBHOOK)
    return post(url, body, signed_headers(SECRET, body, WEBHOOK))


def _full(**overrides: Any) -> dict[str, Any]:
    """What the engine needs, so the review is decided from the payload alone."""
    return {
        "email": ANN,
        "content": LONG_TEXT,
        "status": "published",
        "review_type": "review",
        "product_id": "tea-1",
        **overrides,
    }


@pytest.mark.parametrize(
    "named",
    [
        {"review_id": "r1"},
        {"Review ID": "r1"},
        {"reviewId": "r1"},
        {"$review_id": "r1"},
        {"review": {"id": "r1"}},
    ],
    ids=["review_id", "Review ID", "reviewId", "$review_id", "review.id"],
)
def test_the_review_id_is_read_under_each_accepted_name(
    start_receiver: ReceiverFactory, named: dict[str, Any]
) -> None:
    listening = start_receiver(lookup=_no_lookup)
    assert _send(listening.url, _event("e1", {**_full(), **named})).status_code == 200
    line = listening.wait_for(1)[0]
    [review] = line.reviews
    assert (review.review_id, review.outcome) == ("r1", "awarded 50")
    assert balance(listening.connection, ANN) == 50


def _klaviyo_review(review_id: str, email: str, product: str, created: datetime) -> KlaviyoReview:
    return KlaviyoReview.model_validate(
        {
            "type": "review",
            "id": review_id,
            "attributes": {
                "email": email,
                "status": {"value": "published"},
                "review_type": "review",
                "created": created.isoformat(),
                "content": f"{LONG_TEXT} ({review_id})",
                "product": {"external_id": product},
                "verified": False,
            },
        }
    )


class FakeKlaviyo:
    """The reviews Klaviyo lists and the email of profile PROFILE-ANN; calls are counted."""

    def __init__(self, *reviews: KlaviyoReview) -> None:
        self.reviews = list(reviews)
        self.listings = 0

    def reviews_created(self, start: datetime, end: datetime) -> list[KlaviyoReview]:
        self.listings += 1
        return [r for r in self.reviews if r.created is not None and start <= r.created <= end]

    def profile_email(self, profile_id: str) -> str | None:
        return ANN if profile_id == "PROFILE-ANN" else None


def _lookup(connection: sqlite3.Connection, klaviyo: FakeKlaviyo) -> Any:
    def known(ids: list[str]) -> set[str]:
        from joyctl.ledger.reviews import known_review_ids

        return known_review_ids(connection, ids)

    return ReviewLookup(klaviyo, known, timedelta(minutes=10)).find


def test_an_event_without_a_review_id_is_matched_and_awarded(
    start_receiver: ReceiverFactory, ledger: sqlite3.Connection
) -> None:
    now = datetime.now(UTC)
    klaviyo = FakeKlaviyo(
        _klaviyo_review("r-ann", ANN, "tea-1", now),
        _klaviyo_review("r-ann-other", ANN, "tea-2", now),  # same author, other product
        _klaviyo_review("r-bob", BOB, "tea-1", now),
        _klaviyo_review("r-ann-old", ANN, "tea-1", now - timedelta(hours=3)),
    )
    listening = start_receiver(lookup=_lookup(ledger, klaviyo))
    # Neither the id nor the email: the email comes from the event's profile.
    event = _event("e1", {"content": LONG_TEXT, "Product ID": "tea-1"})
    assert _send(listening.url, event).status_code == 200
    line = listening.wait_for(1)[0]
    [review] = line.reviews
    assert (review.review_id, review.kind, review.outcome) == ("r-ann", "awarded", "awarded 50")
    assert balance(ledger, ANN) == 50
    stored = ledger.execute("SELECT review_id, processed_at FROM webhook_events").fetchone()
    assert stored["review_id"] == "r-ann" and stored["processed_at"] is not None


def test_an_unmatched_event_is_kept_said_and_finished_by_replay(
    start_receiver: ReceiverFactory, ledger: sqlite3.Connection
) -> None:
    klaviyo = FakeKlaviyo()  # the review is not listed yet
    listening = start_receiver(lookup=_lookup(ledger, klaviyo))
    assert (
        _send(listening.url, _event("e1", {"email": ANN, "product_id": "tea-1"})).status_code == 200
    )
    line = listening.wait_for(1)[0]
    [review] = line.reviews
    assert (review.kind, review.outcome, review.review_id) == ("unmatched", "unmatched", None)
    assert review.reason is not None and review.reason.startswith("no review by ann@example.com")
    assert (line.unmatched, line.awarded, line.error) == (1, 0, None)
    assert balance(ledger, ANN) == 0
    kept = delivery_queries.unmatched_events(ledger)
    assert (kept.count, kept.examples[0][0]) == (1, "e1")
    assert "no review by ann@example.com" in kept.examples[0][2]

    # Klaviyo lists it now: a replay of what was left over matches and awards it, once.
    klaviyo.reviews.append(_klaviyo_review("r-late", ANN, "tea-1", datetime.now(UTC)))
    processor = DeliveryProcessor(
        ledger,
        ConnectionFacts(CONNECTED_AT),
        _never_fetch,
        lookup=_lookup(ledger, klaviyo),
        lock=threading.RLock(),
    )
    summary = replay_deliveries(ledger, processor)
    assert (summary.deliveries, summary.awarded, summary.unmatched) == (1, 1, 0)
    assert balance(ledger, ANN) == 50
    assert delivery_queries.unmatched_events(ledger).count == 0
    again = replay_deliveries(ledger, processor)
    assert (again.deliveries, again.awarded) == (0, 0)


def test_several_candidates_stay_unmatched_until_the_ledger_tells_them_apart(
    start_receiver: ReceiverFactory, ledger: sqlite3.Connection
) -> None:
    now = datetime.now(UTC)
    klaviyo = FakeKlaviyo(
        _klaviyo_review("r-a", ANN, "tea-1", now), _klaviyo_review("r-b", ANN, "tea-2", now)
    )
    listening = start_receiver(lookup=_lookup(ledger, klaviyo))
    _send(listening.url, _event("e1", {"email": ANN}), _event("e2", {"email": ANN}))
    line = listening.wait_for(1)[0]
    assert [r.kind for r in line.reviews] == ["unmatched", "unmatched"]
    assert "2 reviews by ann@example.com" in (line.reviews[0].reason or "")

    # One of them reaches the ledger another way (`reviews replay`): the first event is then
    # the other review, and the second, whichever it is, was decided already.
    from joyctl.services.rewards.program import current_program
    from joyctl.services.rewards.reviews import simulate_reviews
    from joyctl.services.rewards.sources import incoming_from_klaviyo

    replayed = [incoming_from_klaviyo(klaviyo.reviews[0], origin="replay")]
    program = current_program(ledger)
    simulate_reviews(ledger, program, ConnectionFacts(CONNECTED_AT), replayed, commit=True)
    processor = DeliveryProcessor(
        ledger, ConnectionFacts(CONNECTED_AT), _never_fetch, lookup=_lookup(ledger, klaviyo)
    )
    summary = replay_deliveries(ledger, processor)
    assert (summary.awarded, summary.already_done, summary.unmatched) == (1, 1, 0)
    assert balance(ledger, ANN) == 100


def _never_fetch(review_id: str) -> IncomingReview | None:
    raise AssertionError(f"review {review_id} was fetched")


def _no_lookup(clues: EventClues, taken: frozenset[str]) -> Match:
    raise AssertionError("looked up although the event named its review")
