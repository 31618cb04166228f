"""Metrics (event names) and reading events back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from joyctl.klaviyo import filters
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Event, Metric
from joyctl.klaviyo.resources._shared import parse_many


def get_metrics(client: KlaviyoClient, *, integration_name: str | None = None) -> list[Metric]:
    params = (
        {"filter": filters.equals("integration.name", integration_name)}
        if integration_name
        else None
    )
    return list(parse_many(Metric, client.paginate("/api/metrics", params)))


def find_metric_by_name(client: KlaviyoClient, name: str) -> Metric | None:
    """The metric called `name` (the API cannot filter metrics by name, so scan)."""
    return next((metric for metric in get_metrics(client) if metric.name == name), None)


def get_events(
    client: KlaviyoClient,
    *,
    metric_id: str | None = None,
    profile_id: str | None = None,
    since: datetime | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> Iterator[Event]:
    """Events, oldest first, filtered by metric, profile and start time."""
    condition = filters.all_of(
        filters.equals("metric_id", metric_id) if metric_id else None,
        filters.equals("profile_id", profile_id) if profile_id else None,
        filters.greater_or_equal("datetime", since) if since else None,
    )
    params = {"sort": "datetime"}
    if condition:
        params["filter"] = condition
    resources = client.paginate("/api/events", params, page_size=page_size, limit=limit)
    return parse_many(Event, resources)
