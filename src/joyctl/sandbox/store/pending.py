"""202 writes that Klaviyo accepts at once and processes later.

Events, bulk event jobs and client reviews answer 202 when they pass validation; what they
write becomes readable (and reviews reach webhooks) only once the latency profile's `writes`
delay has passed in sandbox time. With no delay they apply at once, inside the request.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from joyctl.sandbox.context import World
from joyctl.sandbox.store.events import EventInput, record_event
from joyctl.sandbox.store.flows import start_flows
from joyctl.sandbox.store.records import JsonObject
from joyctl.sandbox.store.reviews import submit_review


def accept_events(world: World, events: list[EventInput]) -> None:
    _accept(world, "events", {"events": [asdict(event) for event in events]})


def accept_review(world: World, values: JsonObject, base_url: str) -> None:
    _accept(world, "review", {"values": values, "base_url": base_url})


def _accept(world: World, kind: str, payload: JsonObject) -> None:
    now = world.now()
    payload = {**payload, "accepted_at": now}
    delay = world.latency.draw(world.latency.writes, world.rng)
    if delay <= 0:
        _apply(world, kind, payload)
        return
    world.state.pending_writes.append({"kind": kind, "visible_at": now + delay, "payload": payload})


def apply_due_writes(world: World) -> bool:
    """Process every accepted write whose time has come; True when one was."""
    state, now = world.state, world.now()
    due = [write for write in state.pending_writes if write["visible_at"] <= now]
    if not due:
        return False
    state.pending_writes = [write for write in state.pending_writes if write["visible_at"] > now]
    for write in sorted(due, key=lambda item: float(item["visible_at"])):
        _apply(world, str(write["kind"]), write["payload"])
    return True


def _apply(world: World, kind: str, payload: dict[str, Any]) -> None:
    if kind == "events":
        for fields in payload["events"]:
            recorded = record_event(world.state, EventInput(**fields), world.now())
            if recorded is not None:
                start_flows(world.state, recorded, world.now())
    elif kind == "review":
        submit_review(world, payload["values"], payload["base_url"], payload["accepted_at"])
        world.after_change()
