"""Flows, their email actions, messages and templates; email consent; flows started by events.

A flow is created from a definition (one metric trigger, send-email actions) and starts as a
draft. Whenever an event of its metric is recorded while the flow is live, each of its emails
goes to the profile if Klaviyo could send it: a valid email, subscribed to email marketing and
not suppressed. Klaviyo records that as a `Received Email` event on the profile; so does this.
"""

from __future__ import annotations

from typing import Any

from joyctl.sandbox.clock import iso
from joyctl.sandbox.ids import short_id, ulid, uuid_id
from joyctl.sandbox.jsonapi import invalid
from joyctl.sandbox.store.events import KLAVIYO_INTEGRATION, metric_for
from joyctl.sandbox.store.profiles import valid_email
from joyctl.sandbox.store.records import (
    EmailConsentRecord,
    EventRecord,
    FlowActionRecord,
    FlowMessageRecord,
    FlowRecord,
    JsonObject,
    ProfileRecord,
    TemplateRecord,
)
from joyctl.sandbox.store.state import SandboxState

RECEIVED_EMAIL = "Received Email"
FLOW_STATUSES = ("draft", "manual", "live")
SUPPRESSION_REASONS = (
    "HARD_BOUNCE",
    "INVALID_EMAIL",
    "SPAM_COMPLAINT",
    "UNSUBSCRIBE",
    "USER_SUPPRESSED",
)


def create_template(
    state: SandboxState, name: str, html: str, text: str | None, now: float
) -> TemplateRecord:
    stamp = iso(now)
    template = TemplateRecord(
        id=short_id(),
        name=name,
        editor_type="CODE",
        html=html,
        text=text,
        created=stamp,
        updated=stamp,
    )
    state.templates[template["id"]] = template
    return template


def create_flow(state: SandboxState, name: str, definition: Any, now: float) -> FlowRecord:
    """A draft flow from a definition with one metric trigger and send-email actions."""
    pointer = "/data/attributes/definition"
    if not isinstance(definition, dict):
        raise invalid("'definition' is a required object.", pointer=pointer)
    metric_id = _metric_trigger(state, definition.get("triggers"), f"{pointer}/triggers")
    actions = definition.get("actions")
    if not isinstance(actions, list) or not actions:
        raise invalid("A flow needs at least one action.", pointer=f"{pointer}/actions")
    if not isinstance(definition.get("entry_action_id"), str):
        raise invalid("'entry_action_id' is required.", pointer=f"{pointer}/entry_action_id")
    stamp = iso(now)
    flow = FlowRecord(
        id=short_id(),
        name=name,
        status="draft",
        archived=False,
        trigger_metric_id=metric_id,
        action_ids=[],
        created=stamp,
        updated=stamp,
    )
    for index, action in enumerate(actions):
        flow["action_ids"].append(
            _email_action(state, flow, action, f"{pointer}/actions/{index}", stamp)
        )
    state.flows[flow["id"]] = flow
    return flow


def _metric_trigger(state: SandboxState, triggers: Any, pointer: str) -> str:
    if not isinstance(triggers, list) or len(triggers) != 1:
        raise invalid("Exactly one trigger is supported.", pointer=pointer)
    trigger = triggers[0]
    if not isinstance(trigger, dict) or trigger.get("type") != "metric":
        raise invalid("Only metric triggers are supported here.", pointer=f"{pointer}/0/type")
    metric_id = trigger.get("id")
    if not isinstance(metric_id, str) or metric_id not in state.metrics:
        raise invalid(f"Metric '{metric_id}' does not exist.", pointer=f"{pointer}/0/id")
    return metric_id


def _email_action(
    state: SandboxState, flow: FlowRecord, action: Any, pointer: str, stamp: str
) -> str:
    if not isinstance(action, dict) or action.get("type") != "send-email":
        raise invalid("Only send-email actions are supported here.", pointer=f"{pointer}/type")
    data = action.get("data") or {}
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise invalid("'data.message' is a required object.", pointer=f"{pointer}/data/message")
    template_id = message.get("template_id")
    if template_id is not None and template_id not in state.templates:
        raise invalid(
            f"Template '{template_id}' does not exist.", pointer=f"{pointer}/data/message"
        )
    record = FlowActionRecord(
        id=short_id(8),
        flow_id=flow["id"],
        action_type="send-email",
        status=str(data.get("status") or "draft"),
        message_ids=[],
        created=stamp,
        updated=stamp,
    )
    subject = str(message.get("subject_line") or "")
    flow_message = FlowMessageRecord(
        id=short_id(8),
        action_id=record["id"],
        name=str(message.get("name") or subject),
        subject_line=subject,
        template_id=template_id,
        created=stamp,
        updated=stamp,
    )
    record["message_ids"].append(flow_message["id"])
    state.flow_actions[record["id"]] = record
    state.flow_messages[flow_message["id"]] = flow_message
    return record["id"]


