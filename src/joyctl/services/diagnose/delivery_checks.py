"""Deliveries arriving, signature failures among the deliveries joyctl stored, and review events
whose review could not be found."""

from __future__ import annotations

from datetime import datetime

from joyctl.command_line import command, then
from joyctl.ledger.deliveries import delivery_stats, unmatched_events
from joyctl.services.diagnose.connection_checks import account
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped, warned
from joyctl.services.diagnose.probe import Probe
from joyctl.services.diagnose.review_checks import klaviyo_reviews_since, newest

LISTEN_ADVICE = "run it where the profile's public webhook_endpoint URL reaches"


def check_deliveries(probe: Probe) -> CheckResult:
    title = "Review webhook deliveries are arriving"
    stats = delivery_stats(probe.connection)
    reviews = klaviyo_reviews_since(probe) if account(probe) is not None else None
    if reviews is None:
        return skipped("deliveries", title, "cannot list reviews (see review_scopes)")
    latest_review = newest(reviews)
    if latest_review is None:
        return passed("deliveries", title, "no review written since the connection")
    last = stats.last_review_event_at or stats.last_received_at
    evidence = [f"newest review in Klaviyo: {latest_review.isoformat()}"]
    evidence.append(f"last delivery received: {last or 'never'}")
    if last is None or datetime.fromisoformat(last) < latest_review:
        return warned("deliveries", title, evidence, command("webhooks", "listen"), LISTEN_ADVICE)
    if stats.unprocessed:
        evidence.append(f"{stats.unprocessed} stored deliveries not processed yet")
        return warned("deliveries", title, evidence, command("webhooks", "replay"))
    return passed("deliveries", title, *evidence)


def check_signature_failures(probe: Probe) -> CheckResult:
    title = "No stored delivery failed its signature check"
    stats = delivery_stats(probe.connection)
    if not stats.total:
        return passed("signatures", title, "no delivery stored yet")
    if stats.signature_failures:
        evidence = [
            f"{stats.signature_failures} of {stats.total} deliveries failed verification,"
            f" last at {stats.last_signature_failure_at}",
            "usually a webhook re-created elsewhere with a secret this profile does not know",
        ]
        endpoint = probe.profile.webhook_endpoint or "URL"
        fix = then(
            command("webhooks", "delete", "ID", "--yes"),
            command("webhooks", "create", "--endpoint", endpoint),
        )
        return failed("signatures", title, evidence, fix, "ID: the webhook `webhooks list` shows")
    return passed("signatures", title, f"{stats.verified} of {stats.total} deliveries verified")


def check_unmatched_events(probe: Probe) -> CheckResult:
    title = "Every review webhook event was matched to its review"
    found = unmatched_events(probe.connection)
    if not found.count:
        return passed("unmatched_events", title, "no review event is waiting to be matched")
    evidence = [
        f"{found.count} review events are kept unmatched since {found.oldest_seen_at}: they"
        " name no review id, and no single review matched their time, email and product",
        *(f"event {ext} (delivery {delivery}): {why}" for ext, delivery, why in found.examples),
        f"`{command('webhooks', 'replay')}` looks them up again; the review_lookup_window setting"
        " widens the search",
    ]
    since = (found.oldest_seen_at or "")[:10]
    replay = command("reviews", "replay", *(("--since", since) if since else ()))
    return failed("unmatched_events", title, evidence, then(replay, command("webhooks", "replay")))
