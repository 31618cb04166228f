"""The diagnose report: checks with a status, the evidence seen, and the command that fixes it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

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
    """The exact command (or step) that fixes what is not passing."""


class Focus(BaseModel):
    """Why one customer or one review got no points (`--email`, `--review`)."""

    subject: str
    findings: list[str]


class Summary(BaseModel):
    passed: int
    warnings: int
    failed: int
    skipped: int


class DiagnoseReport(BaseModel):
    schema_version: str = REPORT_SCHEMA
    profile: str
    account_id: str | None
    generated_at: str
    authenticated: bool
    checks: list[CheckResult]
    focus: list[Focus] = []
    summary: Summary

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


def failed(check_id: str, title: str, evidence: list[str], fix: str) -> CheckResult:
    return CheckResult(id=check_id, title=title, status=Status.FAIL, evidence=evidence, fix=fix)


def warned(check_id: str, title: str, evidence: list[str], fix: str | None) -> CheckResult:
    return CheckResult(id=check_id, title=title, status=Status.WARN, evidence=evidence, fix=fix)


def skipped(check_id: str, title: str, reason: str) -> CheckResult:
    return CheckResult(id=check_id, title=title, status=Status.SKIP, evidence=[reason])
