"""`joyctl triggers list|enable|disable`: Joy's metrics and which of them this profile sends."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from pydantic import BaseModel

from joyctl.errors import UsageError
from joyctl.klaviyo.joy_events import DEFAULT_ENABLED, JOY_CATALOGUE, joy_metric, metric_properties
from joyctl.ledger.db import transaction
from joyctl.ledger.triggers import enabled_triggers, record_choice

TEST_ONLY = "test only"


class TriggerView(BaseModel):
    name: str
    enabled: bool
    source: str
    """The ledger change or program that produces it, or "test only" (joyctl cannot see it)."""
    properties: list[str]


class TriggerList(BaseModel):
    triggers: list[TriggerView]


def enabled_metrics(connection: sqlite3.Connection) -> frozenset[str]:
    return enabled_triggers(connection, DEFAULT_ENABLED)


def list_triggers(connection: sqlite3.Connection) -> TriggerList:
    enabled = enabled_metrics(connection)
    return TriggerList(
        triggers=[
            TriggerView(
                name=metric["name"],
                enabled=metric["name"] in enabled,
                source=metric["produced_by"] or TEST_ONLY,
                properties=list(metric_properties(metric["name"])),
            )
            for metric in JOY_CATALOGUE
        ]
    )


def resolve_names(names: list[str]) -> list[str]:
    """Catalogue names for what was typed (`Tier Achieved` or `Joy: Tier Achieved`)."""
    resolved = []
    for name in names:
        metric = joy_metric(name)
        if metric is None:
            raise UsageError(
                f"{name!r} is not one of Joy's triggers",
                hint="see them with `joyctl triggers list`",
            )
        resolved.append(metric["name"])
    return resolved


def set_triggers(connection: sqlite3.Connection, names: list[str], *, enabled: bool) -> TriggerList:
    metrics = resolve_names(names)
    with transaction(connection):
        record_choice(connection, metrics, enabled=enabled, now=datetime.now(UTC).isoformat())
    return list_triggers(connection)
