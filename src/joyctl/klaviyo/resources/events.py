"""Sending loyalty events: one at a time or as bulk jobs of up to 1,000.

An event carrying a `unique_id` is recorded once however often it is sent, so such requests
are retried after a 5xx or a dropped connection. Bulk jobs differ from single events: a
`unique_id` repeated for the same profile and metric fails the whole job, so it is refused here
before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from joyctl.errors import UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources._shared import expect_accepted

MAX_EVENTS_PER_JOB = 1000
MAX_PAYLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class EventInput:
    metric_name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    time: datetime | None = None
    unique_id: str | None = None
    value: float | None = None
    value_currency: str | None = None


@dataclass(frozen=True)
class ProfileEvents:
    """The events of one profile in a bulk job (Klaviyo groups bulk events by profile)."""

    profile: Mapping[str, Any]
    events: Sequence[EventInput]
    backfill: bool = False


def _event_attributes(event: EventInput) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "properties": dict(event.properties),
        "metric": {"data": {"type": "metric", "attributes": {"name": event.metric_name}}},
    }
    if event.time is not None:
        attributes["time"] = event.time.isoformat()
    optional = {
        "unique_id": event.unique_id,
        "value": event.value,
        "value_currency": event.value_currency,
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    return attributes


def _profile_data(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": dict(profile)}}


def create_event(
    client: KlaviyoClient,
    event: EventInput,
    profile: Mapping[str, Any],
    *,
    backfill: bool = False,
) -> None:
    """Send one event (202: accepted, processed later). The call also upserts the profile."""
    attributes = _event_attributes(event)
    attributes["profile"] = _profile_data(profile)
    if backfill:
        attributes["backfill"] = True
    body = {"data": {"type": "event", "attributes": attributes}}
    expect_accepted(
        client.request("POST", "/api/events", body=body, idempotent=event.unique_id is not None)
    )


def bulk_create_events(client: KlaviyoClient, groups: Sequence[ProfileEvents]) -> None:
    """Send up to 1,000 events in one job (202, no job to poll)."""
    _check_bulk(groups)
    entries = [_bulk_entry(group) for group in groups]
    body = {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": entries}},
        }
    }
    all_deduplicated = all(event.unique_id for group in groups for event in group.events)
    _send_bulk(client, json.dumps(body).encode("utf-8"), idempotent=all_deduplicated)


BulkKey = tuple[Hashable, str, str | None]
"""An event of a bulk job: its profile (any key equal for equal profiles), metric, unique_id."""


def send_bulk_body(client: KlaviyoClient, body: bytes, keys: Sequence[BulkKey]) -> None:
    """Send a bulk job whose body is already written (`joyctl.klaviyo.bulk.bodies`), one key
    per event it holds; the same checks as `bulk_create_events`."""
    _check_count(len(keys))
    _check_repeats(keys)
    _send_bulk(client, body, idempotent=all(unique_id for _, _, unique_id in keys))


def _send_bulk(client: KlaviyoClient, body: bytes, *, idempotent: bool) -> None:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise UsageError("a bulk event job may not exceed 5 MB; send fewer events per job")
    expect_accepted(
        client.request("POST", "/api/event-bulk-create-jobs", content=body, idempotent=idempotent)
    )


def _bulk_entry(group: ProfileEvents) -> dict[str, Any]:
    events = [{"type": "event", "attributes": _event_attributes(e)} for e in group.events]
    attributes: dict[str, Any] = {
        "profile": _profile_data(group.profile),
        "events": {"data": events},
    }
    if group.backfill:
        attributes["backfill"] = True
    return {"type": "event-bulk-create", "attributes": attributes}


def _check_bulk(groups: Sequence[ProfileEvents]) -> None:
    _check_count(sum(len(group.events) for group in groups))
    keys: list[BulkKey] = []
    for group in groups:
        who = json.dumps(dict(group.profile), sort_keys=True, default=str)
        keys += [(who, event.metric_name, event.unique_id) for event in group.events]
    _check_repeats(keys)


def _check_count(total: int) -> None:
    if total == 0:
        raise UsageError("a bulk event job needs at least one event")
    if total > MAX_EVENTS_PER_JOB:
        raise UsageError(f"a bulk event job holds at most 1,000 events, not {total}")


def _check_repeats(keys: Sequence[BulkKey]) -> None:
    seen: set[BulkKey] = set()
    for key in keys:
        if key[2] is None:
            continue
        if key in seen:
            raise UsageError(
                f"unique_id {key[2]!r} repeats for one profile and metric; "
                "Klaviyo would reject the whole job"
            )
        seen.add(key)
