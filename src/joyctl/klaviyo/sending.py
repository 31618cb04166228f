"""Sending one Klaviyo call: pace it, send it, retry it within the policy's caps.

`Sender` is the loop behind `KlaviyoClient.request`; `Waiter` sleeps and tells the caller about
each wait exactly once, even when several threads wait out the same hold. A wait the server asks
for (`Retry-After`, `RateLimit-Reset`) is cut to the policy's `max_single_wait`, and the report
says so. Each attempt runs within the deadline `bounds.AnswerBounds` sets.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from joyctl.klaviyo.bounds import DeadlineExceeded, attempt_of
from joyctl.klaviyo.debuglog import HttpDebugLog
from joyctl.klaviyo.endpoints import Endpoint, find_endpoint
from joyctl.klaviyo.errors import map_failure
from joyctl.klaviyo.limiter import OperationLimiter, RateLimiter, RateLimits
from joyctl.klaviyo.redact import Redactor
from joyctl.klaviyo.retry import (
    SAFE_METHODS,
    RetryPolicy,
    is_retryable_status,
    is_retryable_transport_error,
    parse_retry_after,
)

WaitCallback = Callable[[float, str], None]
Outcome = httpx.Response | httpx.TransportError
JSON_API = "application/vnd.api+json"

# Operations whose quota drops when an expensive field is requested (klaviyo-api.md 4.4, 5).
_REDUCED_LIMITS: dict[tuple[str, str, str], RateLimits] = {
    ("get_list", "additional-fields[list]", "profile_count"): RateLimits(1, 15),
    ("get_profiles", "additional-fields[profile]", "predictive_analytics"): RateLimits(10, 150),
}
# Paths outside the endpoint table share one moderate quota.
_UNKNOWN_LIMITS = RateLimits(10, 150)
# Waits that end within this many seconds of one already reported are the same wait.
_SAME_WAIT_TOLERANCE = 0.5


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: httpx.QueryParams | None
    content: bytes | None
    idempotent: bool | None
    authenticated: bool

    @property
    def is_idempotent(self) -> bool:
        return self.method in SAFE_METHODS or bool(self.idempotent)


class Waiter:
    """Sleeps, reporting each distinct wait once through `on_wait(seconds, reason)`."""

    def __init__(
        self,
        *,
        on_wait: WaitCallback | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        report_over: float,
    ) -> None:
        self._on_wait = on_wait
        self._sleep = sleep
        self._clock = clock
        self._report_over = report_over
        self._lock = threading.Lock()
        self._announced_until: dict[str, float] = {}

    def wait(self, seconds: float, reason: str, *, key: str, always_report: bool) -> None:
        if seconds <= 0:
            return
        worth_reporting = always_report or seconds >= self._report_over
        if self._on_wait is not None and worth_reporting and self._claim(key, seconds):
            self._on_wait(seconds, reason)
        self._sleep(seconds)

    def _claim(self, key: str, seconds: float) -> bool:
        until = self._clock() + seconds
        with self._lock:
            if until <= self._announced_until.get(key, float("-inf")) + _SAME_WAIT_TOLERANCE:
                return False
            self._announced_until[key] = until
            return True


class Sender:
    """Paces, sends and retries calls for one `httpx.Client`."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        limiter: RateLimiter | None,
        policy: RetryPolicy,
        waiter: Waiter,
        rng: random.Random,
        debug_log: HttpDebugLog | None,
        redactor: Redactor,
    ) -> None:
        self._http = http
        self._redactor = redactor
        self._limiter = limiter
        self._policy = policy
        self._waiter = waiter
        self._rng = rng
        self._debug_log = debug_log

    def send(self, call: Call) -> httpx.Response:
        endpoint = find_endpoint(call.method, call.path)
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            key, limiter = self._pace(call, endpoint)
            outcome = self._send_once(call)
            if limiter is not None and isinstance(outcome, httpx.Response):
                self._observe(limiter, outcome)
            plan = self._retry_plan(call, outcome, attempt, endpoint)
            if plan is None:
                return self._finish(outcome, endpoint, attempt)
            delay, reason = plan
            if attempt >= self._policy.max_attempts or waited + delay > self._policy.max_total_wait:
                raise self._failure(outcome, endpoint, attempt)
            waited += delay
            if self._debug_log is not None:
                self._debug_log.note(f"retrying in {delay:.2f}s: {reason}")
            self._waiter.wait(delay, reason, key=key, always_report=True)

    def page_size(self, path: str, requested: int | None) -> int | None:
        """The `page[size]` to send: the largest allowed unless asked for less; None if unpaged."""
        endpoint = find_endpoint("GET", path)
        if endpoint is None or endpoint.page_size_max is None:
            return None
        if requested is None:
            return endpoint.page_size_max
        return max(1, min(requested, endpoint.page_size_max))

    def _pace(self, call: Call, endpoint: Endpoint | None) -> tuple[str, OperationLimiter | None]:
        key, limits = _limits_for(call, endpoint)
        if self._limiter is None:
            return key, None
        limiter = self._limiter.for_operation(key, limits)
        delay, note = limiter.reserve_with_note()
        reason = f"pacing {key} to Klaviyo's rate limit ({limiter.limits.describe()})"
        if note is not None:
            reason = f"{reason}: {note}"
        self._waiter.wait(delay, reason, key=key, always_report=False)
        return key, limiter

    def _observe(self, limiter: OperationLimiter, response: httpx.Response) -> None:
        if response.status_code == 429:
            # Every thread pacing this operation holds off, not only the one that was told.
            # A wait beyond the retry budget (a daily cap) is not imposed on later calls:
            # they ask again and fail fast rather than sleep for hours.
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after and retry_after <= self._policy.max_total_wait:
                limiter.hold(retry_after, asked_by="Retry-After")
        elif response.is_success:
            limiter.observe(response.headers)

    def _send_once(self, call: Call) -> Outcome:
        headers = {"Content-Type": JSON_API} if call.content is not None else None
        request = self._http.build_request(
            call.method, call.path, params=call.params, content=call.content, headers=headers
        )
        auth = httpx.USE_CLIENT_DEFAULT if call.authenticated else None
        try:
            return self._http.send(request, auth=auth)
        except httpx.TransportError as exc:
            failure = _deadline_or(exc, request)
            if self._debug_log is not None:
                self._debug_log.on_transport_error(request, failure)
            return failure
        finally:
            attempt = attempt_of(request)
            if attempt is not None:
                attempt.finish()

    def _retry_plan(
        self, call: Call, outcome: Outcome, attempt: int, endpoint: Endpoint | None
    ) -> tuple[float, str] | None:
        operation = endpoint.operation_id if endpoint else call.path
        if isinstance(outcome, httpx.TransportError):
            if not is_retryable_transport_error(outcome, idempotent=call.is_idempotent):
                return None
            reason = f"the connection failed for {operation} ({type(outcome).__name__})"
            return self._backoff(attempt), reason
        status = outcome.status_code
        if status == 429:
            return self._throttled_wait(outcome, operation, attempt)
        if is_retryable_status(status) and call.is_idempotent:
            return self._backoff(attempt), f"Klaviyo answered {status} to {operation}"
        return None

    def _throttled_wait(
        self, response: httpx.Response, operation: str, attempt: int
    ) -> tuple[float, str]:
        """Wait what `Retry-After` asks, up to `max_single_wait`; a wait beyond the whole
        budget is returned as it is, so that the caller gives up at once."""
        reason = f"Klaviyo rate-limited {operation} (429)"
        asked = parse_retry_after(response.headers.get("retry-after"))
        if asked is None:
            return self._backoff(attempt), reason
        cap = self._policy.max_single_wait
        if asked <= cap or asked > self._policy.max_total_wait:
            return asked, reason
        return cap, f"{reason}: it asked for {asked:g}s (Retry-After); waiting at most {cap:g}s"

    def _backoff(self, attempt: int) -> float:
        return self._policy.backoff(attempt, self._rng)

    def _finish(self, outcome: Outcome, endpoint: Endpoint | None, attempts: int) -> httpx.Response:
        if isinstance(outcome, httpx.Response) and outcome.is_success:
            return outcome
        raise self._failure(outcome, endpoint, attempts)

    def _failure(self, outcome: Outcome, endpoint: Endpoint | None, attempts: int) -> Exception:
        return map_failure(outcome, endpoint=endpoint, attempts=attempts, scrub=self._redactor.text)


def _deadline_or(exc: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    """A failure caused by the deadline's watchdog (it shuts the socket) is a deadline."""
    attempt = attempt_of(request)
    if attempt is None or not attempt.expired or isinstance(exc, DeadlineExceeded):
        return exc
    return DeadlineExceeded(attempt.seconds, request)


def _limits_for(call: Call, endpoint: Endpoint | None) -> tuple[str, RateLimits]:
    if endpoint is None:
        return "other", _UNKNOWN_LIMITS
    for (operation, name, value), limits in _REDUCED_LIMITS.items():
        requested = call.params.get(name, "") if call.params is not None else ""
        if operation == endpoint.operation_id and value in requested.split(","):
            return f"{operation}+{value}", limits
    return endpoint.operation_id, RateLimits(endpoint.burst_per_second, endpoint.steady_per_minute)
