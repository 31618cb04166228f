"""`joyctl smoke`: an end-to-end check of a Klaviyo test account, step by step, for CI.

Each step either passes with evidence, fails with the message and hint of the error that
stopped it, or is skipped because a step it needs did not pass. The steps themselves live in
`steps`, what both share in `model`; this module holds the report, the runner and the exit-code
rule. Everything written to Klaviyo carries one unique marker, so a run never mistakes an
earlier run's review, event or property for its own.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from joyctl.errors import AuthError, ExitCode, JoyctlError, RemoteError
from joyctl.services.smoke.model import (
    LIVE_ACCOUNT_CODE,
    SmokeOptions,
    SmokeRun,
    StepSkipped,
    StepSpec,
)
from joyctl.services.smoke.steps import STEPS

if TYPE_CHECKING:
    from pathlib import Path

    from joyctl.services.connection.session import KlaviyoSession
    from joyctl.services.smoke.junit import JUnitSuite
    from joyctl.settings import Profile

SCHEMA_VERSION = "joyctl.smoke/1"


class StepStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a step status, not a password
    FAIL = "fail"
    SKIP = "skip"


class SmokeStep(BaseModel):
    id: str
    title: str
    status: StepStatus
    seconds: float
    detail: str
    hint: str | None = None


class SmokeSummary(BaseModel):
    passed: int
    failed: int
    skipped: int


class SmokeReport(BaseModel):
    schema_version: str = SCHEMA_VERSION
    profile: str
    base_url: str
    account_id: str | None
    test_account: bool | None
    marker: str
    started_at: datetime
    seconds: float
    exit_code: int
    summary: SmokeSummary
    steps: list[SmokeStep]


@dataclass
class _Outcome:
    steps: list[SmokeStep] = field(default_factory=list)
    errors: dict[str, JoyctlError] = field(default_factory=dict)

    def passed(self, step_id: str) -> bool:
        return any(step.id == step_id and step.status is StepStatus.PASS for step in self.steps)


def new_marker(now: datetime) -> str:
    return f"joyctl-smoke-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def run_steps(
    run: SmokeRun, specs: tuple[StepSpec, ...], on_step: Callable[[SmokeStep], None]
) -> _Outcome:
    outcome = _Outcome()
    for spec in specs:
        missing = [need for need in spec.needs if not outcome.passed(need)]
        if missing:
            step = _skipped(spec, f"needs {', '.join(missing)}", 0.0)
        else:
            step = _run_one(spec, run, outcome)
        outcome.steps.append(step)
        on_step(step)
    return outcome


def _run_one(spec: StepSpec, run: SmokeRun, outcome: _Outcome) -> SmokeStep:
    start = time.monotonic()
    try:
        detail = spec.action(run)
    except StepSkipped as skip:
        return _skipped(spec, skip.reason, time.monotonic() - start)
    except JoyctlError as error:
        outcome.errors[spec.id] = error
        return SmokeStep(
            id=spec.id,
            title=spec.title,
            status=StepStatus.FAIL,
            seconds=round(time.monotonic() - start, 3),
            detail=error.message,
            hint=error.hint,
        )
    elapsed = round(time.monotonic() - start, 3)
    return SmokeStep(
        id=spec.id, title=spec.title, status=StepStatus.PASS, seconds=elapsed, detail=detail
    )


def _skipped(spec: StepSpec, reason: str, seconds: float) -> SmokeStep:
    return SmokeStep(
        id=spec.id,
        title=spec.title,
        status=StepStatus.SKIP,
        seconds=round(seconds, 3),
        detail=reason,
    )


def exit_code_for(outcome: _Outcome, first_step: str) -> int:
    """4 when joyctl cannot authenticate, 2 when it refused a live account, 5 when every
    failure was Klaviyo or the network failing (nothing was judged: retry later), 6 when a
    check failed."""
    first_error = outcome.errors.get(first_step)
    if isinstance(first_error, AuthError):
        return ExitCode.AUTH
    if first_error is not None and first_error.code == LIVE_ACCOUNT_CODE:
        return ExitCode.USAGE
    if not any(step.status is StepStatus.FAIL for step in outcome.steps):
        return ExitCode.OK
    if outcome.errors and all(isinstance(e, RemoteError) for e in outcome.errors.values()):
        return ExitCode.REMOTE
    return ExitCode.CHECK_FAILED


@dataclass(frozen=True)
class SmokeTarget:
    """The profile under test (read for the report) and its Klaviyo session (opened by a step)."""

    profile: Callable[[], Profile]
    open_session: Callable[[], KlaviyoSession]


def run_smoke(
    target: SmokeTarget,
    options: SmokeOptions,
    on_step: Callable[[SmokeStep], None],
    *,
    junit: Path | None = None,
) -> SmokeReport:
    """Run every step against the active profile's Klaviyo account and report each one.

    With `junit`, the report is also written there as JUnit XML, one test case per step.
    """
    from joyctl.services.smoke.junit import check_writable, write_junit

    if junit is not None:
        check_writable(junit)
    report = _run_all(target, options, on_step)
    if junit is not None:
        write_junit(junit_suite(report), junit)
    return report


def _run_all(
    target: SmokeTarget, options: SmokeOptions, on_step: Callable[[SmokeStep], None]
) -> SmokeReport:
    started_at = datetime.now(UTC)
    run = SmokeRun(options, target.open_session, new_marker(started_at), started_at)
    start = time.monotonic()
    outcome = run_steps(run, STEPS, on_step)
    base_url = run.session.base_url if run.session else target.profile().base_url
    return SmokeReport(
        profile=target.profile().name,
        base_url=_without_userinfo(base_url),
        account_id=run.account.id if run.account else None,
        test_account=run.account.test_account if run.account else None,
        marker=run.marker,
        started_at=started_at,
        seconds=round(time.monotonic() - start, 3),
        exit_code=exit_code_for(outcome, STEPS[0].id),
        summary=SmokeSummary(
            passed=_count(outcome.steps, StepStatus.PASS),
            failed=_count(outcome.steps, StepStatus.FAIL),
            skipped=_count(outcome.steps, StepStatus.SKIP),
        ),
        steps=outcome.steps,
    )


def junit_suite(report: SmokeReport) -> JUnitSuite:
    from joyctl.services.smoke.junit import JUnitCase, JUnitSuite

    cases = [
        JUnitCase(
            name=step.id,
            classname="joyctl.smoke",
            seconds=step.seconds,
            outcome=step.status.value,
            message=step.detail if step.status is not StepStatus.PASS else "",
            text="\n".join(
                line
                for line in (step.title, step.detail, f"hint: {step.hint}" if step.hint else "")
                if line
            ),
        )
        for step in report.steps
    ]
    properties = {
        "profile": report.profile,
        "base_url": report.base_url,
        "account_id": report.account_id or "",
        "test_account": "" if report.test_account is None else str(report.test_account).lower(),
        "marker": report.marker,
    }
    return JUnitSuite(
        name="joyctl smoke",
        timestamp=report.started_at,
        seconds=report.seconds,
        cases=cases,
        properties=properties,
    )


def _count(steps: list[SmokeStep], status: StepStatus) -> int:
    return sum(1 for step in steps if step.status is status)


def _without_userinfo(url: str) -> str:
    # A base URL may carry basic-auth credentials for a proxy; reports must not.
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
