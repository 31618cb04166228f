"""`joyctl diagnose`: why points or Klaviyo data go missing, with evidence and the fix."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._args import email_option, moment_option, output_file, resource_id
from joyctl.commands._common import InsecureStorageOption, app_context
from joyctl.commands._deps import diagnose_deps
from joyctl.commands._files import refuse_stdio
from joyctl.context import AppContext
from joyctl.errors import ExitCode
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.diagnose.fix import FixReport, PlannedFixes
    from joyctl.services.diagnose.model import CheckResult, DiagnoseReport, FixStep


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
        Path | None,
        typer.Option(
            metavar="FILE", help="Also write a redacted .tar.gz for a support ticket (mode 0600)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --bundle replace a file.")] = False,
    fix: Annotated[
        bool,
        typer.Option(help="Apply the safe fixes in order (reconnect, webhook, replay, push)."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply --fix without asking.")] = False,
    insecure_storage: InsecureStorageOption = False,
) -> int:
    """Check every reason points or Klaviyo data go missing; show evidence and the fix.

    Each check says pass, warn, fail or skip (with the reason it cannot tell), its evidence and
    the command that fixes it. The report ends with the whole repair, every step --fix takes,
    each as a command. Exit 0 when nothing fails (warnings allowed), 6 when a check fails, 4
    when joyctl cannot authenticate with Klaviyo at all, 5 when Klaviyo or the network cannot
    be reached.

    --fix shows that repair and asks before it changes anything (unless --yes); without a
    terminal it prints the steps it would take and exits 6. --fix may store secrets (a new
    grant, a webhook's signing secret): --insecure-storage allows the 0600 file where no
    keyring can be used.

    With --email and --trigger, only the checks on that email's path run: the trigger is
    enabled, its metric and a recent event reached the profile, a live flow starts on it, the
    email is valid, subscribed and not suppressed, the template's variables are carried, and a
    Received Email followed (exit 0 when it did).

    Example: joyctl --profile sandbox diagnose --fix --yes
    """
    from joyctl.services.diagnose.run import run_diagnose

    app = app_context(ctx)
    refuse_stdio(bundle, "--bundle", "stdout carries the report; give the archive a file name")
    app.insecure_storage = app.insecure_storage or insecure_storage  # --fix may store secrets
    email = None if email is None else email_option("--email", email)
    review = None if review is None else resource_id("--review", review)
    since_moment = moment_option("--since", since)
    since = since_moment.isoformat() if since_moment else None
    if bundle is not None:
        output_file("--bundle", bundle)
    deps = diagnose_deps(app)
    outcome = run_diagnose(
        deps, email=email, review_id=review, since=since, bundle=bundle, force_bundle=force,
        trigger=trigger,
    )  # fmt: skip
    if output_format is Format.JSON:
        app.output.json_mode = True
    if fix and outcome.exit_code != ExitCode.REMOTE:  # nothing to fix while Klaviyo is away
        return _fix(app, outcome.report, since=since, yes=yes)
    render = _render_markdown if output_format is Format.MARKDOWN else _render_report
    app.output.emit(outcome.report, render)
    if outcome.bundle is not None:
        app.output.info(f"bundle written to {outcome.bundle.path}")
    return outcome.exit_code


def _fix(app: AppContext, report: DiagnoseReport, *, since: str | None, yes: bool) -> int:
    """Apply the safe fixes, or say which it would apply; the exit status of the command."""
    from joyctl.commands._diagnose_fix import fix_actions
    from joyctl.services.diagnose.fix import PlannedFixes, apply_fixes, fix_plan_for, planned_steps
    from joyctl.services.diagnose.run import exit_code_for

    plan = fix_plan_for(app.settings.profile, app.ledger())
    steps = planned_steps(report, plan)
    if not steps:
        app.output.emit(report, _render_report)
        app.output.info("--fix has nothing to do: no step it takes would change this report")
        return exit_code_for(report)
    if not yes and not app.interactive:
        app.output.emit(PlannedFixes(planned=steps, report=report), _render_planned)
        return ExitCode.CHECK_FAILED
    if not yes:
        # The person answering sees the report and every step first, then the question.
        app.output.emit(report.model_copy(update={"repair": steps}), _render_report_for_fix)
        question = f"Take {_steps(len(steps))} now?"
        if not typer.confirm(question, default=False, err=True):
            app.output.info("nothing was changed")
            return ExitCode.CHECK_FAILED
    result = apply_fixes(report, plan, fix_actions(app, since))
    app.output.emit(result, _render_fixed)
    return exit_code_for(result.after) if result.after else ExitCode.CHECK_FAILED


def _steps(count: int) -> str:
    return "this step" if count == 1 else f"these {count} steps"


def _render_planned(out: Output, data: PlannedFixes) -> None:
    _render_checks(out, data.report)
    out.line("")
    out.line("--fix would take these steps, in order (pass --yes to take them here):")
    _render_steps(out, data.planned)


def _render_report_for_fix(out: Output, report: DiagnoseReport) -> None:
    _render_checks(out, report)
    out.line("")
    out.line("--fix takes these steps, in order:")
    _render_steps(out, report.repair)


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
    _render_checks(out, report)
    if report.repair:
        out.line("")
        fix = command("diagnose", "--fix")
        out.line(f"To repair, run in order (or let `{fix}` take these steps):")
        _render_steps(out, report.repair)


def _render_steps(out: Output, steps: list[FixStep]) -> None:
    for number, step in enumerate(steps, start=1):
        out.line(f"  {number}. {step.command}")
        if step.detail:
            out.line(f"     {step.detail}")


def _render_checks(out: Output, report: DiagnoseReport) -> None:
    from rich.text import Text

    out.line(f"joyctl diagnose: profile {report.profile}, {_account(report)}")
    for check in report.checks:
        status = check.status.value
        head = f"{MARK[status]}  {check.id:<16} "
        if out.is_terminal():
            first, *rest = _wrapped(out, check.title, head, " " * len(head))
            out.out.print(Text(first, style=STYLE[status]))
            for line in rest:
                out.line(line)
        else:
            out.line(head + check.title)
        for evidence in check.evidence:
            _prose(out, evidence, "      ")
        if status in ("fail", "warn"):
            if check.fix:
                out.line(f"      fix: {check.fix}")  # whole, to be copied
            if check.advice:
                _prose(out, check.advice, f"      {'note' if check.fix else 'fix'}: ")
    for focus in report.focus:
        out.line(f"\n{focus.subject}:")
        for finding in focus.findings:
            _prose(out, finding, "  - ")
    out.line(f"\n{_summary(report)}")


def _prose(out: Output, text: str, lead: str) -> None:
    """A line of prose, wrapped to a terminal's width under its lead; one line elsewhere."""
    if not out.is_terminal():
        out.line(lead + text)
        return
    for line in _wrapped(out, text, lead, " " * len(lead)):
        out.line(line)


def _wrapped(out: Output, text: str, lead: str, indent: str) -> list[str]:
    import textwrap

    width = max(out.out.width, len(lead) + 20)
    return textwrap.wrap(
        text,
        width,
        initial_indent=lead,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [lead]


def _account(report: DiagnoseReport) -> str:
    if report.account_id is None:
        return "not connected"
    return f"account {report.account_id}"


def _summary(report: DiagnoseReport) -> str:
    summary = report.summary
    return (
        f"{summary.failed} failed, {summary.warnings} warnings, {summary.passed} passed,"
        f" {summary.skipped} skipped"
    )


def _render_markdown(out: Output, report: DiagnoseReport) -> None:
    """A report to paste into a ticket: identifiers and commands in code spans, prose as is."""
    account = f"`{report.account_id}`" if report.account_id else "not connected"
    out.line("### joyctl diagnose")
    out.line("")
    out.line(f"- joyctl {report.joyctl_version}, report {report.schema_version}")
    out.line(f"- profile: `{report.profile}`")
    out.line(f"- account: {account}")
    out.line(f"- generated: {report.generated_at}")
    out.line(f"- result: {_summary(report)}")
    out.line("")
    out.line("| status | check | what is checked | evidence | fix |")
    out.line("| --- | --- | --- | --- | --- |")
    for check in report.checks:
        evidence = "<br>".join(_cell(line) for line in check.evidence)
        cells = [MARK[check.status.value], f"`{check.id}`", _cell(check.title), evidence]
        out.line(f"| {' | '.join([*cells, _fix_cell(check)])} |")
    for focus in report.focus:
        out.line(f"\n**{_cell(focus.subject)}**\n")
        for finding in focus.findings:
            out.line(f"- {_cell(finding)}")
    if report.repair:
        out.line("")
        out.line(f"**Repair**, in order (`{command('diagnose', '--fix')}` takes these steps):")
        out.line("")
        for number, step in enumerate(report.repair, start=1):
            note = f": {_cell(step.detail)}" if step.detail else ""
            out.line(f"{number}. `{step.command}`{note}")


def _fix_cell(check: CheckResult) -> str:
    if check.status.value not in ("fail", "warn"):
        return ""
    parts = [f"`{check.fix}`"] if check.fix else []
    parts += [_cell(check.advice)] if check.advice else []
    return "<br>".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
