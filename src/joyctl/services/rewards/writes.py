"""What one batch of the reward pipeline writes, queued in review order and written together.

The pipeline holds the write lock for the whole batch, so nothing it reads can change under it:
the inbox state, latest decisions, balances and taken idempotency keys of the batch's reviews
are read once up front, and the rows (inbox, point entries, decisions, outbox) are written with
one statement per table at `flush`, before COMMIT. Each table receives its rows in the order
one-by-one writes would have used. Anything out of the ordinary (a revoke, an earn whose key is
already taken) flushes what is queued and goes through `append_entry`, which does every check.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from joyctl.engine import (
    Award,
    Customer,
    MemberStatus,
    Revocation,
    WriteReviewProgram,
    reward_idempotency_key,
)
from joyctl.klaviyo import joy_events
from joyctl.ledger import customers as customer_queries
from joyctl.ledger import outbox
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.entry_batch import EntryBatch
from joyctl.ledger.points import (
    EntryKind,
    NewEntry,
    PointEntry,
    append_entry,
    find_entry_by_key,
)
from joyctl.ledger.triggers import enabled_triggers

REVIEW_SOURCE = "review"

LatestOutcome = tuple[str, str | None, str]
EntryFigures = tuple[int, int, int]
"""A new earn entry's id, points and balance after it."""


@dataclass(frozen=True, slots=True)
class Reviewer:
    """What the pipeline keeps of a matched customer for the whole run, and the engine's view.

    A run keeps one for every email it matched, so only what the writes and the rules read.
    """

    id: int
    email: str
    external_id: str | None
    engine: Customer

    @classmethod
    def of(cls, row: customer_queries.Customer, email: str) -> Reviewer:
        """The reviewer of `row`, matched by `email`: kept as its email text when it is the
        same, so a run holds one copy of the text instead of two."""
        status = MemberStatus(row.member_status)
        engine = Customer(customer_id=str(row.id), status=status)
        kept = email if email == row.email else row.email
        return cls(row.id, kept, row.external_id, engine)


@dataclass(frozen=True, slots=True)
class Written:
    """The entry a decision moved points with (None when none), and the points it moved."""

    entry_id: int | None
    points: int


