"""What joyctl sends to Klaviyo, named exactly as Joy names it so existing flows keep working.

Metric and property names come from the loyalty-domain reference (section 1.6 and 5). Outbox
payloads are kept neutral (metric, profile, properties, time, unique id) so the pusher can send
them one by one or in bulk jobs.
"""

from __future__ import annotations

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
