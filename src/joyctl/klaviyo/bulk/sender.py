"""Sending events to Klaviyo in bulk jobs, several in flight, results handed back in order.

Chunks (from `batches.cut_chunks`) are sent on worker threads through the client, which paces
each operation and retries what is safe to retry; every event carries a `unique_id`, so a bulk
job is safe to repeat. Results come back in input order, so the caller checkpoints only what
was accepted together with everything before it.

When Klaviyo refuses a bulk job as invalid, the job is halved until the events it blames stand
alone: those are refused one by one and all the others still arrive.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from joyctl.errors import DataError
from joyctl.klaviyo.bulk.batches import Chunk, Outgoing
from joyctl.klaviyo.bulk.bodies import body_text, entry_text
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.events import send_bulk_body
from joyctl.scoped import Scoped

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
        keys = [(item.profile_key, item.event.metric_name, item.event.unique_id) for item in events]
        send_bulk_body(client, _body(events, backfill), keys)
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


def _body(events: Sequence[Outgoing], backfill: bool) -> bytes:
    """The request body: the events' own texts, grouped by profile in order of appearance."""
    grouped: dict[tuple[tuple[str, str], ...], tuple[str, list[str]]] = {}
    for item in events:
        entry = grouped.get(item.profile_key)
        if entry is None:
            grouped[item.profile_key] = (item.profile_json, [item.text])
        else:
            entry[1].append(item.text)
    entries = [entry_text(profile, texts, backfill=backfill) for profile, texts in grouped.values()]
    return body_text(entries).encode("ascii")


class _Task:
    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.done = threading.Event()
        self.outcome: SendOutcome | None = None
        self.error: BaseException | None = None

    def finish(self, outcome: SendOutcome | None, error: BaseException | None = None) -> None:
        self.outcome, self.error = outcome, error
        self.done.set()


class OrderedSender(Scoped):
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

    def open(self) -> None:
        for number in range(self._in_flight):
            worker = threading.Thread(target=self._work, name=f"joyctl-send-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def close(self) -> None:
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
