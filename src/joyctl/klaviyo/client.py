"""The Klaviyo HTTP client and the one factory that builds it.

`build_client` sets the base URL, the `revision` header, JSON:API content negotiation, the
User-Agent, timeouts, a deadline and size limit for every exchange (`bounds.py`) and auth; tests
inject a transport, a sleep and a clock. `KlaviyoClient`
adds per-operation pacing, retries within caps, error mapping and cursor pagination on top of
`httpx.Client`. Resource functions in `joyctl.klaviyo.resources` call it.
"""

from __future__ import annotations

import json
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from joyctl import __version__
from joyctl.api_contract import REVISION
from joyctl.errors import ConfigError, DataError
from joyctl.klaviyo.auth import KlaviyoAuth, OAuthAuth
from joyctl.klaviyo.bounds import AnswerBounds, AnswerLimits, operation_name
from joyctl.klaviyo.debuglog import DebugSink, HttpDebugLog, logger_sink
from joyctl.klaviyo.limiter import RateLimiter
from joyctl.klaviyo.oauth import LOOPBACK_HOSTS
from joyctl.klaviyo.redact import Redactor
from joyctl.klaviyo.retry import RetryPolicy
from joyctl.klaviyo.sending import Call, Sender, WaitCallback, Waiter
from joyctl.scoped import Scoped

DEFAULT_BASE_URL = "https://a.klaviyo.com"
JSON_API = "application/vnd.api+json"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
Params = Mapping[str, str | int] | httpx.QueryParams | None


