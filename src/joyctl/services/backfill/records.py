"""One record of a backfill file as a Klaviyo event, or the reason it cannot be one.

The checks are Klaviyo's own (klaviyo-api.md 3.1 and 3.2), made before sending so a bad record
is quarantined alone instead of failing the 999 others in its request: a metric name under 128
characters, a time after 1990 and at most a year ahead, at most 400 properties, no string over
100 KB, an email or external id. Every value is bounded as well (`joyctl.files.limits`): a
finite `value` within 10**15 either way, integers within 64 bits, JSON nested at most 64 deep.
A record without an `id` gets one derived from its content, so sending the same file again
never duplicates an event.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from joyctl.errors import DataError
from joyctl.files import limits
from joyctl.files.reader import Record
from joyctl.klaviyo.bulk.batches import Item, Outgoing, Rejected, Skipped, fits_alone
from joyctl.klaviyo.resources.events import EventInput
from joyctl.ledger.customers import normalize_email

KNOWN_KEYS = ("id", "email", "external_id", "metric", "time", "value", "value_currency")
PROPERTIES_KEY = "properties"
EARLIEST_TIME = datetime(1990, 1, 1, tzinfo=UTC)
MAX_METRIC_NAME = 128
MAX_PROPERTIES = 400
MAX_STRING_BYTES = 100 * 1024
MAX_DEPTH = 10
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_A_YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Selection:
    """Which events a run sends: a time window (inclusive) and, optionally, some metrics."""

    since: datetime | None = None
    until: datetime | None = None
    metrics: frozenset[str] = field(default_factory=frozenset)

    def admits(self, metric: str, when: datetime | None) -> bool:
        if self.metrics and metric not in self.metrics:
            return False
        if when is None:
            return self.since is None and self.until is None
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when <= self.until


def file_item(record: Record, selection: Selection, *, now: datetime, loose_columns: bool) -> Item:
    """What to do with one record. `loose_columns` (CSV) makes unknown columns properties."""
    position = record.end.to_json()  # the checkpoint once this record is handled
    if record.problem is not None:
        return Rejected(record.line, record.problem, record.values, position)
    try:
        profile, event = parse_event_record(record.values, now=now, loose_columns=loose_columns)
    except DataError as exc:
        return Rejected(record.line, exc.message, record.values, position)
    if not selection.admits(event.metric_name, event.time):
        return Skipped("filtered", position)
    item = Outgoing.build(profile, event, origin=record.line, position=position)
    if not fits_alone(item):
        reason = "the event is too large for a 5 MB request"
        return Rejected(record.line, reason, record.values, position)
    return item


def parse_event_record(
    values: Mapping[str, Any], *, now: datetime, loose_columns: bool
) -> tuple[dict[str, str], EventInput]:
    """The profile and event a record describes; DataError names what is wrong."""
    columns = _columns(values, loose_columns)
    profile = _profile(columns)
    metric = _metric(columns.get("metric"))
    when = _event_time(columns.get("time"), now)
    properties = _properties(values, columns, loose_columns)
    value = _value(columns.get("value"))
    currency = _currency(columns.get("value_currency"))
    unique_id = _text(columns.get("id"), "id") or derived_unique_id(
        profile, metric, when, value, properties
    )
    return profile, EventInput(metric, properties, when, unique_id, value, currency)


def derived_unique_id(
    profile: Mapping[str, str],
    metric: str,
    when: datetime,
    value: float | None,
    properties: Mapping[str, Any],
) -> str:
    """The same content always gives the same id, so a record sent twice is recorded once."""
    content = [sorted(profile.items()), metric, when.isoformat(), value, properties]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode("utf-8"))
    return f"joyctl-{digest.hexdigest()[:32]}"


def _columns(values: Mapping[str, Any], loose_columns: bool) -> dict[str, Any]:
    """The known columns (matched without regard to case in CSV), empty cells left out."""
    known: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in values.items():
        name = key.lower() if loose_columns else key
        if name in KNOWN_KEYS:
            if value is not None and value != "":
                known[name] = value
        elif name != PROPERTIES_KEY and not loose_columns:
            unknown.append(key)
    if unknown:
        raise DataError(f"unknown keys {limits.shown_names(unknown)}")
    return known


def _profile(columns: Mapping[str, Any]) -> dict[str, str]:
    profile: dict[str, str] = {}
    email = _text(columns.get("email"), "email")
    if email is not None:
        profile["email"] = normalize_email(email)
    external_id = _text(columns.get("external_id"), "external_id")
    if external_id is not None:
        profile["external_id"] = external_id
    if not profile:
        raise DataError("an email or external_id is required")
    return profile


def _metric(raw: Any) -> str:
    name = _text(raw, "metric")
    if name is None:
        raise DataError("metric is missing")
    if len(name) >= MAX_METRIC_NAME:
        raise DataError("metric names must be under 128 characters")
    return name


def _event_time(raw: Any, now: datetime) -> datetime:
    text = _text(raw, "time")
    if text is None:
        raise DataError("time is missing")
    when = limits.moment(text, "time").astimezone(UTC)
    if when.microsecond:  # `replace` is dear, and most times name whole seconds
        when = when.replace(microsecond=0)
    if not EARLIEST_TIME <= when <= now + _A_YEAR:
        raise DataError(f"time {limits.shown(text)} is before 1990 or more than a year ahead")
    return when


def _properties(
    values: Mapping[str, Any], columns: Mapping[str, Any], loose_columns: bool
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if loose_columns:
        raw = next((v for k, v in values.items() if k.lower() == PROPERTIES_KEY), None)
    else:  # `_columns` refused any other spelling of the key already
        raw = values.get(PROPERTIES_KEY)
    if isinstance(raw, str) and raw.strip():
        try:
            raw = limits.load_json(raw)
        except DataError as exc:
            raise DataError(f"properties: {exc.message}") from None
    if raw not in (None, "") and not isinstance(raw, dict):
        raise DataError("properties must be an object")
    properties.update(raw or {})
    if loose_columns:
        properties.update(_extra_columns(values))
    _check_properties(properties)
    return properties


def _extra_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    skip = {*KNOWN_KEYS, PROPERTIES_KEY}
    return {key: value for key, value in values.items() if key.lower() not in skip and value != ""}


def _check_properties(properties: Mapping[str, Any]) -> None:
    if len(properties) > MAX_PROPERTIES:
        raise DataError(f"{len(properties)} properties; Klaviyo takes at most {MAX_PROPERTIES}")
    _check_value(properties, 0)


def _check_value(value: Any, depth: int) -> None:
    if isinstance(value, dict | list):
        _check_container(value, depth)
    else:
        _check_scalar(value)


def _check_container(container: dict[str, Any] | list[Any], depth: int) -> None:
    """Every value inside, depth first; the plain types JSON gives are told apart by `type`."""
    if depth >= MAX_DEPTH:
        raise DataError(f"properties nest deeper than {MAX_DEPTH} levels")
    for item in container.values() if isinstance(container, dict) else container:
        kind = type(item)
        if kind is str:
            if len(item) > MAX_STRING_BYTES // 4:
                _check_scalar(item)
        elif kind is int or kind is float:
            _check_number(item)
        elif kind is dict or kind is list:
            _check_container(item, depth + 1)
        elif kind is not bool and item is not None:
            _check_value(item, depth + 1)


def _check_scalar(value: Any) -> None:
    if isinstance(value, str):
        if len(value) > MAX_STRING_BYTES // 4 and len(value.encode("utf-8")) > MAX_STRING_BYTES:
            raise DataError("a property holds a string over 100 KB")
    elif isinstance(value, int | float):
        _check_number(value)


def _check_number(value: float) -> None:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataError("a property holds a number JSON cannot carry (NaN or infinity)")
    elif not limits.MIN_INTEGER <= value <= limits.MAX_INTEGER:
        raise DataError("a property holds an integer beyond 64 bits")


def _value(raw: Any) -> float | None:
    if raw is None:
        return None
    return limits.finite_number(raw, "value", low=-limits.MAX_AMOUNT, high=limits.MAX_AMOUNT)


def _currency(raw: Any) -> str | None:
    text = _text(raw, "value_currency")
    if text is None:
        return None
    if not _CURRENCY.match(text.upper()):
        raise DataError(f"value_currency {limits.shown(text)} is not a three-letter ISO 4217 code")
    return text.upper()


def _text(raw: Any, name: str) -> str | None:
    if type(raw) is str:  # the usual case, first
        return raw.strip() or None
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise DataError(f"{name} must be text, not {type(raw).__name__}")
    text = str(raw).strip()
    return text or None
