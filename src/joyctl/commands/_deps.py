"""What several commands hand to their services, built from the command's context.

Services never see the AppContext: they receive these small bundles of values and callables.
A bundle more than one command builds lives here, so no command module imports another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from joyctl.context import AppContext

if TYPE_CHECKING:
    from joyctl.services.connection.facts import ConnectionDeps
    from joyctl.services.diagnose.run import DiagnoseDeps


def connection_deps(app: AppContext) -> ConnectionDeps:
    """What the connection services need (connect, disconnect, status, diagnose --fix)."""
    from joyctl.services.connection.facts import ConnectionDeps

    settings = app.settings
    base_url = app.klaviyo_base_url()  # first: the sandbox profile is seeded on first use
    return ConnectionDeps(
        settings=settings,
        profile=settings.profile,
        base_url=base_url,
        store=app.credentials(),
        environ=app.environ,
        hooks=app.client_hooks(),
        ledger=app.ledger,
        oauth_client=app.oauth_client,
    )


def diagnose_deps(app: AppContext) -> DiagnoseDeps:
    """What diagnose reads about the active profile, taken afresh each time it is asked."""
    from joyctl.services.diagnose.run import DiagnoseDeps

    connection = app.ledger()  # first: the sandbox profile is seeded on first use
    return DiagnoseDeps(
        profile=app.settings.profile,
        connection=connection,
        store=app.credentials(),
        environ=app.environ,
        open_client=lambda: app.klaviyo().client,
    )
