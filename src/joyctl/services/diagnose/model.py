"""The diagnose report: checks with a status, the evidence seen, and the command that fixes it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from joyctl import __version__

REPORT_SCHEMA = "joyctl.diagnose/1"


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class CheckResult(BaseModel):
    id: str
    title: str
    status: Status
    evidence: list[str] = []
    fix: str | None = None
    """The command that fixes what is not passing, runnable as printed (`&&` joins steps)."""
    advice: str | None = None
    """Prose: a step no command can take (in Klaviyo), or what to know when running `fix`."""


class Focus(BaseModel):
    """Why one customer or one review got no points (`--email`, `--review`)."""

    subject: str
    findings: list[str]


StepStatus = Literal["planned", "done", "failed", "skipped"]


class FixStep(BaseModel):
    """One step of the repair `diagnose --fix` makes, as the command that takes it."""

    id: str
    command: str
    status: StepStatus
    detail: str = ""
    """What the step did; for a planned step, what to know before running it (or nothing)."""


class Summary(BaseModel):
    passed: int
    warnings: int
    failed: int
    skipped: int


class DiagnoseReport(BaseModel):
    schema_version: str = REPORT_SCHEMA
    joyctl_version: str = __version__
    profile: str
    account_id: str | None
    generated_at: str
    authenticated: bool
    checks: list[CheckResult]
    focus: list[Focus] = []
    summary: Summary
    repair: list[FixStep] = []
    """Every step `--fix` would take, in order, when a check fails or warns."""

    @property
    def failed(self) -> bool:
        return self.summary.failed > 0


def summarize(checks: list[CheckResult]) -> Summary:
    def count(status: Status) -> int:
        return sum(1 for check in checks if check.status is status)

    return Summary(
        passed=count(Status.PASS),
        warnings=count(Status.WARN),
        failed=count(Status.FAIL),
        skipped=count(Status.SKIP),
    )


def passed(check_id: str, title: str, *evidence: str) -> CheckResult:
    return CheckResult(id=check_id, title=title, status=Status.PASS, evidence=list(evidence))


def failed(
    check_id: str, title: str, evidence: list[str], fix: str | None, advice: str | None = None
) -> CheckResult:
    return CheckResult(
        id=check_id, title=title, status=Status.FAIL, evidence=evidence, fix=fix, advice=advice
    )


def warned(
    check_id: str, title: str, evidence: list[str], fix: str | None, advice: str | None = None
) -> CheckResult:
    return CheckResult(
        id=check_id, title=title, status=Status.WARN, evidence=evidence, fix=fix, advice=advice
    )


def skipped(check_id: str, title: str, reason: str) -> CheckResult:
    return CheckResult(id=check_id, title=title, status=Status.SKIP, evidence=[reason])
