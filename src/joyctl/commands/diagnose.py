"""`joyctl diagnose`: why points or Klaviyo data go missing, with evidence and the fix."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.commands._args import email_option, moment_option, output_file, resource_id
from joyctl.commands._common import InsecureStorageOption, app_context
from joyctl.commands._deps import diagnose_deps
from joyctl.errors import ExitCode
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.diagnose.fix import FixReport, PlannedFixes
    from joyctl.services.diagnose.model import DiagnoseReport


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}
STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def diagnose(
    ctx: typer.Context,
    email: Annotated[
        str | None, typer.Option(help="Focus on why this customer got no points.")
    ] = None,
    review: Annotated[
        str | None, typer.Option(help="Focus on why this review got no points.")
    ] = None,
    trigger: Annotated[
        str | None,
        typer.Option(
            help="With --email: why this Joy trigger's flow email did not reach the customer."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Look at reviews since this time (default: the connection).")
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="table, json (as --json) or markdown (for tickets).")
    ] = Format.TABLE,
    bundle: Annotated[
        Path | None, typer.Option(help="Also write a redacted .tar.gz for a support ticket.")
    ] = None,
    fix: Annotated[
        bool,
        typer.Option(help="Apply the safe fixes in order (reconnect, webhook, replay, push)."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply --fix without asking.")] = False,
    insecure_storage: InsecureStorageOption = False,
) -> int:
    """Check every reason points or Klaviyo data go missing; show evidence and the fix.

    Exit 0 when nothing fails (warnings allowed), 6 when a check fails, 4 when joyctl cannot
    authenticate with Klaviyo at all, 5 when Klaviyo or the network cannot be reached. --fix
    asks before it changes anything (unless --yes); without a terminal it prints the commands
    it would run and exits 6. --fix may store secrets (a new grant, a webhook's signing
    secret): --insecure-storage allows the 0600 file where no keyring can be used.

    With --email and --trigger, only the checks on that email's path run: the trigger is
    enabled, its metric and a recent event reached the profile, a live flow starts on it, the
    email is valid, subscribed and not suppressed, the template's variables are carried, and a
    Received Email followed (exit 0 when it did).

    Example: joyctl --profile sandbox diagnose --fix --yes
    """
    from joyctl.services.diagnose.run import run_diagnose

    app = app_context(ctx)
    app.insecure_storage = app.insecure_storage or insecure_storage  # --fix may store secrets
    email = None if email is None else email_option("--email", email)
    review = None if review is None else resource_id("--review", review)
    since_moment = moment_option("--since", since)
    since = since_moment.isoformat() if since_moment else None
    if bundle is not None:
        output_file("--bundle", bundle)
    deps = diagnose_deps(app)
    outcome = run_diagnose(
        deps, email=email, review_id=review, since=since, bundle=bundle, trigger=trigger
    )
    if output_format is Format.JSON:
        app.output.json_mode = True
    if fix and outcome.exit_code != ExitCode.REMOTE:  # nothing to fix while Klaviyo is away
        return _fix(app, outcome.report, since=since, yes=yes)
    render = _render_markdown if output_format is Format.MARKDOWN else _render_report
    app.output.emit(outcome.report, render)
    if outcome.bundle is not None:
        app.output.info(f"bundle written to {outcome.bundle.path}")
    return outcome.exit_code


def _fix(app: Any, report: Any, *, since: str | None, yes: bool) -> int:
    """Apply the safe fixes, or say which it would apply; the exit status of the command."""
    from joyctl.commands._diagnose_fix import fix_actions, fix_plan
    from joyctl.services.diagnose.fix import PlannedFixes, apply_fixes, planned_steps
    from joyctl.services.diagnose.run import exit_code_for

    plan = fix_plan(app)
    steps = planned_steps(report, plan)
    if not yes and not app.interactive:
        app.output.emit(PlannedFixes(planned=steps, report=report), _render_planned)
        return ExitCode.CHECK_FAILED
    if not yes and not typer.confirm(f"Apply {len(steps)} fixes?", default=False, err=True):
        return ExitCode.CHECK_FAILED
    result = apply_fixes(report, plan, fix_actions(app, since))
    app.output.emit(result, _render_fixed)
    return exit_code_for(result.after) if result.after else ExitCode.CHECK_FAILED


def _render_planned(out: Output, data: PlannedFixes) -> None:
    _render_report(out, data.report)
    out.line("\n--fix would run (pass --yes to apply without a terminal):")
    for step in data.planned:
        out.line(f"  {step.command}")


def _render_fixed(out: Output, data: FixReport) -> None:
    before = data.before.summary
    out.line(f"before: {before.failed} failed, {before.warnings} warnings")
    for step in data.steps:
        out.line(f"  {step.status.upper():<7} {step.command}")
        if step.detail:
            out.line(f"          {step.detail}")
    if data.after is not None:
        out.line("")
        _render_report(out, data.after)


def _render_report(out: Output, report: DiagnoseReport) -> None:
    from rich.text import Text

    account = report.account_id or "not connected"
    out.line(f"joyctl diagnose: profile {report.profile}, account {account}")
    for check in report.checks:
        status = check.status.value
        line = Text(f"{MARK[status]}  ", style=STYLE[status] if out.is_terminal() else "")
        line.append(f"{check.id:<16} {check.title}")
        out.out.print(line) if out.is_terminal() else out.line(line.plain)
        for evidence in check.evidence:
            out.line(f"      {evidence}")
        if check.fix and status in ("fail", "warn"):
            out.line(f"      fix: {check.fix}")
    for focus in report.focus:
        out.line(f"\n{focus.subject}:")
        for finding in focus.findings:
            out.line(f"  - {finding}")
    summary = report.summary
    out.line(
        f"\n{summary.failed} failed, {summary.warnings} warnings, {summary.passed} passed,"
        f" {summary.skipped} skipped"
    )


def _render_markdown(out: Output, report: DiagnoseReport) -> None:
    out.line(f"### joyctl diagnose: profile `{report.profile}`, account `{report.account_id}`")
    out.line("")
    out.line("| status | check | evidence | fix |")
    out.line("| --- | --- | --- | --- |")
    for check in report.checks:
        status = check.status.value
        evidence = "<br>".join(_cell(line) for line in check.evidence)
        fix = f"`{check.fix}`" if check.fix and status in ("fail", "warn") else ""
        out.line(f"| {MARK[status]} | {_cell(check.title)} | {evidence} | {fix} |")
    for focus in report.focus:
        out.line(f"\n**{_cell(focus.subject)}**\n")
        for finding in focus.findings:
            out.line(f"- {_cell(finding)}")
    summary = report.summary
    out.line(
        f"\n{summary.failed} failed, {summary.warnings} warnings, {summary.passed} passed,"
        f" {summary.skipped} skipped (generated {report.generated_at})"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