def set_flow_status(flow: FlowRecord, status: str, now: float) -> None:
    if status not in FLOW_STATUSES:
        raise invalid(
            f"'{status}' is not one of {', '.join(FLOW_STATUSES)}.",
            pointer="/data/attributes/status",
        )
    flow["status"] = status
    flow["updated"] = iso(now)


# -- consent ---------------------------------------------------------------------------------


def email_consent(state: SandboxState, profile_id: str) -> EmailConsentRecord:
    return state.email_consent.get(profile_id) or EmailConsentRecord(
        consent="NEVER_SUBSCRIBED", consent_timestamp=None, suppressions=[]
    )


def subscribe(state: SandboxState, profile: ProfileRecord, now: float) -> None:
    """Subscribing lifts the suppressions a person can undo (Klaviyo keeps bounces)."""
    kept = [
        item
        for item in email_consent(state, profile["id"])["suppressions"]
        if item["reason"] in ("HARD_BOUNCE", "INVALID_EMAIL")
    ]
    state.email_consent[profile["id"]] = EmailConsentRecord(
        consent="SUBSCRIBED", consent_timestamp=iso(now), suppressions=kept
    )


def suppress(state: SandboxState, profile: ProfileRecord, reason: str, now: float) -> None:
    consent = email_consent(state, profile["id"])
    suppressions = [item for item in consent["suppressions"] if item["reason"] != reason]
    suppressions.append({"reason": reason, "timestamp": iso(now)})
    state.email_consent[profile["id"]] = EmailConsentRecord(
        consent="UNSUBSCRIBED" if reason == "UNSUBSCRIBE" else consent["consent"],
        consent_timestamp=consent["consent_timestamp"] if reason != "UNSUBSCRIBE" else iso(now),
        suppressions=suppressions,
    )


def can_receive_email(state: SandboxState, profile: ProfileRecord) -> bool:
    consent = email_consent(state, profile["id"])
    email = profile["email"]
    return (
        bool(email)
        and valid_email(str(email))
        and consent["consent"] == "SUBSCRIBED"
        and not consent["suppressions"]
    )


def subscriptions_field(state: SandboxState, profile: ProfileRecord) -> JsonObject:
    """The profile's `subscriptions` additional field (email only; the rest never set)."""
    consent = email_consent(state, profile["id"])
    return {
        "email": {
            "marketing": {
                "can_receive_email_marketing": can_receive_email(state, profile),
                "consent": consent["consent"],
                "consent_timestamp": consent["consent_timestamp"],
                "last_updated": consent["consent_timestamp"],
                "method": "API" if consent["consent_timestamp"] else None,
                "suppression": list(consent["suppressions"]),
                "list_suppressions": [],
            }
        }
    }


# -- flows started by events -------------------------------------------------------------------


def start_flows(state: SandboxState, event: EventRecord, now: float) -> list[EventRecord]:
    """Send each live flow's emails for `event`; the `Received Email` events recorded."""
    profile = state.profiles.get(event["profile_id"])
    if profile is None or not can_receive_email(state, profile):
        return []
    received = []
    for flow in state.flows.values():
        if flow["status"] != "live" or flow["trigger_metric_id"] != event["metric_id"]:
            continue
        for action_id in flow["action_ids"]:
            for message_id in state.flow_actions[action_id]["message_ids"]:
                message = state.flow_messages[message_id]
                received.append(_received_email(state, profile, flow, message, now))
    return received


def _received_email(
    state: SandboxState,
    profile: ProfileRecord,
    flow: FlowRecord,
    message: FlowMessageRecord,
    now: float,
) -> EventRecord:
    metric = metric_for(state, RECEIVED_EMAIL, now, KLAVIYO_INTEGRATION)
    record = EventRecord(
        id=ulid(now),
        metric_id=metric["id"],
        profile_id=profile["id"],
        datetime=iso(now),
        timestamp=int(now),
        properties={
            "$flow": flow["id"],
            "$message": message["id"],
            "Subject": message["subject_line"],
            "Campaign Name": flow["name"],
        },
        value=None,
        value_currency=None,
        unique_id="",
        uuid=uuid_id(),
    )
    state.events[record["id"]] = record
    profile["last_event_date"] = record["datetime"]
    return record
