"""Stored records rendered as JSON:API resource objects, in the shapes of the 2026-07-15 spec."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from joyctl.sandbox.clock import iso
from joyctl.sandbox.store.records import (
    AccountRecord,
    EventRecord,
    ImportErrorRecord,
    ImportJobRecord,
    JsonObject,
    ListRecord,
    MetricRecord,
    ProfileRecord,
    ReviewRecord,
    WebhookRecord,
)

PROFILE_ATTRIBUTES = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
)
LOCATION_FIELDS = (
    "address1",
    "address2",
    "city",
    "country",
    "latitude",
    "longitude",
    "region",
    "zip",
    "timezone",
    "ip",
)

REVIEW_ATTRIBUTES = (
    "status",
    "verified",
    "review_type",
    "created",
    "updated",
    "images",
    "rating",
    "author",
    "content",
    "title",
    "smart_quote",
)


def _links(base: str, collection: str, identifier: str) -> JsonObject:
    return {"self": f"{base}/api/{collection}/{identifier}/"}


def relationship(base: str, owner: str, owner_id: str, name: str) -> JsonObject:
    return {
        "self": f"{base}/api/{owner}/{owner_id}/relationships/{name}/",
        "related": f"{base}/api/{owner}/{owner_id}/{name}/",
    }


def _location(location: JsonObject) -> JsonObject:
    """Every location field, null when unset, except the coordinates: the spec types those as
    `oneOf: [string, number]`, which a strict OpenAPI 3.0 validator refuses to match to null."""
    rendered = {key: location.get(key) for key in LOCATION_FIELDS}
    for coordinate in ("latitude", "longitude"):
        if rendered[coordinate] is None:
            del rendered[coordinate]
    return rendered


def account_resource(account: AccountRecord, base: str) -> JsonObject:
    record = cast(JsonObject, account)
    attributes = {
        key: record[key]
        for key in (
            "test_account",
            "contact_information",
            "industry",
            "timezone",
            "preferred_currency",
            "public_api_key",
            "locale",
        )
    }
    return {
        "type": "account",
        "id": account["id"],
        "attributes": attributes,
        "links": _links(base, "accounts", account["id"]),
    }


def profile_resource(profile: ProfileRecord, base: str) -> JsonObject:
    record = cast(JsonObject, profile)
    attributes: JsonObject = {key: record[key] for key in PROFILE_ATTRIBUTES}
    attributes.update(
        created=profile["created"],
        updated=profile["updated"],
        last_event_date=profile["last_event_date"],
        location=_location(profile["location"]),
        properties=profile["properties"],
    )
    return {
        "type": "profile",
        "id": profile["id"],
        "attributes": attributes,
        "relationships": {
            "lists": {"links": relationship(base, "profiles", profile["id"], "lists")},
            "segments": {"links": relationship(base, "profiles", profile["id"], "segments")},
        },
        "links": _links(base, "profiles", profile["id"]),
    }


def metric_resource(metric: MetricRecord, base: str) -> JsonObject:
    return {
        "type": "metric",
        "id": metric["id"],
        "attributes": {
            "name": metric["name"],
            "created": metric["created"],
            "updated": metric["updated"],
            "integration": metric["integration"],
        },
        "links": _links(base, "metrics", metric["id"]),
    }


def event_resource(event: EventRecord, base: str) -> JsonObject:
    return {
        "type": "event",
        "id": event["id"],
        "attributes": {
            "timestamp": event["timestamp"],
            "event_properties": event["properties"],
            "datetime": event["datetime"],
            "uuid": event["uuid"],
        },
        "relationships": {
            "profile": {
                "data": {"type": "profile", "id": event["profile_id"]},
                "links": relationship(base, "events", event["id"], "profile"),
            },
            "metric": {
                "data": {"type": "metric", "id": event["metric_id"]},
                "links": relationship(base, "events", event["id"], "metric"),
            },
        },
        "links": _links(base, "events", event["id"]),
    }


def list_resource(record: ListRecord, base: str, *, profile_count: bool = False) -> JsonObject:
    attributes: JsonObject = {
        "name": record["name"],
        "created": record["created"],
        "updated": record["updated"],
        "opt_in_process": record["opt_in_process"],
    }
    if profile_count:
        attributes["profile_count"] = len(record["members"])
    return {
        "type": "list",
        "id": record["id"],
        "attributes": attributes,
        "relationships": {
            "profiles": {"links": relationship(base, "lists", record["id"], "profiles")},
        },
        "links": _links(base, "lists", record["id"]),
    }


def mask_url(url: str) -> str:
    """Klaviyo never returns a webhook's full URL: `https://host/*****`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/*****"


