"""What the webhooks commands share: the webhook id argument and the services' dependencies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.context import AppContext

if TYPE_CHECKING:
    from joyctl.services.webhooks.listen import WebhookDeps

WebhookIdArg = Annotated[
    str, typer.Argument(help="The webhook's id, as `joyctl webhooks list` shows it.")
]


def webhook_deps(app: AppContext) -> WebhookDeps:
    """The ledger, the credential store, and a Klaviyo client made only if it is needed; the
    signing secret from JOYCTL_WEBHOOK_SECRET when the environment holds one."""
    from datetime import timedelta

    from joyctl.credentials import webhook_secret_from_environment
    from joyctl.services.webhooks.listen import WebhookDeps, memoized

    profile = app.settings.profile
    return WebhookDeps(
        connection=app.ledger(),
        credentials=app.credentials(),
        klaviyo=memoized(lambda: app.klaviyo().client),
        connection_info=dict(profile.connection),
        ledger_path=app.paths.ledger_file(profile.name),
        lookup_window=timedelta(seconds=profile.review_lookup_window),
        webhook_secret=webhook_secret_from_environment(app.environ),
        public_url=profile.webhook_endpoint,
    )
