"""Checks 12-16: the outbox, Joy's metrics in Klaviyo, profile drift, ledger integrity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from joyctl.command_line import command
from joyctl.klaviyo.joy_events import EARN_POINT_METRIC, PROFILE_POINTS
from joyctl.klaviyo.resources.metrics import get_metrics
from joyctl.klaviyo.resources.profiles import get_profiles_by_email
from joyctl.ledger.customers import latest_balances
from joyctl.ledger.outbox import first_event_sent_at, outbox_counts
from joyctl.services.diagnose.connection_checks import account
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped, warned
from joyctl.services.diagnose.probe import Probe


def push() -> str:
    return command("reviews", "replay", "--push")


DRIFT_SAMPLE = 10
# Klaviyo answers 202 to events and processes them later (seconds, sometimes minutes); a metric
# missing this soon after the first event was sent is not yet a failure.
PROCESSING_GRACE = timedelta(minutes=10)


def check_outbox(probe: Probe) -> CheckResult:
    title = "Nothing waits in the outbox, and no send failed"
    counts = outbox_counts(probe.connection)
    if counts.failed:
        evidence = [
            f"{counts.failed} sends failed, {counts.pending} waiting since {counts.oldest_pending}"
        ]
        return failed("outbox", title, evidence, push())
    if counts.pending:
        evidence = [f"{counts.pending} events and profile updates not sent to Klaviyo yet"]
        return warned("outbox", title, evidence, push())
    return passed("outbox", title, f"{counts.sent} sent, none waiting")


def check_metrics(probe: Probe) -> CheckResult:
    title = f"The metrics joyctl sends exist in Klaviyo ({EARN_POINT_METRIC})"
    sent = outbox_counts(probe.connection).sent
    if not sent:
        return skipped("metrics", title, "joyctl has sent no event yet")
    if account(probe) is None:
        return skipped("metrics", title, "Klaviyo could not be reached")
    fetched = probe.remote("metrics", get_metrics)
    if not fetched.ok:
        return skipped("metrics", title, f"cannot list metrics: {fetched.problem}")
    names = {metric.name for metric in fetched.value}
    if EARN_POINT_METRIC not in names:
        evidence = [f"{sent} events sent, but Klaviyo has no {EARN_POINT_METRIC!r} metric"]
        first = _first_event_sent(probe)
        if first is not None and datetime.now(UTC) - first < PROCESSING_GRACE:
            evidence.append(
                f"the first was sent at {first.isoformat(timespec='seconds')}: Klaviyo processes"
                " events asynchronously, so check again in a few minutes"
            )
            return warned("metrics", title, evidence, None)
        return failed("metrics", title, evidence, push())
    return passed("metrics", title, f"{EARN_POINT_METRIC!r} exists")


def _first_event_sent(probe: Probe) -> datetime | None:
    sent = first_event_sent_at(probe.connection)
    if sent is None:
        return None
    moment = datetime.fromisoformat(sent)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_profile_drift(probe: Probe) -> CheckResult:
    title = f"Klaviyo's {PROFILE_POINTS!r} matches the ledger (sample)"
    sample = latest_balances(probe.connection, DRIFT_SAMPLE)
    if not sample:
        return skipped("profile_drift", title, "no customer has points yet")
    if account(probe) is None:
        return skipped("profile_drift", title, "Klaviyo could not be reached")
    fetched = probe.remote("drift_profiles", lambda c: get_profiles_by_email(c, list(sample)))
    if not fetched.ok:
        return skipped("profile_drift", title, f"cannot read profiles: {fetched.problem}")
    remote = {(p.email or "").lower(): p.properties.get(PROFILE_POINTS) for p in fetched.value}
    drifted = [
        f"{email}: ledger {balance}, Klaviyo {remote.get(email, 'no profile')}"
        for email, balance in sample.items()
        if remote.get(email) != balance
    ]
    if drifted:
        return warned("profile_drift", title, drifted[:5], command("backfill", "profiles"))
    return passed("profile_drift", title, f"{len(sample)} sampled profiles match")


def check_ledger_integrity(probe: Probe) -> CheckResult:
    from joyctl.services.ledger_admin.operations import verify_invariants

    title = "Ledger integrity (the invariants `ledger verify` checks)"
    report = verify_invariants(probe.connection)
    broken = [check for check in report.checks if not check.ok]
    if broken:
        evidence = [f"{check.name}: {check.count} violations" for check in broken]
        advice = "investigate the entries it lists; restore a backup if they are not yours"
        return failed("ledger", title, evidence, command("ledger", "verify"), advice)
    return passed("ledger", title, f"{len(report.checks)} invariants hold")
