"""The one place where Klaviyo HTTP failures become joyctl errors.

`map_failure` handles every API response and network failure; `map_oauth_failure` handles the
OAuth token and revoke endpoints, whose error bodies follow RFC 6749 instead of JSON:API.
Messages use the server's `detail` when there is one, and never include request bodies or
credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx

from joyctl.api_contract import REVISION
from joyctl.command_line import command
from joyctl.errors import (
    AuthError,
    ConfigError,
    DataError,
    JoyctlError,
    NotFoundError,
    PermissionDeniedError,
    PlanGateError,
    RateLimitedError,
    RemoteError,
)
from joyctl.klaviyo.bounds import DeadlineExceeded
from joyctl.klaviyo.endpoints import Endpoint
from joyctl.klaviyo.redact import Redactor


def reconnect_hint() -> str:
    return f"run `{command('connect')}` to re-authorize"


CREDENTIAL_ORDER = (
    "credentials are read from the flag or stdin, then JOYCTL_KLAVIYO_API_KEY / "
    "JOYCTL_KLAVIYO_ACCESS_TOKEN, then the keyring"
)
# Klaviyo's wording for plan gating (klaviyo-api.md 6.5): it reads like a scope problem, but
# granting scopes does not help, so it must not be reported as one.
_PLAN_GATE_MARKERS = ("advanced kdp", "entitlement")


@dataclass(frozen=True)
class ApiProblem:
    """The first JSON:API error object of a response, reduced to what messages need."""

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    error_id: str | None = None

    @property
    def text(self) -> str:
        return self.detail or self.title or ""

    def scrubbed(self, scrub: Callable[[str], str]) -> ApiProblem:
        """The same problem with credentials the server echoed removed from its texts."""
        return replace(
            self,
            title=scrub(self.title) if self.title else None,
            detail=scrub(self.detail) if self.detail else None,
        )

    @property
    def location(self) -> str:
        where = self.pointer or (f"parameter {self.parameter}" if self.parameter else None)
        return f" (at {where})" if where else ""


def parse_problems(response: httpx.Response) -> list[ApiProblem]:
    """Every error object in a JSON:API error body; empty for HTML or unparsable bodies."""
    try:
        body: Any = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [_problem(item) for item in errors if isinstance(item, dict)]


def _problem(item: dict[str, Any]) -> ApiProblem:
    raw_source = item.get("source")
    source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}

    def text(value: Any) -> str | None:
        return str(value) if value not in (None, "") else None

    return ApiProblem(
        code=text(item.get("code")),
        title=text(item.get("title")),
        detail=text(item.get("detail")),
        pointer=text(source.get("pointer")),
        parameter=text(source.get("parameter")),
        error_id=text(item.get("id")),
    )


def map_failure(
    failure: httpx.Response | httpx.TransportError,
    *,
    endpoint: Endpoint | None,
    attempts: int = 1,
    scrub: Callable[[str], str] | None = None,
) -> JoyctlError:
    """Turn a failed response (or a network failure after retries) into a joyctl error.

    `scrub` removes credentials from server-supplied text (a detail may echo what was sent);
    by default anything shaped like a private key is removed.
    """
    operation = endpoint.operation_id if endpoint else "this request"
    if isinstance(failure, httpx.TransportError):
        return _network_error(failure, operation, attempts)
    status = failure.status_code
    clean = scrub or Redactor().text
    problems = [problem.scrubbed(clean) for problem in parse_problems(failure)]
    first = problems[0] if problems else ApiProblem()
    revision_problem = next((p for p in problems if p.parameter == "revision"), None)
    if revision_problem is not None and status in (400, 410):
        return _revision_error(failure, revision_problem, operation)
    if status == 401:
        return _auth_error(first, operation)
    if status == 403:
        return _forbidden_error(first, endpoint, operation)
    if status == 404:
        return NotFoundError(
            f"Klaviyo has no such resource for {operation}: {first.text or 'not found'}",
            hint="check the id; it may have been deleted",
        )
    if status == 429:
        return _rate_limited_error(failure, operation, attempts)
    if status in (400, 409, 413, 422):
        return _data_error(status, problems, operation)
    return _remote_error(status, first, operation, attempts)


def _revision_error(response: httpx.Response, problem: ApiProblem, operation: str) -> ConfigError:
    """The `revision` header was refused: a setting to change, not credentials to renew."""
    sent = response.request.headers.get("revision", "") if _has_request(response) else ""
    shown = f" {sent!r}" if sent else ""
    return ConfigError(
        f"Klaviyo refused the API revision{shown} for {operation}: {problem.text or 'invalid'}",
        hint=(
            "use a released, supported revision: unset JOYCTL_REVISION or the profile's "
            f"`revision` setting to get joyctl's default, {REVISION}"
        ),
        code="revision_refused",
    )


def _auth_error(problem: ApiProblem, operation: str) -> AuthError:
    reason = problem.text or "Incorrect authentication credentials."
    return AuthError(
        f"Klaviyo rejected the credentials for {operation}: {reason}",
        hint=f"{reconnect_hint()}, or check the API key ({CREDENTIAL_ORDER})",
        code="authentication_failed",
    )


def _forbidden_error(problem: ApiProblem, endpoint: Endpoint | None, operation: str) -> AuthError:
    reason = problem.text or "permission denied"
    if any(marker in reason.lower() for marker in _PLAN_GATE_MARKERS):
        return PlanGateError(
            f"Klaviyo's plan gate blocks {operation}: {reason}",
            hint=(
                "this is the account's plan, not a missing scope: webhook management needs "
                f"Advanced KDP or an OAuth connection (`{command('connect')}` without"
                " --api-key-stdin)"
            ),
        )
    scopes = " ".join(endpoint.scopes) if endpoint and endpoint.scopes else "unknown"
    # Klaviyo's detail often names the missing scopes already; say them only once.
    needs = "" if scopes in reason else f"; it needs the scopes: {scopes}"
    return PermissionDeniedError(
        f"Klaviyo denied {operation} ({problem.code or 'permission_denied'}):"
        f" {reason.rstrip('.')}{needs}",
        hint=(
            f"{reconnect_hint()} with these scopes (an OAuth app must also list them), "
            "or use a private key that has them"
        ),
    )


def _rate_limited_error(
    response: httpx.Response, operation: str, attempts: int
) -> RateLimitedError:
    retry_after = response.headers.get("retry-after", "").strip()
    asked = f"; it asks to wait {retry_after} s" if retry_after else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return RateLimitedError(
        f"Klaviyo kept throttling {operation}{tries}{asked}",
        hint=(
            "rerun later; another process may share this account's quota, "
            "and some operations (such as creating lists) also have a daily cap"
        ),
    )


def _data_error(status: int, problems: list[ApiProblem], operation: str) -> DataError:
    shown = problems[:3] or [ApiProblem(title=f"HTTP {status}")]
    details = "; ".join(f"{p.text or p.code or 'invalid'}{p.location}" for p in shown)
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    code = "conflict" if status == 409 else "invalid_request"
    return DataError(
        f"Klaviyo rejected {operation} ({status}): {details}{more}",
        hint="fix the field named above and retry",
        code=code,
    )


def _remote_error(status: int, problem: ApiProblem, operation: str, attempts: int) -> RemoteError:
    reference = f" [error id {problem.error_id}]" if problem.error_id else ""
    reason = f": {problem.text}" if problem.text else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return RemoteError(
        f"Klaviyo answered {status} to {operation}{tries}{reason}{reference}",
        hint="Klaviyo may be degraded; rerun later (https://status.klaviyo.com)",
        code="remote_status",
    )


def _network_error(exc: httpx.TransportError, operation: str, attempts: int) -> RemoteError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    host = exc.request.url.host if _has_request(exc) else "Klaviyo"
    if isinstance(exc, DeadlineExceeded):
        return RemoteError(
            f"{host} did not answer {operation} within {exc.seconds:g}s{tries}"
            " (the whole request, however slowly the answer arrived)",
            hint="check the network and the profile's base URL, then rerun",
            code="network",
        )
    return RemoteError(
        f"the connection to {host} {kind} for {operation}{tries} ({type(exc).__name__})",
        hint="check the network and the profile's base URL, then rerun",
        code="network",
    )


def _has_request(exc: httpx.TransportError | httpx.Response) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when no request is attached
    except RuntimeError:
        return False
    return True


def map_oauth_failure(response: httpx.Response, *, action: str) -> JoyctlError:
    """Errors from `/oauth/token` and `/oauth/revoke` (`{"error": ..., "error_description"}`)."""
    error, description = _oauth_error_fields(response)
    if error in ("invalid_grant", "invalid_grant_type") and action == "refresh":
        return AuthError(
            f"disconnected: run `{command('connect')}`"
            " (Klaviyo no longer accepts the refresh token)",
            hint="the app was uninstalled, the token went unused for 90 days, or it was revoked",
            code="disconnected",
        )
    if error == "invalid_client":
        return AuthError(
            f"Klaviyo rejected the OAuth client credentials during {action}",
            hint="check the client id and JOYCTL_KLAVIYO_CLIENT_SECRET",
            code="invalid_client",
        )
    if error is not None and response.status_code < 500:
        reason = f": {description}" if description else ""
        return AuthError(
            f"Klaviyo refused the OAuth {action} ({error}){reason}",
            hint=reconnect_hint(),
            code="oauth_failed",
        )
    if response.status_code == 403:
        return AuthError(
            f"the OAuth {action} was forbidden (an HTML 403 usually means the wrong host)",
            hint="token and revoke calls must go to https://a.klaviyo.com",
            code="oauth_failed",
        )
    return _remote_error(response.status_code, ApiProblem(), f"OAuth {action}", 1)


def _oauth_error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body: Any = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    description = body.get("error_description")
    return (
        str(error) if isinstance(error, str) else None,
        str(description) if isinstance(description, str) else None,
    )
