"""Cutting events into bulk jobs: the 1,000-event and 5 MB caps, and no repeated unique_id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from joyctl.klaviyo.bulk.batches import (
    Chunk,
    Item,
    Outgoing,
    Rejected,
    Skipped,
    cut_chunks,
    fits_alone,
)
from joyctl.klaviyo.bulk.sender import send_events
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.resources.events import MAX_PAYLOAD_BYTES, EventInput

WHEN = datetime(2025, 3, 1, tzinfo=UTC)


def outgoing(
    number: int,
    *,
    unique_id: str | None = None,
    email: str = "ann@example.com",
    metric: str = "Joy: Earn Point",
    **profile: str,
) -> Outgoing:
    properties: dict[str, Any] = {"seq": number}
    event = EventInput(metric, properties, WHEN, unique_id or f"evt-{number}")
    return Outgoing.build({"email": email, **profile}, event, origin=number, position={"n": number})


def big(number: int, size: int = 100_000) -> Outgoing:
    event = EventInput("Joy: Earn Point", {"blob": "z" * size}, WHEN, f"evt-{number}")
    profile = {"email": f"customer{number % 3}@example.com"}
    return Outgoing.build(profile, event, origin=number, position={"n": number})


def origins(chunks: list[Chunk]) -> list[list[int]]:
    return [[item.origin for item in chunk.events] for chunk in chunks]


@pytest.fixture
def bodies() -> list[bytes]:
    return []


@pytest.fixture
def client(bodies: list[bytes]) -> Iterator[KlaviyoClient]:
    def accept(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(202)

    transport = httpx.MockTransport(accept)
    with build_client(base_url="https://a.klaviyo.com", transport=transport, pacing=False) as made:
        yield made


def test_a_thousand_events_fill_one_request() -> None:
    chunks = list(cut_chunks(outgoing(n) for n in range(2_500)))
    assert [len(chunk.events) for chunk in chunks] == [1000, 1000, 500]
    assert chunks[0].position == {"n": 999}


def test_a_smaller_batch_size_is_honoured() -> None:
    chunks = list(cut_chunks((outgoing(n) for n in range(10)), max_events=4))
    assert origins(chunks) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_batch_that_would_pass_five_megabytes_is_split(
    client: KlaviyoClient, bodies: list[bytes]
) -> None:
    chunks = list(cut_chunks(big(n) for n in range(120)))

    assert len(chunks) == 3
    assert sum(len(chunk.events) for chunk in chunks) == 120
    for chunk in chunks:
        outcome = send_events(client, chunk.events, backfill=True)
        assert len(outcome.accepted) == len(chunk.events)
    assert all(len(body) <= MAX_PAYLOAD_BYTES for body in bodies)
    # The estimate is generous but not wasteful: each request is well over 4.5 MB.
    assert all(len(body) > 4_500_000 for body in bodies[:-1])


def test_an_event_that_could_never_fit_is_recognised() -> None:
    assert fits_alone(big(1))
    assert not fits_alone(big(2, size=6 * 1024 * 1024))


def test_a_unique_id_repeated_for_one_profile_and_metric_starts_a_new_request() -> None:
    items = [
        outgoing(0, unique_id="order-1"),
        outgoing(1, unique_id="order-2"),
        outgoing(2, unique_id="order-1"),  # same profile, metric and id: Klaviyo would fail all
        outgoing(3, unique_id="order-3"),
    ]
    assert origins(list(cut_chunks(items))) == [[0, 1], [2, 3]]


def test_the_same_unique_id_for_another_profile_or_metric_shares_a_request() -> None:
    items = [
        outgoing(0, unique_id="order-1"),
        outgoing(1, unique_id="order-1", email="bob@example.com"),
        outgoing(2, unique_id="order-1", metric="Joy: Redeem Points"),
    ]
    assert origins(list(cut_chunks(items))) == [[0, 1, 2]]


def test_profiles_sharing_any_identifier_count_as_one() -> None:
    items = [
        outgoing(0, unique_id="order-1", external_id="gid-7"),
        outgoing(1, unique_id="order-1", email="other@example.com", external_id="gid-7"),
    ]
    assert origins(list(cut_chunks(items))) == [[0], [1]]


def test_set_aside_records_travel_with_the_request_they_sit_in() -> None:
    items: list[Item] = [
        outgoing(0),
        Rejected(1, "bad", {}, {"n": 1}),
        Skipped("filtered", {"n": 2}),
        Skipped("already_sent", {"n": 3}),
        outgoing(4),
    ]
    (chunk,) = cut_chunks(items)
    assert [item.origin for item in chunk.events] == [0, 4]
    assert [bad.origin for bad in chunk.rejected] == [1]
    assert (chunk.filtered, chunk.already_sent, chunk.position) == (1, 1, {"n": 4})


def test_a_long_run_of_bad_records_still_moves_the_checkpoint() -> None:
    items = (Rejected(n, "bad", {}, {"n": n}) for n in range(25))
    chunks = list(cut_chunks(items, max_rejected=10))
    assert [len(chunk.rejected) for chunk in chunks] == [10, 10, 5]
    assert all(not chunk.events for chunk in chunks)
    assert chunks[-1].position == {"n": 24}


def test_events_of_one_profile_share_an_entry_in_the_request(
    client: KlaviyoClient, bodies: list[bytes]
) -> None:
    items = [outgoing(n, email=f"c{n % 2}@example.com") for n in range(6)]
    send_events(client, items, backfill=True)

    entries = json.loads(bodies[0])["data"]["attributes"]["events-bulk-create"]["data"]
    assert [len(entry["attributes"]["events"]["data"]) for entry in entries] == [3, 3]
    assert all(entry["attributes"]["backfill"] is True for entry in entries)
