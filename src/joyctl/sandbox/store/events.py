"""Events and metrics: validation, metrics made on the fly, and `unique_id` de-duplication.

Klaviyo records only the first event for a given profile, metric and `unique_id`; without a
`unique_id` it falls back to the event time to the second. Later copies are dropped silently
(the request still answers 202), and the sandbox counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from joyctl.sandbox.clock import iso, parse_iso
from joyctl.sandbox.ids import short_id, ulid, uuid_id
from joyctl.sandbox.jsonapi import invalid
from joyctl.sandbox.store.profiles import find_profile, upsert_profile, validate_profile
from joyctl.sandbox.store.records import EventRecord, JsonObject, MetricRecord
from joyctl.sandbox.store.state import SandboxState

MAX_PROPERTIES = 400
MAX_STRING_BYTES = 100 * 1024
MAX_METRIC_NAME = 128
EARLIEST_EVENT_TIME = 631152000.0  # 1990-01-01T00:00:00Z
YEAR_SECONDS = 365 * 86400

API_INTEGRATION: JsonObject = {
    "object": "integration",
    "id": "7FtS4J",
    "key": "api",
    "name": "API",
    "category": "API",
}
KLAVIYO_INTEGRATION: JsonObject = {
    "object": "integration",
    "id": "0rG4eQ",
    "key": "klaviyo",
    "name": "Klaviyo",
    "category": "Internal",
}


@dataclass(frozen=True)
class EventInput:
    metric_name: str
    profile: JsonObject  # a validated profile resource object
    properties: JsonObject
    time: float
    unique_id: str | None
    value: float | None
    value_currency: str | None
    pointer: str  # where this event sits in the request, for error sources


def _longest_string(value: Any, depth: int = 0) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if depth > 20:
        return 0
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return max((_longest_string(item, depth + 1) for item in value), default=0)
    return 0


def _metric_name(attributes: JsonObject, pointer: str) -> str:
    metric = attributes.get("metric")
    data = metric.get("data") if isinstance(metric, dict) else None
    metric_attributes = data.get("attributes") if isinstance(data, dict) else None
    name = metric_attributes.get("name") if isinstance(metric_attributes, dict) else None
    if not isinstance(data, dict) or data.get("type") != "metric":
        raise invalid("A metric resource is required.", pointer=f"{pointer}/metric/data")
    if not isinstance(name, str) or not name.strip():
        raise invalid("'name' is required.", pointer=f"{pointer}/metric/data/attributes/name")
    if len(name) >= MAX_METRIC_NAME:
        raise invalid(
            "Metric names must be under 128 characters.",
            pointer=f"{pointer}/metric/data/attributes/name",
        )
    return name


def _event_time(attributes: JsonObject, pointer: str, now: float) -> float:
    raw = attributes.get("time")
    if raw is None:
        return now
    parsed = parse_iso(raw) if isinstance(raw, str) else None
    if parsed is None:
        raise invalid(f"'{raw}' is not an ISO 8601 datetime.", pointer=f"{pointer}/time")
    if not EARLIEST_EVENT_TIME <= parsed <= now + YEAR_SECONDS:
        raise invalid(
            "Event time must be after 1990 and at most one year in the future.",
            pointer=f"{pointer}/time",
        )
    return float(int(parsed))


def _properties(attributes: JsonObject, pointer: str) -> JsonObject:
    properties = attributes.get("properties")
    if not isinstance(properties, dict):
        raise invalid("'properties' is a required object.", pointer=f"{pointer}/properties")
    if len(properties) > MAX_PROPERTIES:
        raise invalid("An event may have at most 400 properties.", pointer=f"{pointer}/properties")
    if _longest_string(properties) > MAX_STRING_BYTES:
        raise invalid("Strings may be at most 100 KB.", pointer=f"{pointer}/properties")
    return properties


def parse_event(
    attributes: Any, pointer: str, now: float, profile: JsonObject | None = None
) -> EventInput:
    """Validate one event's attributes; bulk jobs pass the profile their entry shares."""
    if not isinstance(attributes, dict):
        raise invalid("'attributes' is a required object.", pointer=pointer)
    if profile is None:
        profile_data = (attributes.get("profile") or {}).get("data")
        validate_profile(profile_data, f"{pointer}/profile/data")
        profile = cast(JsonObject, profile_data)
    unique_id = attributes.get("unique_id")
    if unique_id is not None and not isinstance(unique_id, str):
        raise invalid("'unique_id' must be a string.", pointer=f"{pointer}/unique_id")
    value = attributes.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise invalid("'value' must be a number.", pointer=f"{pointer}/value")
    return EventInput(
        metric_name=_metric_name(attributes, pointer),
        profile=profile,
        properties=_properties(attributes, pointer),
        time=_event_time(attributes, pointer, now),
        unique_id=unique_id or None,
        value=float(value) if value is not None else None,
        value_currency=attributes.get("value_currency"),
        pointer=pointer,
    )


def metric_for(
    state: SandboxState, name: str, now: float, integration: JsonObject | None = None
) -> MetricRecord:
    """The metric with this name, created on first use as Klaviyo does."""
    for metric in state.metrics.values():
        if metric["name"] == name:
            return metric
    stamp = iso(now)
    metric = MetricRecord(
        id=short_id(),
        name=name,
        integration=dict(integration or API_INTEGRATION),
        created=stamp,
        updated=stamp,
    )
    state.metrics[metric["id"]] = metric
    return metric


def dedup_key(profile_id: str, metric_id: str, unique_id: str | None, time: float) -> str:
    return f"{profile_id}|{metric_id}|{unique_id if unique_id else f'time:{int(time)}'}"


def record_event(
    state: SandboxState, event: EventInput, now: float, integration: JsonObject | None = None
) -> EventRecord | None:
    """Store an event, or return None when it repeats one already recorded."""
    profile, _ = upsert_profile(state, event.profile, now)
    metric = metric_for(state, event.metric_name, now, integration)
    key = dedup_key(profile["id"], metric["id"], event.unique_id, event.time)
    if key in state.event_keys:
        state.counters["duplicates_dropped"] += 1
        return None
    record = EventRecord(
        id=ulid(event.time),
        metric_id=metric["id"],
        profile_id=profile["id"],
        datetime=iso(event.time),
        timestamp=int(event.time),
        properties=event.properties,
        value=event.value,
        value_currency=event.value_currency,
        unique_id=event.unique_id or "",
        uuid=uuid_id(),
    )
    state.events[record["id"]] = record
    state.event_keys[key] = record["id"]
    if profile["last_event_date"] is None or profile["last_event_date"] < record["datetime"]:
        profile["last_event_date"] = record["datetime"]
    return record


def profile_identity(state: SandboxState, profile: JsonObject) -> str:
    """Who a bulk entry's profile is, before anything is written: a stored id or an identifier."""
    existing = find_profile(state, profile)
    if existing is not None:
        return existing["id"]
    attributes = profile.get("attributes") or {}
    for name in ("email", "phone_number", "external_id", "anonymous_id", "_kx"):
        if attributes.get(name):
            value = str(attributes[name])
            return f"{name}:{value.lower() if name == 'email' else value}"
    return f"id:{profile.get('id')}"
