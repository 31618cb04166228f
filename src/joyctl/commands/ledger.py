"""`joyctl ledger`: the profile's SQLite ledger: balances, history, adjustments, files, checks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from joyctl.commands._common import app_context
from joyctl.context import AppContext
from joyctl.errors import CheckFailedError, JoyctlError, PartialError, UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.ledger.interchange import FileFormat

app = typer.Typer(
    help="Customers' points, the ledger's files and checks (exit 6: verify failed; 7: rows"
    " quarantined).",
    no_args_is_help=True,
)

EmailArg = Annotated[str, typer.Argument(help="The customer's email (case and spaces ignored).")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="csv or jsonl (default: from the file's extension).")
]

IMPORT_HELP = """Import customers and opening balances from a CSV or JSON Lines file.

The file is read as a stream, one transaction per 1,000 records. CSV has a header row; JSON
Lines has one object per line. Columns (only email is required; empty means "leave as is"):
email, external_id, first_name, last_name, tier, birthday (MM/DD or YYYY-MM-DD), referral_url,
member_status (member|guest|excluded), referred (true|false), last_activity_at (ISO 8601), and
points (the opening balance, a whole number >= 0).

Bad records go to a quarantine file as JSON Lines (line, reason, record) and the rest are kept;
the exit status is then 7. Importing the same file again records nothing twice: each
customer's opening balance is recorded once.

Example: joyctl ledger import customers.csv
"""


@app.command("path")
def path_(ctx: typer.Context) -> None:
    """Print the path of the active profile's ledger file."""
    from joyctl.services.ledger_admin import ledger_location

    app = app_context(ctx)
    name = app.settings.profile.name
    result = ledger_location(name, app.paths.ledger_file(name))
    app.output.emit(result, lambda out, data: out.line(data.path))


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the copy.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Write a consistent copy of the ledger, safe while other joyctl processes write to it."""
    from joyctl.services.ledger_admin import backup_ledger

    app = app_context(ctx)
    name = app.settings.profile.name
    source = app.paths.ledger_file(name)
    result = backup_ledger(app.ledger(name), source, file, force=force)
    app.output.emit(result, _render_backup)


@app.command("balance")
def balance(ctx: typer.Context, email: EmailArg) -> None:
    """Show a customer's points balance."""
    from joyctl.services.ledger import customer_balance

    app = app_context(ctx)
    app.output.emit(customer_balance(app.ledger(), email), _render_balance)


@app.command("history")
def history(
    ctx: typer.Context,
    email: EmailArg,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Entries to show (1-1000).")] = 20,
    before: Annotated[
        int | None, typer.Option("--before", help="Only entries older than this entry id.")
    ] = None,
) -> None:
    """Show a customer's point entries, newest first."""
    from joyctl.services.ledger import customer_history

    app = app_context(ctx)
    result = customer_history(app.ledger(), email, limit=limit, before=before)
    app.output.emit(result, _render_history)


@app.command("adjust", context_settings={"ignore_unknown_options": True})
def adjust(
    ctx: typer.Context,
    email: EmailArg,
    points: Annotated[int, typer.Argument(help="Points to add, or to take when negative.")],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the history.")],
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key", help="Record at most once under this key (safe retries)."
        ),
    ] = None,
) -> None:
    """Add or take points by hand. A balance never goes below zero (exit 3 if it would).

    Example: joyctl ledger adjust ann@example.com -50 --reason "refund" --idempotency-key r-981
    """
    from joyctl.services.ledger import adjust_points

    app = app_context(ctx)
    result = adjust_points(
        app.ledger(), email, points, reason=reason, idempotency_key=idempotency_key
    )
    app.output.emit(result, _render_adjust)


@app.command("import", help=IMPORT_HELP)
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The CSV or JSON Lines file.", dir_okay=False)],
    file_format: FormatOpt = None,
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Where bad records go (default: FILE.quarantine.jsonl).", dir_okay=False),
    ] = None,
) -> None:
    from joyctl.services.ledger import import_customers

    app = app_context(ctx)
    result = import_customers(
        app.ledger(),
        file,
        file_format=_format(file_format),
        quarantine=quarantine,
        on_batch=lambda records: app.output.debug(f"{records} records read"),
    )
    app.output.emit(result, _render_import)
    if result.quarantined:
        _exit_after(app, PartialError(
            f"{result.quarantined} records quarantined in {result.quarantine_file}",
            hint="fix those records in FILE and import it again; nothing is recorded twice",
        ))  # fmt: skip


