"""`joyctl ledger path|backup|verify`: where the ledger is, a safe copy, and its invariants."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import output_file
from joyctl.commands._common import app_context, exit_after
from joyctl.errors import CheckFailedError, ExitCode
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.ledger_admin.location import LedgerBackup
    from joyctl.services.ledger_admin.operations import VerifyReport


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
    """Write a consistent copy of the ledger, safe while other joyctl processes write to it."""
    from joyctl.services.ledger_admin.location import backup_ledger

    app = app_context(ctx)
    output_file("FILE", file)
    name = app.settings.profile.name
    source = app.paths.ledger_file(name)
    result = backup_ledger(app.ledger(name), source, file, force=force)
    app.output.emit(result, _render_backup)


def verify(ctx: typer.Context) -> int:
    """Check every ledger invariant; exit 6 and list the violations when any fails.

    Checked: balance_after equals the running sum per customer, no negative balance, every
    revoke reverses an earn of the same customer, nothing reversed twice, no orphan entries,
    unique idempotency keys, the append-only triggers, and SQLite's own consistency check.
    """
    from joyctl.services.ledger_admin.operations import verify as verify_ledger

    app = app_context(ctx)
    report = verify_ledger(app.ledger())
    app.output.emit(report, _render_verify)
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


def _render_verify(out: Output, data: VerifyReport) -> None:
    rows: list[tuple[str, str, str]] = []
    for check in data.checks:
        if check.ok:
            rows.append((check.name, "ok", check.description))
        rows += [(check.name, "FAIL", example.detail) for example in check.examples]
        if check.count > len(check.examples):
            rows.append((check.name, "FAIL", f"... {check.count - len(check.examples)} more"))
    out.table(["CHECK", "RESULT", "DETAIL"], rows)
