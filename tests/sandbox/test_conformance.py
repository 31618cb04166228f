"""Every endpoint's responses validate against Klaviyo's OpenAPI spec (the 2026-07-15 subset).

The spec lives next to the repository, in ../shared/klaviyo/, which CI always provides.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from joyctl.klaviyo.endpoints import ENDPOINTS
from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.sandbox.conftest import FAST
from tests.sandbox.support import (
    event_body,
    key_client,
    profile_body,
    public_client,
    review_body,
)

SPEC_FILE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "klaviyo"
    / "openapi-subset-2026-07-15.json"
)
# Operations the subset lacks (flows, templates, consent jobs) are checked against the full spec.
STABLE_FILE = SPEC_FILE.with_name("openapi-stable-2026-07-15.json")
Exchange = tuple[int, Any]  # status, parsed JSON body (None when empty)
Recorded = dict[str, list[Exchange]]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_FILE.is_file():
        pytest.skip(
            f"Klaviyo's OpenAPI subset is not at {SPEC_FILE} (the shared folder beside the "
            "repository); conformance cannot be checked without it."
        )
    document: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def stable_spec() -> dict[str, Any] | None:
    if not STABLE_FILE.is_file():
        return None
    document: dict[str, Any] = json.loads(STABLE_FILE.read_text(encoding="utf-8"))
    return document


class _Recorder:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.recorded: Recorded = {}

    def call(self, operation: str, method: str, url: str, **kwargs: Any) -> Any:
        response = self.client.request(method, url, **kwargs)
        body = response.json() if response.content else None
        self.recorded.setdefault(operation, []).append((response.status_code, body))
        assert response.status_code < 300, f"{operation}: {response.status_code} {response.text}"
        return body


def _wait_for_job(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job = client.get(f"/api/profile-bulk-import-jobs/{job_id}").json()["data"]
        if job["attributes"]["status"] == "complete":
            return
        time.sleep(0.02)
    raise AssertionError("import job did not complete")


def _profiles_and_events(r: _Recorder) -> None:
    accounts = r.call("get_accounts", "GET", "/api/accounts")
    r.call("get_account", "GET", f"/api/accounts/{accounts['data'][0]['id']}")
    r.call(
        "create_event", "POST", "/api/events", json=event_body("conf@example.com", unique_id="c1")
    )
    bulk = {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {
                "events-bulk-create": {
                    "data": [
                        {
                            "type": "event-bulk-create",
                            "attributes": {
                                "profile": profile_body("conf@example.com"),
                                "events": {"data": [event_body("x@x.com", unique_id="c2")["data"]]},
                            },
                        }
                    ]
                }
            },
        }
    }
    r.call("bulk_create_events", "POST", "/api/event-bulk-create-jobs", json=bulk)
    events = r.call("get_events", "GET", "/api/events?include=metric,profile")
    r.call("get_event", "GET", f"/api/events/{events['data'][0]['id']}?include=metric")
    metrics = r.call("get_metrics", "GET", "/api/metrics")
    r.call("get_metric", "GET", f"/api/metrics/{metrics['data'][0]['id']}")
    created = r.call("create_profile", "POST", "/api/profiles", json=profile_body("new@x.com"))
    profile_id = created["data"]["id"]
    r.call("get_profiles", "GET", "/api/profiles")
    r.call("get_profile", "GET", f"/api/profiles/{profile_id}")
    patch = {"data": {"type": "profile", "id": profile_id, "attributes": {"title": "Dr"}}}
    r.call("update_profile", "PATCH", f"/api/profiles/{profile_id}", json=patch)
    r.call("create_or_update_profile", "POST", "/api/profile-import", json=profile_body("u@x.com"))
    r.call("create_or_update_profile", "POST", "/api/profile-import", json=profile_body("u@x.com"))


def _lists_and_jobs(r: _Recorder) -> None:
    created = r.call(
        "create_list",
        "POST",
        "/api/lists",
        json={"data": {"type": "list", "attributes": {"name": "C"}}},
    )
    list_id = created["data"]["id"]
    body = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {"data": [profile_body("j@x.com")["data"], profile_body("bad")["data"]]}
            },
            "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}},
        }
    }
    job = r.call("bulk_import_profiles", "POST", "/api/profile-bulk-import-jobs", json=body)
    job_id = job["data"]["id"]
    _wait_for_job(r.client, job_id)
    r.call("get_bulk_import_profiles_jobs", "GET", "/api/profile-bulk-import-jobs")
    r.call("get_bulk_import_profiles_job", "GET", f"/api/profile-bulk-import-jobs/{job_id}")
    r.call(
        "get_errors_for_bulk_import_profiles_job",
        "GET",
        f"/api/profile-bulk-import-jobs/{job_id}/import-errors",
    )
    r.call("get_lists", "GET", "/api/lists")
    r.call("get_list", "GET", f"/api/lists/{list_id}?additional-fields[list]=profile_count")
    patch = {"data": {"type": "list", "id": list_id, "attributes": {"name": "D"}}}
    r.call("update_list", "PATCH", f"/api/lists/{list_id}", json=patch)
    r.call("get_profiles_for_list", "GET", f"/api/lists/{list_id}/profiles")
    r.call("get_profile_ids_for_list", "GET", f"/api/lists/{list_id}/relationships/profiles")
    ids = {
        "data": [{"type": "profile", "id": r.client.get("/api/profiles").json()["data"][0]["id"]}]
    }
    path = f"/api/lists/{list_id}/relationships/profiles"
    r.call("add_profiles_to_list", "POST", path, json=ids)
    r.call("remove_profiles_from_list", "DELETE", path, json=ids)
    r.call("delete_list", "DELETE", f"/api/lists/{list_id}")


def _webhooks_and_reviews(r: _Recorder, server: SandboxServer) -> None:
    topic = "event:klaviyo.submitted_review"
    body = {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": "w",
                "endpoint_url": "https://h.example/x",
                "secret_key": "s" * 24,
            },
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": topic}]}},
        }
    }
    webhook_id = r.call("create_webhook", "POST", "/api/webhooks", json=body)["data"]["id"]
    r.call("get_webhooks", "GET", "/api/webhooks?include=webhook-topics")
    r.call("get_webhook", "GET", f"/api/webhooks/{webhook_id}?include=webhook-topics")
    patch = {"data": {"type": "webhook", "id": webhook_id, "attributes": {"enabled": False}}}
    r.call("update_webhook", "PATCH", f"/api/webhooks/{webhook_id}", json=patch)
    r.call("delete_webhook", "DELETE", f"/api/webhooks/{webhook_id}")
    r.call("get_webhook_topics", "GET", "/api/webhook-topics")
    r.call("get_webhook_topic", "GET", f"/api/webhook-topics/{topic}")
    reviews = r.call("get_reviews", "GET", "/api/reviews?include=events")
    review_id = reviews["data"][0]["id"]
    r.call("get_review", "GET", f"/api/reviews/{review_id}?include=events")
    status = {
        "value": "rejected",
        "rejection_reason": {"reason": "other", "status_explanation": "x"},
    }
    patch = {"data": {"type": "review", "id": review_id, "attributes": {"status": status}}}
    r.call("update_review", "PATCH", f"/api/reviews/{review_id}", json=patch)
    _client_reviews(r, server)


def _flows_and_consent(r: _Recorder) -> None:
    emails = {"data": [{"type": "profile", "attributes": {"email": "flow@x.com"}}]}
    subscribe = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {
                                "email": "flow@x.com",
                                "subscriptions": {
                                    "email": {"marketing": {"consent": "SUBSCRIBED"}}
                                },
                            },
                        }
                    ]
                }
            },
        }
    }
    r.call(
        "bulk_subscribe_profiles",
        "POST",
        "/api/profile-subscription-bulk-create-jobs",
        json=subscribe,
    )
    suppress = {
        "data": {"type": "profile-suppression-bulk-create-job", "attributes": {"profiles": emails}}
    }
    r.call(
        "bulk_suppress_profiles", "POST", "/api/profile-suppression-bulk-create-jobs", json=suppress
    )
    r.call("create_event", "POST", "/api/events", json=event_body("flow@x.com", unique_id="f1"))
    metric_id = r.client.get("/api/metrics").json()["data"][0]["id"]
    template = {
        "data": {
            "type": "template",
            "attributes": {"name": "t", "editor_type": "CODE", "html": "<p>x</p>"},
        }
    }
    template_id = r.call("create_template", "POST", "/api/templates", json=template)["data"]["id"]
    action = {
        "temporary_id": "a",
        "type": "send-email",
        "data": {"message": {"subject_line": "S", "template_id": template_id}},
    }
    definition = {
        "triggers": [{"type": "metric", "id": metric_id}],
        "actions": [action],
        "entry_action_id": "a",
    }
    body = {"data": {"type": "flow", "attributes": {"name": "F", "definition": definition}}}
    flow_id = r.call("create_flow", "POST", "/api/flows", json=body)["data"]["id"]
    r.call("get_flows", "GET", "/api/flows")
    r.call("get_flow", "GET", f"/api/flows/{flow_id}")
    patch = {"data": {"type": "flow", "id": flow_id, "attributes": {"status": "live"}}}
    r.call("update_flow", "PATCH", f"/api/flows/{flow_id}", json=patch)
    r.call("get_flows_triggered_by_metric", "GET", f"/api/metrics/{metric_id}/flow-triggers")
    actions = r.call("get_actions_for_flow", "GET", f"/api/flows/{flow_id}/flow-actions")
    action_id = actions["data"][0]["id"]
    messages = r.call(
        "get_flow_action_messages", "GET", f"/api/flow-actions/{action_id}/flow-messages"
    )
    message_id = messages["data"][0]["id"]
    r.call("get_template_for_flow_message", "GET", f"/api/flow-messages/{message_id}/template")
    profile_id = r.client.get(
        "/api/profiles", params={"filter": "equals(email,'flow@x.com')"}
    ).json()["data"][0]["id"]
    r.call(
        "get_profile", "GET", f"/api/profiles/{profile_id}?additional-fields[profile]=subscriptions"
    )


def _client_reviews(r: _Recorder, server: SandboxServer) -> None:
    params = {"company_id": server.credentials.public_api_key}
    with public_client(server) as client:
        public = _Recorder(client)
        public.call(
            "create_client_review",
            "POST",
            "/client/reviews",
            params=params,
            json=review_body("c@x.com"),
        )
        public.call("get_client_reviews", "GET", "/client/reviews", params=params)
    r.recorded.update(public.recorded)


def _errors(client: httpx.Client, server: SandboxServer) -> list[Exchange]:
    with httpx.Client(base_url=server.base_url, trust_env=False) as anonymous:
        unauthenticated = anonymous.get("/api/accounts", headers={"revision": "2026-07-15"})
    responses = [
        unauthenticated,
        client.get("/api/lists/NOPE01"),
        client.post("/api/lists", json={"data": {"type": "list", "attributes": {}}}),
        client.get("/api/lists?page[size]=11"),
    ]
    return [(response.status_code, response.json()) for response in responses]


@pytest.fixture(scope="module")
def recorded(spec: dict[str, Any]) -> Iterator[tuple[Recorded, list[Exchange]]]:
    server = SandboxServer(SandboxConfig(scenario="healthy", **FAST))
    server.start()
    try:
        with key_client(server) as client:
            client.post("/__sandbox/settings", json={"advanced_kdp": True})
            recorder = _Recorder(client)
            _profiles_and_events(recorder)
            _lists_and_jobs(recorder)
            _webhooks_and_reviews(recorder, server)
            _flows_and_consent(recorder)
            errors = _errors(client, server)
        yield recorder.recorded, errors
    finally:
        server.stop()


def _operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any] | None:
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    return None


def _validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    from openapi_schema_validator import OAS30Validator, oas30_format_checker

    rooted = {**schema, "components": spec["components"]}
    OAS30Validator(rooted, format_checker=oas30_format_checker).validate(instance)


def _response_schema(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any] | None:
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content", {}).get("application/vnd.api+json")
    return content["schema"] if content else None


@pytest.mark.parametrize("operation_id", sorted({e.operation_id for e in ENDPOINTS}))
def test_responses_match_the_spec(
    spec: dict[str, Any],
    stable_spec: dict[str, Any] | None,
    recorded: tuple[Recorded, list[Exchange]],
    operation_id: str,
) -> None:
    exchanges = recorded[0].get(operation_id)
    assert exchanges, f"no call to {operation_id} was recorded"
    operation = _operation(spec, operation_id)
    if operation is None:
        if stable_spec is None:
            pytest.skip(f"{operation_id} is only in the full spec, which is not at {STABLE_FILE}")
        spec = stable_spec
        operation = _operation(spec, operation_id)
    assert operation is not None, f"{operation_id} is not in the spec"
    responses = operation["responses"]
    for status, body in exchanges:
        assert str(status) in responses, f"{operation_id} answered {status}, not in the spec"
        schema = _response_schema(spec, responses[str(status)])
        if schema is None:
            assert body is None, f"{operation_id} {status} should have no body"
        else:
            _validate(spec, schema, body)


def test_error_bodies_match_the_spec(
    spec: dict[str, Any], recorded: tuple[Recorded, list[Exchange]]
) -> None:
    schema = _response_schema(spec, {"$ref": "#/components/responses/ClientError"})
    assert schema is not None
    statuses = []
    for status, body in recorded[1]:
        statuses.append(status)
        _validate(spec, schema, body)
    assert statuses == [401, 404, 400, 400]
