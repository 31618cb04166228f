"""Reading a Submitted Review event whatever its property names, and matching it to a review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from joyctl.klaviyo.models import Review as KlaviyoReview
from joyctl.services.webhooks.review_event import (
    EventClues,
    event_clues,
    match_review,
    plain_name,
    review_id_in,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=25,
)


@st.composite
def review_id_spellings(draw: st.DrawFn) -> str:
    """`review` and `id` in any case, joined by nothing, a space, `_` or `-`, maybe with `$`."""
    review = "".join(draw(st.sampled_from([c, c.upper()])) for c in "review")
    ident = "".join(draw(st.sampled_from([c, c.upper()])) for c in "id")
    joiner = draw(st.sampled_from(["", " ", "_", "-"]))
    return draw(st.sampled_from(["", "$"])) + review + joiner + ident


@given(review_id_spellings(), st.text(min_size=1, max_size=40).filter(str.strip))
def test_the_review_id_is_found_under_any_spelling(name: str, review_id: str) -> None:
    assert plain_name(name) == "reviewid"
    assert review_id_in({"content": "x", name: review_id}) == review_id.strip()


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_reading_any_payload_never_fails(payload: dict[str, Any]) -> None:
    clues = event_clues(payload)
    assert clues.email is None or "@" in clues.email
    assert clues.review_id is None or 0 < len(clues.review_id) <= 200


@given(json_values)
def test_reading_any_properties_never_fails(properties: Any) -> None:
    payload = {"attributes": {"event_properties": properties, "datetime": "not a time"}}
    clues = event_clues(payload)
    assert clues.occurred_at is None


def test_what_an_event_says_about_its_review() -> None:
    payload = {
        "type": "event",
        "attributes": {
            "event_properties": {"Email": " Ann@Example.com ", "product": {"external_id": "t1"}},
            "timestamp": T0.timestamp(),
        },
        "relationships": {"profile": {"data": {"type": "profile", "id": "P1"}}},
    }
    clues = event_clues(payload)
    assert clues == EventClues(None, "ann@example.com", "t1", T0, "P1")
    included = {"included": [{"type": "profile", "attributes": {"email": "bob@example.com"}}]}
    assert event_clues({**payload, "attributes": {}, **included}).email == "bob@example.com"


def _review(review_id: str, email: str, product: str, created: datetime) -> KlaviyoReview:
    return KlaviyoReview.model_validate(
        {
            "type": "review",
            "id": review_id,
            "attributes": {
                "email": email,
                "created": created.isoformat(),
                "product": {"external_id": product},
            },
        }
    )


def _clues(product: str | None = None) -> EventClues:
    return EventClues(None, "ann@example.com", product, T0, None)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ann@example.com", "ANN@example.com", "bob@example.com"]),
            st.sampled_from(["t1", "t2"]),
            st.integers(min_value=-30, max_value=30),
        ),
        max_size=6,
    ),
    st.sampled_from([None, "t1"]),
)
def test_a_match_is_one_of_the_reviews_that_fit(
    rows: list[tuple[str, str, int]], product: str | None
) -> None:
    candidates = [
        _review(f"r{n}", email, item, T0 + timedelta(minutes=minutes))
        for n, (email, item, minutes) in enumerate(rows)
    ]
    fitting = [
        r
        for r in candidates
        if (r.email or "").lower() == "ann@example.com"
        and (product is None or (r.product and r.product.external_id == product))
        and r.created is not None
        and abs(r.created - T0) <= WINDOW
    ]
    match = match_review(_clues(product), "ann@example.com", candidates, set(), WINDOW)
    if len(fitting) == 1:
        assert match.review == fitting[0]
    else:
        assert match.review is None and match.reason and not match.settled


def test_the_review_the_ledger_has_not_seen_is_the_one() -> None:
    seen, new = (
        _review("seen", "ann@example.com", "t1", T0),
        _review("new", "ann@example.com", "t1", T0),
    )
    match = match_review(_clues(), "ann@example.com", [seen, new], {"seen"}, WINDOW)
    assert match.review == new
    settled = match_review(_clues(), "ann@example.com", [seen, new], {"seen", "new"}, WINDOW)
    assert (settled.review, settled.settled) == (None, True)