class BatchWrites:
    """The rows of one batch; `flush` writes them inside the batch's transaction."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        program: WriteReviewProgram,
        stamp: str,
        batch: list[tuple[review_queries.InboxReview, Reviewer | None]],
    ) -> None:
        self.connection, self.program, self.stamp = connection, program, stamp
        ids = [inbox.review_id for inbox, _ in batch]
        self._seen = review_queries.seen_before(connection, ids, stamp)
        self._latest = review_queries.latest_outcomes(
            connection, [i for i in ids if i in self._seen]
        )
        keys = [reward_idempotency_key(review_id, program.program_id) for review_id in ids]
        customers = {customer.id for _, customer in batch if customer is not None}
        self.entries = EntryBatch(connection, customers, keys)
        self._reviews: list[tuple[object, ...]] = []
        self._decisions: list[tuple[object, ...]] = []
        self._outbox: list[tuple[object, ...]] = []
        # The merchant may have turned `Joy: Earn Point` off (`joyctl triggers disable`).
        self._send_earn_event = joy_events.EARN_POINT_METRIC in enabled_triggers(
            connection, joy_events.DEFAULT_ENABLED
        )

    def review(self, inbox: review_queries.InboxReview, customer_id: int | None) -> bool:
        """Queue the inbox upsert; True when the review is new to the inbox."""
        self._reviews.append(review_queries.review_row(inbox, self.stamp, customer_id=customer_id))
        return inbox.review_id not in self._seen

    def latest(self, review_id: str) -> LatestOutcome | None:
        return self._latest.get(review_id)

    def decision(
        self,
        review_id: str,
        outcome: str,
        reason_code: str | None,
        written: Written,
        rule_values: dict[str, Any],
        review_status: str,
    ) -> None:
        """Queue a decision row, decided now, with the entry and points `written` for it."""
        self._decisions.append(
            review_queries.decision_row(
                review_id,
                self.program.program_id,
                outcome,
                reason_code,
                written.points,
                rule_values,
                review_status,
                written.entry_id,
                self.stamp,
            )
        )
        self._latest[review_id] = (outcome, reason_code, review_status)

    def award(self, award: Award, customer: Reviewer, inbox: review_queries.InboxReview) -> Written:
        reviewed_at = award.reviewed_at.isoformat()
        queued = self.entries.append_earn(
            customer.id,
            award.points,
            award.idempotency_key,
            (self.program.program_id, REVIEW_SOURCE, award.review_id),
            award_meta_text(award, reviewed_at),
            award.decided_at,
        )
        if queued is None:
            return self._award_now(award, customer, inbox, reviewed_at)
        entry_id, balance_after = queued
        self._enqueue_award(customer, (entry_id, award.points, balance_after), inbox)
        return Written(entry_id, award.points)

    def _award_now(
        self,
        award: Award,
        customer: Reviewer,
        inbox: review_queries.InboxReview,
        reviewed_at: str,
    ) -> Written:
        """An earn `append_entry` writes at once, with every check (its key taken, say)."""
        entry, created = self._append_now(
            NewEntry(
                customer_id=customer.id,
                kind=EntryKind.EARN,
                delta=award.points,
                idempotency_key=award.idempotency_key,
                program=self.program.program_id,
                source_kind=REVIEW_SOURCE,
                source_id=award.review_id,
                meta=award_meta(award, reviewed_at),
                created_at=award.decided_at,
            )
        )
        if not created:
            return Written(entry.id, 0)
        self._enqueue_award(customer, (entry.id, entry.delta, entry.balance_after), inbox)
        return Written(entry.id, entry.delta)

    def revocation(self, revocation: Revocation, customer: Reviewer) -> Written:
        self.flush()
        earn = find_entry_by_key(self.connection, revocation.reverses_key)
        if earn is None:
            return Written(None, 0)
        entry, created = self._append_now(
            NewEntry(
                customer_id=customer.id,
                kind=EntryKind.REVOKE,
                delta=-revocation.points_awarded,
                idempotency_key=revocation.idempotency_key,
                program=self.program.program_id,
                source_kind=REVIEW_SOURCE,
                source_id=revocation.review_id,
                reverses_id=earn.id,
                reason=f"review {revocation.status.value}",
                meta={"review_id": revocation.review_id},
                created_at=revocation.decided_at,
            )
        )
        if created:
            self._enqueue_profile(customer, entry.id, entry.balance_after)
        return Written(entry.id, entry.delta)

    def flush(self) -> None:
        """Write everything queued; foreign keys need inbox and entries before the rest."""
        if self._reviews:
            review_queries.record_reviews(self.connection, self._reviews)
            self._reviews = []
        self.entries.flush()
        if self._decisions:
            review_queries.record_decisions(self.connection, self._decisions)
            self._decisions = []
        if self._outbox:
            outbox.enqueue_many(self.connection, self._outbox)
            self._outbox = []

    def _append_now(self, new: NewEntry) -> tuple[PointEntry, bool]:
        self.flush()
        appended = append_entry(self.connection, new)
        if appended.created:
            self.entries.note(appended.entry)
        return appended.entry, appended.created

    def _enqueue_award(
        self, customer: Reviewer, entry: EntryFigures, inbox: review_queries.InboxReview
    ) -> None:
        """The outbox rows of a new earn entry: the earn event (unless turned off), the profile."""
        entry_id, points, balance_after = entry
        if self._send_earn_event:
            unique_id = f"joyctl-entry-{entry_id}"
            event = joy_events.earn_point_event_text(
                unique_id=unique_id,
                email=customer.email,
                external_id=customer.external_id,
                program_name=self.program.name,
                points=points,
                balance_after=balance_after,
                time=self.stamp,
                review_id=inbox.review_id,
                product_id=inbox.product_id,
                customer_id=customer.id,
            )
            self._outbox.append(
                outbox.outbox_text_row("event", unique_id, event, self.stamp, customer.id, entry_id)
            )
        self._enqueue_profile(customer, entry_id, balance_after)

    def _enqueue_profile(self, customer: Reviewer, entry_id: int, balance_after: int) -> None:
        profile = joy_events.points_profile_update_text(
            email=customer.email, external_id=customer.external_id, balance=balance_after
        )
        unique_id = f"joyctl-profile-{entry_id}"
        self._outbox.append(
            outbox.outbox_text_row("profile", unique_id, profile, self.stamp, customer.id, entry_id)
        )


def award_meta(award: Award, reviewed_at: str) -> dict[str, object]:
    """The earn entry's meta; `reviewed_at` is `award.reviewed_at.isoformat()`, made once."""
    return {
        "review_id": award.review_id,
        "product_id": award.product_id,
        "reviewed_at": reviewed_at,
        "content_hash": award.content_hash,
        "breakdown": {
            "base": award.breakdown.base,
            "photo_bonus": award.breakdown.photo_bonus,
            "cap_reduction": award.breakdown.cap_reduction,
        },
    }


def award_meta_text(award: Award, reviewed_at: str) -> str:
    """`award_meta(award, reviewed_at)` as `append_entry` stores it (sorted keys, no spaces).

    Formatting this fixed shape directly is several times cheaper than the encoder.
    """
    breakdown = award.breakdown
    return (
        f'{{"breakdown":{{"base":{breakdown.base:d},"cap_reduction":{breakdown.cap_reduction:d},'
        f'"photo_bonus":{breakdown.photo_bonus:d}}},"content_hash":{_json_text(award.content_hash)},'
        f'"product_id":{_json_text(award.product_id)},"review_id":{_quote(award.review_id)},'
        f'"reviewed_at":{_quote(reviewed_at)}}}'
    )


def _json_text(value: str | None) -> str:
    return "null" if value is None else _quote(value)
