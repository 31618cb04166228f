"""Running diagnose for the active profile: build the probe, run the checks, pick the exit code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from joyctl.errors import ExitCode
from joyctl.services.diagnose import DiagnoseReport, Probe, Status, run_checks
from joyctl.services.diagnose.bundle import BundleWritten, write_bundle
from joyctl.services.rewards.sources import parse_time

if TYPE_CHECKING:
    from joyctl.context import AppContext


@dataclass
class DiagnoseOutcome:
    report: DiagnoseReport
    exit_code: int
    bundle: BundleWritten | None


def build_probe(app: AppContext, since: str | None) -> Probe:
    def open_client() -> object:
        return app.klaviyo().client

    connection = app.ledger()  # first: the sandbox profile is seeded on first use
    return Probe(
        profile=app.settings.profile,
        connection=connection,
        store=app.credentials(),
        environ=app.environ,
        open_client=open_client,
        now=datetime.now(UTC),
        since=parse_time(since) if since else None,
    )


def exit_code_for(report: DiagnoseReport) -> int:
    statuses = {check.id: check.status for check in report.checks}
    if statuses.get("credentials") is Status.FAIL or statuses.get("authentication") is Status.FAIL:
        return ExitCode.AUTH
    return ExitCode.CHECK_FAILED if report.failed else ExitCode.OK


def run_diagnose(
    app: AppContext,
    *,
    email: str | None,
    review_id: str | None,
    since: str | None,
    bundle: Path | None,
) -> DiagnoseOutcome:
    probe = build_probe(app, since)
    report = run_checks(probe, email=email, review_id=review_id)
    written = None
    if bundle is not None:
        written = write_bundle(bundle, report, probe.profile, probe.connection, _secrets(probe))
    return DiagnoseOutcome(report, exit_code_for(report), written)


def _secrets(probe: Probe) -> list[str]:
    """Every secret this profile holds, so the bundle can be scrubbed of them."""
    found = probe.credential().value
    secrets: list[str] = []
    if found is not None:
        secrets.append(found.secret.get_secret_value())
        if found.tokens is not None:
            secrets.append(found.tokens.refresh_token.get_secret_value())
            secrets.append(found.tokens.access_token.get_secret_value())
    return secrets
