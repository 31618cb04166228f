"""`joyctl reviews`: run Klaviyo reviews through the reward engine, release the approval queue,
and explain the decisions."""

from __future__ import annotations

import typer

from joyctl.commands.reviews import approval, explain, live, simulate

app = typer.Typer(
    help="Simulate, replay, submit, approve and explain Klaviyo review rewards.",
    no_args_is_help=True,
)
app.command("simulate")(simulate.simulate)
app.command("replay")(live.replay)
app.command("submit")(live.submit)
app.command("list")(explain.list_)
app.command("show")(explain.show)
app.command("pending")(approval.pending)
app.command("approve")(approval.approve)
app.command("reject")(approval.reject)
