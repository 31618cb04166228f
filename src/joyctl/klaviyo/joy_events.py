"""What joyctl sends to Klaviyo, named exactly as Joy names it so existing flows keep working.

Metric and property names come from the loyalty-domain reference (section 1.6 and 5). Outbox
payloads are kept neutral (metric, profile, properties, time, unique id) so the pusher can send
them one by one or in bulk jobs.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii as _quote
from typing import Any

EARN_POINT_METRIC = "Joy: Earn Point"
PROFILE_POINTS = "Joy Loyalty Points"
PROFILE_TIER = "Joy Vip tier"
PROFILE_STATUS = "Joy member status"
PROFILE_REFERRAL_URL = "Joy Referral URL"
PROFILE_BIRTHDAY = "Birthday"
JOY_METRICS = (EARN_POINT_METRIC,)


def earn_point_event(
    *,
    unique_id: str,
    email: str,
    external_id: str | None,
    program_name: str,
    points: int,
    balance_after: int,
    time: str,
    review_id: str,
    product_id: str | None,
    customer_id: int,
) -> dict[str, Any]:
    profile: dict[str, Any] = {"email": email}
    if external_id:
        profile["external_id"] = external_id
    return {
        "metric": EARN_POINT_METRIC,
        "unique_id": unique_id,
        "time": time,
        "profile": profile,
        "properties": {
            "Program name": program_name,
            "Program type": "write_review",
            "Earned points": f"{points} points",
            "Customer points": balance_after,
            "Customer ID": customer_id,
            "Created at": time,
            "Review ID": review_id,
            "Product ID": product_id,
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


def earn_point_event_text(
    *,
    unique_id: str,
    email: str,
    external_id: str | None,
    program_name: str,
    points: int,
    balance_after: int,
    time: str,
    review_id: str,
    product_id: str | None,
    customer_id: int,
) -> str:
    """`earn_point_event(...)` as the outbox stores it."""
    return _EARN_POINT_TEXT % (
        _quote(EARN_POINT_METRIC),
        _profile_text(email, external_id, ""),
        _quote(time),
        customer_id,
        balance_after,
        _quote(f"{points} points"),
        "null" if product_id is None else _quote(product_id),
        _quote(program_name),
        _quote(review_id),
        _quote(time),
        _quote(unique_id),
    )


def points_profile_update_text(*, email: str, external_id: str | None, balance: int) -> str:
    """`points_profile_update(...)` as the outbox stores it."""
    return _profile_text(
        email, external_id, f', "properties": {{{_quote(PROFILE_POINTS)}: {balance:d}}}'
    )


def _profile_text(email: str, external_id: str | None, rest: str) -> str:
    external = f', "external_id": {_quote(external_id)}' if external_id else ""
    return f'{{"email": {_quote(email)}{external}{rest}}}'
