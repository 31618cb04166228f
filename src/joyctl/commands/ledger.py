"""`joyctl ledger`: the profile's SQLite ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from joyctl.commands._common import app_context
from joyctl.output import Output

app = typer.Typer(help="Inspect and protect the profile's local ledger.", no_args_is_help=True)


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


def _render_backup(out: Output, data: Any) -> None:
    out.success(
        f"ledger copied to {data.backup} ({data.bytes} bytes, schema {data.schema_version})"
    )
