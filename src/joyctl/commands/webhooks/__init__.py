"""`joyctl webhooks`: Klaviyo review webhooks: subscriptions, the receiver, and replays."""

from __future__ import annotations

import typer

from joyctl.commands.webhooks import manage, receive

app = typer.Typer(
    help="Subscribe to Klaviyo review webhooks, receive and verify deliveries, replay them.",
    no_args_is_help=True,
)
app.command("topics")(manage.topics)
app.command("list")(manage.list_)
app.command("create")(manage.create)
app.command("enable")(manage.enable)
app.command("disable")(manage.disable)
app.command("delete")(manage.delete)
app.command("listen")(receive.listen)
app.command("replay")(receive.replay)