@app.command("export")
def export(
    ctx: typer.Context,
    file_format: FormatOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (default: stdout).", dir_okay=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file.")] = False,
) -> None:
    """Export every customer with the current balance, in the format `ledger import` reads.

    Example: joyctl ledger export --format jsonl --output customers.jsonl
    """
    from joyctl.services.ledger import export_customers

    app = app_context(ctx)
    if output is None and app.output.json_mode:
        raise UsageError("--json needs --output FILE", hint="stdout holds the exported records")
    fmt = _format(file_format)
    result = export_customers(
        app.ledger(), app.output.stdout, file_format=fmt, output=output, force=force
    )
    app.output.emit(result, _render_export)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check every ledger invariant; exit 6 and list the violations when any fails.

    Checked: balance_after equals the running sum per customer, no negative balance, every
    revoke reverses an earn of the same customer, nothing reversed twice, no orphan entries,
    unique idempotency keys, the append-only triggers, and SQLite's own consistency check.
    """
    from joyctl.services.ledger import verify as verify_ledger

    app = app_context(ctx)
    report = verify_ledger(app.ledger())
    app.output.emit(report, _render_verify)
    if not report.ok:
        _exit_after(app, CheckFailedError(
            f"the ledger breaks {report.violations} invariants",
            hint="restore a backup, or investigate the entries listed",
        ))  # fmt: skip


def _format(value: str | None) -> FileFormat | None:
    from joyctl.ledger.interchange import FileFormat

    if value is None:
        return None
    try:
        return FileFormat(value.strip().lower())
    except ValueError:
        raise UsageError(f"unknown format {value!r}", hint="use --format csv or jsonl") from None


def _exit_after(app: AppContext, error: JoyctlError) -> NoReturn:
    """The result is printed already (under --json too); say what failed on stderr, then exit."""
    if not app.output.json_mode:
        app.output.error(error)
    raise typer.Exit(int(error.exit_code))


def _render_backup(out: Output, data: Any) -> None:
    out.success(
        f"ledger copied to {data.backup} ({data.bytes} bytes, schema {data.schema_version})"
    )


def _render_balance(out: Output, data: Any) -> None:
    out.fields([("email", data.email), ("balance", data.balance), ("status", data.member_status)])


def _render_history(out: Output, data: Any) -> None:
    out.info(f"{data.email}: {data.balance} points")
    rows = [(e.id, e.created_at, e.kind, f"{e.delta:+d}", e.balance_after, e.reason or "")
            for e in data.entries]  # fmt: skip
    out.table(["ID", "WHEN", "KIND", "POINTS", "BALANCE", "REASON"], rows)
    if data.next_before is not None:
        out.info(f"older entries: --before {data.next_before}")


def _render_adjust(out: Output, data: Any) -> None:
    if data.created:
        out.success(f"{data.email}: {data.entry.delta:+d} points, balance {data.balance}")
    else:
        out.info(f"already recorded as entry {data.entry.id}; balance {data.balance}")
    out.line(str(data.balance))


def _render_import(out: Output, data: Any) -> None:
    out.success(
        f"{data.records} records: {data.customers_created} customers added,"
        f" {data.customers_updated} updated, {data.openings_recorded} opening balances"
        f" ({data.opening_points} points), {data.quarantined} quarantined"
    )
    if data.openings_already_recorded:
        out.info(f"{data.openings_already_recorded} opening balances were recorded before")
    if data.opening_mismatches:
        lines = ", ".join(str(line) for line in data.mismatch_lines)
        out.warn(
            f"{data.opening_mismatches} records give points that differ from the opening"
            f" balance recorded earlier (lines {lines}); use `joyctl ledger adjust` to change it"
        )


def _render_export(out: Output, data: Any) -> None:
    where = data.output or "stdout"
    out.success(f"{data.customers} customers ({data.points} points) written to {where}")


def _render_verify(out: Output, data: Any) -> None:
    rows: list[tuple[str, str, str]] = []
    for check in data.checks:
        if check.ok:
            rows.append((check.name, "ok", check.description))
        rows += [(check.name, "FAIL", example.detail) for example in check.examples]
        if check.count > len(check.examples):
            rows.append((check.name, "FAIL", f"... {check.count - len(check.examples)} more"))
    out.table(["CHECK", "RESULT", "DETAIL"], rows)
