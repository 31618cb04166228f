"""A file with poison lines between good ones, run, killed twice (kill -9) and resumed.

Every good record ends up sent once (the sandbox records each `seq` once), every poison line is
in the quarantine file once, and the run ends with exit status 7. The kills land wherever the
run happens to be, so over time they fall between quarantining a chunk's bad lines and saving
its checkpoint too: a resumed run meets those lines again and must not write them twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import build_client
from joyctl.ledger import runs
from joyctl.ledger.db import open_ledger
from joyctl.services.backfill.events import EventBackfillRequest, backfill_events
from tests.backfill.conftest import ShopFactory
from tests.backfill.support import METRIC, Shop, recorded_sequence, runs_table

GOOD = 6_000
POISON_EVERY = 97
BATCH = 150  # 40 requests: kills land with chunks in flight, before and after checkpoints
KILLS_AT = (1_500, 3_500)
TIME = "2025-03-01T12:00:00Z"


def good_values(seq: int) -> dict[str, object]:
    return {"id": f"evt-{seq}", "email": f"c{seq % 300}@example.com", "metric": METRIC,
            "time": TIME, "properties": {"seq": seq}}  # fmt: skip


def _line(**changes: object) -> str:
    return json.dumps({"email": "p@example.com", "metric": METRIC, "time": TIME, **changes})


JSONL_POISON: list[Callable[[int], bytes]] = [
    lambda n: (_line(id=f"p{n}")[:-1] + ', "value": ' + "9" * 5000 + "}").encode(),
    lambda n: _line(id=f"p{n}", value=2**64).encode(),
    lambda n: _line(id=f"p{n}", time="9999-12-31T23:59:59-14:00").encode(),
    lambda n: _line(id=f"p{n}", time="0001-01-01T00:00:00+14:00").encode(),
    lambda n: (
        _line(id=f"p{n}")[:-1] + ', "properties": ' + "[" * 10_000 + "]" * 10_000 + "}"
    ).encode(),
    lambda n: _line(id=f"p{n}")[:-1].encode() + b', "value": NaN}',
    lambda n: _line(id=f"p{n}", value="inf").encode(),
    lambda n: _line(id=f"p{n}", properties={"big": 2**64}).replace(str(2**64), "1e999").encode(),
    lambda n: b"{not json at all",
    lambda n: _line(id=f"p{n}").encode()[:-1] + b', "note": "\xff\xfe"}',
]
JSONL_HUGE = _line(id="huge", properties={"x": "y" * (9 * 1024 * 1024)}).encode()  # over 8 MiB


def jsonl_file(path: Path) -> tuple[Path, list[int]]:
    """Good events with poison lines between them; the poison lines' numbers."""
    poison_lines: list[int] = []
    with path.open("wb") as handle:
        seq = line = 0
        while seq < GOOD:
            line += 1
            if line % POISON_EVERY == 0:
                kind = JSONL_POISON[len(poison_lines) % len(JSONL_POISON)]
                handle.write((JSONL_HUGE if len(poison_lines) == HUGE_AT else kind(line)) + b"\n")
                poison_lines.append(line)
            else:
                handle.write(json.dumps(good_values(seq)).encode() + b"\n")
                seq += 1
    return path, poison_lines


HEADER = ["id", "email", "metric", "time", "value", "properties"]
CSV_POISON: list[Callable[[int], str]] = [
    lambda n: f"p{n},p@example.com,{METRIC},{TIME},{'9' * 5000},",
    lambda n: f"p{n},p@example.com,{METRIC},{TIME},{2**64},",
    lambda n: f"p{n},p@example.com,{METRIC},9999-12-31T23:59:59-14:00,1,",
    lambda n: f"p{n},p@example.com,{METRIC},0001-01-01T00:00:00+14:00,1,",
    lambda n: f"p{n},p@example.com,{METRIC},{TIME},NaN,",
    lambda n: f"p{n},p@example.com,{METRIC},{TIME},inf,",
    lambda n: f'p{n},p@example.com,{METRIC},{TIME},1,"{{""seq"": {"[" * 10_000}',  # left open
    lambda n: f'p{n},p@example.com,{METRIC},{TIME},1,"{{""n"": {"9" * 5000}}}"',
    lambda n: f'p{n},p@example.com,{METRIC},{TIME},1,"{{""n"": {"[" * 10_000 + "]" * 10_000}}}"',
]
CSV_HUGE = f"huge,p@example.com,{METRIC},{TIME},1,{'z' * (20 * 1024 * 1024)}"  # a 20 MB cell
HUGE_AT = 2  # the third poison line is the huge one, once: the file stays a few megabytes


