"""Sync a large audience to a Klaviyo list on the emulator; print times, requests and peak memory.

The emulator runs as its own process (`joyctl sandbox serve`, an empty account, Klaviyo's limits
scaled up), so the memory figures are joyctl's alone. A store profile points at it with the
emulator's private key, and its ledger is filled with customers directly. Three syncs run
through the real CLI boundary in this process:

1. the first, which also creates every profile in Klaviyo (bulk import jobs) and adds them all;
2. after 1 % of the customers changed tier, which adds and removes only the difference;
3. again, which must send no membership change.

The first sync is also set against its ceiling under Klaviyo's limits (the emulator enforces
them by default): the best schedule, in the emulator's fixed windows, of the requests that no
client syncing new members this way can do without (the import jobs and the time Klaviyo takes
to run them, reading the new profiles' ids back at 100 a page, since list memberships take ids,
and the memberships in 1,000s), each phase after the one it needs. Every other request, and
every answer's time, counts against joyctl. Target: at most 1.5x.

    python bench/audiences.py [--members 50000] [--rate-limits real] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

PROFILE = "bench"
ADD = "POST /api/lists/{id}/relationships/profiles"
REMOVE = "DELETE /api/lists/{id}/relationships/profiles"
JOBS = "POST /api/profile-bulk-import-jobs"
# The three kinds of request the ceiling counts, whose limits come from Klaviyo's spec.
CEILING_ROUTES = {
    "jobs": ("POST", "/api/profile-bulk-import-jobs"),
    "reads": ("GET", "/api/profiles"),
    "memberships": ("POST", "/api/lists/{id}/relationships/profiles"),
}
TARGET = 1.5


def limits(kind: str) -> tuple[int, int]:
    from joyctl.klaviyo.endpoints import find_endpoint

    endpoint = find_endpoint(*CEILING_ROUTES[kind])
    assert endpoint is not None, CEILING_ROUTES[kind]
    return endpoint.burst_per_second, endpoint.steady_per_minute


def job_seconds(base_url: str, key: str) -> float:
    """The longest time Klaviyo (here, the emulator) took to run one of the import jobs."""
    from joyctl.api_contract import REVISION

    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION}
    answer = httpx.get(f"{base_url}/api/profile-bulk-import-jobs", headers=headers)
    longest = 0.0
    for job in answer.json()["data"]:
        attributes = job["attributes"]
        created = datetime.fromisoformat(attributes["created_at"])
        completed = datetime.fromisoformat(attributes["completed_at"])
        longest = max(longest, (completed - created).total_seconds())
    return longest


def ceiling_seconds(jobs: int, created: int, added: int, job_time: float) -> float:
    from joyctl.sandbox.ratelimit import best_schedule_span

    spans = (
        best_schedule_span(jobs, *limits("jobs")),
        job_time,
        best_schedule_span(math.ceil(created / 100), *limits("reads")),
        best_schedule_span(math.ceil(added / 1000), *limits("memberships")),
    )
    return sum(spans)


def peak_rss_mib() -> float:
    """Peak resident set size so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@contextmanager
