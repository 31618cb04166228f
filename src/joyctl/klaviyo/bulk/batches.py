"""Cutting a stream of events into bulk jobs Klaviyo accepts whole.

A bulk job holds at most 1,000 events and 5 MB, and fails as a whole when one `unique_id` repeats
for a profile and metric (klaviyo-api.md 3.2). Chunks are cut from consecutive input items, so
the input position after a chunk is a valid checkpoint once the chunk's request was accepted.
Each event's JSON is written once, when it is read (`bodies`): its size is exact, and the request
body is made of those texts. The envelope is covered by fixed allowances and a margin under the
cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from joyctl.klaviyo.bulk.bodies import (
    BODY_WRAPPER_SIZE,
    ENTRY_WRAPPER_SIZE,
    SEPARATOR,
    event_text,
    profile_text,
)
from joyctl.klaviyo.resources.events import MAX_EVENTS_PER_JOB, MAX_PAYLOAD_BYTES, EventInput

Position = Mapping[str, int]

# Room under the 5 MB cap, so a chunk never comes close to it.
MAX_REQUEST_BYTES = MAX_PAYLOAD_BYTES - 64 * 1024
_BODY_ALLOWANCE = BODY_WRAPPER_SIZE
# A chunk closes after this many bad records even without events, so memory stays bounded.
MAX_REJECTED_PER_CHUNK = 1000


@dataclass(slots=True)
class Outgoing:
    """One event ready to send, with where it came from (a file line, entry or outbox row).

    Its JSON, sizes and keys are worked out once here: every chunk asks for the sizes while it
    fills, and the request is made of the texts. (Not frozen: a frozen dataclass is several
    times slower to build, and there is one per event.)
    """

    profile: Mapping[str, str]
    event: EventInput
    origin: int
    position: Position
    text: str
    """The event's JSON in a bulk job (`bodies.event_text`)."""
    profile_json: str
    """Its profile's JSON in a bulk job (`bodies.profile_text`)."""
    profile_key: tuple[tuple[str, str], ...]
    dedup_keys: tuple[tuple[str, str, str], ...]

    @classmethod
    def build(
        cls, profile: Mapping[str, str], event: EventInput, *, origin: int, position: Position
    ) -> Outgoing:
        key = tuple(sorted(profile.items()))
        unique_id, metric = event.unique_id or "", event.metric_name
        # Klaviyo matches a profile by any identifier, so each one is a way to collide.
        dedup = tuple([(metric, unique_id, f"{name}:{value}") for name, value in key])
        text, profile_json = event_text(event), profile_text(profile)
        return cls(profile, event, origin, position, text, profile_json, key, dedup)

    @property
    def size(self) -> int:
        """The event's share of a request body, in bytes (the text is ASCII)."""
        return len(self.text) + len(SEPARATOR)

    @property
    def profile_bytes(self) -> int:
        """The share of its profile's entry, when it is the first event of that profile."""
        return len(self.profile_json) + ENTRY_WRAPPER_SIZE


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that cannot be sent, and why; it goes to the quarantine file."""

    origin: int
    reason: str
    record: Mapping[str, Any]
    position: Position


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record left out on purpose: outside the selection, or already sent."""

    why: Literal["filtered", "already_sent"]
    position: Position


Item = Outgoing | Rejected | Skipped


@dataclass
class Chunk:
    """Consecutive input items: the events of one request, and what was set aside among them."""

    events: list[Outgoing] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    filtered: int = 0
    already_sent: int = 0
    position: Position | None = None
    size: int = _BODY_ALLOWANCE
    _profiles: set[tuple[tuple[str, str], ...]] = field(default_factory=set, repr=False)
    _keys: set[tuple[str, str, str]] = field(default_factory=set, repr=False)

    def admits(self, item: Outgoing, *, max_events: int, max_bytes: int) -> bool:
        if len(self.events) >= max_events:
            return False
        if self.size + self._growth(item) > max_bytes:
            return False
        return not any(key in self._keys for key in item.dedup_keys)

    def add(self, item: Item) -> None:
        if isinstance(item, Outgoing):
            self.size += self._growth(item)
            self._profiles.add(item.profile_key)
            self._keys.update(item.dedup_keys)
            self.events.append(item)
        elif isinstance(item, Rejected):
            self.rejected.append(item)
        elif item.why == "filtered":
            self.filtered += 1
        else:
            self.already_sent += 1
        self.position = item.position

    @property
    def empty(self) -> bool:
        return self.position is None

    def _growth(self, item: Outgoing) -> int:
        new_profile = item.profile_key not in self._profiles
        return item.size + (item.profile_bytes if new_profile else 0)


def fits_alone(item: Outgoing, max_bytes: int = MAX_REQUEST_BYTES) -> bool:
    """Whether the event could travel at all: alone in a request, under the size cap."""
    return _BODY_ALLOWANCE + item.profile_bytes + item.size <= max_bytes


def cut_chunks(
    items: Iterable[Item],
    *,
    max_events: int = MAX_EVENTS_PER_JOB,
    max_bytes: int = MAX_REQUEST_BYTES,
    max_rejected: int = MAX_REJECTED_PER_CHUNK,
) -> Iterator[Chunk]:
    """Chunks in input order: a chunk closes when the next event would not fit in its request."""
    chunk = Chunk()
    for item in items:
        full = isinstance(item, Outgoing) and not chunk.admits(
            item, max_events=max_events, max_bytes=max_bytes
        )
        if full or len(chunk.rejected) >= max_rejected:
            yield chunk
            chunk = Chunk()
        chunk.add(item)
    if not chunk.empty:
        yield chunk
