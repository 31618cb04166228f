"""What the ledger commands share: the email argument and finishing with a failure status."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from joyctl.context import AppContext
from joyctl.errors import JoyctlError

EmailArg = Annotated[str, typer.Argument(help="The customer's email (case and spaces ignored).")]


def exit_after(app: AppContext, error: JoyctlError) -> NoReturn:
    """The result is printed already (under --json too); say what failed on stderr, then exit."""
    if not app.output.json_mode:
        app.output.error(error)
    raise typer.Exit(int(error.exit_code))
