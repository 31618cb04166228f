"""What a scenario seeded, as plain data for the joyctl side (ledger customers, program, tokens).

A ScenarioSeed is stored in the sandbox state when the scenario is built, so the values the
emulator holds (token strings, review ids, timestamps) and the values the ledger is seeded with
are always the same ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from joyctl.sandbox.store.records import JsonObject


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    description: str


@dataclass(frozen=True)
class LoyaltyCustomer:
    """A loyalty member of the demo store; the same person exists as a Klaviyo profile."""

    external_id: str  # the Shopify customer id, also the profile's external_id
    email: str
    first_name: str
    last_name: str
    tier: str  # Bronze | Silver | Gold
    points: int  # current balance, to seed as an opening ledger entry


@dataclass(frozen=True)
class ConnectionSeed:
    """The OAuth installation a scenario starts with (what `joyctl connect` would have stored)."""

    client_id: str
    connected_at: str  # ISO 8601
    scopes: tuple[str, ...]  # as granted, i.e. the token response's `scope`
    access_token: str
    access_token_expires_at: str  # ISO 8601
    refresh_token: str


@dataclass(frozen=True)
class ProgramSeed:
    """The write-review earning program the store runs."""

    kind: str  # "write_review"
    name: str
    source: str  # "klaviyo_reviews"
    points_per_review: int
    enabled: bool


@dataclass(frozen=True)
class ReviewSeed:
    """A review already in Klaviyo Reviews; `traits` says why it is interesting."""

    id: str
    email: str
    review_type: str
    rating: int | None
    content: str
    status: str
    created: str  # ISO 8601
    product_external_id: str | None
    traits: tuple[str, ...]  # "too_short", "duplicate_text", "pending"


@dataclass(frozen=True)
class ScenarioSeed:
    name: str
    description: str
    account_id: str
    public_api_key: str
    reviews_enabled: bool
    advanced_kdp: bool
    customers: tuple[LoyaltyCustomer, ...]
    connection: ConnectionSeed | None
    program: ProgramSeed | None
    reviews: tuple[ReviewSeed, ...]

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, document: JsonObject) -> ScenarioSeed:
        connection: Any = document.get("connection")
        program: Any = document.get("program")
        return cls(
            name=document["name"],
            description=document["description"],
            account_id=document["account_id"],
            public_api_key=document["public_api_key"],
            reviews_enabled=document["reviews_enabled"],
            advanced_kdp=document["advanced_kdp"],
            customers=tuple(LoyaltyCustomer(**item) for item in document["customers"]),
            connection=(
                ConnectionSeed(**{**connection, "scopes": tuple(connection["scopes"])})
                if connection
                else None
            ),
            program=ProgramSeed(**program) if program else None,
            reviews=tuple(
                ReviewSeed(**{**item, "traits": tuple(item["traits"])})
                for item in document["reviews"]
            ),
        )


@dataclass(frozen=True)
class SandboxCredentials:
    """The emulator's own test credentials. They are fake and safe to print."""

    private_key: str  # `pk_...`, holds every scope
    client_id: str
    client_secret: str
    public_api_key: str  # the 6-character company id for /client endpoints
    account_id: str
    redirect_uris: tuple[str, ...]  # exact redirect URIs the OAuth app accepts

    def to_json(self) -> JsonObject:
        return asdict(self)
