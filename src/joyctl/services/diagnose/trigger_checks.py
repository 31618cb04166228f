"""`diagnose --email ADDR --trigger NAME`: why a loyalty email did not go out.

The checks follow Joy's own troubleshooting order: the trigger is enabled here; Klaviyo has
the metric and an event of it reached this profile recently; a live flow starts on it; the
profile's email is valid, subscribed to email marketing and not suppressed; the flow's email
uses only variables the events carry; and Klaviyo recorded a `Received Email` after the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joyctl.klaviyo import joy_events
from joyctl.klaviyo.models import Event, Flow, Metric, Profile
from joyctl.klaviyo.resources.consent import email_consent
from joyctl.klaviyo.resources.flows import (
    action_messages,
    flow_actions,
    flows_triggered_by_metric,
    message_template,
)
from joyctl.klaviyo.resources.metrics import get_events, get_metrics
from joyctl.klaviyo.resources.profiles import get_profile_by_email
from joyctl.services.diagnose.connection_checks import account
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped
from joyctl.services.diagnose.probe import Fetched, Probe
from joyctl.services.triggers.catalogue import enabled_metrics

RECENT = timedelta(days=30)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# {{ event|lookup:'Customer points' }}, {{ event.Points }} and the like in a template.
_EVENT_VARIABLE = re.compile(
    r"event\s*\|\s*lookup\s*:\s*(['\"])(?P<quoted>.+?)\1|event\.(?P<dotted>[A-Za-z_$][\w$]*)"
)


@dataclass
class TriggerProbe:
    """What the trigger checks share: the probe, the customer and the metric asked about."""

    probe: Probe
    email: str
    metric: str

    def _remote(self, key: str, fetch: Any) -> Fetched:
        return self.probe.remote(f"trigger:{key}", fetch)

    def metric_record(self) -> Metric | None:
        fetched = self._remote("metrics", get_metrics)
        named = [m for m in fetched.value or [] if m.name == self.metric]
        return named[0] if named else None

    def received_metric(self) -> Metric | None:
        fetched = self._remote("metrics", get_metrics)
        named = [m for m in fetched.value or [] if m.name == joy_events.RECEIVED_EMAIL_METRIC]
        return named[0] if named else None

    def profile(self) -> Profile | None:
        fetched = self._remote(
            f"profile:{self.email}", lambda c: get_profile_by_email(c, self.email)
        )
        return fetched.value if fetched.ok else None

    def events(self, metric: Metric | None) -> list[Event]:
        profile = self.profile()
        if metric is None or profile is None:
            return []
        since = self.probe.since or (self.probe.now - RECENT)
        fetched = self._remote(
            f"events:{metric.id}",
            lambda c: list(get_events(c, metric_id=metric.id, profile_id=profile.id, since=since)),
        )
        return list(fetched.value or [])

    def flows(self) -> list[Flow]:
        metric = self.metric_record()
        if metric is None:
            return []
        fetched = self._remote("flows", lambda c: flows_triggered_by_metric(c, metric.id))
        return list(fetched.value or [])

    def consent(self) -> Fetched:
        profile = self.profile()
        if profile is None:
            return Fetched()
        return self._remote("consent", lambda c: email_consent(c, profile.id))


def check_trigger_enabled(focus: TriggerProbe) -> CheckResult:
    title = f"{focus.metric!r} is enabled here"
    if focus.metric in enabled_metrics(focus.probe.connection):
        return passed("trigger_enabled", title, "joyctl sends it when the ledger produces it")
    evidence = ["disabled: ledger changes do not send it (and Joy would not either)"]
    return failed("trigger_enabled", title, evidence, f"joyctl triggers enable {focus.metric!r}")


def check_trigger_event(focus: TriggerProbe) -> CheckResult:
    title = f"Klaviyo has the metric, and an event of it reached {focus.email} recently"
    test = f"joyctl triggers test {focus.metric!r} --email {focus.email}"
    metric = focus.metric_record()
    if metric is None:
        evidence = [f"Klaviyo has no {focus.metric!r} metric: no event of it was ever received"]
        return failed("trigger_event", title, evidence, test)
    if focus.profile() is None:
        return failed("trigger_event", title, [f"Klaviyo has no profile for {focus.email}"], test)
    events = focus.events(metric)
    if not events:
        window = "since " + focus.probe.since.isoformat() if focus.probe.since else "in 30 days"
        evidence = [f"metric {metric.id} exists, but no event of it reached the profile {window}"]
        return failed("trigger_event", title, evidence, test)
    return passed("trigger_event", title, f"latest {_when(events[-1])} (metric {metric.id})")


def check_trigger_flows(focus: TriggerProbe) -> CheckResult:
    title = f"A live flow starts on {focus.metric!r}"
    if focus.metric_record() is None:
        return skipped("trigger_flows", title, "no metric, so no flow can start on it")
    flows = focus.flows()
    if not flows:
        evidence = ["no flow starts on this metric"]
        return failed("trigger_flows", title, evidence, "joyctl triggers flows --create-drafts")
    described = [f"flow {flow.id} {flow.name!r}: {flow.status}" for flow in flows]
    if any(flow.status == "live" for flow in flows):
        return passed("trigger_flows", title, *described)
    fix = f"set flow {flows[0].id} live in Klaviyo (a draft or manual flow sends nothing)"
    return failed("trigger_flows", title, described, fix)


def check_email_valid(focus: TriggerProbe) -> CheckResult:
    title = f"{focus.email} is a valid email address"
    consent = focus.consent().value
    if not EMAIL_PATTERN.match(focus.email.strip()):
        return failed(
            "email_valid", title, ["not an email address"], "correct the customer's email"
        )
    if consent is not None and "INVALID_EMAIL" in consent.suppressions:
        evidence = ["Klaviyo suppressed it as INVALID_EMAIL (mail to it cannot be delivered)"]
        return failed("email_valid", title, evidence, "correct the customer's email in Klaviyo")
    return passed("email_valid", title, "well formed, and Klaviyo does not call it invalid")


def check_email_consent(focus: TriggerProbe) -> CheckResult:
    title = f"{focus.email} is subscribed to email marketing"
    fetched = focus.consent()
    if focus.profile() is None:
        return skipped("email_consent", title, "Klaviyo has no profile for this email")
    if not fetched.ok:
        return skipped("email_consent", title, f"cannot read consent: {fetched.problem}")
    consent = fetched.value.consent
    if consent == "SUBSCRIBED":
        return passed("email_consent", title, "consent SUBSCRIBED")
    evidence = [f"consent {consent}: flow emails go only to subscribed profiles"]
    return failed("email_consent", title, evidence, "ask the customer to subscribe again")


def check_email_suppression(focus: TriggerProbe) -> CheckResult:
    title = f"{focus.email} is not suppressed (bounce, spam report, unsubscribe)"
    fetched = focus.consent()
    if focus.profile() is None or not fetched.ok:
        return skipped("email_suppression", title, "consent could not be read")
    reasons = fetched.value.suppressions
    if not reasons:
        return passed("email_suppression", title, "no suppression")
    evidence = [f"suppressed: {', '.join(reasons)}"]
    return failed("email_suppression", title, evidence, _unsuppress_fix(reasons))


def _unsuppress_fix(reasons: list[str]) -> str:
    if "HARD_BOUNCE" in reasons:
        return "the address bounced: ask the customer for a working email"
    return "only the customer can lift it: ask them to subscribe again (Klaviyo signup form)"


def template_variables(html: str) -> list[str]:
    found = []
    for match in _EVENT_VARIABLE.finditer(html):
        found.append(match.group("quoted") or match.group("dotted"))
    return list(dict.fromkeys(found))


def check_template_variables(focus: TriggerProbe) -> CheckResult:
    title = "The flow's emails use only variables the events carry"
    flows = [flow for flow in focus.flows() if flow.status == "live"] or focus.flows()
    if not flows:
        return skipped("template_variables", title, "no flow to read")
    events = focus.events(focus.metric_record())
    # What the events really carry; before any arrived, what joyctl would send.
    if events:
        carried = set(events[-1].event_properties)
    else:
        carried = set(joy_events.metric_properties(focus.metric))
    fetched = focus._remote("templates", lambda c: _templates(c, flows))
    if not fetched.ok:
        return skipped("template_variables", title, f"cannot read the templates: {fetched.problem}")
    missing = [
        f"template {template_id} uses {{{{ event|lookup:'{name}' }}}}: the events carry no"
        f" {name!r}, so it shows nothing"
        for template_id, html in fetched.value
        for name in template_variables(html)
        if name not in carried and not name.startswith("$")
    ]
    if missing:
        fix = (
            "use the properties `joyctl triggers list` shows; the balance is"
            " {{ person|lookup:'Joy Loyalty Points' }}"
        )
        return failed("template_variables", title, missing, fix)
    return passed("template_variables", title, f"{len(fetched.value)} templates checked")


def _templates(client: Any, flows: list[Flow]) -> list[tuple[str, str]]:
    found = []
    for flow in flows:
        for action in flow_actions(client, flow.id):
            for message in action_messages(client, action.id):
                template = message_template(client, message.id)
                if template is not None:
                    found.append((template.id, template.html))
    return found


def check_received_email(focus: TriggerProbe) -> CheckResult:
    title = f"Klaviyo recorded a Received Email for {focus.email} after the trigger"
    events = focus.events(focus.metric_record())
    if not events:
        return skipped("received_email", title, "no trigger event to follow")
    after = events[-1].datetime
    received = [
        e
        for e in focus.events(focus.received_metric())
        if after and e.datetime and e.datetime >= after
    ]
    if received:
        subject = received[-1].event_properties.get("Subject")
        return passed("received_email", title, f"{_when(received[-1])}: {subject!r}")
    evidence = [f"no Received Email since the latest trigger event ({_when(events[-1])})"]
    return failed(
        "received_email", title, evidence, "fix the failures above, then send a new event"
    )


def _when(event: Event) -> str:
    return event.datetime.isoformat() if event.datetime else "unknown time"


TRIGGER_CHECKS = (
    check_trigger_enabled,
    check_trigger_event,
    check_trigger_flows,
    check_email_valid,
    check_email_consent,
    check_email_suppression,
    check_template_variables,
    check_received_email,
)


def run_trigger_checks(probe: Probe, email: str, metric: str) -> list[CheckResult]:
    focus = TriggerProbe(probe, email, metric)
    if account(probe) is None:
        return [check_trigger_enabled(focus)]
    return [check(focus) for check in TRIGGER_CHECKS]
