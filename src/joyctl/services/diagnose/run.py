"""Running diagnose for the active profile: build the probe, run the checks, pick the exit code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joyctl.errors import ExitCode, RemoteError
from joyctl.services.diagnose import DiagnoseReport, Probe, Status, run_checks
from joyctl.services.diagnose.bundle import BundleWritten, check_bundle_target, write_bundle
from joyctl.services.diagnose.fix import fix_plan_for, repair_for
from joyctl.services.rewards.sources import parse_time

if TYPE_CHECKING:
    import sqlite3

    from joyctl.credentials import CredentialStore
    from joyctl.settings import Profile


@dataclass(frozen=True)
class DiagnoseDeps:
    """What diagnose reads about the active profile; the Klaviyo client is opened on demand."""

    profile: Profile
    connection: sqlite3.Connection
    store: CredentialStore
    environ: Mapping[str, str]
    open_client: Callable[[], Any]


@dataclass
class DiagnoseOutcome:
    report: DiagnoseReport
    exit_code: int
    bundle: BundleWritten | None


def build_probe(deps: DiagnoseDeps, since: str | None) -> Probe:
    return Probe(
        profile=deps.profile,
        connection=deps.connection,
        store=deps.store,
        environ=deps.environ,
        open_client=deps.open_client,
        now=datetime.now(UTC),
        since=parse_time(since) if since else None,
    )


def exit_code_for(report: DiagnoseReport, *, unreachable: bool = False) -> int:
    """4 when joyctl cannot authenticate, 5 when that is because Klaviyo or the network
    failed (`unreachable`), 6 when a check fails, else 0."""
    statuses = {check.id: check.status for check in report.checks}
    if statuses.get("authentication") is Status.FAIL and unreachable:
        return ExitCode.REMOTE
    if statuses.get("credentials") is Status.FAIL or statuses.get("authentication") is Status.FAIL:
        return ExitCode.AUTH
    return ExitCode.CHECK_FAILED if report.failed else ExitCode.OK


def run_diagnose(
    deps: DiagnoseDeps,
    *,
    email: str | None,
    review_id: str | None,
    since: str | None,
    bundle: Path | None,
    force_bundle: bool = False,
    trigger: str | None = None,
) -> DiagnoseOutcome:
    if bundle is not None:
        check_bundle_target(bundle, force=force_bundle)  # before the checks take their time
    probe = build_probe(deps, since)
    if trigger is not None:
        trigger = _trigger_name(trigger, email)
    report = run_checks(probe, email=email, review_id=review_id, trigger=trigger)
    report.repair = repair_for(report, fix_plan_for(deps.profile, deps.connection))
    written = None
    if bundle is not None:
        written = write_bundle(
            bundle, report, probe.profile, probe.connection, _secrets(probe), force=force_bundle
        )
    unreachable = isinstance(probe.remote_error("account"), RemoteError)
    return DiagnoseOutcome(report, exit_code_for(report, unreachable=unreachable), written)


def _trigger_name(trigger: str, email: str | None) -> str:
    from joyctl.errors import UsageError
    from joyctl.services.triggers.catalogue import resolve_names

    if not email:
        raise UsageError("--trigger needs --email", hint="say whose email did not go out")
    return resolve_names([trigger])[0]


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
