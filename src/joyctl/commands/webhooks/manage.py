"""`joyctl webhooks topics|list|create|enable|disable|delete`: the subscriptions in Klaviyo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl import values
from joyctl.command_line import command
from joyctl.commands._args import resource_id
from joyctl.commands._common import (
    InsecureStorageOption,
    app_context,
    confirm_or_require_yes,
    warn_if_program_off,
)
from joyctl.commands.webhooks._shared import WebhookIdArg
from joyctl.output import Output

NAME_LIMIT = 200

if TYPE_CHECKING:
    from joyctl.services.webhooks.subscriptions import DeletedWebhook, TopicsReport, WebhookView


def topics(ctx: typer.Context) -> None:
    """List the account's webhook topics; review topics are marked.

    No review topics means the account does not use Klaviyo Reviews.

    Example: joyctl webhooks topics
    """
    from joyctl.services.webhooks.subscriptions import list_topics

    app = app_context(ctx)
    report = list_topics(app.klaviyo().client)
    app.output.emit(report, _render_topics)
    if not report.review_topics:
        from joyctl.services.webhooks.subscriptions import no_review_topics_hint

        app.output.warn(f"this account offers no review topics; {no_review_topics_hint()}")


def list_(ctx: typer.Context) -> None:
    """List the account's webhook subscriptions: topics, enabled state, whether joyctl
    holds the secret.

    Example: joyctl webhooks list
    """
    from joyctl.services.webhooks.subscriptions import list_subscriptions

    app = app_context(ctx)
    hooks = list_subscriptions(app.klaviyo().client, app.credentials(), app.ledger(), app.environ)
    app.output.emit(hooks, _render_list)


def create(
    ctx: typer.Context,
    endpoint: Annotated[
        str, typer.Option(help="Where Klaviyo delivers: https, or http on loopback only.")
    ],
    topic: Annotated[
        list[str] | None,
        typer.Option(help="Topic id (repeatable); default event:klaviyo.submitted_review."),
    ] = None,
    name: Annotated[str, typer.Option(help="Name shown in Klaviyo.")] = "joyctl reviews",
    insecure_storage: InsecureStorageOption = False,
) -> None:
    """Subscribe an endpoint to review submissions, with a signing secret joyctl keeps.

    The secret is JOYCTL_WEBHOOK_SECRET when that is set (CI and containers: keep it in your
    secret store, and give `webhooks listen` the same variable; joyctl stores it nowhere).
    Otherwise it is generated here, sent to Klaviyo once, and kept where the profile keeps its
    secrets (the keyring, or the 0600 file chosen with --insecure-storage) under the new
    webhook's id. It is never printed. Where it will go is checked before Klaviyo is asked.

    Examples:
      joyctl webhooks create --endpoint https://hooks.example.com/klaviyo/webhooks
      JOYCTL_WEBHOOK_SECRET=... joyctl --profile ci webhooks create --endpoint URL
    """
    from joyctl.services.webhooks.subscriptions import check_endpoint, create_subscription

    app = app_context(ctx)
    app.insecure_storage = app.insecure_storage or insecure_storage
    values.http_url(endpoint, what="--endpoint")  # shape and length; the path is kept as given
    url = check_endpoint(endpoint)
    topics = [resource_id("--topic", one) for one in topic or []]
    name = values.text(name, what="--name", limit=NAME_LIMIT)
    hook = create_subscription(
        app.klaviyo().client,
        app.credentials(),
        app.ledger(),
        endpoint_url=url,
        topic_ids=topics,
        name=name,
        environ=app.environ,
    )
    app.output.emit(hook, _render_created)
    warn_if_program_off(app)


def enable(ctx: typer.Context, webhook_id: WebhookIdArg) -> None:
    """Turn deliveries on for a webhook.

    Example: joyctl webhooks enable 01J0000000000000000000000
    """
    _set_enabled(ctx, webhook_id, enabled=True)


def disable(ctx: typer.Context, webhook_id: WebhookIdArg) -> None:
    """Pause deliveries for a webhook (it and its secret are kept).

    Example: joyctl webhooks disable 01J0000000000000000000000
    """
    _set_enabled(ctx, webhook_id, enabled=False)


def _set_enabled(ctx: typer.Context, webhook_id: str, *, enabled: bool) -> None:
    from joyctl.services.webhooks.subscriptions import set_enabled

    app = app_context(ctx)
    webhook_id = resource_id("WEBHOOK_ID", webhook_id)
    hook = set_enabled(
        app.klaviyo().client, app.credentials(), app.ledger(), webhook_id, enabled=enabled
    )
    state = "enabled" if hook.enabled else "disabled"
    app.output.emit(hook, lambda out, data: out.success(f"webhook {data.id} {state}"))


def delete(
    ctx: typer.Context,
    webhook_id: WebhookIdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a webhook in Klaviyo and forget its secret.

    Example: joyctl webhooks delete 01J0000000000000000000000 --yes
    """
    from joyctl.services.webhooks.subscriptions import delete_subscription

    app = app_context(ctx)
    webhook_id = resource_id("WEBHOOK_ID", webhook_id)
    confirm_or_require_yes(app, f"delete webhook {webhook_id}", yes=yes)
    result = delete_subscription(app.klaviyo().client, app.credentials(), app.ledger(), webhook_id)
    app.output.emit(result, _render_deleted)


def _render_topics(out: Output, data: TopicsReport) -> None:
    out.table(["TOPIC", "REVIEW"], [(t.id, "review" if t.review else "") for t in data.topics])


def _render_list(out: Output, data: list[WebhookView]) -> None:
    if not data:
        out.info(f"no webhooks yet: `{command('webhooks', 'create', '--endpoint', 'URL')}`")
        return
    rows = [
        (
            h.id,
            h.name or "",
            "yes" if h.enabled else "no",
            " ".join(h.topics),
            h.endpoint_url or "",
            h.secret,
        )
        for h in data
    ]
    out.table(["ID", "NAME", "ENABLED", "TOPICS", "ENDPOINT", "SECRET"], rows)


def _render_created(out: Output, data: WebhookView) -> None:
    secret = {"env": "from JOYCTL_WEBHOOK_SECRET (stored nowhere)"}.get(data.secret, data.secret)
    out.fields(
        [
            ("id", data.id),
            ("endpoint", data.endpoint_url),
            ("topics", " ".join(data.topics)),
            ("enabled", "yes" if data.enabled else "no"),
            ("secret", secret),
        ]
    )
    out.success(f"webhook {data.id} created; receive with: {command('webhooks', 'listen')}")


def _render_deleted(out: Output, data: DeletedWebhook) -> None:
    where = "deleted in Klaviyo" if data.deleted_in_klaviyo else "was already gone from Klaviyo"
    secret = "secret removed" if data.secret_removed else "no stored secret"
    out.success(f"webhook {data.id} {where}; {secret}")