def emulator(rate_limits: str) -> Iterator[dict[str, Any]]:
    """`joyctl sandbox serve` in a child process; yields what it prints once it is ready."""
    command = [sys.executable, "-m", "joyctl", "--json", "sandbox", "serve"]
    command += ["--scenario", "empty", "--rate-limits", rate_limits]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("}"):
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the emulator stopped before it was ready")
            lines.append(line)
        yield json.loads("".join(lines))["data"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def run_joyctl(home: Path, key: str, *args: str) -> dict[str, Any]:
    from joyctl.cli import run
    from joyctl.context import AppContext
    from joyctl.output import Output

    stdout, stderr = io.StringIO(), io.StringIO()
    environ = {**os.environ, "JOYCTL_HOME": str(home), "JOYCTL_KLAVIYO_API_KEY": key}
    app = AppContext(environ=environ, output=Output(stdout=stdout, stderr=stderr))
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = run(["--json", "--profile", PROFILE, *args], app)
    if code != 0:
        raise RuntimeError(f"joyctl {' '.join(args)} failed ({code}): {stdout.getvalue()}")
    data: dict[str, Any] = json.loads(stdout.getvalue())["data"]
    return data


def fill_ledger(path: Path, members: int) -> None:
    """`members` Gold customers and a tenth as many Silver ones."""
    from joyctl.ledger.customers import CustomerFields, upsert_customer
    from joyctl.ledger.db import open_ledger, transaction

    connection = open_ledger(path)
    try:
        with transaction(connection):
            for number in range(members + members // 10):
                tier = "Gold" if number < members else "Silver"
                fields = CustomerFields(f"customer.{number}@example.com", tier=tier)
                upsert_customer(connection, fields)
    finally:
        connection.close()


def change_tiers(path: Path, members: int) -> int:
    """Swap the tiers of 1 % of the Gold and as many Silver customers; returns how many each."""
    from joyctl.ledger.customers import CustomerFields, upsert_customer
    from joyctl.ledger.db import open_ledger, transaction

    swapped = max(1, members // 200)
    connection = open_ledger(path)
    try:
        with transaction(connection):
            for number in range(swapped):
                gold, silver = f"customer.{number}", f"customer.{members + number}"
                upsert_customer(connection, CustomerFields(f"{gold}@example.com", tier="Silver"))
                upsert_customer(connection, CustomerFields(f"{silver}@example.com", tier="Gold"))
    finally:
        connection.close()
    return swapped


def requests_by_route(base_url: str) -> dict[str, int]:
    by_route = httpx.get(f"{base_url}/__sandbox/state").json()["requests"]["by_route"]
    # The benchmark's own look-ups at the emulator's state are not the sync's.
    return {
        route: sum(statuses.values())
        for route, statuses in by_route.items()
        if not route.startswith("GET /__sandbox")
    }


def membership_requests(base_url: str) -> int:
    by_route = requests_by_route(base_url)
    return sum(by_route.get(route, 0) for route in (ADD, REMOVE))


def timed_sync(home: Path, key: str, base_url: str, label: str) -> dict[str, Any]:
    before = requests_by_route(base_url)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_joyctl(home, key, "audiences", "sync")["audiences"][0]
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    after = requests_by_route(base_url)
    spent = {route: after[route] - before.get(route, 0) for route in after}
    sent = sum(spent.get(route, 0) for route in (ADD, REMOVE))
    counts = ", ".join(
        f"{key.replace('_', ' ')} {result[key]:,}"
        for key in ("added", "removed", "unchanged", "profiles_created")
    )
    print(f"{label}: {elapsed:.1f}s (CPU {cpu:.1f}s), {counts}, membership requests {sent}")
    shown = ", ".join(f"{route} {count}" for route, count in sorted(spent.items()) if count)
    print(f"  requests: {shown}")
    summary: dict[str, Any] = {**result, "elapsed": elapsed, "jobs": spent.get(JOBS, 0)}
    return summary


def report_ceiling(first: dict[str, Any], job_time: float) -> None:
    ceiling = ceiling_seconds(first["jobs"], first["profiles_created"], first["added"], job_time)
    ratio = first["elapsed"] / ceiling
    verdict = "ok" if ratio <= TARGET else "MISSED"
    print(
        f"first sync ceiling {ceiling:.1f}s ({first['jobs']} import jobs, the longest run"
        f" {job_time:.1f}s, {math.ceil(first['profiles_created'] / 100)} id pages,"
        f" {math.ceil(first['added'] / 1000)} membership requests);"
        f" ratio {ratio:.2f} (<= {TARGET} {verdict})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000, help="Gold customers")
    parser.add_argument("--rate-limits", default="real", help="the emulator's limits (real)")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="joyctl-bench-") as folder,
        emulator(args.rate_limits) as info,
    ):
        home, key, base_url = Path(folder), info["private_key"], info["base_url"]
        ledger = home / "data" / "profiles" / PROFILE / "ledger.sqlite3"
        run_joyctl(home, key, "profiles", "add", PROFILE, "--base-url", base_url)
        fill_ledger(ledger, args.members)
        run_joyctl(home, key, "audiences", "create", "gold", "--tier", "Gold")
        run_joyctl(home, key, "audiences", "map", "gold", "--list-name", "Gold", "--create-list")
        import joyctl.services.audiences.sync  # noqa: F401 - load before measuring the baseline

        baseline = peak_rss_mib()
        if args.tracemalloc:
            tracemalloc.start()
        first = timed_sync(home, key, base_url, "first sync")
        traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        tracemalloc.stop()
        swapped = change_tiers(ledger, args.members)
        print(f"{swapped:,} Gold customers became Silver and {swapped:,} Silver became Gold")
        timed_sync(home, key, base_url, "second sync")
        timed_sync(home, key, base_url, "third sync")
        print(f"expected membership requests on the first sync: {-(-first['added'] // 1000)}")
        if args.rate_limits == "real":
            report_ceiling(first, job_seconds(base_url, key))
        print(f"peak RSS {peak_rss_mib():.1f} MiB (before the first sync {baseline:.1f} MiB)")
        if traced_peak is not None:
            print(f"peak Python allocations during the first sync {traced_peak / 2**20:.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
