"""Webhook delivery documents: any body is a document or a malformed delivery, never a crash."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.files.limits import MAX_INTEGER, MIN_INTEGER
from joyctl.services.rewards.pipeline import IncomingReview
from joyctl.services.rewards.sources import incoming_from_fields
from joyctl.services.webhooks.process import UnusableReviewError
from joyctl.services.webhooks.verify import (
    MalformedDeliveryError,
    delivery_events,
    parse_document,
)
from tests.webhooks.conftest import ACCOUNT, SECRET, WEBHOOK, ReceiverFactory
from tests.webhooks.support import delivery_body, post, review_event, signed_headers

ANN = "ann@example.com"
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_INTEGER, max_value=MAX_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=15,
)
_DOCUMENTS = st.fixed_dictionaries(
    {"meta": st.dictionaries(st.text(max_size=8), _JSON, max_size=3)},
    optional={
        "data": _JSON
        | st.lists(st.dictionaries(st.sampled_from(["external_id", "topic", "payload"]), _JSON))
    },
)


@settings(max_examples=300)
@given(body=st.binary(max_size=100) | _JSON.map(lambda value: json.dumps(value).encode()))
def test_any_body_is_a_document_or_malformed(body: bytes) -> None:
    try:
        document = parse_document(body)
        delivery_events(document)
    except MalformedDeliveryError as exc:
        assert str(exc)


@settings(max_examples=300)
@given(document=_DOCUMENTS)
def test_documents_round_trip_and_their_events_are_found_or_refused(
    document: dict[str, Any],
) -> None:
    assert parse_document(json.dumps(document).encode("utf-8")) == document
    try:
        events = delivery_events(document)
    except MalformedDeliveryError:
        return
    assert len(events) == len(document["data"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"meta": {}, "data": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nested deeper than 64"),
        (b'{"meta": {"n": ' + b"9" * 5000 + b"}}", "an integer of 5000 digits is beyond 64 bits"),
        (b'{"meta": {"n": 18446744073709551616}}', "beyond 64 bits"),
        (b'{"meta": {"n": NaN}}', "NaN is not a number JSON allows"),
        (b'{"meta": {"n": 1e999}}', "is too large"),
        (b'{"meta": {"n": "\xff"}}', "not valid UTF-8"),
        (b'{"meta": {"n": "\\udc00"}}', "lone surrogate"),
        (b"[]", "no meta object"),
    ],
)
def test_hostile_bodies_are_malformed_deliveries(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedDeliveryError, match=reason):
        parse_document(body)


def _send(url: str, *events: dict[str, Any]) -> httpx.Response:
    body = delivery_body(list(events), account_id=ACCOUNT, webhook_id=WEBHOOK)
    return post(url, body, signed_headers(SECRET, body, WEBHOOK))


def test_a_payload_out_of_bounds_is_decided_from_klaviyos_copy(
    start_receiver: ReceiverFactory,
) -> None:
    fetched: list[str] = []

    def fetch(review_id: str) -> IncomingReview | None:
        fetched.append(review_id)
        fields = {"id": review_id, "email": ANN, "content": "x" * 40, "status": "published"}
        return incoming_from_fields(fields, origin="webhook")

    listening = start_receiver(fetch)
    event = review_event("e1", "r1", email=ANN, rating=7)
    event["payload"]["attributes"]["datetime"] = "9999-12-31T23:59:59-14:00"
    assert _send(listening.url, event).status_code == 200

    line = listening.wait_for(1)[0]

    assert fetched == ["r1"]
    assert (line.awarded, line.error) == (1, None)


def test_a_review_klaviyo_holds_out_of_bounds_is_quarantined_once(
    start_receiver: ReceiverFactory,
) -> None:
    def fetch(review_id: str) -> IncomingReview | None:
        raise UnusableReviewError("rating 7 is out of range (0 to 5)")

    listening = start_receiver(fetch)
    assert (
        _send(
            listening.url, review_event("e1", "r1"), review_event("e2", "r2", email=ANN)
        ).status_code
        == 200
    )

    line = listening.wait_for(1)[0]

    assert (line.processed, line.awarded, line.error) == (2, 1, None)
    rows = _events(listening.connection)
    assert rows == {"e1": "quarantined: rating 7 is out of range (0 to 5)", "e2": "awarded 50"}


def _events(connection: sqlite3.Connection) -> dict[str, str]:
    rows = connection.execute("SELECT external_id, outcome FROM webhook_events").fetchall()
    return {row["external_id"]: row["outcome"] for row in rows}
