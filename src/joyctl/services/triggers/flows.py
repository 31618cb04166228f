"""`joyctl triggers flows`: the Klaviyo flows each enabled trigger starts; draft flows for those
that start none.

A draft's email template uses only properties joyctl sends with that metric (`event|lookup`),
so "the variables show nothing" cannot start here. Drafts only: going live stays the
merchant's decision.
"""

from __future__ import annotations

import sqlite3
from html import escape

from pydantic import BaseModel

from joyctl.klaviyo import joy_events
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Metric
from joyctl.klaviyo.resources.flows import (
    create_metric_flow,
    create_template,
    flows_triggered_by_metric,
)
from joyctl.klaviyo.resources.metrics import get_metrics
from joyctl.services.triggers.catalogue import enabled_metrics

FLOWS_SCOPES = ("flows:read", "flows:write", "templates:write", "metrics:read")


class FlowView(BaseModel):
    id: str
    name: str | None
    status: str | None
    created_now: bool = False


class TriggerFlows(BaseModel):
    trigger: str
    metric_id: str | None
    flows: list[FlowView]
    note: str = ""


class FlowsReport(BaseModel):
    triggers: list[TriggerFlows]
    drafts_created: int


def template_html(metric: str) -> str:
    """An email that shows every property joyctl sends with `metric`, and nothing else."""
    rows = "".join(
        f"<li>{escape(name)}: {{{{ event|lookup:'{name}' }}}}</li>"
        for name in joy_events.metric_properties(metric)
        if name != "Customer name"
    )
    return (
        f"<p>Hi {{{{ event|lookup:'Customer name' }}}},</p><p>{escape(metric)}</p><ul>{rows}</ul>"
    )


def trigger_flows(
    client: KlaviyoClient, connection: sqlite3.Connection, *, create_drafts: bool = False
) -> FlowsReport:
    metrics = {metric.name: metric for metric in get_metrics(client)}
    report = FlowsReport(triggers=[], drafts_created=0)
    for name in sorted(enabled_metrics(connection)):
        found = _flows_of(client, name, metrics.get(name))
        if create_drafts and found.metric_id and not found.flows:
            found.flows.append(_create_draft(client, name, found.metric_id))
            report.drafts_created += 1
        report.triggers.append(found)
    return report


def _flows_of(client: KlaviyoClient, name: str, metric: Metric | None) -> TriggerFlows:
    if metric is None:
        note = (
            "no such metric in Klaviyo yet, so no flow can use it:"
            f" send one with `joyctl triggers test {name!r} --email ADDR`"
        )
        return TriggerFlows(trigger=name, metric_id=None, flows=[], note=note)
    flows = [
        FlowView(id=flow.id, name=flow.name, status=flow.status)
        for flow in flows_triggered_by_metric(client, metric.id)
    ]
    note = "" if flows else "no flow starts on it: `joyctl triggers flows --create-drafts`"
    return TriggerFlows(trigger=name, metric_id=metric.id, flows=flows, note=note)


def _create_draft(client: KlaviyoClient, name: str, metric_id: str) -> FlowView:
    subject = name.removeprefix("Joy: ")
    text = "\n".join(
        f"{prop}: {{{{ event|lookup:'{prop}' }}}}" for prop in joy_events.metric_properties(name)
    )
    template = create_template(
        client, name=f"joyctl: {subject}", html=template_html(name), text=text
    )
    flow = create_metric_flow(
        client,
        name=f"{name} (joyctl draft)",
        metric_id=metric_id,
        template_id=template.id,
        subject=subject,
    )
    return FlowView(id=flow.id, name=flow.name, status=flow.status, created_now=True)
