"""`joyctl ledger`: the profile's SQLite ledger: balances, history, adjustments, files, checks."""

from __future__ import annotations

import typer

from joyctl.commands.ledger import balances, checks, files

app = typer.Typer(
    help="Customers' points, the ledger's files and checks (exit 3: a damaged ledger; 6: verify"
    " failed; 7: rows quarantined).",
    no_args_is_help=True,
)
app.command("path")(checks.path_)
app.command("backup")(checks.backup)
app.command("restore")(checks.restore)
app.command("balance")(balances.balance)
app.command("history")(balances.history)
# ignore_unknown_options lets a negative POINTS through instead of reading it as a flag.
app.command("adjust", context_settings={"ignore_unknown_options": True})(balances.adjust)
app.command("import", help=files.IMPORT_HELP)(files.import_)
app.command("export")(files.export)
app.command("verify")(checks.verify)
