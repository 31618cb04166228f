"""Facts about each Klaviyo operation joyctl uses: scopes, rate limits and page-size caps.

The values come from `x-klaviyo-scopes`, `x-klaviyo-ratelimit` and the `page[size]` parameters
of Klaviyo's OpenAPI spec, revision 2026-07-15. Both the client (for pacing and for telling a
missing scope from a plan gate) and the sandbox (for enforcing them) read this one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # template, e.g. "/api/lists/{id}"
    operation_id: str
    scopes: tuple[str, ...]
    burst_per_second: int
    steady_per_minute: int
    daily: int | None = None
    page_size_default: int | None = None
    page_size_max: int | None = None
    since: str | None = None  # first stable revision that serves it; None: every supported one
    beta_since: str | None = None  # first `.pre` revision that served it before it went stable

    def available_at(self, release: str, beta: bool) -> bool:
        """Whether a request at this revision reaches the operation (else Klaviyo has no route)."""
        if self.since is None or release >= self.since:
            return True
        return beta and self.beta_since is not None and release >= self.beta_since

    @property
    def rate_class(self) -> str:
        """Klaviyo counts quotas per operation; the id names the bucket."""
        return self.operation_id


def _e(
    method: str,
    path: str,
    op: str,
    scopes: str,
    burst: int,
    steady: int,
    *,
    daily: int | None = None,
    page: tuple[int, int] | None = None,
    since: str | None = None,
    beta_since: str | None = None,
) -> Endpoint:
    default, maximum = page if page else (None, None)
    return Endpoint(
        method,
        path,
        op,
        tuple(scopes.split()),
        burst,
        steady,
        daily,
        default,
        maximum,
        since,
        beta_since,
    )


# Revisions at which operations joyctl uses went GA (revision branches of Klaviyo's spec); the
# rest predate every supported revision. Client reviews were beta in 2025-01-15.pre.
WEBHOOKS_GA = "2024-10-15"
REVIEWS_GA = "2024-10-15"
REVIEW_PATCH_GA = "2025-01-15"
CLIENT_REVIEWS_GA = "2025-04-15"
CLIENT_REVIEWS_BETA = "2025-01-15"
# Creating a flow from a definition was beta in 2024-10-15.pre and stable from 2025-01-15.
CREATE_FLOW_GA = "2025-01-15"
CREATE_FLOW_BETA = "2024-10-15"


ENDPOINTS: tuple[Endpoint, ...] = (
    _e("GET", "/api/accounts", "get_accounts", "accounts:read", 1, 15),
    _e("GET", "/api/accounts/{id}", "get_account", "accounts:read", 1, 15),
    _e("GET", "/api/events", "get_events", "events:read", 350, 3500, page=(200, 1000)),
    _e("POST", "/api/events", "create_event", "events:write", 350, 3500),
    _e("GET", "/api/events/{id}", "get_event", "events:read", 10, 150),
    _e("POST", "/api/event-bulk-create-jobs", "bulk_create_events", "events:write", 10, 150),
    _e("GET", "/api/metrics", "get_metrics", "metrics:read", 10, 150),
    _e("GET", "/api/metrics/{id}", "get_metric", "metrics:read", 10, 150),
    _e("GET", "/api/profiles", "get_profiles", "profiles:read", 75, 750, page=(20, 100)),
    _e("POST", "/api/profiles", "create_profile", "profiles:write", 75, 750),
    _e("GET", "/api/profiles/{id}", "get_profile", "profiles:read", 75, 750),
    _e("PATCH", "/api/profiles/{id}", "update_profile", "profiles:write", 75, 750),
    _e("POST", "/api/profile-import", "create_or_update_profile", "profiles:write", 75, 750),
    _e(
        "GET",
        "/api/profile-bulk-import-jobs",
        "get_bulk_import_profiles_jobs",
        "lists:read profiles:read",
        10,
        150,
        page=(20, 100),
    ),
    _e(
        "POST",
        "/api/profile-bulk-import-jobs",
        "bulk_import_profiles",
        "lists:write profiles:write",
        10,
        150,
    ),
    _e(
        "GET",
        "/api/profile-bulk-import-jobs/{id}",
        "get_bulk_import_profiles_job",
        "lists:read profiles:read",
        10,
        150,
    ),
    _e(
        "GET",
        "/api/profile-bulk-import-jobs/{id}/import-errors",
        "get_errors_for_bulk_import_profiles_job",
        "profiles:read",
        10,
        150,
        page=(20, 100),
    ),
    _e("GET", "/api/lists", "get_lists", "lists:read", 75, 750, page=(10, 10)),
    _e("POST", "/api/lists", "create_list", "lists:write", 10, 150, daily=150),
    _e("GET", "/api/lists/{id}", "get_list", "lists:read", 75, 750),
    _e("PATCH", "/api/lists/{id}", "update_list", "lists:write", 10, 150),
    _e("DELETE", "/api/lists/{id}", "delete_list", "lists:write", 10, 150),
    _e(
        "GET",
        "/api/lists/{id}/profiles",
        "get_profiles_for_list",
        "lists:read profiles:read",
        75,
        750,
        page=(20, 100),
    ),
    _e(
        "GET",
        "/api/lists/{id}/relationships/profiles",
        "get_profile_ids_for_list",
        "lists:read profiles:read",
        75,
        750,
        page=(20, 100),
    ),
    _e(
        "POST",
        "/api/lists/{id}/relationships/profiles",
        "add_profiles_to_list",
        "lists:write profiles:write",
        10,
        150,
    ),
    _e(
        "DELETE",
        "/api/lists/{id}/relationships/profiles",
        "remove_profiles_from_list",
        "lists:write profiles:write",
        10,
        150,
    ),
    _e("GET", "/api/webhooks", "get_webhooks", "webhooks:read", 1, 15, since=WEBHOOKS_GA),
    _e("POST", "/api/webhooks", "create_webhook", "webhooks:write", 1, 15, since=WEBHOOKS_GA),
    _e("GET", "/api/webhooks/{id}", "get_webhook", "webhooks:read", 1, 15, since=WEBHOOKS_GA),
    _e("PATCH", "/api/webhooks/{id}", "update_webhook", "webhooks:write", 1, 15, since=WEBHOOKS_GA),
    _e(
        "DELETE", "/api/webhooks/{id}", "delete_webhook", "webhooks:write", 1, 15, since=WEBHOOKS_GA
    ),
    _e(
        "GET",
        "/api/webhook-topics",
        "get_webhook_topics",
        "webhooks:read",
        1,
        15,
        since=WEBHOOKS_GA,
    ),
    _e(
        "GET",
        "/api/webhook-topics/{id}",
        "get_webhook_topic",
        "webhooks:read",
        1,
        15,
        since=WEBHOOKS_GA,
    ),
    _e(
        "GET",
        "/api/reviews",
        "get_reviews",
        "reviews:read",
        10,
        150,
        page=(20, 100),
        since=REVIEWS_GA,
    ),
    _e("GET", "/api/reviews/{id}", "get_review", "reviews:read", 10, 150, since=REVIEWS_GA),
    _e(
        "PATCH",
        "/api/reviews/{id}",
        "update_review",
        "reviews:write",
        10,
        150,
        since=REVIEW_PATCH_GA,
    ),
    _e("GET", "/api/flows", "get_flows", "flows:read", 3, 60, page=(50, 50)),
    _e(
        "POST",
        "/api/flows",
        "create_flow",
        "flows:write",
        1,
        15,
        daily=100,
        since=CREATE_FLOW_GA,
        beta_since=CREATE_FLOW_BETA,
    ),
    _e("GET", "/api/flows/{id}", "get_flow", "flows:read", 3, 60),
    _e("PATCH", "/api/flows/{id}", "update_flow", "flows:write", 3, 60),
    _e(
        "GET",
        "/api/flows/{id}/flow-actions",
        "get_actions_for_flow",
        "flows:read",
        3,
        60,
        page=(50, 50),
    ),
    _e(
        "GET",
        "/api/flow-actions/{id}/flow-messages",
        "get_flow_action_messages",
        "flows:read",
        3,
        60,
        page=(50, 50),
    ),
    _e(
        "GET",
        "/api/flow-messages/{id}/template",
        "get_template_for_flow_message",
        "templates:read",
        3,
        60,
    ),
    _e("POST", "/api/templates", "create_template", "templates:write", 75, 750),
    _e(
        "GET",
        "/api/metrics/{id}/flow-triggers",
        "get_flows_triggered_by_metric",
        "flows:read metrics:read",
        10,
        150,
    ),
    _e(
        "POST",
        "/api/profile-subscription-bulk-create-jobs",
        "bulk_subscribe_profiles",
        "lists:write profiles:write subscriptions:write",
        75,
        750,
    ),
    _e(
        "POST",
        "/api/profile-suppression-bulk-create-jobs",
        "bulk_suppress_profiles",
        "profiles:write subscriptions:write",
        75,
        750,
    ),
    _e(
        "GET",
        "/client/reviews",
        "get_client_reviews",
        "",
        10,
        150,
        page=(20, 100),
        since=CLIENT_REVIEWS_GA,
        beta_since=CLIENT_REVIEWS_BETA,
    ),
    _e(
        "POST",
        "/client/reviews",
        "create_client_review",
        "",
        10,
        150,
        since=CLIENT_REVIEWS_GA,
        beta_since=CLIENT_REVIEWS_BETA,
    ),
)


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], Endpoint], ...]:
    compiled = []
    for endpoint in ENDPOINTS:
        regex = re.sub(r"\{[^}]+\}", "[^/]+", endpoint.path)
        compiled.append((re.compile(f"^{regex}/?$"), endpoint))
    return tuple(compiled)


def find_endpoint(method: str, path: str) -> Endpoint | None:
    """The operation a request targets, or None for paths outside this table."""
    method = method.upper()
    for pattern, endpoint in _patterns():
        if endpoint.method == method and pattern.match(path):
            return endpoint
    return None
