"""`backfill events`: historical events from the ledger or a file into Klaviyo, exactly once.

The input is read as a stream and cut into bulk jobs, which the Klaviyo layer's bulk sender
(`joyctl.klaviyo.bulk`) sends a few at a time. After each accepted job the run's checkpoint moves
past it, together with the quarantine entries of the records it covered, so a run stopped in any
way resumes where Klaviyo's acceptance left off: nothing is lost, and what is sent twice (a job
accepted just before a crash) carries the same `unique_id`s, which Klaviyo records once. Events
go with `backfill: true`, so flows do not fire for history, unless the caller asks for live flows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from joyctl.errors import DataError, JoyctlError, UsageError
from joyctl.files.formats import FileFormat, choose_format
from joyctl.files.quarantine import QuarantineLog, default_quarantine_path
from joyctl.files.reader import Position, file_identity, open_binary, read_records, same_file
from joyctl.klaviyo.bulk.batches import Chunk, Item, cut_chunks
from joyctl.klaviyo.bulk.sender import (
    DEFAULT_IN_FLIGHT,
    OrderedSender,
    RequestTally,
    SendOutcome,
    send_events,
)
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.events import MAX_EVENTS_PER_JOB
from joyctl.ledger import runs
from joyctl.ledger.backfill_queries import count_entries, mark_outbox_sent
from joyctl.ledger.db import transaction
from joyctl.ledger.runs import Run
from joyctl.services.backfill.columns import check_header, mapped_header, prepared_records
from joyctl.services.backfill.ledger_source import (
    entry_unique_id,
    ledger_items,
    selected_kinds,
    utc_text,
)
from joyctl.services.backfill.records import Selection, file_item
from joyctl.services.backfill.runs import (
    EVENTS_KIND,
    OnStart,
    RequestCounters,
    RunStart,
    new_run_id,
    resume_run,
    run_outcome,
    start_run,
    unfinished_run,
    utc_now,
)

LEDGER = "ledger"


class EventBackfillRequest(BaseModel):
    """What to send; kept with the run so `--resume` sends the rest of the same selection."""

    source: str = LEDGER
    file_format: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    metrics: list[str] = []
    batch_size: int = MAX_EVENTS_PER_JOB
    live_flows: bool = False
    quarantine: str | None = None
    file_identity: dict[str, Any] | None = None
    columns: dict[str, str] = {}
    """--map: the column (or JSON key) each event field is read from, where the name differs."""

    @property
    def from_ledger(self) -> bool:
        return self.source == LEDGER

    def selection(self) -> Selection:
        return Selection(self.since, self.until, frozenset(self.metrics))


@dataclass
class Counters(RequestCounters):
    """A run's running totals, kept in its checkpoint."""

    sent: int = 0
    already_sent: int = 0
    quarantined: int = 0
    filtered: int = 0
    elapsed: float = 0.0

    @property
    def handled(self) -> int:
        return self.sent + self.already_sent + self.quarantined + self.filtered


@dataclass(frozen=True)
class Tally:
    """The run's numbers as a person reads them, the same on the progress line and in the summary.

    `sent` counts what this invocation sent; what an earlier attempt of the run sent (or the
    outbox pushed live) is `already_sent`, so a continued run never reports it as sent again.
    """

    sent: int
    already_sent: int
    quarantined: int
    skipped: int
    requests: int
    throttled: int


@dataclass(frozen=True)
class BackfillProgress:
    done: int
    total: int | None
    unit: str  # "bytes" of the file, or ledger "entries"
    counters: Counters
    tally: Tally


ProgressCallback = Callable[[BackfillProgress], None]


class BackfillSummary(BaseModel):
    run_id: str
    source: str
    sent: int
    """Events this invocation sent."""
    already_sent: int
    """Events sent before: by an earlier attempt of this run, or pushed live from the outbox."""
    quarantined: int
    skipped: int
    """Events outside --since/--until/--metric."""
    requests: int
    throttled: int
    elapsed_seconds: float
    events_per_second: float
    quarantine_file: str | None
    live_flows: bool
    continued: bool = False
    """This invocation continued a stopped run (rerun with the same arguments, or --resume)."""


