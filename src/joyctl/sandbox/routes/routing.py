"""Which handler serves a request. API routes come from the shared endpoint table, so every
operation joyctl knows about is served with the scopes and limits that table gives it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

from joyctl.klaviyo.endpoints import ENDPOINTS, Endpoint, find_endpoint
from joyctl.sandbox.context import Handler
from joyctl.sandbox.routes import events as routes_events
from joyctl.sandbox.routes import flows as routes_flows
from joyctl.sandbox.routes import import_jobs as routes_import_jobs
from joyctl.sandbox.routes import lists as routes_lists
from joyctl.sandbox.routes import profiles as routes_profiles
from joyctl.sandbox.routes import reviews as routes_reviews
from joyctl.sandbox.routes import webhooks as routes_webhooks
from joyctl.sandbox.routes.oauth import ROUTES as OAUTH_ROUTES

SANDBOX_PREFIX = "/__sandbox/"

HANDLERS: dict[str, Handler] = {
    **routes_events.HANDLERS,
    **routes_profiles.HANDLERS,
    **routes_import_jobs.HANDLERS,
    **routes_lists.HANDLERS,
    **routes_webhooks.HANDLERS,
    **routes_reviews.HANDLERS,
    **routes_flows.HANDLERS,
}


@dataclass(frozen=True)
class Route:
    kind: str  # api | client | oauth | sandbox | none
    label: str  # what the inspection counts requests under, e.g. "GET /api/lists/{id}"
    handler: Handler | None = None
    endpoint: Endpoint | None = None
    params: dict[str, str] = field(default_factory=dict)
    method_not_allowed: bool = False


@lru_cache(maxsize=64)
def _template_pattern(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{regex}/?$")


def _params(template: str, path: str) -> dict[str, str]:
    match = _template_pattern(template).match(path)
    return {key: unquote(value) for key, value in match.groupdict().items()} if match else {}


def resolve(method: str, path: str) -> Route:
    """The route for a request; sandbox control routes are resolved by the application."""
    if path.startswith(SANDBOX_PREFIX):
        return Route("sandbox", f"{method} {path}")
    oauth = OAUTH_ROUTES.get((method, path.rstrip("/") or "/"))
    if oauth is not None:
        return Route("oauth", f"{method} {path.rstrip('/')}", oauth)
    endpoint = find_endpoint(method, path)
    if endpoint is not None:
        kind = "client" if endpoint.path.startswith("/client/") else "api"
        return Route(
            kind,
            f"{endpoint.method} {endpoint.path}",
            HANDLERS.get(endpoint.operation_id),
            endpoint,
            _params(endpoint.path, path),
        )
    for candidate in ENDPOINTS:
        if _template_pattern(candidate.path).match(path):
            return Route("none", f"{method} {candidate.path}", method_not_allowed=True)
    return Route("none", f"{method} (unknown path)")
