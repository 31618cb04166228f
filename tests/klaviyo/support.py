"""Fakes for the Klaviyo client tests: a strict router behind httpx.MockTransport and a clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeKlaviyo:
    """Answers stubbed requests in order; an unstubbed request fails the test."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Reply]] = {}
        self._repeat: dict[tuple[str, str], Reply] = {}
        self._lock = threading.Lock()
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *replies: Reply) -> None:
        self._routes.setdefault((method.upper(), path), []).extend(replies)

    def always(self, method: str, path: str, reply: Reply) -> None:
        self._repeat[(method.upper(), path)] = reply

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        # A snapshot: the auth flow mutates and resends the same request object.
        snapshot = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.read()
        )
        with self._lock:
            self.requests.append(snapshot)
            queue = self._routes.get(key)
            reply = queue.pop(0) if queue else self._repeat.get(key)
        if reply is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def unused(self) -> list[tuple[str, str]]:
        return [key for key, queue in self._routes.items() if queue]

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


class FakeClock:
    """Monotonic time that only moves when something sleeps (or the test advances it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def jsonapi(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    content = json.dumps(body).encode() if body is not None else b""
    merged = {"content-type": "application/vnd.api+json", **headers} if content else headers
    return httpx.Response(status, content=content, headers=merged)


def resource(kind: str, rid: str, **attributes: Any) -> dict[str, Any]:
    return {"type": kind, "id": rid, "attributes": attributes}


def collection(*items: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    links: dict[str, Any] = {"self": "https://a.klaviyo.com/api/x"}
    if next_url:
        links["next"] = next_url
    return {"data": list(items), "links": links}


def error_body(
    status: int, code: str, detail: str, *, pointer: str | None = None, title: str = "Error"
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": "err-1", "status": status, "code": code, "title": title}
    item["detail"] = detail
    if pointer:
        item["source"] = {"pointer": pointer}
    return {"errors": [item]}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