def prepare_request(
    request: EventBackfillRequest, *, run_id: str, data_dir: Path
) -> EventBackfillRequest:
    """Check the options and fix paths, so the run's stored request is complete."""
    if not 1 <= request.batch_size <= MAX_EVENTS_PER_JOB:
        raise UsageError("--batch-size must be between 1 and 1000", hint="Klaviyo's cap is 1,000")
    if request.since and request.until and request.since > request.until:
        raise UsageError("--since is after --until", hint="swap them")
    if request.from_ledger:
        if request.file_format is not None:
            raise UsageError("--format applies to files, not to --source ledger")
        if request.columns:
            raise UsageError("--map applies to files, not to --source ledger")
        default = data_dir / "backfill" / f"{run_id}.quarantine.jsonl"
        quarantine = Path(request.quarantine or default).expanduser().resolve()
        return request.model_copy(update={"quarantine": str(quarantine)})
    path = Path(request.source).expanduser().resolve()
    given = None if request.file_format is None else FileFormat.named(request.file_format)
    file_format = choose_format(path, given)
    identity = file_identity(path)
    if file_format is FileFormat.CSV:
        check_header(path, request.columns)
    quarantine = Path(request.quarantine or default_quarantine_path(path))
    if quarantine.expanduser().resolve() == path:
        raise UsageError("the quarantine file cannot be the input file", hint="--quarantine PATH")
    return request.model_copy(
        update={
            "source": str(path),
            "file_format": file_format.value,
            "quarantine": str(quarantine.expanduser().resolve()),
            "file_identity": identity,
        }
    )


def backfill_events(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    request: EventBackfillRequest | None,
    *,
    data_dir: Path,
    resume: str | None = None,
    restart: bool = False,
    on_start: OnStart | None = None,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
    in_flight: int = DEFAULT_IN_FLIGHT,
) -> BackfillSummary:
    """Send the selected events, checkpointing after every accepted request.

    Start a run with `request`, or continue one with `resume` (its own request is used). A
    `request` a stopped run was started with, on the same input, continues that run unless
    `restart`; `on_start` hears which it is before anything is sent. Raises
    InterruptedRunError on Ctrl-C; any other failure marks the run failed and says how to
    resume it.
    """
    run, continued = _begin(connection, request, resume, data_dir, restart=restart)
    if on_start is not None:
        on_start(RunStart.of(run, continued=continued))
    state = _RunState(run, EventBackfillRequest.model_validate(run.params))
    started = clock()
    with run_outcome(connection, run):
        _send_all(
            client,
            connection,
            state,
            resumed=continued,
            clock=clock,
            in_flight=in_flight,
            on_progress=on_progress,
        )
    return _summary(state, clock() - started, continued=continued)


def _summary(state: _RunState, elapsed: float, *, continued: bool) -> BackfillSummary:
    numbers, request = state.numbers(), state.request
    return BackfillSummary(
        run_id=state.run.id,
        source=request.source,
        sent=numbers.sent,
        already_sent=numbers.already_sent,
        quarantined=numbers.quarantined,
        skipped=numbers.skipped,
        requests=numbers.requests,
        throttled=numbers.throttled,
        elapsed_seconds=round(elapsed, 3),
        events_per_second=round(numbers.sent / elapsed, 1) if elapsed > 0 else 0.0,
        quarantine_file=request.quarantine if numbers.quarantined else None,
        live_flows=request.live_flows,
        continued=continued,
    )


def _begin(
    connection: sqlite3.Connection,
    request: EventBackfillRequest | None,
    resume: str | None,
    data_dir: Path,
    *,
    restart: bool,
) -> tuple[Run, bool]:
    """The run to work on, and whether it continues one that was stopped."""
    if resume is not None:
        # A source that cannot be resumed is reported before the run is taken over, so the run
        # keeps its state and the advice is not "resume" again.
        existing = runs.require_run(connection, resume, kind=EVENTS_KIND)
        check_source(EventBackfillRequest.model_validate(existing.params), existing.position)
        return resume_run(connection, EVENTS_KIND, resume), True
    if request is None:
        raise UsageError("say what to send, or which run to resume", hint="--source or --resume")
    run_id = new_run_id(EVENTS_KIND)
    prepared = prepare_request(request, run_id=run_id, data_dir=data_dir)
    stopped = None if restart else stopped_run(connection, prepared, request.quarantine)
    if stopped is not None:
        return resume_run(connection, EVENTS_KIND, stopped.id), True
    params = prepared.model_dump(mode="json")
    return start_run(connection, EVENTS_KIND, params, run_id=run_id), False


def stopped_run(
    connection: sqlite3.Connection, prepared: EventBackfillRequest, quarantine: str | None
) -> Run | None:
    """A stopped run this request (run again with the same arguments and input) continues."""

    def same_input(run: Run) -> bool:
        try:
            check_source(EventBackfillRequest.model_validate(run.params), run.position)
        except JoyctlError:
            return False
        return True

    # A quarantine file chosen by the run itself carries the run's id, so it cannot match.
    unless = ("file_identity",) if quarantine else ("file_identity", "quarantine")
    params = prepared.model_dump(mode="json")
    return unfinished_run(connection, EVENTS_KIND, params, unless=unless, still_valid=same_input)


