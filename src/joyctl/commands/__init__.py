"""Command groups, each in its own module, registered here in one place."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    # Imports stay local: registering must not pull in services or heavy libraries.
    from joyctl.commands import (
        audiences,
        auth,
        backfill,
        config,
        connect,
        ledger,
        profiles,
        program,
        reviews,
        sandbox,
        status,
        triggers,
        webhooks,
    )

    app.command("connect")(connect.connect)
    app.command("disconnect")(connect.disconnect)
    app.command("status")(status.status)
    app.add_typer(auth.app, name="auth")
    app.add_typer(profiles.app, name="profiles")
    app.add_typer(config.app, name="config")
    app.add_typer(ledger.app, name="ledger")
    app.add_typer(program.app, name="program")
    app.add_typer(reviews.app, name="reviews")
    app.add_typer(sandbox.app, name="sandbox")
    app.add_typer(audiences.app, name="audiences")
    app.add_typer(webhooks.app, name="webhooks")
    app.add_typer(backfill.app, name="backfill")
    app.add_typer(triggers.app, name="triggers")

    from joyctl.commands import diagnose, smoke

    app.command("diagnose")(diagnose.diagnose)
    app.command("smoke")(smoke.smoke)
