"""The JSON of a bulk event job, written once per event instead of once per request and again.

A bulk job's body is the same text `resources.events.bulk_create_events` sends (the JSON:API
document encoded by `json.dumps` with its defaults), byte for byte: tests compare both forms.
Each event's own JSON is written when the event is read, so its exact size is known while
chunks fill, and a request body is the joined texts of its events: nothing is encoded twice
and no document of dicts is built for a request that is only ever sent as text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from joyctl.klaviyo.resources.events import EventInput

_EVENT_HEAD = '{"type": "event", "attributes": {"properties": '
_METRIC = ', "metric": {"data": {"type": "metric", "attributes": {"name": '
_TIME, _UNIQUE_ID = ', "time": ', ', "unique_id": '
_VALUE, _CURRENCY = ', "value": ', ', "value_currency": '
_PROFILE_HEAD = '{"data": {"type": "profile", "attributes": '
_ENTRY_HEAD = '{"type": "event-bulk-create", "attributes": {"profile": '
_ENTRY_EVENTS = ', "events": {"data": ['
_ENTRY_TAIL = "]}}}"
_ENTRY_TAIL_BACKFILL = ']}, "backfill": true}}'
_BODY_HEAD = (
    '{"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": ['
)
_BODY_TAIL = "]}}}}"
SEPARATOR = ", "


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _object_encoder() -> Callable[[dict[str, Any]], str]:
    """`json.dumps` of a dict with its defaults, less the encoder it builds on every call.

    The properties an event carries come from parsed JSON, CSV cells or the ledger, so they
    cannot refer to themselves: the check for circular references is left out.
    """
    make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)  # untyped, C only
    if make_encoder is None:  # a Python built without the C accelerator
        return json.dumps
    encode = make_encoder(None, _refuse, _quote, None, ": ", ", ", False, False, True)
    return lambda value: "".join(encode(value, 0))


_encode_object = _object_encoder()
ENTRY_WRAPPER_SIZE = len(_ENTRY_HEAD) + len(_ENTRY_EVENTS) + len(_ENTRY_TAIL_BACKFILL)
"""Characters around one profile's entry, separator and backfill flag included (the most)."""
BODY_WRAPPER_SIZE = len(_BODY_HEAD) + len(_BODY_TAIL)


def event_text(event: EventInput) -> str:
    """`{"type": "event", "attributes": ...}` for one event, as `json.dumps` writes it."""
    properties, when, unique_id = event.properties, event.time, event.unique_id
    value, currency = event.value, event.value_currency
    encoded = _encode_object(properties if type(properties) is dict else dict(properties))
    return (
        f"{_EVENT_HEAD}{encoded}{_METRIC}{_quote(event.metric_name)}}}}}}}"
        f"{'' if when is None else _TIME + _quote(when.isoformat())}"
        f"{'' if unique_id is None else _UNIQUE_ID + _quote(unique_id)}"
        f"{'' if value is None else _VALUE + _number(value)}"
        f"{'' if currency is None else _CURRENCY + _quote(currency)}}}}}"
    )


def _number(value: Any) -> str:
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)  # what json.dumps writes for a finite float
    return json.dumps(value)


def profile_text(profile: Mapping[str, Any]) -> str:
    """`{"data": {"type": "profile", "attributes": ...}}` for one profile."""
    if all(type(value) is str for value in profile.values()):  # identifiers are text
        fields = ", ".join([f"{_quote(key)}: {_quote(value)}" for key, value in profile.items()])
        return f"{_PROFILE_HEAD}{{{fields}}}}}}}"
    return f"{_PROFILE_HEAD}{_encode_object(dict(profile))}}}}}"


def entry_text(profile: str, events: list[str], *, backfill: bool) -> str:
    """One profile's entry in a bulk job, from the texts of the profile and its events."""
    tail = _ENTRY_TAIL_BACKFILL if backfill else _ENTRY_TAIL
    return f"{_ENTRY_HEAD}{profile}{_ENTRY_EVENTS}{SEPARATOR.join(events)}{tail}"


def body_text(entries: list[str]) -> str:
    """The whole request body of a bulk job, from the texts of its profiles' entries."""
    return f"{_BODY_HEAD}{SEPARATOR.join(entries)}{_BODY_TAIL}"
