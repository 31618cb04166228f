"""The sandbox's whole world in memory, and its JSON form for the state file.

Callers hold the application lock while they read or change a SandboxState; this class does no
locking of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from joyctl.sandbox.store.profile_index import ProfileIndex
from joyctl.sandbox.store.records import (
    AccessTokenRecord,
    AccountRecord,
    AuthCodeRecord,
    ConsentRequestRecord,
    CountersRecord,
    DeliveryAttemptRecord,
    DeliveryRecord,
    EmailConsentRecord,
    EventRecord,
    FlowActionRecord,
    FlowMessageRecord,
    FlowRecord,
    GrantRecord,
    ImportJobRecord,
    JsonObject,
    ListRecord,
    MetricRecord,
    OAuthAppRecord,
    PrivateKeyRecord,
    ProfileRecord,
    RefreshTokenRecord,
    ReviewRecord,
    TemplateRecord,
    WebhookRecord,
    new_counters,
)

STATE_FORMAT = 1


@dataclass
class SandboxState:
    scenario: str
    seeded_at: float
    account: AccountRecord
    scenario_seed: JsonObject = field(default_factory=dict)
    clock_offset: float = 0.0
    consent_withheld_scopes: list[str] = field(default_factory=list)
    private_keys: dict[str, PrivateKeyRecord] = field(default_factory=dict)
    oauth_apps: dict[str, OAuthAppRecord] = field(default_factory=dict)
    consent_requests: dict[str, ConsentRequestRecord] = field(default_factory=dict)
    auth_codes: dict[str, AuthCodeRecord] = field(default_factory=dict)
    grants: dict[str, GrantRecord] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)
    access_tokens: dict[str, AccessTokenRecord] = field(default_factory=dict)
    profiles: dict[str, ProfileRecord] = field(default_factory=dict)
    metrics: dict[str, MetricRecord] = field(default_factory=dict)
    events: dict[str, EventRecord] = field(default_factory=dict)
    event_keys: dict[str, str] = field(default_factory=dict)  # dedup key -> first event id
    lists: dict[str, ListRecord] = field(default_factory=dict)
    import_jobs: dict[str, ImportJobRecord] = field(default_factory=dict)
    webhooks: dict[str, WebhookRecord] = field(default_factory=dict)
    reviews: dict[str, ReviewRecord] = field(default_factory=dict)
    deliveries: dict[str, DeliveryRecord] = field(default_factory=dict)
    delivery_attempts: list[DeliveryAttemptRecord] = field(default_factory=list)
    flows: dict[str, FlowRecord] = field(default_factory=dict)
    flow_actions: dict[str, FlowActionRecord] = field(default_factory=dict)
    flow_messages: dict[str, FlowMessageRecord] = field(default_factory=dict)
    templates: dict[str, TemplateRecord] = field(default_factory=dict)
    email_consent: dict[str, EmailConsentRecord] = field(default_factory=dict)  # by profile id
    # Accepted 202 writes not yet readable (see store/pending.py), oldest first.
    pending_writes: list[JsonObject] = field(default_factory=list)
    counters: CountersRecord = field(default_factory=new_counters)
    # Derived from `profiles`, never saved; see profile_index.py.
    profile_index: ProfileIndex = field(
        default_factory=ProfileIndex,
        init=False,
        repr=False,
        compare=False,
        metadata={"derived": True},
    )

    def __post_init__(self) -> None:
        # Whatever profiles a state starts with (loaded, or passed in) are findable at once.
        self.rebuild_profile_index()

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> JsonObject:
        document: JsonObject = {"format": STATE_FORMAT}
        for item in fields(self):
            if not item.metadata.get("derived"):
                document[item.name] = getattr(self, item.name)
        return document

    @classmethod
    def from_json(cls, document: JsonObject) -> SandboxState:
        if document.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported sandbox state format {document.get('format')!r}")
        known = {item.name for item in fields(cls) if not item.metadata.get("derived")}
        values: dict[str, Any] = {name: document[name] for name in known if name in document}
        return cls(**values)

    # -- profile identifiers -------------------------------------------------------------------

    def rebuild_profile_index(self) -> None:
        self.profile_index = ProfileIndex.of(self.profiles.values())

    def index_profile(self, profile: ProfileRecord) -> None:
        self.profile_index.add(profile)

    def unindex_profile(self, profile: ProfileRecord) -> None:
        self.profile_index.remove(profile)

    def profile_by_identifier(self, field_name: str, value: str) -> ProfileRecord | None:
        profile_id = self.profile_index.owner(field_name, value)
        return self.profiles.get(profile_id) if profile_id else None

    def profiles_holding(self, field_name: str, values: list[str]) -> list[ProfileRecord]:
        """Profiles whose `id` or identifier `field_name` is one of `values`, in storage order.

        Identifiers compare as the index keys them (trimmed; emails in any case), so callers
        needing exact equality check the returned profiles again.
        """
        if field_name == "id":
            ids = self.profile_index.in_storage_order(values)
        else:
            ids = self.profile_index.holders(field_name, values)
        # Only stored profiles: upsert_profile indexes a new one just before storing it.
        return [self.profiles[i] for i in ids if i in self.profiles]

    # -- counters ------------------------------------------------------------------------------

    def count_request(self, route: str, status: int) -> None:
        by_status = self.counters["requests"].setdefault(route, {})
        by_status[str(status)] = by_status.get(str(status), 0) + 1

    def count_throttled(self, operation_id: str) -> None:
        throttled = self.counters["throttled"]
        throttled[operation_id] = throttled.get(operation_id, 0) + 1

    def count_fault(self, kind: str) -> None:
        faults = self.counters["faults"]
        faults[kind] = faults.get(kind, 0) + 1
