"""`backfill profiles`: Joy's profile properties for every customer, through bulk import jobs.

Each customer becomes a profile with `Joy Loyalty Points`, `Joy Vip tier`, `Joy member status`,
`Joy Referral URL` and `Birthday` (MM/DD), named as Joy names them (loyalty-domain.md 1.6, 5);
unknown values are left out rather than sent empty, so they never clear what Klaviyo holds.
Jobs are submitted in customer order, a few awaited at a time; the checkpoint records the last
customer submitted and the jobs not yet finished, so a resumed run polls those and goes on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from joyctl.klaviyo import joy_events
from joyctl.klaviyo.bulk.profile_jobs import (
    ERRORS_KEPT,
    ImportProblem,
    ProfileBatch,
    cut_jobs,
    submit_job,
    wait_for_job,
)
from joyctl.klaviyo.bulk.sender import RequestTally
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.endpoints import find_endpoint
from joyctl.ledger import runs
from joyctl.ledger.backfill_queries import count_customers, iter_customers
from joyctl.ledger.customers import Customer
from joyctl.ledger.runs import Run
from joyctl.services.backfill.ledger_source import utc_text
from joyctl.services.backfill.plan import estimate_seconds
from joyctl.services.backfill.runs import (
    PROFILES_KIND,
    OnStart,
    RequestCounters,
    RunStart,
    resume_run,
    run_outcome,
    start_run,
    unfinished_run,
    utc_now,
)

# Jobs submitted but not yet seen complete; Klaviyo works on them meanwhile.
MAX_PENDING_JOBS = 4


class ProfileBackfillRequest(BaseModel):
    since: datetime | None = None
    """Only customers whose fields or points changed since then."""


class ProfileBackfillSummary(BaseModel):
    run_id: str
    profiles: int
    """Profiles this invocation submitted."""
    already_submitted: int = 0
    """Profiles an earlier attempt of this run submitted (a continued run)."""
    jobs: int
    """Jobs this invocation submitted."""
    imported: int
    failed: int
    problems: list[ImportProblem]
    """The first profiles Klaviyo could not import, and why."""
    requests: int
    throttled: int
    elapsed_seconds: float
    continued: bool = False
    """This invocation continued a stopped run (rerun with the same arguments, or --resume)."""


class ProfilePlan(BaseModel):
    profiles: int
    jobs: int
    estimated_seconds: float


@dataclass
class ProfileCounters(RequestCounters):
    submitted: int = 0
    jobs: int = 0
    imported: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ProfileProgress:
    """How far the run got, in the summary's own terms (`submitted` by this invocation)."""

    done: int
    total: int
    submitted: int
    already_submitted: int
    imported: int
    failed: int


ProgressCallback = Callable[[ProfileProgress], None]


def profile_attributes(customer: Customer, balance: int) -> dict[str, Any]:
    properties = {
        joy_events.PROFILE_POINTS: balance,
        joy_events.PROFILE_TIER: customer.tier,
        joy_events.PROFILE_STATUS: customer.member_status,
        joy_events.PROFILE_REFERRAL_URL: customer.referral_url,
        joy_events.PROFILE_BIRTHDAY: _month_day(customer.birthday),
    }
    attributes: dict[str, Any] = {"email": customer.email}
    if customer.external_id:
        attributes["external_id"] = customer.external_id
    attributes["properties"] = {
        key: value for key, value in properties.items() if value is not None
    }
    return attributes


def _month_day(birthday: str | None) -> str | None:
    """Joy writes birthdays as MM/DD; the ledger may hold a full date."""
    if birthday and len(birthday) == 10 and birthday[4] == "-":
        return f"{birthday[5:7]}/{birthday[8:10]}"
    return birthday


def plan_profiles(connection: sqlite3.Connection, request: ProfileBackfillRequest) -> ProfilePlan:
    profiles = count_customers(connection, after_id=0, since=utc_text(request.since))
    jobs = sum(1 for _ in cut_jobs(_profiles(connection, request, after_id=0)))
    endpoint = find_endpoint("POST", "/api/profile-bulk-import-jobs")
    burst, steady = (
        (endpoint.burst_per_second, endpoint.steady_per_minute) if endpoint else (10, 150)
    )
    seconds = estimate_seconds(jobs, burst=burst, steady=steady)
    return ProfilePlan(profiles=profiles, jobs=jobs, estimated_seconds=round(seconds, 1))


