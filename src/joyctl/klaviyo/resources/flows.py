"""Flows: the flows a metric starts, their actions, messages and templates; draft flows.

A flow created here is always a draft: going live is the merchant's decision in Klaviyo (or
`PATCH /api/flows/{id}` with status `live`, which `set_flow_status` makes).
"""

from __future__ import annotations

from typing import Any

from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Flow, FlowAction, FlowMessage, Template
from joyctl.klaviyo.resources._shared import parse_many, parse_one, path_id


def flows_triggered_by_metric(client: KlaviyoClient, metric_id: str) -> list[Flow]:
    document = client.get(f"/api/metrics/{path_id(metric_id)}/flow-triggers")
    return list(parse_many(Flow, iter(document.get("data") or [])))


def get_flows(client: KlaviyoClient) -> list[Flow]:
    return list(parse_many(Flow, client.paginate("/api/flows")))


def get_flow(client: KlaviyoClient, flow_id: str) -> Flow:
    return parse_one(Flow, client.get(f"/api/flows/{path_id(flow_id)}"))


def set_flow_status(client: KlaviyoClient, flow_id: str, status: str) -> Flow:
    body = {"data": {"type": "flow", "id": flow_id, "attributes": {"status": status}}}
    return parse_one(Flow, client.patch(f"/api/flows/{path_id(flow_id)}", body))


def flow_actions(client: KlaviyoClient, flow_id: str) -> list[FlowAction]:
    return list(
        parse_many(FlowAction, client.paginate(f"/api/flows/{path_id(flow_id)}/flow-actions"))
    )


def action_messages(client: KlaviyoClient, action_id: str) -> list[FlowMessage]:
    path = f"/api/flow-actions/{path_id(action_id)}/flow-messages"
    return list(parse_many(FlowMessage, client.paginate(path)))


def message_template(client: KlaviyoClient, message_id: str) -> Template | None:
    document = client.get(f"/api/flow-messages/{path_id(message_id)}/template")
    return None if not document.get("data") else parse_one(Template, document)


def create_template(client: KlaviyoClient, *, name: str, html: str, text: str) -> Template:
    attributes = {"name": name, "editor_type": "CODE", "html": html, "text": text}
    body = {"data": {"type": "template", "attributes": attributes}}
    return parse_one(Template, client.post("/api/templates", body), operation="create_template")


def create_metric_flow(
    client: KlaviyoClient, *, name: str, metric_id: str, template_id: str, subject: str
) -> Flow:
    """A draft flow started by `metric_id` with one email using `template_id`."""
    action: dict[str, Any] = {
        "temporary_id": "email-1",
        "type": "send-email",
        "data": {
            "message": {"subject_line": subject, "template_id": template_id, "name": subject},
            "status": "draft",
        },
    }
    definition = {
        "triggers": [{"type": "metric", "id": metric_id}],
        "profile_filter": None,
        "actions": [action],
        "entry_action_id": "email-1",
    }
    body = {"data": {"type": "flow", "attributes": {"name": name, "definition": definition}}}
    return parse_one(Flow, client.post("/api/flows", body), operation="create_flow")
