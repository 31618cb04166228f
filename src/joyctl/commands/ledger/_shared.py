"""What the ledger commands share: the email argument."""

from __future__ import annotations

from typing import Annotated

import typer

EmailArg = Annotated[str, typer.Argument(help="The customer's email (case and spaces ignored).")]
