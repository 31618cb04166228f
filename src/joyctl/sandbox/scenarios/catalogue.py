"""Seeded stores the sandbox can start from, each reproducing a situation joyctl must handle."""

from __future__ import annotations

from dataclasses import dataclass

from joyctl.api_contract import all_required_scopes
from joyctl.errors import UsageError
from joyctl.sandbox.auth import ALL_SCOPES
from joyctl.sandbox.clock import iso
from joyctl.sandbox.config import DEFAULT_REDIRECT_URIS
from joyctl.sandbox.ids import private_key, short_id, token, uuid_id
from joyctl.sandbox.scenarios import data, email_cases
from joyctl.sandbox.scenarios.seeds import (
    ConnectionSeed,
    LoyaltyCustomer,
    ProgramSeed,
    ReviewSeed,
    ScenarioInfo,
    ScenarioSeed,
)
from joyctl.sandbox.store.events import KLAVIYO_INTEGRATION, record_event
from joyctl.sandbox.store.profiles import upsert_profile
from joyctl.sandbox.store.records import (
    AccessTokenRecord,
    AccountRecord,
    GrantRecord,
    JsonObject,
    OAuthAppRecord,
    PrivateKeyRecord,
    RefreshTokenRecord,
)
from joyctl.sandbox.store.reviews import new_review, review_event_input
from joyctl.sandbox.store.state import SandboxState

DAY = 86400.0
# Scopes of a grant made before review webhooks needed more: no reviews:* and no webhooks:*.
LEGACY_SCOPES: tuple[str, ...] = tuple(
    scope for scope in all_required_scopes() if not scope.startswith(("reviews:", "webhooks:"))
)
FULL_SCOPES: tuple[str, ...] = all_required_scopes()
WRITE_REVIEW_PROGRAM = ProgramSeed(
    kind="write_review",
    name="Write a review",
    source="klaviyo_reviews",
    points_per_review=50,
    enabled=True,
)


@dataclass(frozen=True)
class _Recipe:
    description: str
    grant_scopes: tuple[str, ...] | None = None  # None: the store has not connected yet
    customers: int = 0
    reviews: str = "none"  # none | legacy | clean
    reviews_enabled: bool = True
    advanced_kdp: bool = False
    email_cases: bool = False


RECIPES: dict[str, _Recipe] = {
    "empty": _Recipe("A new Klaviyo account: no data, no connection; Klaviyo Reviews enabled."),
    "legacy-permissions": _Recipe(
        "A store connected by OAuth before review-webhook permissions were required: the grant "
        "lacks reviews:read, webhooks:read and webhooks:write, there is no review webhook, and "
        "36 reviews from 30 known customers arrived since (some too short, some with duplicate "
        "text, one pending), none of them rewarded.",
        grant_scopes=LEGACY_SCOPES,
        customers=30,
        reviews="legacy",
    ),
    "healthy": _Recipe(
        "A store connected with every scope joyctl needs, 30 customers and a handful of clean "
        "published reviews; no webhook yet, so joyctl can create one.",
        grant_scopes=FULL_SCOPES,
        customers=30,
        reviews="clean",
    ),
    "reviews-disabled": _Recipe(
        "A connected store whose account does not use Klaviyo Reviews: no review topics, no "
        "reviews, and client review submissions are refused.",
        grant_scopes=FULL_SCOPES,
        customers=30,
        reviews_enabled=False,
    ),
    "email-not-sent": _Recipe(
        email_cases.DESCRIPTION,
        grant_scopes=FULL_SCOPES,
        customers=len(email_cases.CASES),
        email_cases=True,
    ),
    "advanced-kdp": _Recipe(
        "An empty account on Advanced KDP: a private key may manage webhooks (no plan gate).",
        advanced_kdp=True,
    ),
}


def list_scenarios() -> list[ScenarioInfo]:
    return [ScenarioInfo(name, recipe.description) for name, recipe in RECIPES.items()]


