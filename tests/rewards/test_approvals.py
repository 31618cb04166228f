"""The manual-approval queue on a real ledger: held, approved, rejected, each once, in one go."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl.engine import ConnectionFacts, WriteReviewProgram, program_from_mapping
from joyctl.errors import NotFoundError, UsageError
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.services.rewards.approvals import (
    ApprovalSelection,
    excerpt,
    pending_reviews,
    record_verdict,
)
from joyctl.services.rewards.explain import explain_review
from joyctl.services.rewards.reviews import simulate_reviews
from joyctl.services.rewards.sources import incoming_from_fields

CONNECTED = datetime(2026, 1, 1, tzinfo=UTC)
FACTS = ConnectionFacts(CONNECTED)
TEXT = "This tea is wonderful, smooth and fragrant; I brew it every morning."


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    with transaction(connection):
        for email in ("ann@example.com", "bob@example.com"):
            upsert_customer(connection, CustomerFields(email=email))
    yield connection
    connection.close()


def _program(**overrides: Any) -> WriteReviewProgram:
    return program_from_mapping({"enabled": True, "manual_approval": True, **overrides})


def _hold(
    ledger: sqlite3.Connection, *ids: str, email: str = "ann@example.com", days: int = 1
) -> None:
    reviews = [
        incoming_from_fields(
            {
                "id": review_id,
                "email": email,
                "content": f"{TEXT} {review_id}",
                "product_id": f"product-{review_id}",
                "status": "published",
                "created": (CONNECTED + timedelta(days=days, minutes=n)).isoformat(),
            },
            origin="test",
        )
        for n, review_id in enumerate(ids)
    ]
    report = simulate_reviews(ledger, _program(), FACTS, reviews, commit=True)
    assert report.summary.held == len(ids)


def _again(review_id: str) -> Any:
    """The same review delivered again later (a replay, a re-sent webhook)."""
    fields = {"id": review_id, "email": "ann@example.com", "content": TEXT, "status": "published"}
    return incoming_from_fields(fields, origin="replay")


def _approve(ledger: sqlite3.Connection, *ids: str, **program: Any) -> Any:
    selection = ApprovalSelection(review_ids=list(ids))
    return record_verdict(
        ledger, _program(**program), FACTS, selection, verdict="approve", decided_by="alice"
    )


def _count(ledger: sqlite3.Connection, sql: str) -> int:
    return int(ledger.execute(sql).fetchone()[0])


def test_held_reviews_are_listed_oldest_first(ledger: sqlite3.Connection) -> None:
    _hold(ledger, "r2", days=2)
    _hold(ledger, "r1", days=1)
    now = CONNECTED + timedelta(days=3)
    queue = pending_reviews(ledger, now=now)
    assert [item.review_id for item in queue] == ["r1", "r2"]
    first = queue[0]
    assert (first.email, first.product_id, first.customer_id) == (
        "ann@example.com",
        "product-r1",
        1,
    )
    assert first.age_seconds == 2 * 86400
    assert first.excerpt.startswith("This tea is wonderful")


def test_approving_awards_once_with_its_outbox_rows_and_who(ledger: sqlite3.Connection) -> None:
    _hold(ledger, "r1")
    report = _approve(ledger, "r1")
    assert (report.awarded, report.points, report.still_rejected) == (1, 50, 0)
    assert report.reviews[0].explanation == "awarded 50 points"
    assert pending_reviews(ledger) == []
    kinds = [row[0] for row in ledger.execute("SELECT kind FROM outbox ORDER BY id")]
    assert kinds == ["event", "profile"]
    event = json.loads(
        ledger.execute("SELECT payload FROM outbox WHERE kind='event'").fetchone()[0]
    )
    assert event["metric"] == "Joy: Earn Point"
    shown = explain_review(ledger, "r1")
    assert shown.approval is not None
    assert (shown.approval.verdict, shown.approval.decided_by) == ("approve", "alice")
    assert shown.explanation == "awarded 50 points"
    approved_at = ledger.execute("SELECT approved_at FROM reviews").fetchone()[0]
    assert approved_at == report.decided_at

    # A replay decides it again: the verdict stands, nothing is awarded twice.
    again = simulate_reviews(
        ledger,
        _program(),
        FACTS,
        [_again("r1")],
        commit=True,
    )
    assert again.summary.held == 0
    assert _count(ledger, "SELECT count(*) FROM point_entries") == 1


def test_an_approved_review_may_still_be_refused_by_another_rule(
    ledger: sqlite3.Connection,
) -> None:
    _hold(ledger, "r1", "r2")
    # One reward per customer per day, and both were written the same day.
    report = _approve(ledger, "r1", "r2", frequency_limit=1, frequency_period_days=1)
    outcomes = {r.review_id: (r.outcome, r.reason) for r in report.reviews}
    assert outcomes == {"r1": ("award", None), "r2": ("reject", "RATE_LIMIT")}
    assert report.still_rejected == 1
    assert "RATE_LIMIT" in report.reviews[1].explanation


def test_rejecting_records_the_reason_and_earns_nothing(ledger: sqlite3.Connection) -> None:
    _hold(ledger, "r1")
    selection = ApprovalSelection(review_ids=["r1"])
    report = record_verdict(
        ledger, _program(), FACTS, selection, verdict="reject", decided_by="bob", reason="spam"
    )
    assert (report.reviews[0].outcome, report.reviews[0].reason) == ("reject", "MERCHANT_REJECTED")
    shown = explain_review(ledger, "r1")
    assert shown.approval is not None and shown.approval.reason == "spam"
    # Turning manual approval off later does not bring a rejected review back.
    again = simulate_reviews(
        ledger,
        _program(manual_approval=False),
        FACTS,
        [_again("r1")],
        commit=True,
    )
    assert again.decisions[0].reason == "MERCHANT_REJECTED"
    assert _count(ledger, "SELECT count(*) FROM point_entries") == 0


def test_a_verdict_is_final_and_a_bad_id_changes_nothing(ledger: sqlite3.Connection) -> None:
    _hold(ledger, "r1", "r2")
    with pytest.raises(NotFoundError):
        _approve(ledger, "r1", "nope")
    assert _count(ledger, "SELECT count(*) FROM review_approvals") == 0
    _approve(ledger, "r1")
    with pytest.raises(UsageError, match="already approved by alice"):
        _approve(ledger, "r1")
    with pytest.raises(sqlite3.IntegrityError, match="final"):
        ledger.execute("DELETE FROM review_approvals")


def test_all_since_approves_only_the_later_ones(ledger: sqlite3.Connection) -> None:
    _hold(ledger, "old", days=1)
    _hold(ledger, "new", days=5)
    selection = ApprovalSelection(all_held=True, since=CONNECTED + timedelta(days=3))
    report = record_verdict(
        ledger, _program(), FACTS, selection, verdict="approve", decided_by="alice"
    )
    assert [r.review_id for r in report.reviews] == ["new"]
    assert [item.review_id for item in pending_reviews(ledger)] == ["old"]


@pytest.mark.parametrize(
    ("selection", "verdict", "reason", "message"),
    [
        (ApprovalSelection(), "approve", None, "which reviews"),
        (ApprovalSelection(review_ids=["r1"], all_held=True), "approve", None, "not both"),
        (ApprovalSelection(review_ids=["r1"], since=CONNECTED), "approve", None, "--since"),
        (ApprovalSelection(review_ids=["r1"]), "reject", " ", "needs a reason"),
    ],
)
def test_unclear_requests_are_usage_errors(
    ledger: sqlite3.Connection,
    selection: ApprovalSelection,
    verdict: Any,
    reason: Any,
    message: str,
) -> None:
    with pytest.raises(UsageError, match=message):
        record_verdict(
            ledger, _program(), FACTS, selection, verdict=verdict, decided_by="x", reason=reason
        )


@given(st.text(max_size=300), st.integers(min_value=5, max_value=120))
def test_an_excerpt_is_one_short_line(text: str, width: int) -> None:
    shown = excerpt(text, width)
    assert len(shown) <= width
    assert "\n" not in shown
    flat = " ".join(text.split())
    assert shown == flat or shown.endswith("…")
