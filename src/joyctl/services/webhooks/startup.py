"""What `webhooks listen` checks as it starts: will anything arrive, and can it be verified?

A listener nobody delivers to, or one that must refuse every delivery, would otherwise sit
silent for weeks. So at start it asks Klaviyo for the account's webhooks and warns when no
enabled one sends submitted reviews, when none points at this listener, or when the signing
secret of those that do is unknown (neither in JOYCTL_WEBHOOK_SECRET nor in the profile's
store). It warns rather than refuses: a listener behind a proxy may know less than Klaviyo,
and the secret may be stored after it started (it is looked up again for each delivery).

Klaviyo masks endpoint URLs (`https://host/*****`), so a webhook joyctl created is compared by
the full URL the ledger kept, and any other by its host when the public URL is known (the
profile's `webhook_endpoint`); one that cannot be told apart counts as pointing here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from joyctl import envvars
from joyctl.command_line import command, then
from joyctl.errors import JoyctlError, RemoteError
from joyctl.klaviyo.models import Webhook
from joyctl.ledger.deliveries import Subscription
from joyctl.services.webhooks.notices import ListenerNotice, notice
from joyctl.services.webhooks.process import SUBMITTED_REVIEW_TOPIC

Aim = Literal["here", "maybe", "elsewhere"]


@dataclass(frozen=True)
class Endpoint:
    """Where this listener can be reached: its own URL, and the public one Klaviyo uses."""

    listen_url: str
    public_url: str | None = None


@dataclass
class StartupReport:
    notices: list[ListenerNotice] = field(default_factory=list)
    webhook_ids: list[str] = field(default_factory=list)  # deliver, or may deliver, here
    klaviyo_answered: bool = False


def check_at_start(
    list_hooks: Callable[[], Sequence[Webhook]],
    ours: Mapping[str, Subscription],
    endpoint: Endpoint,
    *,
    secret_known: Callable[[str], bool],
    env_secret: bool,
) -> StartupReport:
    """The warnings a starting listener gives, and the webhooks whose secret it needs."""
    try:
        hooks = list(list_hooks())
    except JoyctlError as exc:
        return _unchecked(exc, ours, secret_known, env_secret)
    report = StartupReport(klaviyo_answered=True)
    reviews = [h for h in hooks if h.enabled is not False and SUBMITTED_REVIEW_TOPIC in h.topic_ids]
    if not reviews:
        report.notices.append(_no_review_webhook(endpoint))
        return report
    aims = {hook.id: aim(_url_of(hook, ours), endpoint) for hook in reviews}
    report.webhook_ids = [hook_id for hook_id, where in aims.items() if where != "elsewhere"]
    if not report.webhook_ids:
        report.notices.append(_pointed_elsewhere(reviews, ours, endpoint))
        return report
    missing = _secret_missing(report.webhook_ids, secret_known, env_secret)
    if missing is not None:
        report.notices.append(missing)
    return report


def aim(url: str | None, endpoint: Endpoint) -> Aim:
    """Whether a webhook's URL (None or masked when unknown) points at this listener."""
    if not url:
        return "maybe"
    parts = urlsplit(url)
    listen = urlsplit(endpoint.listen_url)
    public = urlsplit(endpoint.public_url) if endpoint.public_url else None
    if "*" in parts.path:  # masked by Klaviyo: only the host can be compared
        if public is None or parts.hostname == public.hostname:
            return "maybe"
        return "here" if parts.hostname == listen.hostname else "elsewhere"
    if _same(url, endpoint.listen_url) or (public is not None and _same(url, endpoint.public_url)):
        return "here"
    # Behind a proxy the public host differs, but the path usually is the listener's own.
    return "here" if parts.path.rstrip("/") == listen.path.rstrip("/") else "elsewhere"


def _same(one: str, other: str | None) -> bool:
    return other is not None and one.rstrip("/").lower() == other.rstrip("/").lower()


def _url_of(hook: Webhook, ours: Mapping[str, Subscription]) -> str | None:
    known = ours.get(hook.id)
    return known.endpoint_url if known is not None else hook.endpoint_url


def _secret_missing(
    webhook_ids: Sequence[str], secret_known: Callable[[str], bool], env_secret: bool
) -> ListenerNotice | None:
    if env_secret or any(_known(secret_known, hook_id) for hook_id in webhook_ids):
        return None
    first = webhook_ids[0]
    return notice(
        "secret_unknown",
        f"the signing secret of webhook {', '.join(webhook_ids)} is not known here: every"
        " delivery from it will be refused (401)",
        hint=(
            f"set {envvars.WEBHOOK_SECRET} to the secret it was created with, or create it again"
            " from this profile: "
            + then(
                command("webhooks", "delete", first, "--yes"),
                command("webhooks", "create", "--endpoint", "URL"),
            )
        ),
    )


def _known(secret_known: Callable[[str], bool], webhook_id: str) -> bool:
    try:
        return secret_known(webhook_id)
    except JoyctlError:
        return False  # an unreadable store is as good as no secret here


def _no_review_webhook(endpoint: Endpoint) -> ListenerNotice:
    url = endpoint.public_url or endpoint.listen_url
    return notice(
        "no_review_webhook",
        f"no enabled webhook in this Klaviyo account sends {SUBMITTED_REVIEW_TOPIC}:"
        " nothing will arrive here",
        hint=f"create one: {command('webhooks', 'create', '--endpoint', url)}",
    )


def _pointed_elsewhere(
    reviews: Sequence[Webhook], ours: Mapping[str, Subscription], endpoint: Endpoint
) -> ListenerNotice:
    targets = ", ".join(f"{hook.id} -> {_url_of(hook, ours)}" for hook in reviews)
    url = endpoint.public_url or endpoint.listen_url
    return notice(
        "not_pointed_here",
        f"no enabled review webhook points at this listener ({url}); Klaviyo sends to: {targets}",
        hint=(
            f"create one for this listener: {command('webhooks', 'create', '--endpoint', url)};"
            " behind a proxy, tell joyctl the public URL:"
            f" {command('config', 'set', 'webhook_endpoint', 'URL')}"
        ),
    )


def _unchecked(
    error: JoyctlError,
    ours: Mapping[str, Subscription],
    secret_known: Callable[[str], bool],
    env_secret: bool,
) -> StartupReport:
    """Klaviyo could not be asked: say so, and judge the secrets of the webhooks joyctl made."""
    code = "klaviyo_unreachable" if isinstance(error, RemoteError) else "webhooks_unchecked"
    report = StartupReport(webhook_ids=list(ours))
    report.notices.append(
        notice(
            code,
            f"could not list the account's webhooks: {error.message}; deliveries are stored"
            " and processed once Klaviyo answers",
            hint=error.hint,
        )
    )
    if ours:
        missing = _secret_missing(list(ours), secret_known, env_secret)
        if missing is not None:
            report.notices.append(missing)
    return report