class _RunState:
    def __init__(self, run: Run, request: EventBackfillRequest) -> None:
        self.run = run
        self.request = request
        self.counters = Counters.from_dict(run.counters)
        self.base = Counters.from_dict(run.counters)
        self.tally = RequestTally()

    def numbers(self) -> Tally:
        counters, base = self.counters, self.base
        return Tally(
            sent=counters.sent - base.sent,
            already_sent=base.sent + counters.already_sent,
            quarantined=counters.quarantined,
            skipped=counters.filtered,
            requests=self.tally.requests,
            throttled=self.tally.throttled,
        )


@dataclass
class _Source:
    items: Iterator[Item]
    total: int | None
    unit: str

    def done(self, chunk: Chunk, counters: Counters) -> int:
        position = chunk.position or {}
        return int(position.get("offset", 0)) if self.unit == "bytes" else counters.handled


def check_source(request: EventBackfillRequest, position: dict[str, Any]) -> None:
    """A file a run resumes must be the one it started on (UsageError or DataError)."""
    if request.from_ledger:
        return
    path = Path(request.source)
    if not same_file(path, request.file_identity or {}, int(position.get("offset", 0))):
        raise DataError(
            f"{path} is not the file this run started on (it changed since)",
            hint="start a new run without --resume; events sent already are not duplicated",
        )


@contextmanager
def open_source(
    connection: sqlite3.Connection, request: EventBackfillRequest, position: dict[str, Any]
) -> Iterator[_Source]:
    """The selected events after `position`, as items for `cut_chunks`."""
    selection = request.selection()
    if request.from_ledger:
        kinds = selected_kinds(selection)
        since, until = utc_text(selection.since), utc_text(selection.until)
        total = count_entries(connection, after_id=0, kinds=kinds, since=since, until=until)
        after = int(position.get("entry_id", 0))
        yield _Source(ledger_items(connection, selection, after_id=after), total, "entries")
        return
    path, file_format = Path(request.source), FileFormat(request.file_format or "jsonl")
    now, csv = utc_now(), file_format is FileFormat.CSV
    with open_binary(path) as handle:
        start = Position.from_json(position)
        header = partial(mapped_header, mapping=request.columns)
        read = prepared_records(
            read_records(handle, file_format, start=start, header=header), request.columns, csv=csv
        )
        items = (file_item(r.record, selection, now=now, loose_columns=r.text_cells) for r in read)
        yield _Source(items, path.stat().st_size, "bytes")


def _send_all(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    state: _RunState,
    *,
    resumed: bool,
    clock: Callable[[], float],
    in_flight: int,
    on_progress: ProgressCallback | None,
) -> None:
    request = state.request
    origin_name = "entry_id" if request.from_ledger else "line"
    quarantine = QuarantineLog(
        Path(request.quarantine or ""), resumed=resumed, origin_name=origin_name
    )
    started = clock()

    def send(chunk: Chunk) -> SendOutcome:
        return send_events(client, chunk.events, backfill=not request.live_flows)

    with (
        closing(quarantine),
        open_source(connection, request, state.run.position) as source,
        state.tally.watching(client),
        OrderedSender(send, in_flight=in_flight) as sender,
    ):
        chunks = cut_chunks(source.items, max_events=request.batch_size)
        for chunk, outcome in sender.results(chunks):
            state.counters.elapsed = state.base.elapsed + clock() - started
            _record(connection, state, chunk, outcome, quarantine)
            if on_progress is not None:
                done = source.done(chunk, state.counters)
                progress = BackfillProgress(
                    done, source.total, source.unit, state.counters, state.numbers()
                )
                on_progress(progress)


def _record(
    connection: sqlite3.Connection,
    state: _RunState,
    chunk: Chunk,
    outcome: SendOutcome,
    quarantine: QuarantineLog,
) -> None:
    """Quarantine what the chunk set aside, then move the checkpoint past it."""
    bad = [(item.origin, item.reason, item.record) for item in chunk.rejected]
    bad += [
        (item.origin, f"Klaviyo refused it: {why}", _described(item))
        for item, why in outcome.refused
    ]
    for origin, reason, record in sorted(bad, key=lambda entry: entry[0]):
        quarantine.add(origin, reason, record)
    quarantine.flush()
    counters = state.counters
    counters.sent += len(outcome.accepted)
    counters.quarantined += len(bad)
    counters.filtered += chunk.filtered
    counters.already_sent += chunk.already_sent
    counters.count_requests(state.base, state.tally)
    with transaction(connection):
        if state.request.from_ledger:
            accepted = [entry_unique_id(item.origin) for item in outcome.accepted]
            mark_outbox_sent(connection, accepted, utc_now().isoformat())
        runs.save_progress(
            connection,
            state.run,
            position=dict(chunk.position or {}),
            counters=asdict(counters),
            now=utc_now(),
        )


def _described(item: Any) -> dict[str, Any]:
    event = item.event
    return {
        "profile": dict(item.profile),
        "metric": event.metric_name,
        "unique_id": event.unique_id,
        "time": event.time.isoformat() if event.time else None,
    }
