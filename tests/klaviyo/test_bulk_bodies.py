"""A bulk job written from its events' texts is what `bulk_create_events` sends, byte for byte."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl.errors import UsageError
from joyctl.klaviyo.bulk.batches import Outgoing
from joyctl.klaviyo.bulk.bodies import event_text, profile_text
from joyctl.klaviyo.bulk.sender import send_events
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.resources.events import EventInput, ProfileEvents, bulk_create_events

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_PROPERTIES = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=5,
)
_TIMES = st.none() | st.builds(
    lambda moment, hours: moment.replace(tzinfo=timezone(timedelta(hours=hours))),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-12, max_value=12),
)
_EVENTS = st.builds(
    EventInput,
    st.text(min_size=1, max_size=20),
    _PROPERTIES,
    _TIMES,
    st.none() | st.text(max_size=20),
    st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000),
    st.none() | st.sampled_from(["USD", "EUR", "JPY"]),
)
_PROFILES = st.fixed_dictionaries(
    {"email": st.sampled_from(["ann@example.com", "bob@example.com", "zoë@example.com"])},
    optional={"external_id": st.sampled_from(["gid-1", "gid-\u2603"])},
)


class Capture:
    """A client whose every request body is kept."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def accept(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        return httpx.Response(202)

    def client(self) -> KlaviyoClient:
        transport = httpx.MockTransport(self.accept)
        return build_client(base_url="https://a.klaviyo.com", transport=transport, pacing=False)


@pytest.fixture
def capture() -> Iterator[Capture]:
    yield Capture()


def _unique(events: list[EventInput]) -> list[EventInput]:
    """The events with their unique_ids made distinct, as a bulk job needs."""
    return [
        e if e.unique_id is None else dataclasses.replace(e, unique_id=f"{n}-{e.unique_id}")
        for n, e in enumerate(events)
    ]


def _groups(pairs: list[tuple[dict[str, str], EventInput]], backfill: bool) -> list[ProfileEvents]:
    grouped: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[EventInput]]] = {}
    for profile, event in pairs:
        grouped.setdefault(tuple(sorted(profile.items())), (profile, []))[1].append(event)
    return [ProfileEvents(profile, events, backfill) for profile, events in grouped.values()]


@given(
    st.lists(st.tuples(_PROFILES, _EVENTS), min_size=1, max_size=12),
    st.booleans(),
)
def test_the_written_body_is_the_encoded_document(
    pairs: list[tuple[dict[str, str], EventInput]], backfill: bool
) -> None:
    events = _unique([event for _, event in pairs])
    pairs = [(profile, event) for (profile, _), event in zip(pairs, events, strict=True)]
    capture = Capture()
    with capture.client() as client:
        bulk_create_events(client, _groups(pairs, backfill))
        items = [
            Outgoing.build(profile, event, origin=n, position={"n": n})
            for n, (profile, event) in enumerate(pairs)
        ]
        send_events(client, items, backfill=backfill)

    encoded, written = capture.bodies
    assert written == encoded


@given(_EVENTS)
def test_an_events_text_is_its_json(event: EventInput) -> None:
    document: dict[str, Any] = json.loads(event_text(event))
    attributes = document["attributes"]
    assert document["type"] == "event"
    assert attributes["metric"]["data"]["attributes"]["name"] == event.metric_name
    assert attributes["properties"] == json.loads(json.dumps(event.properties))
    assert attributes.get("unique_id") == event.unique_id
    assert event_text(event).isascii()


def test_a_profile_text_carries_its_identifiers() -> None:
    text = profile_text({"email": "zoë@example.com", "external_id": "7"})
    assert json.loads(text) == {
        "data": {"type": "profile", "attributes": {"email": "zoë@example.com", "external_id": "7"}}
    }


def test_a_body_over_five_megabytes_is_refused_before_sending(capture: Capture) -> None:
    event = EventInput("Joy: Earn Point", {"blob": "z" * 3_000_000}, datetime.now(UTC), "a")
    items = [
        Outgoing.build({"email": f"c{n}@example.com"}, event, origin=n, position={"n": n})
        for n in range(2)
    ]
    with capture.client() as client, pytest.raises(UsageError, match="may not exceed 5 MB"):
        send_events(client, items, backfill=True)
    assert capture.bodies == []
