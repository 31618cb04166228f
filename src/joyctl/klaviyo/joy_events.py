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
