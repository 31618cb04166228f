"""What a route handler receives: the parsed request and the sandbox world it acts on."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from joyctl.klaviyo.endpoints import Endpoint
from joyctl.klaviyo.revisions import Revision
from joyctl.sandbox.clock import Clock
from joyctl.sandbox.config import SandboxConfig
from joyctl.sandbox.jsonapi import ApiError, Response, invalid
from joyctl.sandbox.latency import LatencyProfile
from joyctl.sandbox.store.records import JsonObject
from joyctl.sandbox.store.state import SandboxState


@dataclass(frozen=True)
class Principal:
    """Who is calling: the credential kind, what it may do, and whose rate-limit quota it uses."""

    kind: str  # "private_key" | "oauth" | "public"
    scopes: frozenset[str]
    bucket: str


@dataclass
class RequestContext:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str
    path_params: dict[str, str] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    principal: Principal | None = None
    revision: Revision | None = None  # the release serving the request (API routes only)

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)

    def list_param(self, name: str) -> list[str]:
        """Comma-separated values of a parameter such as `include` or `additional-fields[x]`."""
        value = self.param(name)
        return [item.strip() for item in value.split(",") if item.strip()] if value else []

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def json_body(self) -> JsonObject:
        """The body as a JSON object; a 400 in Klaviyo's shape when it is not one."""
        if not self.body:
            raise invalid("A request body is required.", pointer="/data")
        try:
            document: Any = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise invalid(f"Malformed JSON: {exc}", pointer="/data") from exc
        if not isinstance(document, dict):
            raise invalid("The request body must be a JSON object.", pointer="/")
        return document


@dataclass
class World:
    """The mutable world every handler acts on; handlers run under `lock` (held by the caller)."""

    state: SandboxState
    clock: Clock
    config: SandboxConfig
    after_change: Callable[[], None] = lambda: None  # wakes the delivery worker
    latency: LatencyProfile = field(init=False)
    rng: random.Random = field(init=False)  # draws delays; seeded by the config's seed

    def __post_init__(self) -> None:
        self.latency = self.config.latency_profile()
        # Not for security: a seeded generator makes delays reproducible.
        self.rng = random.Random(self.config.seed)  # noqa: S311

    def now(self) -> float:
        return self.clock.now()


Handler = Callable[[RequestContext, World], Response]


def require_param(ctx: RequestContext, name: str) -> str:
    value = ctx.param(name)
    if not value:
        raise invalid(f"The '{name}' parameter is required.", parameter=name)
    return value


def conflict(detail: str, pointer: str = "/data/id") -> ApiError:
    return ApiError(409, "conflict", detail, pointer=pointer)
