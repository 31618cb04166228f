"""`joyctl ledger path|backup|restore|verify`: where the ledger is, safe copies, its health."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._args import output_file
from joyctl.commands._common import app_context, confirm_or_require_yes, exit_after
from joyctl.commands._files import refuse_stdio
from joyctl.errors import CheckFailedError, ExitCode
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.ledger_admin.location import LedgerBackup
    from joyctl.services.ledger_admin.operations import VerifyReport
    from joyctl.services.ledger_admin.restore import RestorePlan, RestoreResult


def path_(ctx: typer.Context) -> None:
    """Print the path of the active profile's ledger file."""
    from joyctl.services.ledger_admin.location import ledger_location

    app = app_context(ctx)
    name = app.settings.profile.name
    result = ledger_location(name, app.paths.ledger_file(name))
    app.output.emit(result, lambda out, data: out.line(data.path))


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the copy.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Write a consistent copy of the ledger, safe while other joyctl processes write to it.

    The copy is readable by you only (mode 0600). A damaged ledger is refused (exit 3): a copy
    would keep the damage; see `joyctl ledger verify`.
    """
    from joyctl.services.ledger_admin.location import backup_ledger

    app = app_context(ctx)
    refuse_stdio(file, "FILE", "a backup is a SQLite database; give it a file name")
    output_file("FILE", file)
    name = app.settings.profile.name
    source = app.paths.ledger_file(name)
    result = backup_ledger(lambda: app.ledger(name), source, file, force=force)
    app.output.emit(result, _render_backup)


def restore(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A copy written by `joyctl ledger backup`.", dir_okay=False)
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the ledger with a backup, after verifying the backup; the old file is kept.

    FILE must pass every `ledger verify` check, or nothing changes (exit 3). The current file,
    damaged or not, is kept beside the ledger as ledger.sqlite3.damaged-TIMESTAMP (or
    .replaced-TIMESTAMP), with its write-ahead log. Asks first on a terminal; --no-input and CI
    need --yes. Stop other joyctl processes on this profile first (`webhooks listen`).

    Example: joyctl ledger restore ~/backups/ledger-2026-01-15.sqlite3 --yes
    """
    from joyctl.services.ledger_admin.restore import restore_ledger

    app = app_context(ctx)
    ledger = app.paths.ledger_file(app.settings.profile.name)

    def confirm(plan: RestorePlan) -> None:
        confirm_or_require_yes(app, _restore_question(plan), yes=yes)

    result = restore_ledger(ledger, file, confirm=confirm)
    app.output.emit(result, _render_restore)


def verify(ctx: typer.Context) -> int:
    """Check the ledger file and every invariant; exit 6 and list what fails.

    The file: SQLite can open it, SQLite's full integrity check passes (every page and index),
    and its schema is joyctl's (every table, index and append-only trigger as joyctl created
    it, and the migration rows). The invariants: balance_after equals the running sum per
    customer, no negative balance, every revoke reverses an earn of the same customer, nothing
    reversed twice, no orphan entries, unique idempotency keys, the append-only triggers.
    A damaged file is repaired with `joyctl ledger restore FILE`.
    """
    from joyctl.ledger.health import summarize
    from joyctl.services.ledger_admin.operations import verify as verify_ledger

    app = app_context(ctx)
    report = verify_ledger(app.paths.ledger_file(app.settings.profile.name))
    app.output.emit(report, _render_verify)
    if report.damaged:
        return exit_after(app, CheckFailedError(
            f"the ledger {report.file} is damaged: {summarize(report.problems())}",
            hint=f"put a good copy back with `{command('ledger', 'restore', 'FILE')}` (a file"
            f" written by `{command('ledger', 'backup')}`); the damaged file is kept aside",
        ))  # fmt: skip
    if not report.ok:
        return exit_after(app, CheckFailedError(
            f"the ledger breaks {report.violations} invariants",
            hint="restore a backup, or investigate the entries listed",
        ))  # fmt: skip
    return ExitCode.OK


def _render_backup(out: Output, data: LedgerBackup) -> None:
    out.success(
        f"ledger copied to {data.backup} ({data.bytes} bytes, schema {data.schema_version})"
    )


def _restore_question(plan: RestorePlan) -> str:
    current = {
        "missing": "(there is none now)",
        "damaged": f"(damaged; kept as {plan.kept_as})",
        "sound": f"(kept as {plan.kept_as})",
    }[plan.current]
    return (
        f"replace the ledger {plan.ledger} {current} with {plan.backup}"
        f" ({plan.customers} customers, {plan.entries} entries)"
    )


def _render_restore(out: Output, data: RestoreResult) -> None:
    out.success(
        f"ledger restored from {data.backup}: {data.customers} customers, {data.entries} entries"
    )
    if data.kept_as is not None:
        out.info(f"the previous file is kept as {data.kept_as}")


def _render_verify(out: Output, data: VerifyReport) -> None:
    rows: list[tuple[str, str, str]] = []
    for check in data.checks:
        if check.skipped is not None:
            rows.append((check.name, "skipped", check.skipped))
        elif check.ok:
            rows.append((check.name, "ok", check.description))
        rows += [(check.name, "FAIL", example.detail) for example in check.examples]
        if check.count > len(check.examples):
            rows.append((check.name, "FAIL", f"... {check.count - len(check.examples)} more"))
    out.table(["CHECK", "RESULT", "DETAIL"], rows)