class KlaviyoClient(Scoped):
    """Paced, retried, error-mapped access to the Klaviyo API. Thread-safe."""

    def __init__(self, http: httpx.Client, sender: Sender, *, revision: str) -> None:
        self._http = http
        self._sender = sender
        self.revision = revision

    @property
    def http(self) -> httpx.Client:
        """The underlying client, for the OAuth token calls in `joyctl.klaviyo.oauth`."""
        return self._http

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        body: Any = None,
        content: bytes | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send with pacing and retries; a failure raises a `JoyctlError`.

        `body` is encoded as JSON; `content` is a JSON body already encoded (a bulk job written
        once). `idempotent` marks a write that is safe to repeat (it carries a de-duplication
        key); reads are always treated as idempotent. `authenticated=False` sends no
        credentials (the `/client/*` endpoints take the public key as `company_id` instead).
        """
        if body is not None:
            content = json.dumps(body).encode("utf-8")
        call = Call(
            method=method.upper(),
            path=path,
            params=httpx.QueryParams(params) if params is not None else None,
            content=content,
            idempotent=idempotent,
            authenticated=authenticated,
        )
        return self._sender.send(call)

    def get(self, path: str, params: Params = None) -> dict[str, Any]:
        return _document(self.request("GET", path, params=params))

    def post(
        self, path: str, body: Any, *, params: Params = None, idempotent: bool | None = None
    ) -> dict[str, Any] | None:
        return _optional_document(
            self.request("POST", path, params=params, body=body, idempotent=idempotent)
        )

    def patch(self, path: str, body: Any, *, idempotent: bool | None = None) -> dict[str, Any]:
        return _document(self.request("PATCH", path, body=body, idempotent=idempotent))

    def delete(self, path: str, body: Any = None, *, idempotent: bool | None = None) -> None:
        self.request("DELETE", path, body=body, idempotent=idempotent)

    def iter_pages(
        self, path: str, params: Params = None, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following `links.next` until it is absent."""
        query = httpx.QueryParams(params or {})
        size = self._sender.page_size(path, page_size)
        if size is not None:
            query = query.set("page[size]", str(size))
        seen: set[str] = set()
        next_path, next_query = path, query
        while True:
            page = self.get(next_path, next_query)
            yield page
            link = (page.get("links") or {}).get("next")
            if not link or link in seen:
                return
            seen.add(link)
            next_path, next_query = self._follow(link)

    def paginate(
        self,
        path: str,
        params: Params = None,
        *,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every resource object of a collection, across pages, up to `limit`."""
        count = 0
        for page in self.iter_pages(path, params, page_size=page_size):
            for resource in page.get("data") or []:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield resource

    def _follow(self, link: str) -> tuple[str, httpx.QueryParams]:
        # Only the path and query of `links.next` are used: credentials must never follow a
        # link to a host other than the configured base URL.
        parts = urlsplit(link)
        prefix = urlsplit(self.base_url).path.rstrip("/")
        path = parts.path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        return path, httpx.QueryParams(parts.query)


def _document(response: httpx.Response) -> dict[str, Any]:
    document = _optional_document(response)
    if document is None:
        raise DataError(
            f"Klaviyo answered {response.status_code} to {operation_name(response.request)}"
            " with no body where one is due",
            hint="check the profile's base URL",
        )
    return document


def _optional_document(response: httpx.Response) -> dict[str, Any] | None:
    if not response.content.strip():
        return None
    try:
        document = response.json()
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise DataError(
            f"Klaviyo answered {response.status_code} to {operation_name(response.request)}"
            " with a body that is not a JSON document",
            hint="check the profile's base URL",
        )
    return document


def build_client(
    *,
    base_url: str = DEFAULT_BASE_URL,
    auth: KlaviyoAuth | None = None,
    revision: str = REVISION,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    limits: AnswerLimits | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    pacing: bool = True,
    on_wait: WaitCallback | None = None,
    report_waits_over: float = 2.0,
    debug: bool = False,
    debug_sink: DebugSink | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> KlaviyoClient:
    """Build every Klaviyo client joyctl uses. Reads no global state.

    `on_wait(seconds, reason)` is called once per wait: each retry wait, and each pacing
    wait of at least `report_waits_over` seconds (shorter ones are routine smoothing).
    `limits` bounds each request's total time and each answer's size (`bounds.AnswerLimits`).
    With `debug`, requests and responses go to `debug_sink` (default: the
    `joyctl.klaviyo.http` logger) with credentials redacted.
    """
    _check_base_url(base_url)
    policy = retry or RetryPolicy()
    redactor = Redactor(auth.secrets if auth is not None else tuple)
    debug_log = HttpDebugLog(debug_sink or logger_sink(), redactor) if debug else None
    bounds = AnswerBounds(limits or AnswerLimits())
    # The bounds come first: the debug log reads each body, and must read it bounded.
    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [bounds.on_request],
        "response": [bounds.on_response],
    }
    if debug_log is not None:
        hooks["request"].append(debug_log.on_request)
        hooks["response"].append(debug_log.on_response)
    http = httpx.Client(
        base_url=base_url.rstrip("/"),
        verify=_tls_context(base_url),
        auth=auth,
        headers={"revision": revision, "Accept": JSON_API, "User-Agent": f"joyctl/{__version__}"},
        timeout=timeout,
        transport=transport,
        event_hooks=hooks,
        follow_redirects=False,
    )
    if isinstance(auth, OAuthAuth):
        auth.attach(http)
    waiter = Waiter(on_wait=on_wait, sleep=sleep, clock=clock, report_over=report_waits_over)
    sender = Sender(
        http,
        limiter=RateLimiter(clock, max_hold=policy.max_single_wait) if pacing else None,
        policy=policy,
        waiter=waiter,
        rng=rng or random.Random(),  # noqa: S311 - jitter, not security
        debug_log=debug_log,
        redactor=redactor,
    )
    return KlaviyoClient(http, sender, revision=revision)


def _tls_context(base_url: str) -> ssl.SSLContext | bool:
    """Verified TLS for https (httpx's default: certifi's authorities, about 30 ms to load).

    Plain http is allowed only on loopback (the emulator) and redirects are never followed, so
    such a client never starts TLS: it gets a context that trusts no authority at all, which
    costs nothing to make and would refuse any certificate if TLS ever happened.
    """
    if urlsplit(base_url).scheme == "https":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return
    raise ConfigError(
        f"unusable Klaviyo base URL {base_url!r}: use https (plain http only on loopback)",
        hint=f"the default is {DEFAULT_BASE_URL}",
    )
