"""Klaviyo's official Python SDK (`klaviyo-api`) against the emulator, unchanged.

The SDK sends its own default revision and parses every answer into its generated models, so
this checks the emulator from outside joyctl: every operation joyctl uses is called once
through the SDK (the two client-review operations, which the SDK does not wrap, go over plain
HTTP at the SDK's revision).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from joyctl.klaviyo.endpoints import ENDPOINTS
from joyctl.klaviyo.revisions import STABLE_REVISIONS
from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.sandbox.conftest import FAST

klaviyo_api = pytest.importorskip("klaviyo_api", reason="the test extras install klaviyo-api")

Call = Callable[[], Any]
REVIEW_TOPIC = "event:klaviyo.submitted_review"


class Recorder:
    """Calls SDK methods and remembers which operations were exercised."""

    def __init__(self, sdk: Any) -> None:
        self.sdk = sdk
        self.called: set[str] = set()

    def __call__(self, group: str, operation: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(getattr(self.sdk, group), operation)
        answer = method(*args, **kwargs)
        self.called.add(operation)
        return answer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(**{**FAST, "scenario": "advanced-kdp"})) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(server: SandboxServer) -> Recorder:
    client = klaviyo_api.KlaviyoAPI(
        server.credentials.private_key, max_retries=0, test_host=server.base_url
    )
    return Recorder(client)


def _field(resource: Any, name: str) -> Any:
    """An attribute of a model or of a plain dict (the SDK returns dicts for sparse fields)."""
    attributes = resource["attributes"] if isinstance(resource, dict) else resource.attributes
    return attributes[name] if isinstance(attributes, dict) else getattr(attributes, name)


def _id(resource: Any) -> str:
    value = resource["id"] if isinstance(resource, dict) else resource.id
    return str(value)


def test_the_sdk_sends_a_released_revision(sdk: Recorder) -> None:
    revision = sdk.sdk.api_client.default_headers["revision"]
    assert revision in STABLE_REVISIONS


def test_accounts_events_and_metrics(sdk: Recorder) -> None:
    accounts = sdk("Accounts", "get_accounts")
    account_id = accounts.data[0].id
    assert sdk("Accounts", "get_account", account_id).data.id == account_id

    event = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"points_earned": 50},
                "unique_id": "sdk-event-1",
                "metric": {"data": {"type": "metric", "attributes": {"name": "Joy: Earn Point"}}},
                "profile": {
                    "data": {"type": "profile", "attributes": {"email": "sdk@example.com"}}
                },
            },
        }
    }
    sdk("Events", "create_event", event)
    metric_ref = {"data": {"type": "metric", "attributes": {"name": "Joy: Earn Point"}}}
    bulk_event = {
        "type": "event",
        "attributes": {
            "properties": {"points_earned": 10},
            "unique_id": "sdk-bulk-1",
            "metric": metric_ref,
        },
    }
    entry = {
        "type": "event-bulk-create",
        "attributes": {
            "profile": {"data": {"type": "profile", "attributes": {"email": "bulk@example.com"}}},
            "events": {"data": [bulk_event]},
        },
    }
    bulk = {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": [entry]}},
        }
    }
    sdk("Events", "bulk_create_events", bulk)
    metrics = sdk("Metrics", "get_metrics")
    metric = next(m for m in metrics.data if m.attributes.name == "Joy: Earn Point")
    assert sdk("Metrics", "get_metric", metric.id).data.id == metric.id
    events = _until(
        lambda: sdk("Events", "get_events", filter=f'equals(metric_id,"{metric.id}")').data,
        lambda found: len(found) >= 2,
    )
    assert sdk("Events", "get_event", events[0].id).data.id == events[0].id


def test_profiles_and_bulk_import_jobs(sdk: Recorder) -> None:
    upsert = {"data": {"type": "profile", "attributes": {"email": "ann@example.com"}}}
    profile_id = sdk("Profiles", "create_or_update_profile", upsert).data.id
    created = sdk(
        "Profiles",
        "create_profile",
        {"data": {"type": "profile", "attributes": {"email": "new-sdk@example.com"}}},
    )
    assert created.data.attributes.email == "new-sdk@example.com"
    patch = {
        "data": {
            "type": "profile",
            "id": profile_id,
            "attributes": {"properties": {"tier": "Gold"}},
        }
    }
    sdk("Profiles", "update_profile", profile_id, patch)
    fetched = sdk("Profiles", "get_profile", profile_id)
    assert fetched.data.attributes.properties["tier"] == "Gold"
    found = sdk("Profiles", "get_profiles", filter="equals(email,'ann@example.com')")
    assert [p.id for p in found.data] == [profile_id]
    sparse = sdk("Profiles", "get_profiles", fields_profile=["email"], page_size=5)
    first = sparse["data"][0] if isinstance(sparse, dict) else sparse.data[0]
    assert set(_attributes(first)) == {"email"}

    job_body = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {"type": "profile", "attributes": {"email": "bob@example.com"}},
                        {"type": "profile", "attributes": {"email": "not-an-email"}},
                    ]
                }
            },
        }
    }
    job_id = sdk("Profiles", "bulk_import_profiles", job_body).data.id
    job = _until(
        lambda: sdk("Profiles", "get_bulk_import_profiles_job", job_id).data,
        lambda found: found.attributes.status == "complete",
    )
    assert (job.attributes.completed_count, job.attributes.failed_count) == (1, 1)
    assert sdk("Profiles", "get_bulk_import_profiles_jobs").data
    errors = sdk("Profiles", "get_errors_for_bulk_import_profiles_job", job_id)
    assert len(errors.data) == 1


def _attributes(resource: Any) -> dict[str, Any]:
    attributes = resource["attributes"] if isinstance(resource, dict) else resource.attributes
    if isinstance(attributes, dict):
        return {key: value for key, value in attributes.items() if value is not None}
    return {key: value for key, value in attributes.to_dict().items() if value is not None}


def test_lists_and_their_members(sdk: Recorder) -> None:
    profile = {"data": {"type": "profile", "attributes": {"email": "member@example.com"}}}
    profile_id = sdk("Profiles", "create_or_update_profile", profile).data.id
    created = sdk("Lists", "create_list", {"data": {"type": "list", "attributes": {"name": "SDK"}}})
    list_id = created.data.id
    rename = {"data": {"type": "list", "id": list_id, "attributes": {"name": "SDK Gold"}}}
    assert sdk("Lists", "update_list", list_id, rename).data.attributes.name == "SDK Gold"
    assert sdk("Lists", "get_list", list_id).data.id == list_id
    assert any(item.id == list_id for item in sdk("Lists", "get_lists").data)
    members = {"data": [{"type": "profile", "id": profile_id}]}
    sdk("Lists", "add_profiles_to_list", list_id, members)
    assert [p.id for p in sdk("Lists", "get_profiles_for_list", list_id).data] == [profile_id]
    assert [r.id for r in sdk("Lists", "get_profile_ids_for_list", list_id).data] == [profile_id]
    sdk("Lists", "remove_profiles_from_list", list_id, members)
    assert sdk("Lists", "get_profile_ids_for_list", list_id).data == []
    sdk("Lists", "delete_list", list_id)


def test_webhooks_and_topics(sdk: Recorder) -> None:
    topics = sdk("Webhooks", "get_webhook_topics")
    assert REVIEW_TOPIC in [topic.id for topic in topics.data]
    assert sdk("Webhooks", "get_webhook_topic", REVIEW_TOPIC).data.id == REVIEW_TOPIC
    body = {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": "sdk hook",
                "endpoint_url": "https://hooks.example.com/klaviyo",
                "secret_key": "sdk-secret-0123456789abcdef",
            },
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": REVIEW_TOPIC}]}
            },
        }
    }
    webhook_id = sdk("Webhooks", "create_webhook", body).data.id
    disable = {"data": {"type": "webhook", "id": webhook_id, "attributes": {"enabled": False}}}
    assert sdk("Webhooks", "update_webhook", webhook_id, disable).data.attributes.enabled is False
    assert sdk("Webhooks", "get_webhook", webhook_id).data.id == webhook_id
    assert webhook_id in [hook.id for hook in sdk("Webhooks", "get_webhooks").data]
    sdk("Webhooks", "delete_webhook", webhook_id)


def test_reviews_and_client_reviews(sdk: Recorder, server: SandboxServer) -> None:
    revision = sdk.sdk.api_client.default_headers["revision"]
    params = {"company_id": server.credentials.public_api_key}
    review = {
        "data": {
            "type": "review",
            "attributes": {
                "review_type": "review",
                "email": "reviewer@example.com",
                "author": "SDK Reviewer",
                "content": "Submitted at the official SDK's own revision.",
                "rating": 5,
                "product": {"external_id": "8840012001", "integration_key": "shopify"},
            },
        }
    }
    headers = {"revision": revision, "Content-Type": "application/vnd.api+json"}
    with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as client:
        assert client.post("/client/reviews", params=params, json=review).status_code == 202
        assert client.get("/client/reviews", params=params).status_code == 200
    sdk.called.update({"create_client_review", "get_client_reviews"})
    reviews = _until(
        lambda: sdk("Reviews", "get_reviews", filter="equals(review_type,'review')").data,
        lambda found: any(r.attributes.author == "SDK Reviewer" for r in found),
    )
    mine = next(r for r in reviews if r.attributes.author == "SDK Reviewer")
    assert sdk("Reviews", "get_review", mine.id).data.id == mine.id
    reject = {
        "data": {
            "type": "review",
            "id": mine.id,
            "attributes": {"status": {"value": "rejected", "rejection_reason": {"reason": "fake"}}},
        }
    }
    updated = sdk("Reviews", "update_review", mine.id, reject)
    assert _status_value(updated.data) == "rejected"


def _status_value(review: Any) -> str:
    status = review.attributes.status
    inner = getattr(status, "actual_instance", status)
    return str(inner["value"] if isinstance(inner, dict) else inner.value)


def test_flows_templates_and_consent(sdk: Recorder) -> None:
    profile = {"type": "profile", "attributes": {"email": "flows@example.com"}}
    metric_ref = {"data": {"type": "metric", "attributes": {"name": "Joy: Tier Achieved"}}}
    event = {
        "data": {
            "type": "event",
            "attributes": {"properties": {}, "metric": metric_ref, "profile": {"data": profile}},
        }
    }
    sdk("Events", "create_event", event)
    metric = _until(
        lambda: [
            m
            for m in sdk("Metrics", "get_metrics").data
            if m.attributes.name == "Joy: Tier Achieved"
        ],
        lambda found: bool(found),
    )[0]
    subscribed = {
        **profile,
        "attributes": {
            "email": "flows@example.com",
            "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
        },
    }
    sdk(
        "Profiles",
        "bulk_subscribe_profiles",
        {
            "data": {
                "type": "profile-subscription-bulk-create-job",
                "attributes": {"profiles": {"data": [subscribed]}},
            }
        },
    )
    sdk(
        "Profiles",
        "bulk_suppress_profiles",
        {
            "data": {
                "type": "profile-suppression-bulk-create-job",
                "attributes": {"profiles": {"data": [profile]}},
            }
        },
    )
    template = sdk(
        "Templates",
        "create_template",
        {
            "data": {
                "type": "template",
                "attributes": {"name": "T", "editor_type": "CODE", "html": "<p/>"},
            }
        },
    )
    action = {
        "temporary_id": "email-1",
        "type": "send-email",
        "data": {"message": {"subject_line": "Hi", "template_id": _id(template.data)}},
    }
    definition = {
        "triggers": [{"type": "metric", "id": metric.id}],
        "actions": [action],
        "entry_action_id": "email-1",
    }
    flow = sdk(
        "Flows",
        "create_flow",
        {"data": {"type": "flow", "attributes": {"name": "F", "definition": definition}}},
    )
    flow_id = _id(flow.data)
    assert any(_id(f) == flow_id for f in sdk("Flows", "get_flows").data)
    assert _field(sdk("Flows", "get_flow", flow_id).data, "status") == "draft"
    live = {"data": {"type": "flow", "id": flow_id, "attributes": {"status": "live"}}}
    assert _field(sdk("Flows", "update_flow", flow_id, live).data, "status") == "live"
    triggered = sdk("Metrics", "get_flows_triggered_by_metric", metric.id).data
    assert [_id(f) for f in triggered] == [flow_id]
    (flow_action,) = sdk("Flows", "get_actions_for_flow", flow_id).data
    (message,) = sdk("Flows", "get_flow_action_messages", _id(flow_action)).data
    found = sdk("Flows", "get_template_for_flow_message", _id(message)).data
    assert _id(found) == _id(template.data)


def test_every_operation_joyctl_uses_went_through_the_sdk(sdk: Recorder) -> None:
    assert {endpoint.operation_id for endpoint in ENDPOINTS} == sdk.called


def _until(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """Work Klaviyo does asynchronously is polled for, as a client of the real API must."""
    deadline = time.monotonic() + timeout
    while True:
        found = fetch()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
