"""`joyctl ledger import|export`: customers and balances in CSV or JSON Lines files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import input_file, output_file
from joyctl.commands._common import app_context, exit_after
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.files.formats import FileFormat
    from joyctl.services.ledger_admin.operations import ExportSummary, ImportSummary

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


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The CSV or JSON Lines file.", dir_okay=False)],
    file_format: FormatOpt = None,
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Where bad records go (default: FILE.quarantine.jsonl).", dir_okay=False),
    ] = None,
) -> int:
    from joyctl.services.ledger_admin.operations import import_customers

    app = app_context(ctx)
    fmt = _format(file_format)
    input_file("FILE", file)
    if quarantine is not None:
        output_file("--quarantine", quarantine)
    result = import_customers(
        app.ledger(),
        file,
        file_format=fmt,
        quarantine=quarantine,
        on_batch=lambda records: app.output.debug(f"{records} records read"),
    )
    app.output.emit(result, _render_import)
    if result.quarantined:
        return exit_after(app, PartialError(
            f"{result.quarantined} records quarantined in {result.quarantine_file}",
            hint="fix those records in FILE and import it again; nothing is recorded twice",
        ))  # fmt: skip
    return ExitCode.OK


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
    from joyctl.services.ledger_admin.operations import export_customers

    app = app_context(ctx)
    fmt = _format(file_format)
    if output is None and app.output.json_mode:
        raise UsageError("--json needs --output FILE", hint="stdout holds the exported records")
    if output is not None:
        output_file("--output", output)
    result = export_customers(
        app.ledger(), app.output.stdout, file_format=fmt, output=output, force=force
    )
    app.output.emit(result, _render_export)


def _format(value: str | None) -> FileFormat | None:
    from joyctl.files.formats import FileFormat

    if value is None:
        return None
    try:
        return FileFormat(value.strip().lower())
    except ValueError:
        raise UsageError(f"unknown format {value!r}", hint="use --format csv or jsonl") from None


def _render_import(out: Output, data: ImportSummary) -> None:
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


def _render_export(out: Output, data: ExportSummary) -> None:
    where = data.output or "stdout"
    out.success(f"{data.customers} customers ({data.points} points) written to {where}")