def _recipe(name: str) -> _Recipe:
    recipe = RECIPES.get(name)
    if recipe is None:
        known = ", ".join(RECIPES)
        raise UsageError(f"Unknown sandbox scenario {name!r}.", hint=f"Known scenarios: {known}.")
    return recipe


def _account(recipe: _Recipe, live_account: bool) -> AccountRecord:
    account_id = short_id()
    return AccountRecord(
        id=account_id,
        public_api_key=account_id,  # Klaviyo's public key is the 6-character company id
        test_account=not live_account,
        advanced_kdp=recipe.advanced_kdp,
        reviews_enabled=recipe.reviews_enabled,
        reviews_auto_publish=True,
        timezone="US/Eastern",
        preferred_currency="USD",
        locale="en-US",
        industry="Apparel & Accessories",
        contact_information={
            "default_sender_name": "Joy Demo Store",
            "default_sender_email": "hello@joy-demo-store.example",
            "website_url": f"https://{data.STORE_DOMAIN}",
            "organization_name": "Joy Demo Store",
            "street_address": {
                "address1": "125 Summer Street",
                "address2": None,
                "city": "Boston",
                "region": "MA",
                "country": "US",
                "zip": "02110",
            },
        },
    )


def _credentials(state: SandboxState) -> None:
    key = private_key()
    state.private_keys[key] = PrivateKeyRecord(key=key, name="Sandbox key", scopes=list(ALL_SCOPES))
    client_id = uuid_id()
    state.oauth_apps[client_id] = OAuthAppRecord(
        client_id=client_id,
        client_secret=token(),
        name="joyctl",
        redirect_uris=list(DEFAULT_REDIRECT_URIS),
        scopes=list(ALL_SCOPES),
    )


def _customers(count: int) -> tuple[LoyaltyCustomer, ...]:
    customers = []
    for index, (first, last) in enumerate(data.CUSTOMER_NAMES[:count]):
        points = 120 + (index * 173) % 2400
        customers.append(
            LoyaltyCustomer(
                external_id=str(7_310_000_000_000 + index * 1_001),
                email=f"{first.lower()}.{last.lower()}@example.com",
                first_name=first,
                last_name=last,
                tier=data.tier_for(points),
                points=points,
            )
        )
    return tuple(customers)


def _seed_profiles(state: SandboxState, customers: tuple[LoyaltyCustomer, ...], at: float) -> None:
    for customer in customers:
        attributes = {
            "email": customer.email,
            "external_id": customer.external_id,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "properties": {"Joy Loyalty Points": customer.points, "Joy Vip tier": customer.tier},
        }
        upsert_profile(state, {"type": "profile", "attributes": attributes}, at)


def _grant(
    state: SandboxState, scopes: tuple[str, ...], connected_at: float, now: float, lifetime: int
) -> ConnectionSeed:
    client_id = next(iter(state.oauth_apps))
    grant = GrantRecord(
        id=uuid_id(),
        client_id=client_id,
        scopes=list(scopes),
        connected_at=connected_at,
        revoked=False,
    )
    state.grants[grant["id"]] = grant
    refresh = RefreshTokenRecord(
        token=token(), grant_id=grant["id"], last_used_at=now, revoked=False
    )
    access = AccessTokenRecord(
        token=token(), grant_id=grant["id"], expires_at=now + lifetime, revoked=False
    )
    state.refresh_tokens[refresh["token"]] = refresh
    state.access_tokens[access["token"]] = access
    return ConnectionSeed(
        client_id=client_id,
        connected_at=iso(connected_at),
        scopes=scopes,
        access_token=access["token"],
        access_token_expires_at=iso(access["expires_at"]),
        refresh_token=refresh["token"],
    )


def _review_plan(index: int, style: str) -> tuple[str, tuple[str, ...]]:
    """Content and traits of the index-th seeded review."""
    if style == "legacy":
        if index in (3, 11, 19, 27):
            return data.TOO_SHORT_TEXTS[index % len(data.TOO_SHORT_TEXTS)], ("too_short",)
        if index in (6, 14, 22):  # three customers post the very same text
            return data.DUPLICATE_REVIEW_TEXT, ("duplicate_text",)
        if index == 30:  # the first customer posts their first review's text again
            return _clean_text(0), ("duplicate_text",)
        if index == 17:
            return _clean_text(index), ("pending",)
    return _clean_text(index), ()


