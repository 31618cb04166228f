"""`joyctl reviews simulate` on the built-in sandbox: ids that never collide, file defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from joyctl.services.rewards.sources import SIMULATED_ID_PREFIX, SimulatedReviews
from tests.conftest import Cli

SANDBOX = ("--profile", "sandbox")
AVA = "ava.martinez@example.com"
LIAM = "liam.nguyen@example.com"
TEXT = "A wonderful, fragrant blend that I now brew every single morning."


def _data(cli: Cli, *args: str) -> Any:
    result = cli("--json", *SANDBOX, *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


def _simulate(cli: Cli, email: str, *extra: str) -> Any:
    # Each reviewer's own words: the same text twice would be DUPLICATE_CONTENT.
    content = f"{TEXT} Signed, {email}."
    return _data(
        cli, "reviews", "simulate", "--commit", "--email", email, "--content", content, *extra
    )


def test_two_committed_simulations_without_an_id_are_both_awarded(cli: Cli) -> None:
    first = _simulate(cli, AVA, "--product", "tea-1")
    second = _simulate(cli, LIAM, "--product", "tea-1")
    decisions = [first["decisions"][0], second["decisions"][0]]
    assert [(d["outcome"], d["points"]) for d in decisions] == [("award", 50), ("award", 50)]
    ids = [d["review_id"] for d in decisions]
    assert ids[0] != ids[1]
    assert all(review_id.startswith(SIMULATED_ID_PREFIX) for review_id in ids)
    assert (first["generated_ids"], second["generated_ids"]) == ([ids[0]], [ids[1]])
    # Each review names its own customer.
    for review_id, email in zip(ids, (AVA, LIAM), strict=True):
        shown = _data(cli, "reviews", "show", review_id)
        assert (shown["email"], shown["customer_email"]) == (email, email)


def test_the_made_up_id_is_said(cli: Cli) -> None:
    result = cli(*SANDBOX, "reviews", "simulate", "--email", AVA, "--content", TEXT)
    assert result.exit_code == 0, result.stderr
    assert "review ids made up for reviews given without one: simulated-" in result.stderr


def test_an_id_held_for_another_reviewer_is_refused(cli: Cli) -> None:
    _simulate(cli, AVA, "--id", "mine")
    refused = cli(*SANDBOX, "reviews", "simulate", "--commit", "--email", LIAM, "--content", TEXT,
                  "--id", "mine")  # fmt: skip
    assert refused.exit_code == 2
    assert f"already in the ledger for {AVA}" in refused.stderr
    assert _data(cli, "reviews", "show", "mine")["customer_email"] == AVA


def test_file_reviews_default_like_the_options(cli: Cli, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text(json.dumps({"email": AVA, "content": TEXT, "product_id": "tea-9"}) + "\n")
    from_file = _data(cli, "reviews", "simulate", "--file", str(reviews))["decisions"][0]
    from_flags = _data(
        cli, "reviews", "simulate", "--email", AVA, "--content", TEXT, "--product", "tea-9"
    )["decisions"][0]
    assert (from_file["outcome"], from_file["points"]) == ("award", 50)
    assert {k: v for k, v in from_file.items() if k != "review_id"} == {
        k: v for k, v in from_flags.items() if k != "review_id"
    }


@given(
    st.dictionaries(
        st.sampled_from(["id", "review_id", "status", "review_type", "verified", "email"]),
        st.one_of(st.none(), st.text(max_size=8), st.booleans()),
    )
)
def test_completion_keeps_what_is_given_and_always_has_an_id(fields: dict[str, Any]) -> None:
    source = SimulatedReviews()
    completed = source.complete(fields)
    assert str(completed.get("id") or completed.get("review_id") or "").strip()
    made_up = source.generated
    assert len(made_up) <= 1
    for key, value in fields.items():
        if value is not None and not (made_up and key == "id"):
            assert completed[key] == value
    if fields.get("status") is None:
        assert completed["status"] == "published"
    if made_up:
        assert completed["id"] == made_up[0]
