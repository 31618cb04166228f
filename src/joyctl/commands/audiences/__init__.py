"""`joyctl audiences`: loyalty audiences, their Klaviyo lists, and keeping the two in sync."""

from __future__ import annotations

import typer

from joyctl.commands.audiences import define, lists

app = typer.Typer(
    help="Define loyalty audiences and keep Klaviyo lists in sync with them.",
    no_args_is_help=True,
)
app.command("create", help=define.CREATE_HELP)(define.create)
app.command("list")(define.list_)
app.command("show")(define.show)
app.command("delete")(define.delete)
app.command("map")(lists.map_)
app.command("unmap")(lists.unmap)
app.command("sync")(lists.sync)
