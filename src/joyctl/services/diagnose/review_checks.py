"""Checks 5-11: Klaviyo Reviews, the review webhook, missed reviews, moderation, the approval
queue, the program."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from joyctl.command_line import command, then
from joyctl.credentials import webhook_secret_from_environment
from joyctl.klaviyo.models import Review, Webhook
from joyctl.klaviyo.resources.reviews import list_reviews
from joyctl.klaviyo.resources.webhooks import list_webhook_topics, list_webhooks
from joyctl.ledger import reviews as review_queries
from joyctl.services.diagnose.connection_checks import account
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped, warned
from joyctl.services.diagnose.probe import REVIEW_SCAN_LIMIT, Probe

SUBMITTED_REVIEW = "event:klaviyo.submitted_review"
REVIEW_TOPICS = (
    SUBMITTED_REVIEW,
    "event:klaviyo.submitted_rating",
    "event:klaviyo.ready_to_review",
)
WEBHOOK_ENDPOINT_HINT = "https://YOUR-HOST/klaviyo/webhooks"


def _needs_account(probe: Probe, check_id: str, title: str) -> CheckResult | None:
    if account(probe) is None:
        return skipped(check_id, title, "Klaviyo could not be reached with these credentials")
    return None


def check_reviews_enabled(probe: Probe) -> CheckResult:
    title = "Klaviyo Reviews is enabled (review webhook topics exist)"
    blocked = _needs_account(probe, "reviews_enabled", title)
    if blocked:
        return blocked
    fetched = probe.remote("topics", list_webhook_topics)
    if not fetched.ok:
        return skipped("reviews_enabled", title, f"cannot list topics: {fetched.problem}")
    topics = {topic.id for topic in fetched.value}
    found = [topic for topic in REVIEW_TOPICS if topic in topics]
    if SUBMITTED_REVIEW not in topics:
        evidence = [f"{len(topics)} topics, none for submitted reviews"]
        advice = f"enable Klaviyo Reviews in Klaviyo, then run `{command('diagnose')}` again"
        return failed("reviews_enabled", title, evidence, None, advice)
    return passed("reviews_enabled", title, f"review topics: {', '.join(found)}")


def _review_webhooks(probe: Probe) -> list[Webhook] | None:
    fetched = probe.remote("webhooks", list_webhooks)
    if not fetched.ok:
        return None
    return [hook for hook in fetched.value if SUBMITTED_REVIEW in hook.topic_ids]


def check_review_webhook(probe: Probe) -> CheckResult:
    title = "A review-submitted webhook exists, is enabled, and joyctl knows its secret"
    blocked = _needs_account(probe, "review_webhook", title)
    if blocked:
        return blocked
    hooks = _review_webhooks(probe)
    if hooks is None:
        return skipped("review_webhook", title, "cannot list webhooks (see review_scopes)")
    create = command(
        "webhooks", "create", "--endpoint", probe.profile.webhook_endpoint or WEBHOOK_ENDPOINT_HINT
    )
    if not hooks:
        return failed(
            "review_webhook", title, ["no webhook subscribes to submitted reviews"], create
        )
    enabled = [hook for hook in hooks if hook.enabled]
    if not enabled:
        ids = ", ".join(hook.id for hook in hooks)
        return failed(
            "review_webhook",
            title,
            [f"webhook {ids} is disabled"],
            command("webhooks", "enable", hooks[0].id),
        )
    known = [hook for hook in enabled if _secret_known(probe, hook.id)]
    if not known:
        evidence = [
            f"webhook {enabled[0].id} is enabled, but its secret is not in this profile's store"
        ]
        delete = command("webhooks", "delete", enabled[0].id, "--yes")
        return failed("review_webhook", title, evidence, then(delete, create))
    return passed("review_webhook", title, f"webhook {known[0].id} enabled, secret known")


def _secret_known(probe: Probe, webhook_id: str) -> bool:
    if webhook_secret_from_environment(probe.environ) is not None:
        return True  # JOYCTL_WEBHOOK_SECRET: the listener verifies every webhook with it
    try:
        return probe.store.read_webhook_secret(webhook_id) is not None
    except Exception:  # noqa: BLE001 - an unreadable keyring means "not known" here
        return False


def klaviyo_reviews_since(probe: Probe) -> list[Review] | None:
    since = probe.since or probe.connected_at
    fetched = probe.remote(
        "reviews_since",
        lambda client: list(
            list_reviews(client, created_from=since, limit=REVIEW_SCAN_LIMIT, page_size=100)
        ),
    )
    return fetched.value if fetched.ok else None


def check_missed_reviews(probe: Probe) -> CheckResult:
    title = "Reviews written since the connection reached joyctl"
    blocked = _needs_account(probe, "missed_reviews", title)
    if blocked:
        return blocked
    reviews = klaviyo_reviews_since(probe)
    if reviews is None:
        return skipped("missed_reviews", title, "cannot list reviews (see review_scopes)")
    since = probe.since or probe.connected_at
    seen = review_queries.known_review_ids(probe.connection, [review.id for review in reviews])
    missed = [review for review in reviews if review.id not in seen]
    window = f"since {since.date().isoformat()}" if since else "in Klaviyo"
    if not missed:
        return passed(
            "missed_reviews", title, f"all {len(reviews)} reviews {window} are in the ledger"
        )
    customers = {review.email for review in missed if review.email}
    count = f"{len(missed)} reviews from {len(customers)} customers"
    evidence = [f"{count} {window} not rewarded: they never reached joyctl"]
    newest = max((r.created for r in reviews if r.created), default=None)
    if newest:
        evidence.append(f"newest review in Klaviyo: {newest.isoformat()}")
    window_args = ("--since", since.date().isoformat()) if since else ()
    return failed("missed_reviews", title, evidence, command("reviews", "replay", *window_args))


def check_pending_reviews(probe: Probe) -> CheckResult:
    title = "Reviews held in moderation"
    reviews = klaviyo_reviews_since(probe) if account(probe) is not None else None
    if reviews is None:
        return skipped("pending_reviews", title, "cannot list reviews (see review_scopes)")
    pending = [review for review in reviews if review.status_value == "pending"]
    if not pending:
        return passed("pending_reviews", title, "no review is waiting for moderation")
    evidence = [f"{_reviews(len(pending))} pending in Klaviyo; points arrive once published"]
    advice = "publish them in Klaviyo Reviews (or set auto-approve rules)"
    return warned("pending_reviews", title, evidence, None, advice)


def _reviews(count: int) -> str:
    return "1 review is" if count == 1 else f"{count:,} reviews are"


def check_rejections(probe: Probe) -> CheckResult:
    title = "Engine rejections by reason"
    counts = Counter(review_queries.rejection_counts(probe.connection))
    if not counts:
        return passed("rejections", title, "no review was rejected")
    evidence = [", ".join(f"{reason} {count}" for reason, count in counts.items())]
    evidence.append(f"each review's reason: `{command('reviews', 'show', 'REVIEW_ID')}`")
    return passed("rejections", title, *evidence)


def check_approval_queue(probe: Probe) -> CheckResult:
    title = "No review waits long in the approval queue"
    held = review_queries.held_reviews(probe.connection)
    if not held:
        return passed("approval_queue", title, "no review is waiting for approval")
    oldest = held[0].review
    written = datetime.fromisoformat(oldest.created_at)
    written = written if written.tzinfo else written.replace(tzinfo=UTC)
    days = max((probe.now - written).total_seconds(), 0) / 86400
    evidence = [
        f"{len(held)} reviews are held for approval (manual_approval is on); their authors"
        " get no points until they are approved",
        f"the oldest, {oldest.review_id} by {oldest.email or '?'}, was written"
        f" {oldest.created_at} ({days:.1f} days ago)",
        f"see them first: {command('reviews', 'pending')} (reject one:"
        f" {command('reviews', 'reject', 'ID', '--reason')})",
    ]
    return warned("approval_queue", title, evidence, command("reviews", "approve", "--all"))


def check_program(probe: Probe) -> CheckResult:
    from joyctl.services.rewards.program import current_program

    title = "The write-review program is enabled and running"
    program = current_program(probe.connection)
    if not program.enabled:
        fix = command("program", "set", "enabled", "true")
        return failed("program", title, ["the program is turned off"], fix)
    if not program.is_running_at(probe.now):
        evidence = [f"window {program.starts_at} .. {program.ends_at} does not include now"]
        return failed("program", title, evidence, command("program", "set", "ends_at", "none"))
    return passed(
        "program", title, f"{program.name}: {program.points_per_review} points per review"
    )


def newest(reviews: list[Review]) -> datetime | None:
    return max((review.created for review in reviews if review.created), default=None)