def topic_resource(topic_id: str, base: str) -> JsonObject:
    return {
        "type": "webhook-topic",
        "id": topic_id,
        "links": {"self": f"{base}/api/webhook-topics/{topic_id}/"},
    }


def webhook_resource(webhook: WebhookRecord, base: str) -> JsonObject:
    return {
        "type": "webhook",
        "id": webhook["id"],
        "attributes": {
            "name": webhook["name"],
            "description": webhook["description"],
            "endpoint_url": mask_url(webhook["endpoint_url"]),
            "enabled": webhook["enabled"],
            "created_at": webhook["created_at"],
            "updated_at": webhook["updated_at"],
        },
        "relationships": {
            "webhook-topics": {
                "data": [{"type": "webhook-topic", "id": topic} for topic in webhook["topics"]],
                "links": relationship(base, "webhooks", webhook["id"], "webhook-topics"),
            }
        },
        "links": _links(base, "webhooks", webhook["id"]),
    }


def review_resource(review: ReviewRecord, base: str, *, client_view: bool = False) -> JsonObject:
    """The storefront (client) view has no email and no relationships."""
    record = cast(JsonObject, review)
    attributes: JsonObject = {key: record[key] for key in REVIEW_ATTRIBUTES}
    for optional in ("product", "public_reply"):
        if record[optional] is not None:
            attributes[optional] = record[optional]
    if client_view:
        return {
            "type": "review",
            "id": review["id"],
            "attributes": attributes,
            "links": {"self": f"{base}/client/reviews/{review['id']}/"},
        }
    attributes["email"] = review["email"]
    return {
        "type": "review",
        "id": review["id"],
        "attributes": attributes,
        "relationships": {
            "events": {
                "data": [{"type": "event", "id": event_id} for event_id in review["event_ids"]],
                "links": relationship(base, "reviews", review["id"], "events"),
            }
        },
        "links": _links(base, "reviews", review["id"]),
    }


def import_job_resource(job: ImportJobRecord, base: str) -> JsonObject:
    job_id = job["id"]
    return {
        "type": "profile-bulk-import-job",
        "id": job_id,
        "attributes": {
            "status": job["status"],
            "created_at": iso(job["created_at"]),
            "total_count": job["total_count"],
            "completed_count": job["completed_count"],
            "failed_count": job["failed_count"],
            "completed_at": iso(job["completed_at"]) if job["completed_at"] else None,
            "expires_at": iso(job["created_at"] + 7 * 86400),
            "started_at": iso(job["started_at"]) if job["started_at"] else None,
        },
        "relationships": {
            "lists": {
                "data": [{"type": "list", "id": list_id} for list_id in job["list_ids"]],
                "links": relationship(base, "profile-bulk-import-jobs", job_id, "lists"),
            },
            "profiles": {
                "links": relationship(base, "profile-bulk-import-jobs", job_id, "profiles")
            },
            "import-errors": {
                "links": {"related": f"{base}/api/profile-bulk-import-jobs/{job_id}/import-errors/"}
            },
        },
        "links": _links(base, "profile-bulk-import-jobs", job_id),
    }


def import_error_resource(error: ImportErrorRecord) -> JsonObject:
    return {
        "type": "import-error",
        "id": error["id"],
        "attributes": {
            "code": error["code"],
            "title": error["title"],
            "detail": error["detail"],
            "source": {"pointer": error["pointer"]},
            "original_payload": error["original_payload"],
        },
    }
