"""Resource functions for lists, profiles, events, metrics and bulk imports."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from joyctl.errors import RemoteError, UsageError
from joyctl.klaviyo.resources.bulk_import import (
    bulk_import_profiles,
    get_bulk_import_job,
    iter_import_errors,
)
from joyctl.klaviyo.resources.events import (
    EventInput,
    ProfileEvents,
    bulk_create_events,
    create_event,
)
from joyctl.klaviyo.resources.lists import (
    add_profiles_to_list,
    create_list,
    delete_list,
    find_list_by_name,
    get_list,
    iter_list_profile_ids,
    remove_profiles_from_list,
)
from joyctl.klaviyo.resources.metrics import find_metric_by_name, get_events
from joyctl.klaviyo.resources.profiles import get_profile_by_email, upsert_profile
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo, body_of, collection, error_body, jsonapi, resource

LIST_MEMBERS = "/api/lists/L1/relationships/profiles"
EARNED = "Loyalty Points Earned"


def test_find_list_by_name_prefers_the_oldest_exact_match(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    lists = collection(
        resource("list", "L2", name="Gold", created="2026-02-01T00:00:00+00:00"),
        resource("list", "L1", name="Gold", created="2026-01-01T00:00:00+00:00"),
    )
    fake.add("GET", "/api/lists", jsonapi(body=lists), jsonapi(body=collection()))
    client = make_client()
    found = find_list_by_name(client, "Gold")
    assert found is not None and found.id == "L1"
    assert find_list_by_name(client, "Silver") is None


def test_create_get_delete_list(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    gold = {"data": resource("list", "L1", name="Gold")}
    fake.add("POST", "/api/lists", jsonapi(201, gold))
    fake.add("GET", "/api/lists/L1", jsonapi(body=gold))
    fake.add("DELETE", "/api/lists/L1", jsonapi(204))
    client = make_client()
    assert create_list(client, "Gold", opt_in_process="single_opt_in").id == "L1"
    assert get_list(client, "L1").name == "Gold"
    delete_list(client, "L1")
    assert body_of(fake.requests[0]) == {
        "data": {"type": "list", "attributes": {"name": "Gold", "opt_in_process": "single_opt_in"}}
    }
    with pytest.raises(UsageError):
        create_list(client, "x", opt_in_process="maybe")


def test_list_members_are_changed_1000_at_a_time(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.always("POST", LIST_MEMBERS, jsonapi(204))
    fake.add("DELETE", LIST_MEMBERS, jsonapi(204))
    ids = [f"P{i}" for i in range(2500)] + ["P1"]
    client = make_client()

    assert add_profiles_to_list(client, "L1", ids) == 3
    assert remove_profiles_from_list(client, "L1", ["P1"]) == 1

    sizes = [len(body_of(r)["data"]) for r in fake.sent("POST", LIST_MEMBERS)]
    assert sizes == [1000, 1000, 500]
    assert body_of(fake.sent("DELETE", LIST_MEMBERS)[0]) == {
        "data": [{"type": "profile", "id": "P1"}]
    }


def test_list_member_ids(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    members = collection({"type": "profile", "id": "P1"}, {"type": "profile", "id": "P2"})
    fake.add("GET", LIST_MEMBERS, jsonapi(body=members))
    assert list(iter_list_profile_ids(make_client(), "L1")) == ["P1", "P2"]


def test_upsert_profile(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    profile = {"data": resource("profile", "P1", email="a@example.com")}
    fake.add("POST", "/api/profile-import", jsonapi(503, error_body(503, "e", "x")))
    fake.add("POST", "/api/profile-import", jsonapi(201, profile))
    attributes = {"email": "a@example.com", "properties": {"loyalty_points": 870}}
    result = upsert_profile(make_client(), attributes)
    assert result.id == "P1"
    assert body_of(fake.requests[-1]) == {"data": {"type": "profile", "attributes": attributes}}


def test_upsert_needs_an_identifier(make_client: ClientFactory) -> None:
    with pytest.raises(UsageError):
        upsert_profile(make_client(), {"first_name": "Ann"})


def test_profile_by_email(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    found = collection(resource("profile", "P1", email="a@example.com"))
    fake.add("GET", "/api/profiles", jsonapi(body=found))
    profile = get_profile_by_email(make_client(), "a@example.com")
    assert profile is not None and profile.id == "P1"
    assert fake.requests[0].url.params["filter"] == "equals(email,'a@example.com')"


def test_create_event_with_unique_id_is_retried(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/api/events", httpx.ReadError("reset"), jsonapi(202))
    event = EventInput(
        EARNED,
        {"points_earned": 120},
        time=datetime(2026, 7, 20, 12, tzinfo=UTC),
        unique_id="joy-evt-1",
        value=12.5,
        value_currency="USD",
    )
    create_event(make_client(), event, {"email": "a@example.com"}, backfill=True)

    attributes = body_of(fake.requests[-1])["data"]["attributes"]
    assert attributes == {
        "properties": {"points_earned": 120},
        "metric": {"data": {"type": "metric", "attributes": {"name": EARNED}}},
        "time": "2026-07-20T12:00:00+00:00",
        "unique_id": "joy-evt-1",
        "value": 12.5,
        "value_currency": "USD",
        "profile": {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}},
        "backfill": True,
    }


def test_bulk_events_are_grouped_per_profile(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("POST", "/api/event-bulk-create-jobs", jsonapi(500, error_body(500, "e", "x")))
    fake.add("POST", "/api/event-bulk-create-jobs", jsonapi(202))
    groups = [
        ProfileEvents({"email": "a@example.com"}, [EventInput(EARNED, unique_id="u1")]),
        ProfileEvents({"email": "b@example.com"}, [EventInput(EARNED, unique_id="u1")], True),
    ]
    bulk_create_events(make_client(), groups)

    body = body_of(fake.requests[-1])
    entries = body["data"]["attributes"]["events-bulk-create"]["data"]
    assert body["data"]["type"] == "event-bulk-create-job"
    assert [e["type"] for e in entries] == ["event-bulk-create"] * 2
    assert entries[1]["attributes"]["backfill"] is True
    assert entries[0]["attributes"]["events"]["data"][0]["attributes"]["unique_id"] == "u1"


def test_bulk_events_without_dedup_keys_are_not_retried(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/api/event-bulk-create-jobs", jsonapi(500, error_body(500, "e", "x")))
    groups = [ProfileEvents({"email": "a@example.com"}, [EventInput(EARNED)])]
    with pytest.raises(RemoteError, match="500"):
        bulk_create_events(make_client(), groups)


@pytest.mark.parametrize(
    "groups",
    [
        [],
        [ProfileEvents({"email": "a@x.com"}, [EventInput(EARNED)] * 1001)],
        [ProfileEvents({"email": "a@x.com"}, [EventInput(EARNED, unique_id="u")] * 2)],
    ],
)
def test_bulk_jobs_klaviyo_would_reject_are_refused_locally(
    make_client: ClientFactory, groups: list[ProfileEvents]
) -> None:
    with pytest.raises(UsageError):
        bulk_create_events(make_client(), groups)


def test_find_metric_and_read_events(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    metrics = collection(
        resource("metric", "M0", name="Other"), resource("metric", "M1", name=EARNED)
    )
    fake.add("GET", "/api/metrics", jsonapi(body=metrics))
    fake.add("GET", "/api/events", jsonapi(body=collection(resource("event", "E1"))))
    client = make_client()

    metric = find_metric_by_name(client, EARNED)
    assert metric is not None
    events = list(get_events(client, metric_id=metric.id, profile_id="P1", limit=5))

    assert [e.id for e in events] == ["E1"]
    params = fake.requests[1].url.params
    assert params["filter"] == "equals(metric_id,'M1'),equals(profile_id,'P1')"
    assert params["page[size]"] == "1000"


def test_bulk_import_and_errors(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    job = {"data": resource("profile-bulk-import-job", "J1", status="queued", total_count=2)}
    fake.add("POST", "/api/profile-bulk-import-jobs", jsonapi(202, job))
    done = {"data": resource("profile-bulk-import-job", "J1", status="complete", failed_count=1)}
    fake.add("GET", "/api/profile-bulk-import-jobs/J1", jsonapi(body=done))
    failure = resource("import-error", "X1", code="invalid", source={"pointer": "/email"})
    fake.add(
        "GET", "/api/profile-bulk-import-jobs/J1/import-errors", jsonapi(body=collection(failure))
    )
    client = make_client()

    started = bulk_import_profiles(client, [{"email": "a@x.com"}, {"email": "b"}], list_ids=["L1"])
    assert started.status == "queued"
    assert get_bulk_import_job(client, "J1").finished
    assert [e.pointer for e in iter_import_errors(client, "J1")] == ["/email"]
    body = body_of(fake.requests[0])
    assert body["data"]["relationships"] == {"lists": {"data": [{"type": "list", "id": "L1"}]}}
    assert len(body["data"]["attributes"]["profiles"]["data"]) == 2
