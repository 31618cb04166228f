"""Webhook topics, which are per account: Klaviyo's system topics, the review topics only when
Klaviyo Reviews is on, and one `event:<integration>.<metric slug>` topic for every other metric."""

from __future__ import annotations

import re

from joyctl.sandbox.store.state import SandboxState

SUBMITTED_REVIEW_TOPIC = "event:klaviyo.submitted_review"
REVIEW_TOPICS = (
    "event:klaviyo.ready_to_review",
    SUBMITTED_REVIEW_TOPIC,
    "event:klaviyo.submitted_rating",
)
SYSTEM_TOPICS = tuple(
    f"event:klaviyo.{name}"
    for name in (
        "bounced_email",
        "clicked_email",
        "dropped_email",
        "marked_email_as_spam",
        "opened_email",
        "received_email",
        "subscribed_to_email_marketing",
        "unsubscribed_from_email_marketing",
        "manually_suppressed_from_email_marketing",
        "manually_unsuppressed_from_email_marketing",
        "updated_email_preferences",
        "sent_sms",
        "received_sms",
        "clicked_sms",
        "failed_to_deliver_sms",
        "received_automated_response_sms",
        "failed_to_deliver_automated_response_sms",
        "subscribed_to_sms_marketing",
        "unsubscribed_from_sms_marketing",
        "received_push",
        "opened_push",
        "bounced_push",
    )
)


def metric_topic(integration_key: str, metric_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", metric_name.lower()).strip("_")
    return f"event:{integration_key}.{slug}"


def available_topics(state: SandboxState) -> list[str]:
    topics = list(SYSTEM_TOPICS)
    if state.account["reviews_enabled"]:
        topics.extend(REVIEW_TOPICS)
    for metric in state.metrics.values():
        key = str(metric["integration"].get("key", "api"))
        if key != "klaviyo":  # Klaviyo's own metrics are covered by the system topics
            topics.append(metric_topic(key, metric["name"]))
    return list(dict.fromkeys(topics))
