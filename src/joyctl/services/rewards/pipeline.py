"""Run reviews through the reward engine and apply each decision to the ledger.

Reviews are handled in batches, each in one `BEGIN IMMEDIATE` transaction. Inside the lock the
in-memory engine history first takes in every ledger entry written since it last looked (by
this process or any other), so two processes on one ledger never exceed a limit or award a
review twice; the earn entry's idempotency key makes a repeat a no-op in any case. Applying a
decision writes the inbox row, the decision, the point entry and the outbox rows together:
they are queued in memory and written with one statement per table before COMMIT
(`reward_writes`), so a crash loses nothing already committed and commits nothing half-done.

The approval queue's verdicts (`joyctl reviews approve|reject`) are read for each batch and
handed to the engine as `merchant_approved` / `merchant_rejected`, so a review decided again
later (a replay, a re-delivered webhook) keeps the verdict it was given.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from joyctl.engine import (
    Award,
    ConnectionFacts,
    Decision,
    History,
    ReasonCode,
    Rejection,
    Review,
    Revocation,
    RewardRecord,
    WriteReviewProgram,
    decide,
)
from joyctl.errors import DataError
from joyctl.ledger import customers as customer_queries
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.db import transaction
from joyctl.ledger.points import EntryKind, entries_after, last_entry_id
from joyctl.services.rewards.writes import REVIEW_SOURCE, BatchWrites, Reviewer, Written

__all__ = ["REVIEW_SOURCE", "IncomingReview", "Outcome", "PipelineTally", "RewardPipeline"]

BATCH_SIZE = 250
_NOTHING_WRITTEN = Written(None, 0)


@dataclass(frozen=True, slots=True)
class IncomingReview:
    """A review from any origin, before matching and deciding."""

    engine_review: Review
    inbox: review_queries.InboxReview


@dataclass
class Outcome:
    review_id: str
    email: str | None
    outcome: str
    reason: str | None
    points: int
    rule_values: dict[str, Any]
    changed: bool


@dataclass
class PipelineTally:
    seen: int = 0
    awarded: int = 0
    points: int = 0
    revoked: int = 0
    unchanged: int = 0
    held: int = 0  # held for approval (AWAITING_APPROVAL), not counted among the rejected
    rejected: Counter[str] = field(default_factory=Counter)
    customers: set[str] = field(default_factory=set)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RewardPipeline:
    """Decide and apply reviews for one program against one ledger."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        program: WriteReviewProgram,
        facts: ConnectionFacts,
        *,
        commit: bool = True,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.connection = connection
        self.program = program
        self.facts = facts
        self.commit = commit
        self.clock = clock
        self.history = History()
        self.tally = PipelineTally()
        self._synced_entry_id = 0
        # Reviewers by email for this run: most reviewers write more than one review.
        self._customers: dict[str, Reviewer | None] = {}

    def run(self, reviews: Iterable[IncomingReview]) -> Iterator[Outcome]:
        """Decide every review, batch by batch; yields each outcome after its batch commits."""
        batch: list[IncomingReview] = []
        for review in reviews:
            batch.append(review)
            if len(batch) >= BATCH_SIZE:
                yield from self._run_batch(batch)
                batch = []
        if batch:
            yield from self._run_batch(batch)

    def _run_batch(self, batch: list[IncomingReview]) -> list[Outcome]:
        with transaction(self.connection, rollback=not self.commit):
            return self.decide_batch(batch)

    def decide_batch(self, batch: list[IncomingReview]) -> list[Outcome]:
        """Decide and write one batch inside the caller's transaction (which holds the lock)."""
        self._sync_history()
        # One decision time per batch: the batch is one transaction, decided as one.
        now = self.clock()
        stamp = now.isoformat()
        batch = self._with_verdicts(batch)
        writes = BatchWrites(self.connection, self.program, stamp, self._prefetch(batch))
        outcomes = [self._handle(review, now, writes) for review in batch]
        writes.flush()
        self._synced_entry_id = last_entry_id(self.connection)
        return outcomes

    def _with_verdicts(self, batch: list[IncomingReview]) -> list[IncomingReview]:
        """Each review with the approval queue's verdict on it, if it has one."""
        verdicts = review_queries.approvals_for(
            self.connection, [review.inbox.review_id for review in batch]
        )
        if not verdicts:
            return batch
        return [_with_verdict(review, verdicts.get(review.inbox.review_id)) for review in batch]

    def _sync_history(self) -> None:
        for row in entries_after(self.connection, self._synced_entry_id):
            customer = str(row["customer_id"])
            self._absorb_entry(row, customer)
            self.history.set_balance(customer, row["balance_after"])

    def _absorb_entry(self, row: sqlite3.Row, customer: str) -> None:
        ours = row["program"] == self.program.program_id
        if not ours:
            return
        if row["kind"] == EntryKind.EARN and row["source_kind"] == REVIEW_SOURCE:
            meta = json.loads(row["meta"] or "{}")
            self.history.record_reward(
                RewardRecord(
                    review_id=meta["review_id"],
                    customer_id=customer,
                    product_id=meta.get("product_id"),
                    points=row["delta"],
                    reviewed_at=datetime.fromisoformat(meta["reviewed_at"]),
                    content_hash=meta.get("content_hash"),
                )
            )
        elif row["kind"] == EntryKind.REVOKE and row["target_meta"]:
            target = json.loads(row["target_meta"])
            if "review_id" in target:
                self.history.record_revocation(target["review_id"])

    def _prefetch(
        self, batch: list[IncomingReview]
    ) -> list[tuple[review_queries.InboxReview, Reviewer | None]]:
        """Look up the batch's new reviewers in one statement; pair each review with its match."""
        emails = dict.fromkeys(review.inbox.email for review in batch if review.inbox.email)
        unknown = [email for email in emails if email not in self._customers]
        found = customer_queries.find_customers(self.connection, unknown)
        self._customers.update((email, _reviewer(row, email)) for email, row in found.items())
        # An email find_customers left out stays unmatched here; `_match` reports it in order.
        return [(review.inbox, self._customers.get(review.inbox.email or "")) for review in batch]

    def _handle(self, incoming: IncomingReview, now: datetime, writes: BatchWrites) -> Outcome:
        customer_row = self._match(incoming)
        customer_id = customer_row.id if customer_row is not None else None
        is_new = writes.review(incoming.inbox, customer_id)
        decision = decide(
            incoming.engine_review,
            customer_row.engine if customer_row is not None else None,
            self.history,
            self.program,
            self.facts,
            now,
        )
        written = _NOTHING_WRITTEN
        if isinstance(decision, Award) and customer_row is not None:
            written = writes.award(decision, customer_row, incoming.inbox)
        elif isinstance(decision, Revocation) and customer_row is not None:
            written = writes.revocation(decision, customer_row)
        self.history.apply(decision)
        return self._record(incoming, decision, written, writes, is_new=is_new)

    def _match(self, incoming: IncomingReview) -> Reviewer | None:
        email = incoming.inbox.email
        if not email:
            return None
        if email not in self._customers:
            try:
                found = customer_queries.find_customer(self.connection, email)
            except DataError:
                # A review's email is Klaviyo's data: one that is not an address matches no
                # member (NO_MEMBER) instead of stopping the whole run.
                found = None
            self._customers[email] = _reviewer(found, email)
        return self._customers[email]

    def _record(
        self,
        incoming: IncomingReview,
        decision: Decision,
        written: Written,
        writes: BatchWrites,
        *,
        is_new: bool,
    ) -> Outcome:
        reason = decision.reason.value if isinstance(decision, Rejection) else None
        values = dict(decision.rule_values) if isinstance(decision, Rejection) else {}
        status = incoming.inbox.status
        review_id = incoming.inbox.review_id
        latest = None if is_new else writes.latest(review_id)
        # A repeat of an earlier reward (ALREADY_REWARDED) changes nothing: the earlier
        # decision stands, so no new decision row is written.
        repeat = reason == ReasonCode.ALREADY_REWARDED
        changed = not repeat and latest != (decision.kind, reason, status)
        if changed:
            writes.decision(review_id, decision.kind, reason, written, values, status)
        outcome = Outcome(
            review_id, incoming.inbox.email, decision.kind, reason, written.points, values, changed
        )
        self._count(outcome, decision)
        return outcome

    def _count(self, outcome: Outcome, decision: Decision) -> None:
        tally = self.tally
        tally.seen += 1
        if not outcome.changed:
            tally.unchanged += 1
        elif isinstance(decision, Award) and outcome.points:
            tally.awarded += 1
            tally.points += outcome.points
            tally.customers.add(decision.customer_id)
        elif isinstance(decision, Revocation):
            tally.revoked += 1
        elif outcome.reason == ReasonCode.AWAITING_APPROVAL:
            tally.held += 1
        elif outcome.reason:
            tally.rejected[outcome.reason] += 1


def _reviewer(row: customer_queries.Customer | None, email: str) -> Reviewer | None:
    """What the run keeps of the customer `email` matched, once per email."""
    return None if row is None else Reviewer.of(row, email)


def _with_verdict(
    incoming: IncomingReview, verdict: review_queries.Approval | None
) -> IncomingReview:
    if verdict is None:
        return incoming
    review = replace(
        incoming.engine_review,
        merchant_approved=verdict.verdict == review_queries.APPROVE,
        merchant_rejected=verdict.verdict == review_queries.REJECT,
    )
    return IncomingReview(review, incoming.inbox)
