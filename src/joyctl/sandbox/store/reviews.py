"""Klaviyo Reviews: a submitted review, its `Submitted Review` event and the webhook fan-out."""

from __future__ import annotations

from typing import Any

from joyctl.sandbox.clock import iso
from joyctl.sandbox.context import World
from joyctl.sandbox.deliveries import enqueue
from joyctl.sandbox.ids import hex_id
from joyctl.sandbox.jsonapi import invalid
from joyctl.sandbox.routes.validation import enum_value, optional_str, require_str
from joyctl.sandbox.scenarios.data import product_details
from joyctl.sandbox.store.events import KLAVIYO_INTEGRATION, EventInput, record_event
from joyctl.sandbox.store.profiles import valid_email
from joyctl.sandbox.store.records import JsonObject, ReviewRecord
from joyctl.sandbox.store.resources import event_resource
from joyctl.sandbox.store.topics import SUBMITTED_REVIEW_TOPIC

REVIEW_METRIC = "Submitted Review"
REVIEW_TYPES = ("question", "rating", "review", "store")
RATINGS = (1, 2, 3, 4, 5)
INTEGRATION_KEYS = ("shopify", "woocommerce")
INCENTIVE_TYPES = (
    "coupon_or_discount",
    "employee_review",
    "free_product",
    "loyalty_points",
    "other",
    "paid_promotion",
    "sweepstakes_entry",
)
STATUS_VALUES = ("rejected", "featured", "published", "unpublished", "pending")
REJECTION_REASONS = (
    "other",
    "fake",
    "false_or_misleading",
    "private_information",
    "profanity_or_inappropriate",
    "unrelated",
)
POINTER = "/data/attributes"


def _product(attributes: JsonObject) -> JsonObject | None:
    product = attributes.get("product")
    if product is None:
        return None
    if not isinstance(product, dict):
        raise invalid("'product' must be an object.", pointer=f"{POINTER}/product")
    external_id = require_str(product, "external_id", f"{POINTER}/product")
    enum_value(product, "integration_key", INTEGRATION_KEYS, f"{POINTER}/product", required=True)
    return product_details(external_id)


def _images(attributes: JsonObject) -> list[str]:
    images = attributes.get("images")
    if images is None:
        return []
    if not isinstance(images, list) or not all(isinstance(item, str) for item in images):
        raise invalid("'images' must be an array of strings.", pointer=f"{POINTER}/images")
    return list(images)


def validate_submission(data: JsonObject) -> JsonObject:
    """Check a ReviewCreateDTO resource; returns the values a new review is built from."""
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise invalid("'attributes' is a required object.", pointer=POINTER)
    email = require_str(attributes, "email", POINTER)
    if not valid_email(email):
        raise invalid(f"Invalid email address: '{email}'.", pointer=f"{POINTER}/email")
    order = ((data.get("relationships") or {}).get("order") or {}).get("data")
    return {
        "review_type": enum_value(attributes, "review_type", REVIEW_TYPES, POINTER, required=True),
        "email": email,
        "author": require_str(attributes, "author", POINTER),
        "content": require_str(attributes, "content", POINTER),
        "rating": enum_value(attributes, "rating", RATINGS, POINTER, required=False),
        "title": optional_str(attributes, "title", POINTER),
        "incentive_type": enum_value(
            attributes, "incentive_type", INCENTIVE_TYPES, POINTER, required=False
        ),
        "product": _product(attributes),
        "images": _images(attributes),
        "verified": isinstance(order, dict) and bool(order.get("id")),
    }


def new_review(values: JsonObject, created: float, status: str) -> ReviewRecord:
    return ReviewRecord(
        id=hex_id(32),
        email=values["email"],
        status={"value": status},
        verified=values["verified"],
        review_type=values["review_type"],
        created=iso(created),
        updated=iso(created),
        images=values["images"],
        product=values["product"],
        rating=values["rating"],
        author=values["author"],
        content=values["content"],
        title=values["title"],
        smart_quote=None,
        public_reply=None,
        incentive_type=values["incentive_type"],
        event_ids=[],
    )


def review_event_properties(review: ReviewRecord) -> JsonObject:
    product = review["product"] or {}
    return {
        "review_id": review["id"],
        "review_type": review["review_type"],
        "rating": review["rating"],
        "title": review["title"],
        "content": review["content"],
        "status": review["status"]["value"],
        "verified": review["verified"],
        "product_id": product.get("external_id"),
        "product_name": product.get("name"),
    }


def submit_review(
    world: World, values: JsonObject, base_url: str, submitted_at: float | None = None
) -> ReviewRecord:
    """Store a review, record its event and queue it for subscribed webhooks.

    `submitted_at` is when the submission was accepted, when Klaviyo processes it later.
    """
    state = world.state
    created = world.now() if submitted_at is None else submitted_at
    status = "published" if state.account["reviews_auto_publish"] else "pending"
    review = new_review(values, created, status)
    state.reviews[review["id"]] = review
    record_review_event(world, review, created, base_url)
    return review


def review_event_input(review: ReviewRecord, when: float) -> EventInput:
    """The `Submitted Review` event Klaviyo records for a review, keyed by the review id."""
    return EventInput(
        metric_name=REVIEW_METRIC,
        profile={"type": "profile", "attributes": {"email": review["email"]}},
        properties=review_event_properties(review),
        time=when,
        unique_id=review["id"],
        value=None,
        value_currency=None,
        pointer=POINTER,
    )


def record_review_event(world: World, review: ReviewRecord, when: float, base_url: str) -> None:
    event = review_event_input(review, when)
    record = record_event(world.state, event, when, KLAVIYO_INTEGRATION)
    if record is None:
        return
    review["event_ids"].append(record["id"])
    payload = webhook_payload(event_resource(record, base_url), world.config.webhook_payload)
    ready_at = world.now() + world.latency.draw(world.latency.deliveries, world.rng)
    enqueue(world.state, SUBMITTED_REVIEW_TOPIC, record["id"], payload, ready_at)


def webhook_payload(resource: JsonObject, shape: str) -> JsonObject:
    """The event as a delivery carries it, in the configured shape (SandboxConfig)."""
    if shape != "no-review-id":
        return resource
    attributes = dict(resource["attributes"])
    properties = dict(attributes["event_properties"])
    properties.pop("review_id", None)
    attributes["event_properties"] = properties
    return {**resource, "attributes": attributes}


def validate_status(status: Any) -> JsonObject:
    """A review status object as PATCH accepts it; a rejection needs a reason."""
    pointer = f"{POINTER}/status"
    if not isinstance(status, dict):
        raise invalid("'status' is a required object.", pointer=pointer)
    value = enum_value(status, "value", STATUS_VALUES, pointer, required=True)
    if value != "rejected":
        return {"value": value}
    reason = status.get("rejection_reason")
    if not isinstance(reason, dict):
        raise invalid(
            "A rejected review needs a 'rejection_reason'.", pointer=f"{pointer}/rejection_reason"
        )
    code = enum_value(
        reason, "reason", REJECTION_REASONS, f"{pointer}/rejection_reason", required=True
    )
    rejection: JsonObject = {"reason": code}
    if code == "other":
        rejection["status_explanation"] = reason.get("status_explanation")
    return {"value": value, "rejection_reason": rejection}
