"""`joyctl reviews`: simulate, list and explain decisions (replay and submit live beside them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from joyctl.engine import ConnectionFacts, WriteReviewProgram
from joyctl.errors import DataError, UsageError
from joyctl.files import limits
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.connections import first_connected_at
from joyctl.services.rewards.pipeline import IncomingReview, Outcome, PipelineTally, RewardPipeline
from joyctl.services.rewards.sources import Completion, ReviewFile


class DecisionView(BaseModel):
    review_id: str
    email: str | None
    outcome: str
    reason: str | None
    points: int
    rule_values: dict[str, Any]


class RunSummary(BaseModel):
    committed: bool
    reviews: int
    awarded: int
    points: int
    customers: int
    revoked: int
    unchanged: int
    held: int = 0
    """Held for approval (listed by `reviews pending`); not counted in `rejected`."""
    rejected: dict[str, int]


class SimulationReport(BaseModel):
    decisions: list[DecisionView]
    summary: RunSummary
    generated_ids: list[str] = []
    """Ids made up for reviews given without one (each simulation gets its own)."""
    quarantined: int = 0
    """Reviews of a file that could not be used, set aside in `quarantine_file`."""
    quarantine_file: str | None = None


def connection_facts(connection_info: dict[str, Any]) -> ConnectionFacts:
    connected = connection_info.get("connected_at")
    if not connected:
        return ConnectionFacts(None)
    try:
        return ConnectionFacts(limits.moment(connected, "connected_at"))
    except DataError as exc:
        raise UsageError(exc.message, hint="e.g. 2026-01-01") from None


def program_connection_facts(
    info: dict[str, Any], ledger: sqlite3.Connection | None = None
) -> ConnectionFacts:
    """When the review app was first connected to this account.

    Reconnecting (for example to grant the review-webhook scopes Klaviyo began to require)
    refreshes the grant but does not restart the integration: reviews written since the first
    connection still earn points. The ledger's connection history keeps that first date.
    """
    facts = connection_facts(info)
    account_id = info.get("account_id")
    if ledger is None or not account_id:
        return facts
    first_stamp = first_connected_at(ledger, account_id)
    first = connection_facts({"connected_at": first_stamp}).connected_at if first_stamp else None
    candidates = [moment for moment in (first, facts.connected_at) if moment is not None]
    return ConnectionFacts(min(candidates) if candidates else None)


def summarize(tally: PipelineTally, *, committed: bool) -> RunSummary:
    return RunSummary(
        committed=committed,
        reviews=tally.seen,
        awarded=tally.awarded,
        points=tally.points,
        customers=len(tally.customers),
        revoked=tally.revoked,
        unchanged=tally.unchanged,
        held=tally.held,
        rejected=dict(sorted(tally.rejected.items())),
    )


def decision_view(outcome: Outcome) -> DecisionView:
    """What simulate, replay and approvals show of one decision."""
    return DecisionView(
        review_id=outcome.review_id,
        email=outcome.email,
        outcome=outcome.outcome,
        reason=outcome.reason,
        points=outcome.points,
        rule_values=outcome.rule_values,
    )


def simulate_reviews(
    connection: sqlite3.Connection,
    program: WriteReviewProgram,
    facts: ConnectionFacts,
    reviews: Iterable[IncomingReview],
    *,
    commit: bool,
    generated_ids: list[str] | None = None,
) -> SimulationReport:
    """Decide reviews against the ledger as it is; write nothing unless `commit`.

    `generated_ids` is filled while `reviews` is read: the ids made up for reviews without one.
    """
    pipeline = RewardPipeline(connection, program, facts, commit=commit)
    if commit:
        reviews = _not_someone_elses(connection, reviews)
    decisions = [decision_view(outcome) for outcome in pipeline.run(reviews)]
    if not commit:
        # Without writing, points are what an award *would* bring: report the engine's figure.
        decisions = [_would_award(view, pipeline) for view in decisions]
    return SimulationReport(
        decisions=decisions,
        summary=summarize(pipeline.tally, committed=commit),
        generated_ids=list(generated_ids or []),
    )


def _not_someone_elses(
    connection: sqlite3.Connection, reviews: Iterable[IncomingReview]
) -> Iterator[IncomingReview]:
    """Refuse to commit a review under an id the ledger holds for another reviewer."""
    for incoming in reviews:
        stored = review_queries.get_review(connection, incoming.inbox.review_id)
        if stored is not None and stored.email != incoming.inbox.email:
            raise UsageError(
                f"review {stored.review_id} is already in the ledger for {stored.email or '?'}",
                hint="leave --id out (each simulation then gets its own id) or choose another",
            )
        yield incoming


def simulate_review_file(
    connection: sqlite3.Connection,
    program: WriteReviewProgram,
    facts: ConnectionFacts,
    path: Path,
    *,
    commit: bool,
    quarantine: Path | None = None,
    complete: Completion | None = None,
    generated_ids: list[str] | None = None,
) -> SimulationReport:
    """Decide the reviews of a file; those that cannot be used go to its quarantine file."""
    reviews = ReviewFile(path, origin="simulate", quarantine=quarantine, complete=complete)
    with closing(reviews):
        report = simulate_reviews(
            connection, program, facts, reviews, commit=commit, generated_ids=generated_ids
        )
    count = reviews.quarantine.count
    where = str(reviews.quarantine.path) if count else None
    return report.model_copy(update={"quarantined": count, "quarantine_file": where})


def _would_award(view: DecisionView, pipeline: RewardPipeline) -> DecisionView:
    record = pipeline.history.reward_for(view.review_id)
    if view.outcome == "award" and record is not None:
        return view.model_copy(update={"points": record.points})
    return view