def csv_file(path: Path) -> tuple[Path, list[int]]:
    poison_lines: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        seq, line = 0, 1
        while seq < GOOD:
            line += 1
            if line % POISON_EVERY == 0:
                kind = CSV_POISON[len(poison_lines) % len(CSV_POISON)]
                handle.write((CSV_HUGE if len(poison_lines) == HUGE_AT else kind(line)) + "\n")
                poison_lines.append(line)
            else:
                values = good_values(seq)
                row = io.StringIO()
                csv.writer(row, lineterminator="\n").writerow(
                    [
                        values["id"],
                        values["email"],
                        METRIC,
                        TIME,
                        "",
                        json.dumps(values["properties"]),
                    ]
                )
                handle.write(row.getvalue())
                seq += 1
    return path, poison_lines


def run_in_background(shop: Shop, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "joyctl", "-p", "shop", "backfill", "events", *args]
    return subprocess.Popen(
        command,
        env={**os.environ, **shop.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_once_sent(process: subprocess.Popen[bytes], ledger: Path, sent: int) -> str:
    """SIGKILL once the checkpoint shows `sent` events; the run's id."""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            found = runs_table(ledger)
            if found and found[-1]["counters"].get("sent", 0) >= sent:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                return str(found[-1]["id"])
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.01)
        raise AssertionError(f"the run never sent {sent} events")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("write", [jsonl_file, csv_file], ids=["jsonl", "csv"])
def test_poison_lines_are_quarantined_once_and_every_good_record_sent_once(
    make_shop: ShopFactory,
    tmp_path: Path,
    isolated_home: Path,
    write: Callable[[Path], tuple[Path, list[int]]],
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=11)
    source, poison_lines = write(
        tmp_path / ("history.jsonl" if write is jsonl_file else "history.csv")
    )
    ledger = shop.ledger_file(isolated_home)

    first = run_in_background(shop, "--source", str(source), "--batch-size", str(BATCH))
    run_id = kill_once_sent(first, ledger, KILLS_AT[0])
    again = run_in_background(shop, "--resume", run_id)
    assert kill_once_sent(again, ledger, KILLS_AT[1]) == run_id

    result = shop("--json", "backfill", "events", "--resume", run_id)

    assert result.exit_code == 7, result.stderr
    assert "internal error" not in result.stdout + result.stderr
    summary = json.loads(result.stdout)["data"]
    assert summary["sent"] + summary["already_sent"] == GOOD
    assert summary["quarantined"] == len(poison_lines)
    assert recorded_sequence(shop.server) == list(range(GOOD))  # each good record once
    quarantine = Path(summary["quarantine_file"])
    entries = [json.loads(text) for text in quarantine.read_text(encoding="utf-8").splitlines()]
    assert [entry["line"] for entry in entries] == poison_lines  # each poison line once, in order
    assert all(entry["reason"] for entry in entries)
    status = shop.data("backfill", "status", run_id)
    assert (status["status"], status["counters"]["quarantined"]) == ("completed", len(poison_lines))


class _Killed(BaseException):
    """Stands for kill -9: nothing after it runs, no handler records anything."""


def test_a_stop_between_quarantine_and_checkpoint_writes_no_line_twice(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = []
    for number in range(1, 31):
        lines.append(
            _line(id=f"p{number}", value="inf")
            if number % 4 == 0
            else json.dumps(good_values(number))
        )
    source = tmp_path / "history.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    poison_lines = [number for number in range(1, 31) if number % 4 == 0]
    request = EventBackfillRequest(source=str(source), batch_size=3)
    auth = ApiKeyAuth(shop.server.credentials.private_key)
    real_save, saves = runs.save_progress, []

    def save_then_die(*args: Any, **kwargs: Any) -> None:
        saves.append(1)
        if len(saves) == 4:  # chunk 4's bad line is in the quarantine, its checkpoint is not
            with request_quarantine(source).open("a", encoding="utf-8") as handle:
                handle.write('{"line": 99, "rea')  # and a line torn by the kill
            raise _Killed
        real_save(*args, **kwargs)

    with (
        closing(open_ledger(tmp_path / "ledger.sqlite3")) as connection,
        build_client(base_url=shop.server.base_url, auth=auth, pacing=False) as client,
    ):
        monkeypatch.setattr(runs, "save_progress", save_then_die)
        with pytest.raises(_Killed):
            backfill_events(client, connection, request, data_dir=tmp_path, in_flight=1)
        monkeypatch.setattr(runs, "save_progress", real_save)
        run_id = connection.execute("SELECT id FROM runs").fetchone()[0]
        summary = backfill_events(client, connection, None, data_dir=tmp_path, resume=run_id)

    entries = [json.loads(text) for text in request_quarantine(source).read_text().splitlines()]
    assert [entry["line"] for entry in entries] == poison_lines
    assert summary.quarantined == len(poison_lines)
    assert recorded_sequence(shop.server) == [n for n in range(1, 31) if n % 4]


def request_quarantine(source: Path) -> Path:
    return source.with_name(source.name + ".quarantine.jsonl")
