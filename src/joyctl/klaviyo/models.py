"""Typed views of the Klaviyo resources joyctl reads.

Each model validates a JSON:API resource object directly (`Review.model_validate(resource)`):
the `attributes` are lifted to the top level next to `id`, and `relationships` are kept for
the ids they link to. Unknown fields are ignored, so new fields Klaviyo adds in a later
revision do not break parsing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class KlaviyoModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class Resource(KlaviyoModel):
    """A JSON:API resource object, flattened."""

    id: str
    relationships: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _flatten_resource(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "attributes" not in data:
            return data
        flat = dict(data.get("attributes") or {})
        flat["id"] = data.get("id")
        flat["relationships"] = data.get("relationships") or {}
        return flat

    def related_ids(self, name: str) -> list[str]:
        """Ids in `relationships.<name>.data` (a single object or a list)."""
        linkage = (self.relationships.get(name) or {}).get("data")
        items = linkage if isinstance(linkage, list) else [linkage]
        return [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]


class ContactInformation(KlaviyoModel):
    organization_name: str | None = None
    default_sender_name: str | None = None
    default_sender_email: str | None = None
    website_url: str | None = None


class Account(Resource):
    public_api_key: str | None = None
    test_account: bool = False
    contact_information: ContactInformation = Field(default_factory=ContactInformation)
    timezone: str | None = None
    preferred_currency: str | None = None
    industry: str | None = None
    locale: str | None = None

    @property
    def organization_name(self) -> str | None:
        return self.contact_information.organization_name


class RejectionReason(KlaviyoModel):
    reason: str | None = None
    status_explanation: str | None = None


class ReviewStatus(KlaviyoModel):
    """`published`, `featured`, `unpublished`, `pending` or `rejected` (with a reason)."""

    value: str
    rejection_reason: RejectionReason | None = None


class ReviewProduct(KlaviyoModel):
    external_id: str | None = None
    name: str | None = None
    url: str | None = None
    image_url: str | None = None


class Review(Resource):
    email: str | None = None
    status: ReviewStatus | None = None
    verified: bool | None = None
    review_type: str | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    images: list[str] = Field(default_factory=list)
    product: ReviewProduct | None = None
    rating: int | None = None
    author: str | None = None
    content: str | None = None
    title: str | None = None
    smart_quote: str | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _status_as_object(cls, value: Any) -> Any:
        # Older revisions sent the status as a bare string.
        return {"value": value} if isinstance(value, str) else value

    @field_validator("images", mode="before")
    @classmethod
    def _no_null_images(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def status_value(self) -> str | None:
        return self.status.value if self.status else None


class Webhook(Resource):
    name: str | None = None
    description: str | None = None
    endpoint_url: str | None = None  # masked by Klaviyo in responses
    enabled: bool | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def topic_ids(self) -> list[str]:
        return self.related_ids("webhook-topics")


class WebhookTopic(Resource):
    pass


class KlaviyoList(Resource):
    name: str | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    opt_in_process: str | None = None


class Profile(Resource):
    email: str | None = None
    external_id: str | None = None
    phone_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    @field_validator("properties", mode="before")
    @classmethod
    def _no_null_properties(cls, value: Any) -> Any:
        return {} if value is None else value


class Metric(Resource):
    name: str | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    integration: dict[str, Any] | None = None


class Event(Resource):
    timestamp: int | None = None
    datetime: dt.datetime | None = None
    uuid: str | None = None
    event_properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event_properties", mode="before")
    @classmethod
    def _no_null_properties(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def metric_id(self) -> str | None:
        ids = self.related_ids("metric")
        return ids[0] if ids else None

    @property
    def profile_id(self) -> str | None:
        ids = self.related_ids("profile")
        return ids[0] if ids else None


class ProfileBulkImportJob(Resource):
    """`status` is `queued`, `processing`, `complete` or `cancelled`."""

    status: str
    created_at: dt.datetime | None = None
    total_count: int | None = None
    completed_count: int | None = None
    failed_count: int | None = None
    completed_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    started_at: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("complete", "cancelled")


class ProfileImportError(Resource):
    """One failed profile of a bulk import job (the spec's `import-error`)."""

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    source: dict[str, Any] = Field(default_factory=dict)
    original_payload: dict[str, Any] | None = None

    @property
    def pointer(self) -> str | None:
        pointer = self.source.get("pointer")
        return str(pointer) if pointer is not None else None


class Flow(Resource):
    name: str | None = None
    status: str | None = None  # draft | manual | live
    archived: bool | None = None
    trigger_type: str | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


class FlowAction(Resource):
    definition: dict[str, Any] | None = None

    @property
    def action_type(self) -> str | None:
        return (self.definition or {}).get("type")


class FlowMessage(Resource):
    channel: str | None = None
    definition: dict[str, Any] | None = None


class Template(Resource):
    name: str | None = None
    editor_type: str | None = None
    html: str = ""
    text: str | None = None


class EmailConsent(KlaviyoModel):
    """A profile's email marketing consent, from its `subscriptions` additional field."""

    consent: str | None = None  # SUBSCRIBED | UNSUBSCRIBED | NEVER_SUBSCRIBED
    can_receive: bool = False
    suppressions: list[str] = Field(default_factory=list)
    """Reasons email is suppressed: HARD_BOUNCE, SPAM_COMPLAINT, USER_SUPPRESSED, ..."""
