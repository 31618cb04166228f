"""Sending events to Klaviyo in bulk jobs, several in flight, results handed back in order.

Backfills and the outbox share this path. Chunks (from `backfill_batches`) are sent on worker
threads through the client, which paces each operation and retries what is safe to retry; every
event carries a `unique_id`, so a bulk job is safe to repeat. Results come back in input order,
so the caller checkpoints only what was accepted together with everything before it.

When Klaviyo refuses a bulk job as invalid, the job is halved until the events it blames stand
alone: those are refused one by one and all the others still arrive.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel

from joyctl.errors import DataError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.bulk_import import MAX_PROFILES_PER_JOB
from joyctl.klaviyo.resources.events import EventInput, ProfileEvents, bulk_create_events
from joyctl.klaviyo.resources.profiles import upsert_profile
from joyctl.ledger import outbox
from joyctl.ledger.db import transaction
from joyctl.services.backfill.batches import Chunk, Outgoing, Rejected, cut_chunks
from joyctl.services.backfill.profile_jobs import submit_job, wait_for_job

DEFAULT_IN_FLIGHT = 2
_WAIT_SLICE = 0.25  # seconds; short waits keep Ctrl-C prompt while results are awaited


class RequestTally:
    """Counts the API requests a run makes and the 429s it meets, from the client's hooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.throttled = 0

    def _on_request(self, request: httpx.Request) -> None:
        if "/api/" in request.url.path:
            with self._lock:
                self.requests += 1

    def _on_response(self, response: httpx.Response) -> None:
        if response.status_code == 429:
            with self._lock:
                self.throttled += 1

    @contextmanager
    def watching(self, client: KlaviyoClient) -> Iterator[RequestTally]:
        # The client's own hooks cannot see retries from outside; httpx's hooks see each attempt.
        hooks = client.http.event_hooks
        hooks["request"].append(self._on_request)
        hooks["response"].append(self._on_response)
        try:
            yield self
        finally:
            hooks["request"].remove(self._on_request)
            hooks["response"].remove(self._on_response)


@dataclass
class SendOutcome:
    accepted: list[Outgoing] = field(default_factory=list)
    refused: list[tuple[Outgoing, str]] = field(default_factory=list)


def send_events(
    client: KlaviyoClient, events: Sequence[Outgoing], *, backfill: bool
) -> SendOutcome:
    """One bulk job; split in halves while Klaviyo refuses it for events it contains."""
    if not events:
        return SendOutcome()
    try:
        bulk_create_events(client, _profile_groups(events, backfill))
    except DataError as refusal:
        if not _blames_events(refusal):
            raise
        if len(events) == 1:
            return SendOutcome(refused=[(events[0], refusal.message)])
        middle = len(events) // 2
        first = send_events(client, events[:middle], backfill=backfill)
        second = send_events(client, events[middle:], backfill=backfill)
        return SendOutcome(first.accepted + second.accepted, first.refused + second.refused)
    return SendOutcome(accepted=list(events))


def _blames_events(refusal: DataError) -> bool:
    """A refusal pointing into the events (or at the payload size) is about some of them;
    anything else (a header, the account) would fail every half alike, so it is not split."""
    return "events-bulk-create" in refusal.message or "(413)" in refusal.message


def _profile_groups(events: Sequence[Outgoing], backfill: bool) -> list[ProfileEvents]:
    grouped: dict[tuple[tuple[str, str], ...], tuple[Outgoing, list[EventInput]]] = {}
    for item in events:
        entry = grouped.setdefault(item.profile_key, (item, []))
        entry[1].append(item.event)
    return [
        ProfileEvents(first.profile, members, backfill=backfill)
        for first, members in grouped.values()
    ]


class _Task:
    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.done = threading.Event()
        self.outcome: SendOutcome | None = None
        self.error: BaseException | None = None

    def finish(self, outcome: SendOutcome | None, error: BaseException | None = None) -> None:
        self.outcome, self.error = outcome, error
        self.done.set()


class OrderedSender:
    """Sends chunks on up to `in_flight` threads and yields their outcomes in input order.

    Workers are daemon threads, so an interrupted run returns at once instead of waiting out a
    pacing sleep. A request cut off that way was not checkpointed: the resumed run sends it
    again and Klaviyo keeps one copy of each `unique_id`.
    """

    def __init__(
        self, send: Callable[[Chunk], SendOutcome], *, in_flight: int = DEFAULT_IN_FLIGHT
    ) -> None:
        self._send = send
        self._in_flight = max(1, in_flight)
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def __enter__(self) -> OrderedSender:
        for number in range(self._in_flight):
            worker = threading.Thread(target=self._work, name=f"joyctl-send-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        for _ in self._workers:
            self._tasks.put(None)

    def results(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, SendOutcome]]:
        pending: deque[_Task] = deque()
        for chunk in chunks:
            task = _Task(chunk)
            if chunk.events:
                self._tasks.put(task)
            else:
                task.finish(SendOutcome())
            pending.append(task)
            while pending and (pending[0].done.is_set() or len(pending) > self._in_flight):
                yield self._collect(pending.popleft())
        while pending:
            yield self._collect(pending.popleft())

    def _collect(self, task: _Task) -> tuple[Chunk, SendOutcome]:
        while not task.done.wait(_WAIT_SLICE):
            pass
        if task.error is not None:
            self._stop.set()
            raise task.error
        return task.chunk, task.outcome or SendOutcome()

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            if self._stop.is_set():
                task.finish(None, RuntimeError("sending stopped"))
                continue
            try:
                task.finish(self._send(task.chunk))
            except BaseException as exc:  # handed to the main thread, which raises it
                task.finish(None, exc)


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
