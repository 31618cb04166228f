"""What the audiences commands share: the audience name argument."""

from __future__ import annotations

from typing import Annotated

import typer

NameArg = Annotated[str, typer.Argument(help="The audience's name (case is ignored).")]
