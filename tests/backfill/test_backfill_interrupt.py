"""An interrupt (Ctrl-C, or SIGTERM) landing at the edge of a checkpoint saves the run as
`interrupted` all the same: the cut-off checkpoint is rolled back, never left open to swallow
the run's status, and the resumed run sends the rest exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from joyctl.errors import InterruptedRunError
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import build_client
from joyctl.ledger import runs
from joyctl.ledger.db import open_ledger, transaction
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.backfill.events import EventBackfillRequest, backfill_events
from joyctl.services.backfill.runs import EVENTS_KIND, run_outcome, start_run, utc_now
from tests.backfill.conftest import FAST
from tests.backfill.support import recorded_sequence, runs_table, write_events
from tests.ledger.support import InterruptedConnection

EVENTS = 2_000
BATCH = 250


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite3"
    open_ledger(path).close()
    return path


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(**FAST)) as running:
        yield running


def test_an_interrupt_as_a_checkpoint_begins_saves_the_run_and_it_resumes(
    server: SandboxServer, ledger: Path, tmp_path: Path
) -> None:
    source = write_events(tmp_path / "history.jsonl", EVENTS)
    auth = ApiKeyAuth(server.credentials.private_key)
    request = EventBackfillRequest(source=str(source), batch_size=BATCH)
    with build_client(base_url=server.base_url, auth=auth, pacing=False) as client:
        # The third checkpoint's BEGIN IMMEDIATE returns into the signal handler.
        third_begin = InterruptedConnection(ledger, after="BEGIN IMMEDIATE", skip=2)
        with closing(third_begin), pytest.raises(InterruptedRunError):
            backfill_events(client, third_begin, request, data_dir=tmp_path)
        (run,) = runs_table(ledger)
        assert (run["status"], run["counters"]["sent"]) == ("interrupted", 2 * BATCH)

        with closing(open_ledger(ledger)) as connection:
            summary = backfill_events(client, connection, None, data_dir=tmp_path, resume=run["id"])
    assert summary.already_sent + summary.sent == EVENTS
    assert recorded_sequence(server) == list(range(EVENTS))
    assert runs_table(ledger)[0]["status"] == "completed"


def test_an_interrupt_as_a_checkpoint_block_ends_saves_the_run(ledger: Path) -> None:
    with closing(open_ledger(ledger)) as connection:
        run = start_run(connection, EVENTS_KIND, {})
        with pytest.raises(InterruptedRunError), run_outcome(connection, run):
            # The signal lands as `with` calls the context manager's exit, before it commits:
            # the transaction stays open while the traceback keeps the context manager alive.
            checkpoint = transaction(connection)
            checkpoint.__enter__()
            runs.save_progress(connection, run, position={"line": 7}, counters={}, now=utc_now())
            raise KeyboardInterrupt
        assert not connection.in_transaction
        del checkpoint  # collected at last: its rollback finds nothing left to roll back
    (saved,) = runs_table(ledger)
    assert (saved["status"], json.loads(saved["checkpoint"])["position"]) == ("interrupted", {})


def test_an_interrupt_as_the_work_ends_saves_the_run_as_interrupted(ledger: Path) -> None:
    """Not left `running` when the signal comes just before the run is marked completed."""
    with closing(InterruptedConnection(ledger, before="UPDATE runs SET status")) as connection:
        run = start_run(connection, EVENTS_KIND, {})
        # Caught either way, so a bare KeyboardInterrupt fails this test, not the whole session.
        stopping = pytest.raises((InterruptedRunError, KeyboardInterrupt))
        with stopping as stopped, run_outcome(connection, run):
            pass
    assert stopped.type is InterruptedRunError
    assert runs_table(ledger)[0]["status"] == "interrupted"