def _clean_text(index: int) -> str:
    """A genuine review: no two seeded reviews share their text unless a trait says so."""
    texts, endings = data.LONG_REVIEW_TEXTS, data.REVIEW_ENDINGS
    return f"{texts[index % len(texts)]} {endings[(index // len(texts)) % len(endings)]}"


def _review_values(customer: LoyaltyCustomer, index: int, content: str) -> JsonObject:
    products = data.product_ids()
    return {
        "review_type": "review",
        "email": customer.email,
        "author": f"{customer.first_name} {customer.last_name[0]}.",
        "content": content,
        "rating": (5, 4, 5, 3, 5, 4)[index % 6],
        "title": None,
        "incentive_type": "loyalty_points",
        "product": data.product_details(products[index % len(products)]),
        "images": [],
        "verified": index % 4 != 0,
    }


def _seed_review(
    state: SandboxState, values: JsonObject, created: float, traits: tuple[str, ...]
) -> ReviewSeed:
    """Store one review with its `Submitted Review` event, as Klaviyo would have recorded it."""
    review = new_review(values, created, "pending" if "pending" in traits else "published")
    state.reviews[review["id"]] = review
    event = record_event(state, review_event_input(review, created), created, KLAVIYO_INTEGRATION)
    if event is not None:
        review["event_ids"].append(event["id"])
    return ReviewSeed(
        id=review["id"],
        email=review["email"],
        review_type=review["review_type"],
        rating=review["rating"],
        content=review["content"],
        status=review["status"]["value"],
        created=review["created"],
        product_external_id=values["product"]["external_id"],
        traits=traits,
    )


def _seed_reviews(
    state: SandboxState,
    customers: tuple[LoyaltyCustomer, ...],
    style: str,
    connected_at: float,
    now: float,
) -> tuple[ReviewSeed, ...]:
    """Reviews spread evenly between the connection and a day ago."""
    count = 36 if style == "legacy" else 6
    spacing = (now - connected_at - DAY) / count
    seeds = []
    for index in range(count):
        content, traits = _review_plan(index, style)
        values = _review_values(customers[index % len(customers)], index, content)
        seeds.append(_seed_review(state, values, connected_at + (index + 1) * spacing, traits))
    return tuple(seeds)


def build_state(
    name: str, now: float, *, live_account: bool = False, access_token_lifetime: int = 3600
) -> SandboxState:
    """A fresh state for scenario `name`, with its ScenarioSeed stored alongside."""
    recipe = _recipe(name)
    state = SandboxState(scenario=name, seeded_at=now, account=_account(recipe, live_account))
    _credentials(state)
    connected_at = now - 30 * DAY
    customers = _customers(recipe.customers)
    _seed_profiles(state, customers, connected_at - 60 * DAY)
    connection = None
    if recipe.grant_scopes is not None:
        connection = _grant(state, recipe.grant_scopes, connected_at, now, access_token_lifetime)
    reviews: tuple[ReviewSeed, ...] = ()
    if recipe.reviews != "none" and recipe.reviews_enabled:
        reviews = _seed_reviews(state, customers, recipe.reviews, connected_at, now)
    if recipe.email_cases:
        email_cases.seed_email_cases(state, customers, now)
    seed = ScenarioSeed(
        name=name,
        description=recipe.description,
        account_id=state.account["id"],
        public_api_key=state.account["public_api_key"],
        reviews_enabled=recipe.reviews_enabled,
        advanced_kdp=recipe.advanced_kdp,
        customers=customers,
        connection=connection,
        program=WRITE_REVIEW_PROGRAM if customers else None,
        reviews=reviews,
    )
    state.scenario_seed = seed.to_json()
    return state
