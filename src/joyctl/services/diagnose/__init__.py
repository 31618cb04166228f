"""`joyctl diagnose`: find why points or Klaviyo data go missing, with evidence and the fix.

Checks run in the order a support engineer reads them: the first failures usually explain
the later ones (no scope, so no webhook, so no deliveries, so no points).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from joyctl.services.diagnose.audience_checks import check_audience_lists
from joyctl.services.diagnose.connection_checks import (
    account,
    check_account_match,
    check_authentication,
    check_credentials,
    check_review_scopes,
)
from joyctl.services.diagnose.data_checks import (
    check_ledger_integrity,
    check_metrics,
    check_outbox,
    check_profile_drift,
)
from joyctl.services.diagnose.delivery_checks import (
    check_deliveries,
    check_signature_failures,
    check_unmatched_events,
)
from joyctl.services.diagnose.focus import focus_on_email, focus_on_review
from joyctl.services.diagnose.model import (
    CheckResult,
    DiagnoseReport,
    Focus,
    Status,
    summarize,
)
from joyctl.services.diagnose.probe import Probe
from joyctl.services.diagnose.review_checks import (
    check_approval_queue,
    check_missed_reviews,
    check_pending_reviews,
    check_program,
    check_rejections,
    check_review_webhook,
    check_reviews_enabled,
)
from joyctl.services.diagnose.trigger_checks import run_trigger_checks

CHECKS: tuple[Callable[[Probe], CheckResult], ...] = (
    check_credentials,
    check_authentication,
    check_account_match,
    check_review_scopes,
    check_reviews_enabled,
    check_review_webhook,
    check_missed_reviews,
    check_deliveries,
    check_signature_failures,
    check_unmatched_events,
    check_pending_reviews,
    check_approval_queue,
    check_rejections,
    check_program,
    check_outbox,
    check_metrics,
    check_profile_drift,
    check_audience_lists,
    check_ledger_integrity,
)

__all__ = ["CHECKS", "DiagnoseReport", "Probe", "Status", "run_checks"]


def run_checks(
    probe: Probe,
    *,
    email: str | None = None,
    review_id: str | None = None,
    trigger: str | None = None,
) -> DiagnoseReport:
    if trigger and email:
        # Why one loyalty email did not go out: only the checks on its path.
        checks = [check_credentials(probe), check_authentication(probe)]
        if checks[-1].status is Status.PASS:
            checks += run_trigger_checks(probe, email, trigger)
        return _report(probe, checks, [])
    checks = [check(probe) for check in CHECKS]
    focus = []
    if email:
        focus.append(focus_on_email(probe, email))
    if review_id:
        focus.append(focus_on_review(probe, review_id))
    return _report(probe, checks, focus)


def _report(probe: Probe, checks: list[CheckResult], focus: list[Focus]) -> DiagnoseReport:
    found = account(probe)
    authenticated = next(c for c in checks if c.id == "authentication").status is Status.PASS
    return DiagnoseReport(
        profile=probe.profile.name,
        account_id=found.id if found else probe.profile.connection.get("account_id"),
        generated_at=datetime.now(UTC).isoformat(),
        authenticated=authenticated,
        checks=checks,
        focus=focus,
        summary=summarize(checks),
    )
