"""Flushing the outbox: every unsent event and profile update, live, each marked once settled.

Events go through the Klaviyo layer's bulk sender (`joyctl.klaviyo.bulk`), several bulk jobs in
flight; profile updates go one by one, or in an import job when there are many. A row Klaviyo
refuses is marked failed with the reason and tried again by later flushes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from joyctl.errors import DataError
from joyctl.klaviyo.bulk.batches import Chunk, Outgoing, Rejected, cut_chunks
from joyctl.klaviyo.bulk.profile_jobs import submit_job, wait_for_job
from joyctl.klaviyo.bulk.sender import (
    DEFAULT_IN_FLIGHT,
    OrderedSender,
    RequestTally,
    SendOutcome,
    send_events,
)
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.bulk_import import MAX_PROFILES_PER_JOB
from joyctl.klaviyo.resources.events import EventInput
from joyctl.klaviyo.resources.profiles import upsert_profile
from joyctl.ledger import outbox
from joyctl.ledger.db import transaction


class PushReport(BaseModel):
    """What one flush of the outbox did."""

    events_sent: int = 0
    events_refused: int = 0
    profiles_sent: int = 0
    profiles_refused: int = 0
    given_up: int = 0
    """Rows refused MAX_ATTEMPTS times already: left in the outbox for a person to look at."""
    requests: int = 0
    throttled: int = 0
    pending: int = 0
    """Rows still unsent after this flush (including those given up)."""


MAX_ATTEMPTS = 5
OUTBOX_PAGE = 1000
# Up to this many profile updates go one by one (quick, no job to poll); more go in a job.
UPSERT_LIMIT = 25


def push_outbox(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    *,
    in_flight: int = DEFAULT_IN_FLIGHT,
    sleep: Callable[[float], None] = time.sleep,
) -> PushReport:
    """Send every unsent outbox event (flows fire: these are live) and profile update.

    Rows are marked sent once Klaviyo accepted them, in the transaction that records it; a row
    Klaviyo refuses is marked failed with the reason and retried by later flushes, up to
    MAX_ATTEMPTS times. Safe to run from several processes: a row sent twice is de-duplicated
    by its `unique_id` (events) or sets the same absolute values again (profiles).
    """
    report = PushReport()
    tally = RequestTally()
    with tally.watching(client):
        _push_events(client, connection, report, in_flight)
        _push_profiles(client, connection, report, sleep)
    report.requests, report.throttled = tally.requests, tally.throttled
    report.pending = outbox.outbox_counts(connection).pending
    return report


def _given_up(row: outbox.OutboxRow) -> bool:
    return row.attempts >= MAX_ATTEMPTS and row.last_error is not None


def _unsent_pages(
    connection: sqlite3.Connection, kind: str, report: PushReport, page: int = OUTBOX_PAGE
) -> Iterator[list[outbox.OutboxRow]]:
    after = 0
    while True:
        rows = list(outbox.iter_unsent(connection, kind=kind, after_id=after, limit=page))
        if not rows:
            return
        after = rows[-1].id
        live = [row for row in rows if not _given_up(row)]
        report.given_up += len(rows) - len(live)
        yield live


def _push_events(
    client: KlaviyoClient, connection: sqlite3.Connection, report: PushReport, in_flight: int
) -> None:
    items = (
        _outbox_event(row) for rows in _unsent_pages(connection, "event", report) for row in rows
    )

    def send(chunk: Chunk) -> SendOutcome:
        return send_events(client, chunk.events, backfill=False)

    with OrderedSender(send, in_flight=in_flight) as sender:
        for chunk, outcome in sender.results(cut_chunks(items)):
            _settle_events(connection, chunk, outcome, report)


def _outbox_event(row: outbox.OutboxRow) -> Outgoing | Rejected:
    payload = row.payload
    position = {"outbox_id": row.id}
    try:
        identifiers = payload["profile"]
        profile = {
            name: str(identifiers[name])
            for name in ("email", "external_id")
            if identifiers.get(name)
        }
        metric = payload["metric"]
        if not isinstance(metric, str) or not metric.strip():
            raise ValueError("it names no metric")
        when = datetime.fromisoformat(payload["time"]) if payload.get("time") else None
        event = EventInput(
            metric,
            dict(payload.get("properties") or {}),
            when,
            str(payload.get("unique_id") or row.unique_id),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"the outbox payload cannot be sent ({type(exc).__name__}: {exc})"
        return Rejected(row.id, reason, payload, position)
    return Outgoing.build(profile, event, origin=row.id, position=position)


def _settle_events(
    connection: sqlite3.Connection, chunk: Chunk, outcome: SendOutcome, report: PushReport
) -> None:
    with transaction(connection):
        outbox.mark_sent(connection, [item.origin for item in outcome.accepted], _stamp())
        for item, reason in outcome.refused:
            outbox.mark_failed(connection, [item.origin], f"Klaviyo refused it: {reason}")
        for bad in chunk.rejected:
            outbox.mark_failed(connection, [bad.origin], bad.reason)
    report.events_sent += len(outcome.accepted)
    report.events_refused += len(outcome.refused) + len(chunk.rejected)


def _push_profiles(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    report: PushReport,
    sleep: Callable[[float], None],
) -> None:
    for rows in _unsent_pages(connection, "profile", report, page=MAX_PROFILES_PER_JOB):
        # Only the newest update of each profile matters: older ones carry stale balances.
        latest = {str(row.payload.get("email", "")).lower(): row.payload for row in rows}
        refused = _send_profiles(client, list(latest.values()), sleep)
        with transaction(connection):
            for row in rows:
                reason = refused.get(str(row.payload.get("email", "")).lower())
                if reason is None:
                    outbox.mark_sent(connection, [row.id], _stamp())
                else:
                    outbox.mark_failed(connection, [row.id], f"Klaviyo refused it: {reason}")
        report.profiles_sent += len(latest) - len(refused)
        report.profiles_refused += len(refused)


def _send_profiles(
    client: KlaviyoClient, profiles: list[dict[str, Any]], sleep: Callable[[float], None]
) -> dict[str, str]:
    """Send the updates; returns the reason for each email Klaviyo refused."""
    if len(profiles) > UPSERT_LIMIT:
        try:
            job_id = submit_job(client, profiles)
        except DataError:
            # Refused as a whole (one malformed profile): one by one, only that one fails.
            return _upsert_each(client, profiles)
        result = wait_for_job(client, job_id, sleep=sleep, errors_kept=len(profiles))
        return {(problem.email or "").lower(): problem.reason for problem in result.problems}
    return _upsert_each(client, profiles)


def _upsert_each(client: KlaviyoClient, profiles: list[dict[str, Any]]) -> dict[str, str]:
    refused: dict[str, str] = {}
    for profile in profiles:
        try:
            upsert_profile(client, profile)
        except DataError as refusal:
            refused[str(profile.get("email", "")).lower()] = refusal.message
    return refused


def _stamp() -> str:
    return datetime.now(UTC).isoformat()
