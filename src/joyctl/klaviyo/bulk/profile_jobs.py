"""Profile bulk-import jobs: cut profiles into jobs, submit them, poll each to its end.

A job takes up to 10,000 profiles and 5 MB, at most 100 KB per profile (klaviyo-api.md 4.3).
Klaviyo answers 202 at once and works through the job later, so a job is only done when polling
says `complete`; its failed profiles are read from the job's import errors. Importing a profile
sets absolute values, so submitting one again after a crash changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from joyctl.errors import RemoteError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.bulk_import import (
    MAX_PROFILES_PER_JOB,
    bulk_import_profiles,
    get_bulk_import_job,
    iter_import_errors,
)
from joyctl.klaviyo.resources.events import MAX_PAYLOAD_BYTES

MAX_PROFILE_BYTES = 100 * 1024
MAX_JOB_BYTES = MAX_PAYLOAD_BYTES - 64 * 1024
_PROFILE_ALLOWANCE = 64  # {"type": "profile", "attributes": ...} and a separator
# Polls start quickly (small jobs finish in a moment) and settle at one every few seconds.
POLL_DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0)
JOB_TIMEOUT_SECONDS = 3600.0
ERRORS_KEPT = 100


class ImportProblem(BaseModel):
    """One profile Klaviyo could not import, and why."""

    email: str | None
    external_id: str | None
    reason: str


@dataclass
class JobResult:
    job_id: str
    completed: int = 0
    failed: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


@dataclass
class ProfileBatch:
    """The profiles of one job and where the input stands after the last of them."""

    profiles: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    last_origin: int = 0


def profile_size(profile: Mapping[str, Any]) -> int:
    return len(json.dumps(dict(profile))) + _PROFILE_ALLOWANCE


def cut_jobs(
    profiles: Iterable[tuple[int, dict[str, Any]]],
    *,
    max_profiles: int = MAX_PROFILES_PER_JOB,
    max_bytes: int = MAX_JOB_BYTES,
) -> Iterator[ProfileBatch]:
    """Consecutive `(origin, profile)` pairs cut into jobs under both caps."""
    batch = ProfileBatch()
    for origin, profile in profiles:
        size = profile_size(profile)
        if batch.profiles and (
            len(batch.profiles) >= max_profiles or batch.size + size > max_bytes
        ):
            yield batch
            batch = ProfileBatch()
        batch.profiles.append(profile)
        batch.size += size
        batch.last_origin = origin
    if batch.profiles:
        yield batch


def submit_job(client: KlaviyoClient, profiles: list[dict[str, Any]]) -> str:
    return bulk_import_profiles(client, profiles).id


def wait_for_job(
    client: KlaviyoClient,
    job_id: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = JOB_TIMEOUT_SECONDS,
    errors_kept: int = ERRORS_KEPT,
) -> JobResult:
    """Poll until the job completes (or was cancelled), then read up to `errors_kept` of its
    import errors."""
    started = clock()
    for attempt in range(1_000_000):
        job = get_bulk_import_job(client, job_id)
        if job.finished:
            result = JobResult(job_id, job.completed_count or 0, job.failed_count or 0)
            if result.failed:
                result.problems = job_problems(client, job_id, errors_kept)
            return result
        if clock() - started > timeout:
            break
        sleep(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)])
    raise RemoteError(
        f"Klaviyo's profile import job {job_id} did not finish within {timeout / 60:.0f} minutes",
        hint="Klaviyo may be busy; resume the run later to poll it again",
    )


def job_problems(
    client: KlaviyoClient, job_id: str, limit: int = ERRORS_KEPT
) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    for error in iter_import_errors(client, job_id):
        payload = error.original_payload or {}
        problems.append(
            ImportProblem(
                email=_text(payload.get("email")),
                external_id=_text(payload.get("external_id")),
                reason=error.detail or error.title or error.code or "import failed",
            )
        )
        if len(problems) >= limit:
            break
    return problems


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
