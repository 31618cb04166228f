"""`diagnose --email` and `--review`: why one customer or one review got no points."""

from __future__ import annotations

from joyctl.command_line import command
from joyctl.klaviyo.resources.reviews import get_review
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.customers import find_customer
from joyctl.ledger.points import current_balance
from joyctl.services.diagnose.connection_checks import account
from joyctl.services.diagnose.model import Focus
from joyctl.services.diagnose.probe import Probe
from joyctl.services.diagnose.review_checks import klaviyo_reviews_since
from joyctl.services.rewards.explain import DecisionRecord, explain


def focus_on_email(probe: Probe, email: str) -> Focus:
    findings: list[str] = []
    customer = find_customer(probe.connection, email)
    if customer is None:
        findings.append(
            f"{email} is not a loyalty member in this ledger: reviews earn nothing (NO_MEMBER)"
        )
    else:
        balance = current_balance(probe.connection, customer.id)
        findings.append(
            f"member {customer.id} ({customer.member_status}), balance {balance} points"
        )
    review_ids = review_queries.review_ids_by_email(probe.connection, email.strip().lower())
    for review_id in review_ids:
        findings.append(f"review {review_id}: {_verdict(probe, review_id)}")
    if account(probe) is not None:
        remote = klaviyo_reviews_since(probe) or []
        known = set(review_ids)
        missing = [
            r.id for r in remote if (r.email or "").lower() == email.lower() and r.id not in known
        ]
        if missing:
            findings.append(
                f"in Klaviyo but never received: {', '.join(missing)}"
                f" (`{command('reviews', 'replay')}`)"
            )
    return Focus(subject=email, findings=findings)


def focus_on_review(probe: Probe, review_id: str) -> Focus:
    findings: list[str] = []
    stored = review_queries.get_review(probe.connection, review_id)
    if stored is None:
        findings.append("not in the ledger: the review never reached joyctl")
    else:
        findings.append(
            f"received by {stored.origin}, status {stored.status}, email {stored.email}"
        )
        findings.append(_verdict(probe, review_id))
    if account(probe) is not None:
        fetched = probe.remote(f"review:{review_id}", lambda client: get_review(client, review_id))
        if fetched.ok:
            findings.append(
                f"in Klaviyo: status {fetched.value.status_value}, created {fetched.value.created}"
            )
        elif fetched.error is not None:
            findings.append(f"Klaviyo: {fetched.error.message}")
    return Focus(subject=f"review {review_id}", findings=findings)


def _verdict(probe: Probe, review_id: str) -> str:
    latest = review_queries.latest_decision(probe.connection, review_id)
    if latest is None:
        return "no decision yet"
    record = DecisionRecord(
        outcome=latest.outcome,
        reason=latest.reason_code,
        points=latest.points,
        rule_values=latest.rule_values,
        review_status=latest.review_status,
        entry_id=latest.entry_id,
        decided_at=latest.decided_at,
    )
    return explain(record)
