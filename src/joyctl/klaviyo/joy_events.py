"""What joyctl sends to Klaviyo, named exactly as Joy names it so existing flows keep working.

Metric and property names come from the loyalty-domain reference (section 1.6 and 5). Outbox
payloads are kept neutral (metric, profile, properties, time, unique id) so the pusher can send
them one by one or in bulk jobs.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii as _quote
from typing import Any, TypedDict, Unpack

EARN_POINT_METRIC = "Joy: Earn Point"
PROFILE_POINTS = "Joy Loyalty Points"
PROFILE_TIER = "Joy Vip tier"
PROFILE_STATUS = "Joy member status"
PROFILE_REFERRAL_URL = "Joy Referral URL"
PROFILE_BIRTHDAY = "Birthday"
JOY_METRICS = (EARN_POINT_METRIC,)
REDEEM_POINTS_METRIC = "Joy: Redeem Points"
POINT_EXPIRATION_METRIC = "Joy: Upon Point Expiration"
TIER_ACHIEVED_METRIC = "Joy: Tier Achieved"
RECEIVED_EMAIL_METRIC = "Received Email"  # Klaviyo's own metric for a flow email sent

# Every event Joy sends carries these besides its own properties (loyalty-domain.md section 5).
COMMON_PROPERTIES = ("Customer name", "Customer points", "Customer ID")
_POINTS = ("Program name", "Earned points", "Created at")
_REDEEM = ("Program name", "Redeemed points", "Discount code", "Created at")
_EXPIRY = ("Points expire", "Expired at")
_TIER = (
    "New tier name",
    "Old tier name",
    "Current tier name",
    "Amount to next tier",
    "isHighestTier",
    "typeCalculator",
)
_PRE_TIER = ("Current tier name", "Amount to next tier")
_BIRTHDAY = ("Birthday", "rewardType", "reward")
_REFERRAL = ("Earned points", "rewardType", "reward")


class JoyMetric(TypedDict):
    """One of Joy's metrics: its own properties and what produces it (None: nothing joyctl
    observes, so only `triggers test` sends it)."""

    name: str
    properties: tuple[str, ...]
    produced_by: str | None


def _metric(name: str, properties: tuple[str, ...], produced_by: str | None = None) -> JoyMetric:
    return JoyMetric(name=name, properties=properties, produced_by=produced_by)


# Joy's metrics as its Klaviyo help page lists them (loyalty-domain.md sections 1.6 and 5).
JOY_CATALOGUE: tuple[JoyMetric, ...] = (
    _metric(EARN_POINT_METRIC, _POINTS, "ledger earn (reviews) and positive ledger adjust"),
    _metric(REDEEM_POINTS_METRIC, _REDEEM, "ledger redeem"),
    _metric("Joy: POS Point Redemption", _REDEEM),
    _metric("Joy: Points Eligible Reward", ("Program name", "Customer points")),
    _metric(POINT_EXPIRATION_METRIC, _EXPIRY, "ledger expire"),
    _metric("Joy: 30 Days Pre Point Expiration", _EXPIRY),
    _metric("Joy: 7 Days Pre Point Expiration", _EXPIRY),
    _metric("Joy: 3 Days Pre Point Expiration", _EXPIRY),
    _metric("Joy: 7 Days Pre Birthday", _BIRTHDAY),
    _metric("Joy: Birthday", _BIRTHDAY),
    _metric("Joy: Coupon Referrers", _REFERRAL),
    _metric("Joy: Point Referrers", _REFERRAL),
    _metric("Joy: Referral Friend", _REFERRAL),
    _metric("Joy: 4 Weeks Pre Tier Demotion", _PRE_TIER),
    _metric("Joy: 2 Weeks Pre Tier Demotion", _PRE_TIER),
    _metric("Joy: 1 Day Pre Tier Demotion", _PRE_TIER),
    _metric("Joy: Tier Downgrade", _TIER),
    _metric("Joy: 4 Weeks Pre Tier Reset", _PRE_TIER),
    _metric("Joy: 2 Weeks Pre Tier Reset", _PRE_TIER),
    _metric("Joy: 1 Day Pre Tier Reset", _PRE_TIER),
    _metric("Joy: Tier Reset", _TIER),
    _metric(TIER_ACHIEVED_METRIC, _TIER, "tier change seen by ledger import"),
    _metric("Joy: Milestone Achieved", ("Milestone name", "Reward")),
    _metric("Joy: Member Anniversary", ("Reward",)),
    _metric("Joy: 7 Days Pre Member Anniversary", ("Reward",)),
    _metric("Joy: Approved submit receipt", ("Program name",)),
    _metric("Joy: Reject submit receipt", ("Program name",)),
)
# Enabled on a profile that never chose: what joyctl sent before triggers could be chosen.
DEFAULT_ENABLED = frozenset({EARN_POINT_METRIC})


def joy_metric(name: str) -> JoyMetric | None:
    """The catalogue entry called `name` (exact, or ignoring case and the `Joy: ` prefix)."""
    wanted = name.strip().lower().removeprefix("joy:").strip()
    for metric in JOY_CATALOGUE:
        if metric["name"].lower().removeprefix("joy:").strip() == wanted:
            return metric
    return None


def metric_properties(name: str) -> tuple[str, ...]:
    """Every property an event of metric `name` carries: its own and the common ones."""
    found = joy_metric(name)
    own = found["properties"] if found is not None else ()
    return tuple(dict.fromkeys((*own, *COMMON_PROPERTIES)))


def joy_event(
    *,
    metric: str,
    unique_id: str,
    email: str,
    external_id: str | None,
    time: str,
    properties: dict[str, Any],
) -> dict[str, Any]:
    """An outbox event payload of any Joy metric (the same shape as `earn_point_event`)."""
    profile: dict[str, Any] = {"email": email}
    if external_id:
        profile["external_id"] = external_id
    return {
        "metric": metric,
        "unique_id": unique_id,
        "time": time,
        "profile": profile,
        "properties": properties,
    }


class EarnPoint(TypedDict):
    """What one `Joy: Earn Point` event tells: the award of `points` for a review."""

    unique_id: str
    email: str
    external_id: str | None
    program_name: str
    points: int
    balance_after: int
    time: str
    review_id: str
    product_id: str | None
    customer_id: int


def earn_point_event(**earn: Unpack[EarnPoint]) -> dict[str, Any]:
    profile: dict[str, Any] = {"email": earn["email"]}
    if earn["external_id"]:
        profile["external_id"] = earn["external_id"]
    return {
        "metric": EARN_POINT_METRIC,
        "unique_id": earn["unique_id"],
        "time": earn["time"],
        "profile": profile,
        "properties": {
            "Program name": earn["program_name"],
            "Program type": "write_review",
            "Earned points": f"{earn['points']} points",
            "Customer points": earn["balance_after"],
            "Customer ID": earn["customer_id"],
            "Created at": earn["time"],
            "Review ID": earn["review_id"],
            "Product ID": earn["product_id"],
        },
    }


def points_profile_update(*, email: str, external_id: str | None, balance: int) -> dict[str, Any]:
    profile: dict[str, Any] = {"email": email, "properties": {PROFILE_POINTS: balance}}
    if external_id:
        profile["external_id"] = external_id
    return profile


# The outbox stores payloads as json.dumps(payload, sort_keys=True). The reward pipeline writes
# one event and one profile update per award, and formatting these two fixed shapes directly is
# several times cheaper than encoding the dicts; the text is the same, key for key and byte for
# byte (tests compare both forms).

_EARN_POINT_TEXT = (
    '{"metric": %s, "profile": %s, "properties": {"Created at": %s, "Customer ID": %d,'
    ' "Customer points": %d, "Earned points": %s, "Product ID": %s, "Program name": %s,'
    ' "Program type": "write_review", "Review ID": %s}, "time": %s, "unique_id": %s}'
)


def earn_point_event_text(**earn: Unpack[EarnPoint]) -> str:
    """`earn_point_event(...)` as the outbox stores it."""
    time, product_id = _quote(earn["time"]), earn["product_id"]
    return _EARN_POINT_TEXT % (
        _quote(EARN_POINT_METRIC),
        _profile_text(earn["email"], earn["external_id"], ""),
        time,
        earn["customer_id"],
        earn["balance_after"],
        _quote(f"{earn['points']} points"),
        "null" if product_id is None else _quote(product_id),
        _quote(earn["program_name"]),
        _quote(earn["review_id"]),
        time,
        _quote(earn["unique_id"]),
    )


def points_profile_update_text(*, email: str, external_id: str | None, balance: int) -> str:
    """`points_profile_update(...)` as the outbox stores it."""
    return _profile_text(
        email, external_id, f', "properties": {{{_quote(PROFILE_POINTS)}: {balance:d}}}'
    )


def _profile_text(email: str, external_id: str | None, rest: str) -> str:
    external = f', "external_id": {_quote(external_id)}' if external_id else ""
    return f'{{"email": {_quote(email)}{external}{rest}}}'
