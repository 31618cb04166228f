"""The `email-not-sent` scenario's store: one customer for each reason a loyalty email does not
go out, and one whose email did (what `diagnose --email --trigger` tells apart)."""

from __future__ import annotations

from dataclasses import dataclass

from joyctl.sandbox.scenarios.seeds import LoyaltyCustomer
from joyctl.sandbox.store import flows
from joyctl.sandbox.store.events import EventInput, metric_for, record_event
from joyctl.sandbox.store.records import JsonObject
from joyctl.sandbox.store.state import SandboxState

DAY = 86400.0
TIER = "Joy: Tier Achieved"


@dataclass(frozen=True)
class EmailCase:
    """What a customer's trigger, consent and flow look like, and the check that finds it."""

    cause: str
    trigger: str
    consent: str = "SUBSCRIBED"
    suppression: str | None = None
    send_event: bool = True


# In customer order; the flows below exist for these triggers.
CASES: tuple[EmailCase, ...] = (
    EmailCase("none: the email went out", TIER),
    EmailCase("trigger_event: no event reached the profile", TIER, send_event=False),
    EmailCase("email_consent: unsubscribed", TIER, "UNSUBSCRIBED", "UNSUBSCRIBE"),
    EmailCase("email_suppression: hard bounce", TIER, suppression="HARD_BOUNCE"),
    EmailCase("email_suppression: spam complaint", TIER, suppression="SPAM_COMPLAINT"),
    EmailCase("email_valid: invalid email", TIER, suppression="INVALID_EMAIL"),
    EmailCase("trigger_flows: the flow is a draft", "Joy: Birthday"),
    EmailCase("template_variables: a variable the event lacks", "Joy: Redeem Points"),
    EmailCase("trigger_flows: no flow starts on it", "Joy: Milestone Achieved"),
    EmailCase("trigger_event: no such metric", "Joy: Member Anniversary", send_event=False),
    EmailCase("trigger_enabled: not enabled in joyctl", "Joy: Tier Downgrade"),
)
DESCRIPTION = (
    "A connected store whose loyalty emails go missing, each cause on a different customer "
    "(diagnose --email ADDR --trigger NAME finds it): the first customer's Joy: Tier Achieved "
    "email went out; then no recent event; unsubscribed; hard bounce; spam complaint; invalid "
    "email; a draft Joy: Birthday flow; a live Joy: Redeem Points flow whose template uses "
    "{{ event|lookup:'Customer points' }} though the events carry none; Joy: Milestone Achieved "
    "with no flow; Joy: Member Anniversary never sent; and Joy: Tier Downgrade working in "
    "Klaviyo but not enabled in joyctl."
)
# Flows by trigger: status, and a template variable the events do not carry (if any).
FLOWS: dict[str, tuple[str, str]] = {
    TIER: ("live", "New tier name"),
    "Joy: Birthday": ("draft", "Birthday"),
    "Joy: Redeem Points": ("live", "Customer points"),
    "Joy: Tier Downgrade": ("live", "New tier name"),
}


def seed_email_cases(
    state: SandboxState, customers: tuple[LoyaltyCustomer, ...], now: float
) -> None:
    for trigger, (status, variable) in FLOWS.items():
        _flow(state, trigger, status, variable, now - 20 * DAY)
    for customer, case in zip(customers, CASES, strict=False):
        _customer_case(state, customer, case, now - DAY)


def _flow(state: SandboxState, trigger: str, status: str, variable: str, at: float) -> None:
    metric = metric_for(state, trigger, at)
    html = f"<p>{trigger}: {{{{ event|lookup:'{variable}' }}}}</p>"
    template = flows.create_template(state, f"{trigger} email", html, None, at)
    subject = trigger.removeprefix("Joy: ")
    action = {
        "temporary_id": "email-1",
        "type": "send-email",
        "data": {"message": {"subject_line": subject, "template_id": template["id"]}},
    }
    definition = {
        "triggers": [{"type": "metric", "id": metric["id"]}],
        "actions": [action],
        "entry_action_id": "email-1",
    }
    flow = flows.create_flow(state, f"{trigger} flow", definition, at)
    flows.set_flow_status(flow, status, at)


def _customer_case(
    state: SandboxState, customer: LoyaltyCustomer, case: EmailCase, at: float
) -> None:
    profile = state.profile_by_identifier("email", customer.email)
    if profile is None:
        return
    if case.consent == "SUBSCRIBED":
        flows.subscribe(state, profile, at - DAY)
    if case.suppression is not None:
        flows.suppress(state, profile, case.suppression, at - DAY)
    if not case.send_event:
        return
    properties: JsonObject = {"Customer name": customer.first_name, "Customer ID": customer.email}
    if case.trigger == TIER or case.trigger == "Joy: Tier Downgrade":
        properties.update({"New tier name": customer.tier, "Customer points": customer.points})
    if case.trigger == "Joy: Birthday":
        properties.update({"Birthday": "06/15", "Customer points": customer.points})
    profile_ref: JsonObject = {"type": "profile", "attributes": {"email": customer.email}}
    event = EventInput(
        case.trigger, profile_ref, properties, at, f"seed-{profile['id']}", None, None, "/seed"
    )
    recorded = record_event(state, event, at)
    if recorded is not None:
        flows.start_flows(state, recorded, at)
