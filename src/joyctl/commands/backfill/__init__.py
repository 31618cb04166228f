"""`joyctl backfill`: historical events and profile properties into Klaviyo, resumable."""

from __future__ import annotations

import typer

from joyctl.commands.backfill import events, profiles, status

app = typer.Typer(
    help="Send historical loyalty events and profile properties to Klaviyo, paced and resumable.",
    no_args_is_help=True,
)
app.command("events", help=events.EVENTS_HELP)(events.events)
app.command("profiles")(profiles.profiles)
app.command("status")(status.status)
