"""Events: 202 with profiles and metrics made on the fly, unique_id de-duplication, bulk jobs."""

from __future__ import annotations

from typing import Any

from joyctl.sandbox import SandboxServer
from tests.sandbox.support import error_of, event_body, inspect, key_client


def _bulk(entries: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    return {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {
                "events-bulk-create": {
                    "data": [
                        {
                            "type": "event-bulk-create",
                            "attributes": {
                                "profile": {
                                    "data": {"type": "profile", "attributes": {"email": email}}
                                },
                                "events": {"data": events},
                            },
                        }
                        for email, events in entries
                    ]
                }
            },
        }
    }


def _event(unique_id: str | None, metric: str = "Joy: Earn Point") -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "properties": {"Earned points": 10},
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
    }
    if unique_id is not None:
        attributes["unique_id"] = unique_id
    return {"type": "event", "attributes": attributes}


def test_event_creates_profile_and_metric(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        response = client.post("/api/events", json=event_body("new@example.com", unique_id="e1"))
        assert response.status_code == 202
        assert response.content == b""
        metrics = client.get("/api/metrics").json()["data"]
        profiles = client.get("/api/profiles").json()["data"]
    assert [m["attributes"]["name"] for m in metrics] == ["Joy: Earn Point"]
    assert metrics[0]["attributes"]["integration"]["key"] == "api"
    assert profiles[0]["attributes"]["email"] == "new@example.com"
    assert profiles[0]["attributes"]["last_event_date"] is not None


def test_repeated_unique_id_keeps_the_first(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        for points in (10, 20):
            body = event_body("a@example.com", unique_id="ledger-1")
            body["data"]["attributes"]["properties"] = {"Earned points": points}
            assert client.post("/api/events", json=body).status_code == 202
        # Same unique_id, but another profile and another metric: both are new events.
        client.post("/api/events", json=event_body("b@example.com", unique_id="ledger-1"))
        client.post("/api/events", json=event_body("a@example.com", "Other", unique_id="ledger-1"))
        events = client.get("/api/events").json()["data"]
    assert len(events) == 3
    earned = sorted(e["attributes"]["event_properties"]["Earned points"] for e in events)
    assert earned == [10, 50, 50]  # the second "ledger-1" for a@example.com was dropped
    state = inspect(empty_server)
    assert state["events"]["duplicates_dropped"] == 1
    assert state["events"]["by_metric"] == {"Joy: Earn Point": 2, "Other": 1}


def test_without_unique_id_time_to_the_second_deduplicates(empty_server: SandboxServer) -> None:
    when = "2026-07-20T12:00:00+00:00"
    with key_client(empty_server) as client:
        for _ in range(2):
            client.post("/api/events", json=event_body("a@example.com", time=when))
        client.post("/api/events", json=event_body("a@example.com", time="2026-07-20T12:00:01Z"))
    assert inspect(empty_server)["events"]["total"] == 2


def test_event_validation_points_at_the_member(empty_server: SandboxServer) -> None:
    no_metric = event_body("a@example.com")
    del no_metric["data"]["attributes"]["metric"]
    no_identifier = event_body("a@example.com")
    no_identifier["data"]["attributes"]["profile"]["data"]["attributes"] = {"first_name": "A"}
    with key_client(empty_server) as client:
        missing = client.post("/api/events", json=no_metric)
        anonymous = client.post("/api/events", json=no_identifier)
        too_old = client.post("/api/events", json=event_body("a@example.com", time="1980-01-01"))
    assert error_of(missing)["source"]["pointer"] == "/data/attributes/metric/data"
    assert error_of(anonymous)["source"]["pointer"] == "/data/attributes/profile/data/attributes"
    assert error_of(too_old)["source"]["pointer"] == "/data/attributes/time"


def test_bulk_job_records_every_event(empty_server: SandboxServer) -> None:
    body = _bulk(
        [
            ("a@example.com", [_event("1"), _event("2")]),
            ("b@example.com", [_event("1")]),
        ]
    )
    with key_client(empty_server) as client:
        response = client.post("/api/event-bulk-create-jobs", json=body)
    assert response.status_code == 202
    assert inspect(empty_server)["events"]["total"] == 3


def test_bulk_job_with_a_repeated_unique_id_fails_entirely(empty_server: SandboxServer) -> None:
    body = _bulk(
        [
            ("a@example.com", [_event("1")]),
            ("b@example.com", [_event("2")]),
            ("A@example.com", [_event("1")]),  # same profile (emails match case-insensitively)
        ]
    )
    with key_client(empty_server) as client:
        response = client.post("/api/event-bulk-create-jobs", json=body)
    assert response.status_code == 400
    pointer = error_of(response)["source"]["pointer"]
    assert pointer.endswith("/2/attributes/events/data/0/attributes/unique_id")
    assert inspect(empty_server)["events"]["total"] == 0


def test_bulk_job_allows_the_same_unique_id_on_another_metric(empty_server: SandboxServer) -> None:
    body = _bulk([("a@example.com", [_event("1"), _event("1", metric="Other")])])
    with key_client(empty_server) as client:
        assert client.post("/api/event-bulk-create-jobs", json=body).status_code == 202


def test_bulk_job_caps_at_1000_events(empty_server: SandboxServer) -> None:
    events = [_event(str(index)) for index in range(1001)]
    with key_client(empty_server) as client:
        too_many = client.post("/api/event-bulk-create-jobs", json=_bulk([("a@x.com", events)]))
        just_right = client.post(
            "/api/event-bulk-create-jobs", json=_bulk([("a@x.com", events[:1000])])
        )
    assert too_many.status_code == 400
    assert just_right.status_code == 202


def test_bulk_job_caps_at_5_mb(empty_server: SandboxServer) -> None:
    event = _event("big")
    event["attributes"]["properties"] = {f"p{i}": "x" * 60_000 for i in range(90)}
    with key_client(empty_server) as client:
        response = client.post("/api/event-bulk-create-jobs", json=_bulk([("a@x.com", [event])]))
    assert response.status_code == 413


def test_events_filter_by_metric_and_profile(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        client.post("/api/events", json=event_body("a@example.com", "Earn", unique_id="1"))
        client.post("/api/events", json=event_body("b@example.com", "Earn", unique_id="2"))
        client.post("/api/events", json=event_body("a@example.com", "Redeem", unique_id="3"))
        metrics = {
            m["attributes"]["name"]: m["id"] for m in client.get("/api/metrics").json()["data"]
        }
        by_metric = client.get(
            "/api/events", params={"filter": f"equals(metric_id,'{metrics['Earn']}')"}
        ).json()["data"]
        profile_id = by_metric[0]["relationships"]["profile"]["data"]["id"]
        by_profile = client.get(
            "/api/events",
            params={"filter": f"equals(profile_id,'{profile_id}')", "include": "metric"},
        ).json()
        bad = client.get("/api/events", params={"filter": "equals(name,'x')"})
    assert len(by_metric) == 2
    assert len(by_profile["data"]) == 2
    assert {item["type"] for item in by_profile["included"]} == {"metric"}
    assert bad.status_code == 400
    assert error_of(bad)["source"] == {"parameter": "filter"}


def test_events_paginate_through_links_next(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        for index in range(7):
            client.post("/api/events", json=event_body("a@example.com", unique_id=str(index)))
        seen: list[str] = []
        url: str | None = "/api/events?page[size]=3&sort=datetime"
        while url:
            document = client.get(url).json()
            seen.extend(event["id"] for event in document["data"])
            url = document["links"].get("next")
    assert len(seen) == len(set(seen)) == 7


def test_get_event_by_id(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        client.post("/api/events", json=event_body("a@example.com", unique_id="1"))
        event_id = client.get("/api/events").json()["data"][0]["id"]
        assert client.get(f"/api/events/{event_id}").json()["data"]["id"] == event_id
        assert client.get("/api/events/nope").status_code == 404


def test_metrics_filter_by_integration(server: SandboxServer) -> None:
    with key_client(server) as client:
        client.post("/api/events", json=event_body("a@example.com", unique_id="1"))
        klaviyo = client.get(
            "/api/metrics", params={"filter": "equals(integration.name,'Klaviyo')"}
        ).json()["data"]
        metric_id = klaviyo[0]["id"]
        single = client.get(f"/api/metrics/{metric_id}").json()["data"]
    assert [m["attributes"]["name"] for m in klaviyo] == ["Submitted Review"]
    assert single["attributes"]["name"] == "Submitted Review"
