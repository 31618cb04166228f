"""`joyctl ledger import|export`: customers and balances in CSV or JSON Lines files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._args import input_file, output_file
from joyctl.commands._common import app_context, exit_after
from joyctl.commands._files import is_stdio, refuse_stdio, require_format, stdin_as_file
from joyctl.context import AppContext
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output, counted

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

FILE may be - for stdin, with --format. Bad records go to a quarantine file as JSON Lines
(line, reason, record; by default FILE.quarantine.jsonl, or stdin.quarantine.jsonl in the
current folder) and the rest are kept; the exit status is then 7. Importing the same file
again records nothing twice: each customer's opening balance is recorded once.

Example: joyctl ledger import customers.csv
"""


def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The CSV or JSON Lines file, or - for stdin.", dir_okay=False)
    ],
    file_format: FormatOpt = None,
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Where bad records go (default: FILE.quarantine.jsonl).", dir_okay=False),
    ] = None,
) -> int:
    from joyctl.services.ledger_admin.operations import import_customers

    app = app_context(ctx)
    refuse_stdio(quarantine, "--quarantine", "stdout holds the summary; give the file a name")
    fmt = _format(file_format)
    if is_stdio(file):
        require_format(file_format, "FILE")
    else:
        input_file("FILE", file)
    if quarantine is not None:
        output_file("--quarantine", quarantine)
    with _readable(app, file) as readable:
        result = import_customers(
            app.ledger(),
            readable,
            file_format=fmt,
            quarantine=quarantine or (Path("stdin.quarantine.jsonl") if is_stdio(file) else None),
            on_batch=lambda records: app.output.debug(f"{records} records read"),
            name="stdin" if is_stdio(file) else None,
        )
    app.output.emit(result, _render_import)
    if result.quarantined:
        return exit_after(app, PartialError(
            f"{counted(result.quarantined, 'record')} quarantined in {result.quarantine_file}",
            hint=_fix_hint(result.file),
        ))  # fmt: skip
    return ExitCode.OK


def _fix_hint(file: str) -> str:
    again = "pipe the fixed file in again" if file == "stdin" else f"import {file} again"
    return (
        f"fix those records (the quarantine file names each line) and {again};"
        " nothing is recorded twice"
    )


@contextmanager
def _readable(app: AppContext, file: Path) -> Iterator[Path]:
    """The file to read: FILE itself, or stdin copied to a private temporary file."""
    if not is_stdio(file):
        yield file
        return
    with stdin_as_file(app, "FILE") as copied:
        yield copied


def export(
    ctx: typer.Context,
    file_format: FormatOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file, or - for stdout (the default).",
            dir_okay=False,
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
    if is_stdio(output):
        output = None
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
        f"{counted(data.records, 'record')}: {counted(data.customers_created, 'customer')} added,"
        f" {data.customers_updated:,} updated,"
        f" {counted(data.openings_recorded, 'opening balance')}"
        f" ({counted(data.opening_points, 'point')}), {data.quarantined:,} quarantined"
    )
    if data.openings_already_recorded:
        out.info(f"{data.openings_already_recorded} opening balances were recorded before")
    if data.opening_mismatches:
        lines = ", ".join(str(line) for line in data.mismatch_lines)
        out.warn(
            f"{data.opening_mismatches} records give points that differ from the opening"
            f" balance recorded earlier (lines {lines}); use"
            f" `{command('ledger', 'adjust', 'EMAIL', 'POINTS', '--reason', 'TEXT')}` to change it"
        )


def _render_export(out: Output, data: ExportSummary) -> None:
    where = data.output or "stdout"
    customers, points = counted(data.customers, "customer"), counted(data.points, "point")
    out.success(f"{customers} ({points}) written to {where}")
