"""`joyctl smoke`: an end-to-end check against a Klaviyo test account, made for CI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import output_file
from joyctl.commands._common import app_context
from joyctl.commands._files import is_stdio
from joyctl.context import AppContext
from joyctl.errors import UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.smoke.run import SmokeReport, SmokeStep

MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}


def smoke(
    ctx: typer.Context,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            metavar="FILE",
            help="Also write the steps as JUnit XML here; - for stdout.",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            min=1.0,
            max=3600.0,
            metavar="SECONDS",
            help="How long a step waits for Klaviyo to show what it wrote (1 to 3600).",
        ),
    ] = 120.0,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave the test review as it is (no rejection).")
    ] = False,
    allow_live_account: Annotated[
        bool,
        typer.Option(
            "--allow-live-account", help="Also run against a live (non-test) Klaviyo account."
        ),
    ] = False,
) -> int:
    """Check end to end that a Klaviyo test account works with joyctl, for CI.

    Never prompts: the credential comes from JOYCTL_KLAVIYO_API_KEY or
    JOYCTL_KLAVIYO_ACCESS_TOKEN (or the profile's stored one). Steps, each reported on stderr
    and each a JUnit test case: authenticate (and refuse a live account unless
    --allow-live-account); required scopes; review webhook subscription present; submit a
    client review carrying a unique marker; find it through GET /api/reviews; run it through
    the reward engine into a scratch ledger; send a test event with a unique id and read it
    back from GET /api/events; profile property round trip; clean up (reject the test review,
    unless --keep).

    The review webhook step fails when no enabled webhook subscribes to submitted reviews
    (create one once with `joyctl webhooks create`; on a runner without a keyring, set
    JOYCTL_WEBHOOK_SECRET for it); smoke never creates one itself.

    Exit 0 when every step passes, 6 when one fails, 5 when only Klaviyo or the network failed
    (nothing was judged; run it again later), 4 when joyctl cannot authenticate, 2 when the
    account is live and --allow-live-account was not given.

    Example: joyctl --profile ci smoke --junit report.xml
    """
    from joyctl.services.smoke.model import SmokeOptions
    from joyctl.services.smoke.run import SmokeTarget, run_smoke

    app = app_context(ctx)
    to_stdout = is_stdio(junit)
    if to_stdout and app.output.json_mode:
        raise UsageError("--junit - and --json both print on stdout", hint="give --junit a file")
    if junit is not None and not to_stdout:
        output_file("--junit", junit)
    options = SmokeOptions(timeout=timeout, keep=keep, allow_live_account=allow_live_account)
    target = SmokeTarget(profile=lambda: app.settings.profile, open_session=app.klaviyo)
    progress = lambda step: _progress(app.output, step)  # noqa: E731 - one line, named for reading
    report = run_smoke(target, options, progress, junit=None if to_stdout else junit)
    if to_stdout:
        _print_junit(app, report)
        return report.exit_code
    app.output.emit(report, _render_summary)
    if junit is not None:
        app.output.info(f"JUnit report written to {junit}")
    return report.exit_code


def _print_junit(app: AppContext, report: SmokeReport) -> None:
    """The JUnit XML on stdout, for a CI step that pipes it on; the summary on stderr."""
    from joyctl.services.smoke.junit import render_junit
    from joyctl.services.smoke.run import junit_suite

    app.output.stdout.write(render_junit(junit_suite(report)).decode("utf-8"))
    app.output.stdout.flush()
    app.output.info(_summary_text(report))


def _progress(out: Output, step: SmokeStep) -> None:
    out.info(f"{MARK[step.status.value]}  {step.id:<19} {step.detail} ({step.seconds:.1f}s)")
    if step.hint and step.status.value == "fail":
        out.info(f"      hint: {step.hint}")


def _render_summary(out: Output, report: SmokeReport) -> None:
    out.line(_summary_text(report))


def _summary_text(report: SmokeReport) -> str:
    summary = report.summary
    failed = [step.id for step in report.steps if step.status.value == "fail"]
    line = (
        f"joyctl smoke: {summary.passed} passed, {summary.failed} failed,"
        f" {summary.skipped} skipped in {report.seconds:.1f}s"
        f" (account {report.account_id or 'unknown'}, marker {report.marker})"
    )
    return line + (f"; failed: {', '.join(failed)}" if failed else "")