def _profiles(
    connection: sqlite3.Connection, request: ProfileBackfillRequest, *, after_id: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    since = utc_text(request.since)
    for customer, balance in iter_customers(connection, after_id=after_id, since=since):
        yield customer.id, profile_attributes(customer, balance)


def backfill_profiles(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    request: ProfileBackfillRequest | None,
    *,
    resume: str | None = None,
    restart: bool = False,
    on_start: OnStart | None = None,
    on_progress: ProgressCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ProfileBackfillSummary:
    """Submit every selected profile in import jobs and wait for each job to complete.

    A stopped run started with the same request is continued, unless `restart`.
    """
    run, continued = _begin(connection, request, resume, restart=restart)
    if on_start is not None:
        on_start(RunStart.of(run, continued=continued))
    work = _ProfileRun(client, connection, run, sleep=sleep, on_progress=on_progress)
    started = clock()
    with run_outcome(connection, run), work.tally.watching(client):
        work.run()
    return work.summary(clock() - started).model_copy(update={"continued": continued})


def _begin(
    connection: sqlite3.Connection,
    request: ProfileBackfillRequest | None,
    resume: str | None,
    *,
    restart: bool,
) -> tuple[Run, bool]:
    if resume is not None:
        return resume_run(connection, PROFILES_KIND, resume), True
    params = (request or ProfileBackfillRequest()).model_dump(mode="json")
    stopped = None if restart else unfinished_run(connection, PROFILES_KIND, params)
    if stopped is not None:
        return resume_run(connection, PROFILES_KIND, stopped.id), True
    return start_run(connection, PROFILES_KIND, params), False


class _ProfileRun:
    def __init__(
        self,
        client: KlaviyoClient,
        connection: sqlite3.Connection,
        run: Run,
        *,
        sleep: Callable[[float], None],
        on_progress: ProgressCallback | None,
    ) -> None:
        self.client, self.connection, self.run_record = client, connection, run
        self.request = ProfileBackfillRequest.model_validate(run.params)
        self.counters = ProfileCounters.from_dict(run.counters)
        self.base = ProfileCounters.from_dict(run.counters)
        self.after_id = int(run.position.get("customer_id", 0))
        self.pending: list[str] = list(run.position.get("pending_jobs", []))
        self.problems: list[ImportProblem] = []
        self.tally = RequestTally()
        self._sleep, self._on_progress = sleep, on_progress
        self._total = count_customers(connection, after_id=0, since=utc_text(self.request.since))

    def run(self) -> None:
        for batch in cut_jobs(_profiles(self.connection, self.request, after_id=self.after_id)):
            while len(self.pending) >= MAX_PENDING_JOBS:
                self._await_oldest()
            self._submit(batch)
        while self.pending:
            self._await_oldest()

    def _submit(self, batch: ProfileBatch) -> None:
        self.pending.append(submit_job(self.client, batch.profiles))
        self.after_id = batch.last_origin
        self.counters.submitted += len(batch.profiles)
        self.counters.jobs += 1
        self._checkpoint()

    def _await_oldest(self) -> None:
        result = wait_for_job(self.client, self.pending[0], sleep=self._sleep)
        self.pending.pop(0)
        self.counters.imported += result.completed
        self.counters.failed += result.failed
        self.problems += result.problems[: ERRORS_KEPT - len(self.problems)]
        self._checkpoint()

    def _checkpoint(self) -> None:
        self.counters.count_requests(self.base, self.tally)
        position = {"customer_id": self.after_id, "pending_jobs": list(self.pending)}
        runs.save_progress(
            self.connection,
            self.run_record,
            position=position,
            counters=asdict(self.counters),
            now=utc_now(),
        )
        if self._on_progress is not None:
            counters, base = self.counters, self.base
            self._on_progress(
                ProfileProgress(
                    done=counters.submitted,
                    total=self._total,
                    submitted=counters.submitted - base.submitted,
                    already_submitted=base.submitted,
                    imported=counters.imported,
                    failed=counters.failed,
                )
            )

    def summary(self, elapsed: float) -> ProfileBackfillSummary:
        return ProfileBackfillSummary(
            run_id=self.run_record.id,
            profiles=self.counters.submitted - self.base.submitted,
            already_submitted=self.base.submitted,
            jobs=self.counters.jobs - self.base.jobs,
            imported=self.counters.imported,
            failed=self.counters.failed,
            problems=self.problems,
            requests=self.tally.requests,
            throttled=self.tally.throttled,
            elapsed_seconds=round(elapsed, 3),
        )
