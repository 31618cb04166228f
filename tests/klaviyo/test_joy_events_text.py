"""The outbox text of Joy events must equal json.dumps(payload, sort_keys=True) exactly."""

from __future__ import annotations

import json

import pytest

from joyctl.klaviyo import joy_events


@pytest.mark.parametrize(
    ("email", "external_id", "product_id", "name"),
    [
        ("ana@example.com", None, "p-1", "Write a review"),
        ("ana@example.com", "", None, "Write a review"),
        ('zoë "q"\\@example.com', "ext-7", "prodé\n", "Critique ✓ \u2028"),
    ],
)
def test_earn_point_event_text_is_the_sorted_json_of_the_event(
    email: str, external_id: str | None, product_id: str | None, name: str
) -> None:
    def build(balance: int) -> tuple[str, str]:
        earn: joy_events.EarnPoint = {
            "unique_id": "joyctl-entry-12",
            "email": email,
            "external_id": external_id,
            "program_name": name,
            "points": 50,
            "balance_after": balance,
            "time": "2026-01-01T00:00:00+00:00",
            "review_id": "r-\u00e9",
            "product_id": product_id,
            "customer_id": 3,
        }
        event = joy_events.earn_point_event(**earn)
        text = joy_events.earn_point_event_text(**earn)
        return json.dumps(event, sort_keys=True), text

    for balance in (0, 1234):
        expected, text = build(balance)
        assert text == expected


@pytest.mark.parametrize("external_id", [None, "", "ext-\u00e9"])
def test_points_profile_update_text_is_the_sorted_json_of_the_update(
    external_id: str | None,
) -> None:
    update = joy_events.points_profile_update(
        email="b\u00f6@example.com", external_id=external_id, balance=1234
    )
    text = joy_events.points_profile_update_text(
        email="b\u00f6@example.com", external_id=external_id, balance=1234
    )
    assert text == json.dumps(update, sort_keys=True)
