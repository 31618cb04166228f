"""The shapes of everything the sandbox stores. They are plain JSON, so the state file is too."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

JsonObject = dict[str, Any]


class AccountRecord(TypedDict):
    id: str
    public_api_key: str
    test_account: bool
    advanced_kdp: bool
    reviews_enabled: bool
    reviews_auto_publish: bool  # new reviews are published at once, or wait as pending
    timezone: str
    preferred_currency: str
    locale: str
    industry: str | None
    contact_information: JsonObject


class PrivateKeyRecord(TypedDict):
    key: str
    name: str
    scopes: list[str]


class OAuthAppRecord(TypedDict):
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]
    scopes: list[str]


class AuthCodeRecord(TypedDict):
    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str
    expires_at: float
    used: bool


class ConsentRequestRecord(TypedDict):
    """An authorize request waiting for the consent page's answer."""

    id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str
    code_challenge: str
    expires_at: float


class GrantRecord(TypedDict):
    """One installation of an OAuth app on the account."""

    id: str
    client_id: str
    scopes: list[str]
    connected_at: float
    revoked: bool


class RefreshTokenRecord(TypedDict):
    token: str
    grant_id: str
    last_used_at: float
    revoked: bool


class AccessTokenRecord(TypedDict):
    token: str
    grant_id: str
    expires_at: float
    revoked: bool


class ProfileRecord(TypedDict):
    id: str
    email: str | None
    phone_number: str | None
    external_id: str | None
    anonymous_id: str | None
    first_name: str | None
    last_name: str | None
    organization: str | None
    locale: str | None
    title: str | None
    image: str | None
    location: JsonObject
    properties: JsonObject
    created: str
    updated: str
    last_event_date: str | None


class MetricRecord(TypedDict):
    id: str
    name: str
    integration: JsonObject
    created: str
    updated: str


class EventRecord(TypedDict):
    id: str
    metric_id: str
    profile_id: str
    datetime: str
    timestamp: int
    properties: JsonObject
    value: float | None
    value_currency: str | None
    unique_id: str
    uuid: str


class ListRecord(TypedDict):
    id: str
    name: str
    opt_in_process: str
    created: str
    updated: str
    members: dict[str, str]  # profile id -> joined_group_at


class ImportErrorRecord(TypedDict):
    id: str
    code: str
    title: str
    detail: str
    pointer: str
    original_payload: JsonObject


class ImportJobRecord(TypedDict):
    id: str
    created_at: float
    started_at: float | None
    completed_at: float | None
    status: str
    total_count: int
    completed_count: int
    failed_count: int
    list_ids: list[str]
    pending_profiles: list[JsonObject]  # the submitted resources, applied when the job completes
    profile_ids: list[str]
    errors: list[ImportErrorRecord]


class WebhookRecord(TypedDict):
    id: str
    name: str
    description: str | None
    endpoint_url: str
    secret_key: str
    enabled: bool
    topics: list[str]
    created_at: str
    updated_at: str


class ReviewRecord(TypedDict):
    id: str
    email: str
    status: JsonObject
    verified: bool
    review_type: str
    created: str
    updated: str
    images: list[str]
    product: JsonObject | None
    rating: int | None
    author: str
    content: str
    title: str | None
    smart_quote: str | None
    public_reply: JsonObject | None
    incentive_type: str | None
    event_ids: list[str]


class DeliveryItem(TypedDict):
    external_id: str
    topic: str
    payload: JsonObject


class DeliveryRecord(TypedDict):
    id: str
    webhook_id: str
    items: list[DeliveryItem]
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: float
    body: str | None  # fixed at the first attempt so retries send the same bytes
    # Sandbox time until which one process is sending it (a shared state: see deliveries.py).
    claimed_until: NotRequired[float]


class DeliveryAttemptRecord(TypedDict):
    delivery_id: str
    webhook_id: str
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    event_count: int
    delivered: bool


class CountersRecord(TypedDict):
    requests: dict[str, dict[str, int]]  # "GET /api/lists" -> {"200": 3}
    throttled: dict[str, int]  # operation id -> 429s issued by the rate limiter
    faults: dict[str, int]  # fault kind -> injections
    duplicates_dropped: int
    daily_usage: dict[str, int]  # "create_list:2026-07-20" -> requests admitted that UTC day


class FlowRecord(TypedDict):
    """A flow started by a metric, with its actions in order."""

    id: str
    name: str
    status: str  # draft | manual | live
    archived: bool
    trigger_metric_id: str | None
    action_ids: list[str]
    created: str
    updated: str


class FlowActionRecord(TypedDict):
    id: str
    flow_id: str
    action_type: str  # send-email
    status: str
    message_ids: list[str]
    created: str
    updated: str


class FlowMessageRecord(TypedDict):
    id: str
    action_id: str
    name: str
    subject_line: str
    template_id: str | None
    created: str
    updated: str


class TemplateRecord(TypedDict):
    id: str
    name: str
    editor_type: str
    html: str
    text: str | None
    created: str
    updated: str


class EmailConsentRecord(TypedDict):
    """A profile's email marketing consent and its suppressions ({reason, timestamp})."""

    consent: str  # SUBSCRIBED | UNSUBSCRIBED | NEVER_SUBSCRIBED
    consent_timestamp: str | None
    suppressions: list[JsonObject]


def new_counters() -> CountersRecord:
    return CountersRecord(
        requests={}, throttled={}, faults={}, duplicates_dropped=0, daily_usage={}
    )
