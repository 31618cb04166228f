"""A hostile or broken Klaviyo over real sockets: every answer ends in bounded time, with the
documented exit code (3 for an answer joyctl cannot use, 5 for Klaviyo or the network failing).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from joyctl.errors import DataError, ExitCode, JoyctlError, RateLimitedError, RemoteError
from joyctl.klaviyo import bounds
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.bounds import AnswerLimits
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.resources.bulk_import import bulk_import_profiles
from joyctl.klaviyo.resources.events import EventInput, ProfileEvents, bulk_create_events
from tests.conftest import Cli
from tests.klaviyo.hostile_server import Answer, HostileKlaviyo, iter_hostile
from tests.klaviyo.support import FakeClock

API_KEY = "pk_hostile_0123456789abcdef"
ACCOUNTS = {"data": [{"type": "account", "id": "AbC123", "attributes": {}}]}
DEADLINE = 1.5
Waits = list[tuple[float, str]]
Build = Callable[..., KlaviyoClient]


@pytest.fixture
def hostile() -> Iterator[HostileKlaviyo]:
    yield from iter_hostile()


@pytest.fixture
def waits() -> Waits:
    return []


@pytest.fixture
def client(hostile: HostileKlaviyo, waits: Waits) -> Iterator[Build]:
    built: list[KlaviyoClient] = []

    def build(**overrides: Any) -> KlaviyoClient:
        options: dict[str, Any] = {
            "base_url": hostile.url,
            "auth": ApiKeyAuth(API_KEY),
            "limits": AnswerLimits(deadline_seconds=DEADLINE),
            "pacing": False,
            "rng": random.Random(3),
            "on_wait": lambda seconds, reason: waits.append((seconds, reason)),
        }
        options.update(overrides)
        made = build_client(**options)
        built.append(made)
        return made

    yield build
    for made in built:
        made.close()


def _fails(call: Callable[[], object], within: float) -> JoyctlError:
    started = time.monotonic()
    with pytest.raises(JoyctlError) as caught:
        call()
    assert time.monotonic() - started < within
    return caught.value


# --- a server too slow to finish: the request's deadline ----------------------------------


def test_a_server_trickling_its_status_line_ends_at_the_deadline(
    hostile: HostileKlaviyo, client: Build
) -> None:
    hostile.answer("GET", "/api/accounts", Answer.json(ACCOUNTS, trickle="all"))
    failure = _fails(lambda: client().get("/api/accounts"), within=DEADLINE + 2)
    assert isinstance(failure, RemoteError)
    assert failure.exit_code == ExitCode.REMOTE
    assert f"did not answer get_accounts within {DEADLINE:g}s" in failure.message
    assert hostile.requests == [("GET", "/api/accounts")]  # a deadline is not retried


def test_a_trickle_on_a_reused_connection_ends_at_the_deadline(
    hostile: HostileKlaviyo, client: Build
) -> None:
    fine, slow = Answer.json(ACCOUNTS), Answer.json(ACCOUNTS, trickle="all", interval=0.5)
    hostile.answer("GET", "/api/accounts", fine, slow, fine)
    reused = client()
    reused.get("/api/accounts")
    failure = _fails(lambda: reused.get("/api/accounts"), within=DEADLINE + 2)
    assert failure.exit_code == ExitCode.REMOTE
    assert hostile.connections == 1
    assert reused.get("/api/accounts") == ACCOUNTS  # the client goes on, on a new connection
    assert hostile.connections == 2


def test_a_server_trickling_the_body_ends_at_the_deadline(
    hostile: HostileKlaviyo, client: Build
) -> None:
    hostile.answer("GET", "/api/metrics", Answer.json({"data": []}, trickle="body"))
    failure = _fails(lambda: client().get("/api/metrics"), within=DEADLINE + 2)
    assert failure.exit_code == ExitCode.REMOTE
    assert "get_metrics" in failure.message


def test_a_write_to_a_trickling_server_ends_at_the_deadline(
    hostile: HostileKlaviyo, client: Build
) -> None:
    hostile.answer("POST", "/api/event-bulk-create-jobs", Answer(202, trickle="all"))
    failure = _fails(lambda: _bulk_events(client()), within=DEADLINE + 2)
    assert failure.exit_code == ExitCode.REMOTE


# --- answers too large: read no further than the limit -----------------------------------


def test_an_answer_declared_too_large_is_refused_unread(
    hostile: HostileKlaviyo, client: Build
) -> None:
    huge = Answer(200, {"Content-Length": str(300 * 1024 * 1024)}, endless=True)
    hostile.answer("GET", "/api/lists", huge)
    failure = _fails(lambda: client().get("/api/lists"), within=2)
    assert isinstance(failure, DataError)
    assert failure.exit_code == ExitCode.DATA
    assert "answer to get_lists is larger than 32 MiB" in failure.message


@pytest.mark.parametrize("debug", [False, True])
def test_an_endless_answer_is_cut_at_the_size_limit(
    hostile: HostileKlaviyo, client: Build, debug: bool
) -> None:
    hostile.answer("GET", "/api/lists", Answer(200, endless=True))
    limits = AnswerLimits(deadline_seconds=30, max_answer_bytes=2 * 1024 * 1024)
    build = client(limits=limits, debug=debug, debug_sink=lambda line: None)
    failure = _fails(lambda: build.get("/api/lists"), within=10)
    assert failure.exit_code == ExitCode.DATA
    assert "larger than 2 MiB" in failure.message


# --- waits the server asks for: capped at a minute, and said ----------------------------


def _paced(client: Build, clock: FakeClock) -> KlaviyoClient:
    return client(pacing=True, sleep=clock.sleep, clock=clock)


@pytest.mark.parametrize("reset", ["100000", "99999999999999999999", "1" + "0" * 29])
def test_an_absurd_rate_limit_reset_waits_a_minute_at_most(
    hostile: HostileKlaviyo, client: Build, waits: Waits, reset: str
) -> None:
    headers = {"RateLimit-Limit": "15", "RateLimit-Remaining": "0", "RateLimit-Reset": reset}
    hostile.answer("GET", "/api/accounts", Answer.json(ACCOUNTS, headers=headers))
    clock = FakeClock()
    paced = _paced(client, clock)

    for _ in range(3):
        paced.get("/api/accounts")

    assert max(clock.sleeps) == pytest.approx(60.0)
    long_waits = [(seconds, reason) for seconds, reason in waits if seconds > 2]
    assert long_waits, waits
    assert all(seconds <= 60.0 for seconds, _ in long_waits)
    assert "(RateLimit-Reset); waiting at most 60s" in long_waits[0][1]


def test_a_long_retry_after_is_cut_to_a_minute_and_said_once(
    hostile: HostileKlaviyo, client: Build, waits: Waits
) -> None:
    throttled = Answer.json({"errors": []}, 429, headers={"Retry-After": "200"})
    hostile.answer("GET", "/api/accounts", throttled, Answer.json(ACCOUNTS))
    clock = FakeClock()

    assert _paced(client, clock).get("/api/accounts") == ACCOUNTS

    assert clock.sleeps == [60.0]
    assert waits == [
        (
            60.0,
            "Klaviyo rate-limited get_accounts (429): it asked for 200s (Retry-After);"
            " waiting at most 60s",
        )
    ]


@pytest.mark.parametrize("retry_after", ["40000", "99999999999999999999", "1e308"])
def test_a_retry_after_beyond_the_budget_fails_at_once(
    hostile: HostileKlaviyo, client: Build, retry_after: str
) -> None:
    throttled = Answer.json({"errors": []}, 429, headers={"Retry-After": retry_after})
    hostile.answer("GET", "/api/accounts", throttled)
    clock = FakeClock()
    failure = _fails(lambda: _paced(client, clock).get("/api/accounts"), within=2)
    assert isinstance(failure, RateLimitedError)
    assert failure.exit_code == ExitCode.REMOTE
    assert clock.sleeps == []


@pytest.mark.parametrize("retry_after", ["inf", "nan", "1e400", "-5", "soon"])
def test_a_meaningless_retry_after_backs_off_as_if_absent(
    hostile: HostileKlaviyo, client: Build, retry_after: str
) -> None:
    throttled = Answer.json({"errors": []}, 429, headers={"Retry-After": retry_after})
    hostile.answer("GET", "/api/accounts", throttled, Answer.json(ACCOUNTS))
    clock = FakeClock()
    assert client(sleep=clock.sleep, clock=clock).get("/api/accounts") == ACCOUNTS
    assert all(seconds <= 1.0 for seconds in clock.sleeps)


# --- a success that is not what the operation documents ----------------------------------


@pytest.mark.parametrize(
    "body", [b"<html>hello</html>", b"[1, 2]", b'"text"', b"[" * 100_000, b"{\xff}"]
)
def test_a_2xx_whose_body_is_not_a_json_document_is_a_data_error(
    hostile: HostileKlaviyo, client: Build, body: bytes
) -> None:
    hostile.answer("GET", "/api/accounts", Answer(200, {"Content-Type": "text/html"}, body))
    failure = _fails(lambda: client().get("/api/accounts"), within=5)
    assert failure.exit_code == ExitCode.DATA
    assert "answered 200 to get_accounts with a body that is not a JSON document" in (
        failure.message
    )


@pytest.mark.parametrize(
    "answer",
    [
        Answer(202),
        Answer.json({"data": None}, 202),
        Answer.json({"data": []}, 202),
        Answer.json({"meta": {}}, 200),
    ],
)
def test_a_bulk_import_accepted_without_a_job_is_a_data_error(
    hostile: HostileKlaviyo, client: Build, answer: Answer
) -> None:
    hostile.answer("POST", "/api/profile-bulk-import-jobs", answer)
    profiles = [{"email": "ann@example.com"}]
    failure = _fails(lambda: bulk_import_profiles(client(), profiles), within=5)
    assert failure.exit_code == ExitCode.DATA
    assert "bulk_import_profiles" in failure.message


@pytest.mark.parametrize("answer", [Answer.json({}, 200), Answer(200), Answer(204)])
def test_a_bulk_event_job_not_answered_202_is_not_taken_as_sent(
    hostile: HostileKlaviyo, client: Build, answer: Answer
) -> None:
    hostile.answer("POST", "/api/event-bulk-create-jobs", answer)
    failure = _fails(lambda: _bulk_events(client()), within=5)
    assert failure.exit_code == ExitCode.DATA
    assert "to bulk_create_events where 202 (accepted) is documented" in failure.message


def _bulk_events(made: KlaviyoClient) -> None:
    event = EventInput(metric_name="Joy: Earn Point", unique_id="u1")
    bulk_create_events(made, [ProfileEvents({"email": "ann@example.com"}, [event])])


# --- through the real command line --------------------------------------------------------


def _profile(cli: Cli, hostile: HostileKlaviyo, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    added = cli("profiles", "add", "hostile", "--base-url", hostile.url)
    assert added.exit_code == 0, added.stderr
    source = tmp_path / "events.jsonl"
    source.write_text(
        '{"id": "e1", "email": "ann@example.com", "metric": "Joy: Earn Point",'
        ' "time": "2025-03-01T12:00:00Z"}\n'
    )
    return source, {"JOYCTL_KLAVIYO_API_KEY": API_KEY}


def test_backfill_against_a_bulk_job_answered_200_exits_3_and_records_nothing_sent(
    cli: Cli, hostile: HostileKlaviyo, tmp_path: Path
) -> None:
    hostile.answer("POST", "/api/event-bulk-create-jobs", Answer.json({"ok": True}, 200))
    source, env = _profile(cli, hostile, tmp_path)

    result = cli("-p", "hostile", "backfill", "events", "--source", str(source), env=env)

    assert result.exit_code == ExitCode.DATA, result.stderr
    assert "bulk_create_events" in result.stderr
    assert "internal error" not in result.stderr
    status = cli("--json", "-p", "hostile", "backfill", "status", env=env)
    [run] = json.loads(status.stdout)["data"]
    assert run["status"] != "completed"
    assert run["counters"].get("sent", 0) == 0


def test_backfill_against_a_trickling_server_exits_5_in_bounded_time(
    cli: Cli, hostile: HostileKlaviyo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounds, "DEFAULT_DEADLINE_SECONDS", DEADLINE)
    hostile.answer("POST", "/api/event-bulk-create-jobs", Answer(202, trickle="all"))
    source, env = _profile(cli, hostile, tmp_path)

    started = time.monotonic()
    result = cli("-p", "hostile", "backfill", "events", "--source", str(source), env=env)

    assert result.exit_code == ExitCode.REMOTE, result.stderr
    assert time.monotonic() - started < DEADLINE + 5
    assert f"within {DEADLINE:g}s" in result.stderr
