"""Import generated customers from a CSV into a fresh ledger; print records/s and peak memory.

Runs `joyctl ledger import` in this process (through the real CLI boundary) with JOYCTL_HOME in
a temporary folder, so nothing outside it is touched. Memory is reported two ways: the
process's peak resident size (what the OS sees) and, with --tracemalloc, the peak of Python
allocations during the import alone (slower, but independent of the interpreter's baseline).

    python bench/ledger_import.py [--rows 200000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from contextlib import closing, redirect_stderr, redirect_stdout
from pathlib import Path

TIERS = ("", "Bronze", "Silver", "Gold")
STATUSES = ("member", "member", "member", "guest", "excluded")
PROFILE = "bench"


def write_customers(path: Path, rows: int, seed: int = 7) -> None:
    """A CSV with every import column and a realistic mix of empty cells."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["email", "external_id", "first_name", "last_name", "tier", "birthday",
             "referral_url", "member_status", "referred", "last_activity_at", "points"]
        )  # fmt: skip
        for number in range(rows):
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            writer.writerow(
                [
                    f"Customer.{number}@Example.com",
                    f"gid-{number}",
                    f"First{number}",
                    f"Last{number}",
                    rng.choice(TIERS),
                    f"{month:02d}/{day:02d}" if number % 3 else "",
                    f"https://shop.example/r/{number:x}",
                    rng.choice(STATUSES),
                    "true" if number % 7 == 0 else "false",
                    f"2026-{month:02d}-{day:02d}T12:00:00Z",
                    rng.randint(0, 5000),
                ]
            )


def peak_rss_mib() -> float:
    """Peak resident set size so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_joyctl(home: Path, *args: str) -> tuple[int, str, str]:
    from joyctl.cli import run
    from joyctl.context import AppContext
    from joyctl.output import Output

    stdout, stderr = io.StringIO(), io.StringIO()
    environ = {**os.environ, "JOYCTL_HOME": str(home)}
    app = AppContext(environ=environ, output=Output(stdout=stdout, stderr=stderr))
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = run(list(args), app)
    return code, stdout.getvalue(), stderr.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="customers to generate")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slower)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="joyctl-bench-") as folder:
        home, source = Path(folder) / "home", Path(folder) / "customers.csv"
        started = time.perf_counter()
        write_customers(source, args.rows)
        print(f"generated {args.rows:,} rows ({source.stat().st_size / 2**20:.1f} MiB)"
              f" in {time.perf_counter() - started:.1f}s")  # fmt: skip
        # A store profile of its own: the built-in sandbox comes seeded with scenario data.
        assert run_joyctl(home, "profiles", "add", PROFILE)[0] == 0
        import joyctl.services.ledger_admin.operations  # noqa: F401 - load before measuring the baseline

        baseline = peak_rss_mib()
        if args.tracemalloc:
            tracemalloc.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        code, _, stderr = run_joyctl(home, "-p", PROFILE, "ledger", "import", str(source))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        tracemalloc.stop()
        if code != 0:
            print(f"import failed with exit status {code}:\n{stderr}", file=sys.stderr)
            return 1
        ledger = home / "data" / "profiles" / PROFILE / "ledger.sqlite3"
        with closing(sqlite3.connect(ledger)) as connection:
            customers = connection.execute("SELECT count(*) FROM customers").fetchone()[0]
        print(f"imported {customers:,} customers in {elapsed:.2f}s:"
              f" {args.rows / elapsed:,.0f} records/s")  # fmt: skip
        # CPU time is steadier than wall time on a busy machine.
        print(f"CPU {cpu:.2f}s: {args.rows / cpu:,.0f} records per CPU second")
        print(f"peak RSS {peak_rss_mib():.1f} MiB (baseline before the import {baseline:.1f} MiB)")
        if traced_peak is not None:
            print(f"peak Python allocations during the import {traced_peak / 2**20:.2f} MiB")
        print(f"ledger file {ledger.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
