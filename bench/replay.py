"""Replay 100,000 generated reviews through the reward engine into a fresh ledger.

The reviews are generated into a JSONL file first (not timed); the timed part reads that file
and runs every review through the engine into the ledger, as `joyctl reviews simulate --file
FILE --commit` does. Prints reviews per second, CPU per review and peak memory.

The pipeline's clock is fixed (a moment that moves one second per batch), so the ledger it
leaves is the same in every run; the SHA-256 digest of its result tables (inbox, decisions,
point entries, outbox, each in id order) shows that a change of speed changed no result.
Run: python bench/replay.py [--reviews N] [--customers N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joyctl.engine import ConnectionFacts, program_from_mapping
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.services.rewards.pipeline import RewardPipeline
from joyctl.services.rewards.sources import ReviewFile

CONNECTED = datetime(2025, 1, 1, tzinfo=UTC)
DECIDED = datetime(2026, 6, 1, tzinfo=UTC)
# The tables the pipeline writes, each read in a stable order for the digest.
RESULT_TABLES = {
    "reviews": "review_id",
    "review_decisions": "id",
    "point_entries": "id",
    "outbox": "id",
}
WORDS = [
    "tea",
    "smooth",
    "fragrant",
    "bright",
    "bitter",
    "lovely",
    "strong",
    "gentle",
    "morning",
    "cup",
    "leaf",
    "brew",
]


def _write_reviews(path: Path, count: int, customers: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for fields in _review_fields(count, customers, rng):
            handle.write(json.dumps(fields) + "\n")


def _review_fields(
    count: int, customers: int, rng: random.Random
) -> Iterator[Mapping[str, object]]:
    for index in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 30)))
        fields = {
            "id": f"bench-{index}",
            "email": f"customer{rng.randrange(customers)}@example.com",
            "content": f"{text} #{index}" if rng.random() > 0.05 else text,
            "product_id": f"product-{rng.randrange(500)}",
            "status": "published" if rng.random() > 0.1 else "pending",
            "created": (CONNECTED + timedelta(minutes=index)).isoformat(),
            "verified": rng.random() > 0.5,
        }
        yield fields


def _seed(path: Path, customers: int) -> None:
    connection = open_ledger(path)
    with transaction(connection):
        for number in range(customers):
            upsert_customer(connection, CustomerFields(email=f"customer{number}@example.com"))
    connection.close()


def _ticking_clock() -> Callable[[], datetime]:
    """A fixed start that moves one second per call (the pipeline asks once per batch)."""
    ticks = iter(range(10**9))
    return lambda: DECIDED + timedelta(seconds=next(ticks))


def _result_digest(connection: sqlite3.Connection) -> str:
    """SHA-256 over every row of the result tables, read one row at a time."""
    digest = hashlib.sha256()
    for table, order in RESULT_TABLES.items():
        digest.update(f"\x00{table}\x00".encode())
        for row in connection.execute(f"SELECT * FROM {table} ORDER BY {order}"):  # noqa: S608
            digest.update(json.dumps(list(row), ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.sqlite3"
        source = Path(folder) / "reviews.jsonl"
        _seed(path, args.customers)
        _write_reviews(source, args.reviews, args.customers, random.Random(7))
        connection = open_ledger(path)
        program = program_from_mapping({"enabled": True, "min_characters": 20})
        pipeline = RewardPipeline(
            connection, program, ConnectionFacts(CONNECTED), clock=_ticking_clock()
        )
        started, cpu = time.perf_counter(), time.process_time()
        reviews = ReviewFile(source, origin="bench")
        for _ in pipeline.run(reviews):
            pass
        reviews.close()
        elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
        tally = pipeline.tally
        # Read before the digest, which reads the ledger back.
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        digest = _result_digest(connection)
        connection.close()
    print(f"reviews            {args.reviews}")
    print(f"awarded            {tally.awarded} ({tally.points} points)")
    print(f"rejected           {sum(tally.rejected.values())} {dict(tally.rejected)}")
    print(f"elapsed            {elapsed:.1f} s")
    print(f"reviews per second {args.reviews / elapsed:,.0f}")
    print(f"cpu per review     {cpu_used / args.reviews * 1e6:.0f} us")
    print(f"peak memory (RSS)  {peak_mib:.0f} MiB")
    print(f"result digest      {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
