"""Backfill events from a file into the sandbox under Klaviyo's bulk limits; print the figures.

The sandbox runs in a child process and enforces the limits of bulk event jobs: 1,000 events and
5 MB per request, and Klaviyo's rate limits of 10 requests per second and 150 per minute scaled
by --rate-limits. The default, x0.2, makes 200,000 events span as many one-minute windows as a
million do at full scale, so the steady limit governs as it does in a long backfill (and the
per-second bursts stay within what the emulator itself can process on a small machine).

Time is warped to keep the run short: whenever joyctl's client would sleep to respect a limit,
the sandbox's clock is moved forward by that much instead, once the requests already on their
way have finished. Requests, bytes and CPU are real; idle waits take no time. Rates are given
in that warped time, which is the time the run would take against Klaviyo.

Printed: events per second, and the ratio to the ceiling, the best any client could do under
the sandbox's fixed windows for the same requests from the same start (it converges to the
steady limit as runs grow); joyctl's CPU time per event (this process's CPU, all its threads,
less what moving the sandbox's clock costs; the sandbox's own is in the child); and peak memory
after a 20,000-event run and after the full one, to show that it stays flat. `--events
1000000` shows it for a million events (about two minutes of real time on a small machine).

    python bench/backfill.py [--events 200000] [--rate-limits x0.2|real|xFACTOR] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

CUSTOMERS_PER_EVENT = 10
WARM_UP_EVENTS = 20_000


def serve(rate_limits: str) -> None:
    """The child process: a sandbox that prints where it listens, until SIGTERM."""
    from joyctl.sandbox import SandboxConfig, SandboxServer

    server = SandboxServer(SandboxConfig(scenario="empty", rate_limits=rate_limits))

    def ready(base_url: str) -> None:
        found = {"base_url": base_url, "private_key": server.credentials.private_key}
        print(json.dumps(found), flush=True)

    server.serve_forever_until_signal(on_ready=ready)


class WarpedTime:
    """joyctl's clock and sleep: a sleep moves the sandbox's clock forward instead of waiting.

    A sleeper first lets the requests already on their way finish, as they would while it
    slept, so moving the clock never makes an earlier request arrive later than it would
    have; it never waits past its own target, as a real sleep would not. Sleepers wake in
    the order of their targets: only the one due first moves the clock, and only to its own
    target, so a thread due later never makes one due earlier send late. The CPU the bench
    spends moving the clock is counted apart (`overhead`), so joyctl's own figure leaves it out.
    """

    def __init__(self, base_url: str) -> None:
        self._control = httpx.Client(base_url=base_url)
        self._idle = threading.Condition()
        self._in_flight = 0
        self._targets: list[float] = []  # of the threads asleep
        self._moving = False  # a sleeper is moving the clock
        self.skipped = 0.0
        self.overhead = 0.0  # CPU seconds of the clock's control requests

    def now(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        target = self.now() + seconds
        with self._idle:
            self._targets.append(target)
            try:
                # Woken by each request that finishes, each move of the clock and each
                # sleeper that leaves, and at the target itself.
                while (left := target - self.now()) > 0:
                    if self._in_flight or self._moving or target > min(self._targets):
                        self._idle.wait(left)
                    else:
                        self._move(left)
            finally:
                self._targets.remove(target)
                self._idle.notify_all()

    def _move(self, seconds: float) -> None:
        """Move the clock, with `_idle` held on entry and exit but not while the sandbox answers."""
        self._moving = True
        self._idle.release()
        try:
            self.advance(seconds)
        finally:
            self._idle.acquire()
            self._moving = False

    def advance(self, seconds: float) -> float:
        """Move both clocks `seconds` on from when this was called, the time the sandbox takes
        to answer included: busy with the requests before, it can keep this waiting, and a
        real sleep would not wait for it. (The sandbox's clock moves on by that time too, so
        later requests reach it a little later than joyctl's clock says: never earlier.)"""
        spent, began = time.thread_time(), time.monotonic()
        answer = self._control.post("/__sandbox/clock", json={"advance_seconds": seconds})
        answer.raise_for_status()
        with self._idle:
            self.skipped += max(0.0, seconds - (time.monotonic() - began))
            self._idle.notify_all()
        now = float(answer.json()["now"])
        self.overhead += time.thread_time() - spent  # one thread at a time moves the clock
        return now

    def server_now(self) -> float:
        return self.advance(0.0)

    def transport(self) -> httpx.BaseTransport:
        """The client's transport, counting the requests on their way."""
        warp = self

        class Counting(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                with warp._idle:
                    warp._in_flight += 1
                try:
                    response = super().handle_request(request)
                    response.read()
                    return response
                finally:
                    with warp._idle:
                        warp._in_flight -= 1
                        warp._idle.notify_all()

        return Counting()

    def close(self) -> None:
        self._control.close()


def write_events(path: Path, count: int) -> None:
    customers = max(1, count // CUSTOMERS_PER_EVENT)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            record = {
                "id": f"order-{number}-earn",
                "email": f"customer.{number % customers}@example.com",
                "metric": "Joy: Earn Point",
                "time": f"2025-{1 + number % 12:02d}-{1 + number % 28:02d}T12:00:00Z",
                "value": 12.5,
                "properties": {
                    "Program name": "Place an order",
                    "Earned points": f"{10 + number % 90} points",
                    "Customer points": number % 5000,
                },
            }
            handle.write(json.dumps(record) + "\n")


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def backfill(
    base_url: str, key: str, source: Path, home: Path, warp: WarpedTime, in_flight: int
) -> Any:
    from joyctl.klaviyo.auth import ApiKeyAuth
    from joyctl.klaviyo.client import build_client
    from joyctl.ledger.db import open_ledger
    from joyctl.services.backfill.events import EventBackfillRequest, backfill_events

    starts: list[float] = []

    def note_start(request: httpx.Request) -> None:
        if request.url.path.endswith("/event-bulk-create-jobs"):
            starts.append(warp.now())

    def note_throttled(response: httpx.Response) -> None:
        if response.status_code == 429:
            retry_after = response.headers.get("retry-after")
            print(f"429 on request {len(starts)} (Retry-After {retry_after})", file=sys.stderr)

    client = build_client(
        base_url=base_url,
        auth=ApiKeyAuth(key),
        clock=warp.now,
        sleep=warp.sleep,
        transport=warp.transport(),
    )
    client.http.event_hooks["request"].append(note_start)
    client.http.event_hooks["response"].append(note_throttled)
    with client, closing(open_ledger(home / f"{source.stem}.sqlite3")) as connection:
        request = EventBackfillRequest(source=str(source))
        summary = backfill_events(
            client, connection, request, data_dir=home, clock=warp.now, in_flight=in_flight
        )
    return summary, starts


def align_to_minute(warp: WarpedTime) -> float:
    """Start just after a steady window opens, where a client that cannot see the server's
    window boundaries loses the least against a fixed-window ceiling."""
    now = warp.server_now()
    return warp.advance(60.0 - now % 60.0 + 0.01)


def run_pass(
    base_url: str, key: str, events: int, folder: Path, limits: tuple[int, int], in_flight: int
) -> dict[str, Any]:
    source = folder / f"events-{events}.jsonl"
    write_events(source, events)
    warp = WarpedTime(base_url)
    try:
        start, aligned_at = align_to_minute(warp), warp.now()
        warp.overhead = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        summary, starts = backfill(base_url, key, source, folder, warp, in_flight)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu - warp.overhead
    finally:
        warp.close()
    source.unlink()
    from joyctl.sandbox.ratelimit import best_schedule_span

    first = start + (starts[0] - aligned_at)  # the server's time when the first began
    # The best schedule needs no retries: only the requests Klaviyo accepted count.
    ideal = best_schedule_span(len(starts) - summary.throttled, *limits, start=first)
    actual = starts[-1] - starts[0]
    return {"summary": summary, "wall": wall, "cpu": cpu, "ideal": ideal, "actual": actual}


def report(events: int, result: dict[str, Any], limits: tuple[int, int]) -> None:
    summary = result["summary"]
    burst, steady = limits
    # Time outside the first-to-last span (reading ahead, the last request's answer) is the
    # same for any client, so the ceiling's run time is the best span plus that time.
    outside = summary.elapsed_seconds - result["actual"]
    ceiling = summary.sent / (result["ideal"] + outside)
    lines = [
        f"sent {summary.sent:,} events in {summary.requests} requests, {summary.throttled}"
        f" throttled (429), {summary.quarantined} quarantined",
        f"rate: {summary.events_per_second:,.0f} events/s over {summary.elapsed_seconds:.1f}s"
        f" of Klaviyo time ({result['wall']:.1f}s of real time)",
        f"ceiling: {ceiling:,.0f} events/s (the best schedule of these requests in the"
        f" sandbox's windows); ratio {summary.events_per_second / ceiling:.3f}",
        f"steady limit: {steady}/min x 1,000 = {steady / 60 * 1000:,.0f} events/s (burst"
        f" {burst}/s); a short run also spends the first window's allowance",
        f"joyctl CPU: {result['cpu']:.2f}s, {result['cpu'] / events * 1e6:.1f} µs per event",
    ]
    print("\n".join(lines))


def measure(
    base_url: str, key: str, args: argparse.Namespace, limits: tuple[int, int]
) -> tuple[list[tuple[int, float, float | None]], dict[str, Any]]:
    """A 20,000-event pass, then the measured one; peak memory after each (and traced in each)."""
    peaks: list[tuple[int, float, float | None]] = [(0, peak_rss_mib(), None)]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="joyctl-bench-") as name:
        for events in (WARM_UP_EVENTS, args.events):
            if args.tracemalloc:
                tracemalloc.start()
            result = run_pass(base_url, key, events, Path(name), limits, args.in_flight)
            traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
            tracemalloc.stop()
            peaks.append((events, peak_rss_mib(), traced))
    return peaks, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events to send")
    parser.add_argument("--rate-limits", default="x0.2", help="real or xFACTOR for the sandbox")
    parser.add_argument("--in-flight", type=int, default=2, help="requests on their way at once")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.rate_limits)
        return 0
    from joyctl.klaviyo.endpoints import find_endpoint
    from joyctl.sandbox import parse_rate_limits

    endpoint = find_endpoint("POST", "/api/event-bulk-create-jobs")
    assert endpoint is not None
    mode = parse_rate_limits(args.rate_limits)
    limits = (mode.scale(endpoint.burst_per_second), mode.scale(endpoint.steady_per_minute))
    command = [sys.executable, __file__, "--serve", "--rate-limits", args.rate_limits]
    import joyctl.services.backfill.events  # noqa: F401 - loaded before the memory baseline

    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert child.stdout is not None
        found = json.loads(child.stdout.readline())
        memory, result = measure(found["base_url"], found["private_key"], args, limits)
    finally:
        child.terminate()
        child.wait(timeout=30)
    print(
        f"sandbox limits for bulk event jobs: {limits[0]}/s, {limits[1]}/min ({mode.describe()});"
        f" up to {args.in_flight} requests in flight"
    )
    report(args.events, result, limits)
    for events, rss, traced in memory:
        during = f"; Python allocations peaked at {traced:.1f} MiB" if traced is not None else ""
        after = f"after {events:,} events" if events else "before sending"
        print(f"peak RSS {after}: {rss:.1f} MiB{during}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
