"""`joyctl program`: the write-review program's rules, versioned in the profile's ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._args import LIST_LIMIT_MAX, input_file
from joyctl.commands._common import app_context
from joyctl.commands._files import is_stdio, stdin_as_file
from joyctl.errors import UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.rewards.program import ProgramChange, ProgramHistory, ProgramView

app = typer.Typer(
    help="Show and change the write-review program (every change is kept with its time).",
    no_args_is_help=True,
)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Show every program setting: its value, its default and what it does.

    The program is the latest version recorded in the ledger, or the defaults before any change.
    """
    from joyctl.services.rewards.program import show_program

    app = app_context(ctx)
    app.output.emit(show_program(app.ledger()), _render_show)


# ignore_unknown_options lets a negative VALUE through to validation instead of reading as a flag.
@app.command("set", context_settings={"ignore_unknown_options": True})
def set_(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(help="Setting name; `joyctl program show` lists them.")
    ] = None,
    value: Annotated[
        str | None, typer.Argument(help="New value, e.g. true, 75, week, off, 2026-01-01T00:00Z.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="A TOML file of `key = value` lines to set; - for stdin.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Change one setting, or those a TOML file names; validated before anything is saved.

    Exit 2 names the bad key or value. Settings not named keep their value.

    Example: joyctl program set points_per_review 75
    """
    from joyctl.services.rewards.program import (
        check_setting_names,
        read_program_file,
        set_program_from_file,
        set_program_value,
    )

    app = app_context(ctx)
    # The file and the key are checked before the ledger opens: a refused command changes nothing.
    if from_file is not None and key is None:
        if is_stdio(from_file):
            with stdin_as_file(app, "--from-file", ".toml") as copied:
                data = read_program_file(copied)
        else:
            data = read_program_file(input_file("--from-file", from_file))
        result = set_program_from_file(app.ledger(), data)
    elif from_file is None and key is not None and value is not None:
        check_setting_names([key])
        result = set_program_value(app.ledger(), key, value)
    else:
        raise UsageError(
            "give KEY VALUE, or --from-file FILE",
            hint=f"see `{command('program', 'set', '--help', profile=None)}`",
        )
    app.output.emit(result, _render_set)


@app.command("history")
def history(
    ctx: typer.Context,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=1, max=LIST_LIMIT_MAX, help="Versions to show (1-10000)."
        ),
    ] = 20,
) -> None:
    """List the program's recorded versions, newest first, with the keys each one changed."""
    from joyctl.services.rewards.program import program_history

    app = app_context(ctx)
    app.output.emit(program_history(app.ledger(), limit=limit), _render_history)


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render_show(out: Output, data: ProgramView) -> None:
    if data.version is None:
        out.info(f"program {data.program_id}: defaults (never changed)")
    else:
        out.info(f"program {data.program_id}: version {data.version} of {data.changed_at}")
    rows = [
        (row.key, _text(row.value), _text(row.default), row.description) for row in data.settings
    ]
    out.table(["KEY", "VALUE", "DEFAULT", "DESCRIPTION"], rows)


def _render_set(out: Output, data: ProgramChange) -> None:
    if not data.changed:
        out.info("nothing changed")
        return
    values = data.program.model_dump(mode="json")
    for key in data.changed_keys:
        out.success(f"{key} = {_text(values[key])}")
    out.info(f"recorded as version {data.version} at {data.changed_at}")


def _render_history(out: Output, data: ProgramHistory) -> None:
    rows = [(v.version, v.changed_at, ", ".join(v.changed_keys)) for v in data.versions]
    out.table(["VERSION", "CHANGED AT", "CHANGED KEYS"], rows)
