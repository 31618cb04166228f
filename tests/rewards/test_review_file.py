"""Review files of `reviews simulate --file`: each review checked, a bad one quarantined alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joyctl.engine import ReviewStatus
from joyctl.errors import DataError
from joyctl.services.rewards.pipeline import IncomingReview
from joyctl.services.rewards.sources import ReviewFile, incoming_from_fields
from tests.conftest import Cli

SANDBOX = ("--profile", "sandbox")
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "9" * 5000,
            str(2**64),
            "NaN",
            "inf",
            "9999-12-31T23:59:59-14:00",
            "published",
            "0001-01-01T00:00:00+14:00",
            "2026-05-01T12:00:00Z",
            "x" * 300,
        ]
    )  # fmt: skip
)
_FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "review_id",
            "email",
            "content",
            "created",
            "created_at",
            "status",
            "review_type",
            "product_id",
            "images",
            "verified",
            "rating",
            "title",
        ]
    ),  # fmt: skip
    _SCALARS
    | st.lists(_SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2),
    max_size=10,
)


@settings(max_examples=500)
@given(fields=_FIELDS)
def test_any_fields_are_a_review_or_a_data_error(fields: dict[str, Any]) -> None:
    try:
        incoming = incoming_from_fields(fields, origin="test")
    except DataError as exc:
        assert exc.message and len(exc.message) < 400
        return
    created = incoming.engine_review.created_at.astimezone(UTC)
    assert created + timedelta(days=3650) > created  # the engine's windows cannot overflow
    assert incoming.inbox.rating is None or 0 <= incoming.inbox.rating <= 5
    assert 0 < len(incoming.inbox.review_id) <= 255


_GOOD = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True),
        "email": st.from_regex(r"[a-z0-9]{1,10}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
        "content": st.text(max_size=200),
        "created": st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
        "status": st.sampled_from([status.value for status in ReviewStatus]),
        "rating": st.none() | st.integers(min_value=0, max_value=5),
        "images": st.lists(
            st.from_regex(r"https://[a-z]{1,8}\.com/[a-z]{1,8}", fullmatch=True), max_size=2
        ),
        "verified": st.booleans(),
    }
)


@settings(max_examples=200)
@given(reviews=st.lists(_GOOD, max_size=5), as_array=st.booleans())
def test_valid_reviews_read_back_from_either_form(
    reviews: list[dict[str, Any]], as_array: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("reviews")
    written = [{**review, "created": review["created"].isoformat()} for review in reviews]
    path = folder / "reviews.json"
    text = json.dumps(written) if as_array else "".join(json.dumps(r) + "\n" for r in written)
    path.write_text(text, encoding="utf-8")

    found = read_all(ReviewFile(path, origin="test"))

    assert [review.inbox.review_id for review in found] == [r["id"] for r in reviews]
    for incoming, review in zip(found, reviews, strict=True):
        assert incoming.engine_review.created_at == review["created"]
        assert (incoming.inbox.email, incoming.inbox.status) == (review["email"], review["status"])
        assert (incoming.inbox.rating, incoming.engine_review.images) == (
            review["rating"],
            tuple(review["images"]),
        )
    assert not (folder / "reviews.json.quarantine.jsonl").exists()


def read_all(source: ReviewFile) -> list[IncomingReview]:
    with closing(source):
        return list(source)


_BYTES = st.lists(
    st.sampled_from(
        [
            b"{",
            b"}",
            b"[",
            b"]",
            b'"id"',
            b'"x"',
            b":",
            b",",
            b"\n",
            b"\r",
            b"\xff",
            b" ",
            b"1",
            b"NaN",
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_BYTES)
def test_any_bytes_are_reviews_and_quarantined_lines_or_an_unreadable_array(
    content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_bytes(content)
    source = ReviewFile(path, origin="test")
    try:
        found = read_all(source)
    except DataError as exc:
        assert source.is_array, exc.message  # only an array as a whole can be unreadable
        return
    entries = source.quarantine.path.read_text().splitlines() if source.quarantine.count else []
    assert len(entries) == source.quarantine.count
    assert all(isinstance(review, IncomingReview) for review in found)


@pytest.fixture
def poison_file(tmp_path: Path) -> Iterator[Path]:
    good = {"email": "ava.martinez@example.com", "content": "A lovely, fragrant tea I brew daily.",
            "status": "published", "created": "2026-05-01T12:00:00Z"}  # fmt: skip
    lines = [
        json.dumps({**good, "id": "good-1"}),
        json.dumps({**good, "id": "huge-rating", "rating": 2**64}),
        json.dumps({**good, "id": "rating", "rating": 7}),
        '{"id": "digits", "rating": ' + "9" * 5000 + "}",
        json.dumps({**good, "id": "late", "created": "9999-12-31T23:59:59-14:00"}),
        json.dumps({**good, "id": "early", "created": "0001-01-01T00:00:00+14:00"}),
        '{"id": "nan", "rating": NaN}',
        '{"id": "deep", "content": ' + "[" * 10_000 + "]" * 10_000 + "}",
        json.dumps({**good, "id": "images", "images": 5}),
        json.dumps({**good, "id": "x" * 300}),
        "not json",
        json.dumps({**good, "id": "good-2", "product_id": "tea-2"}),
    ]
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    yield path


def test_each_hostile_review_is_quarantined_with_its_line(poison_file: Path) -> None:
    source = ReviewFile(poison_file, origin="test")
    found = read_all(source)

    assert [review.inbox.review_id for review in found] == ["good-1", "good-2"]
    entries = [json.loads(line) for line in source.quarantine.path.read_text().splitlines()]
    assert [(entry["line"], entry["reason"]) for entry in entries] == [
        (2, f"the integer {2**64} is beyond 64 bits"),
        (3, "rating 7 is out of range (0 to 5)"),
        (4, "an integer of 5000 digits is beyond 64 bits"),
        (5, "time '9999-12-31T23:59:59-14:00' is out of range (1900-01-01 to 2200-01-01)"),
        (6, "time '0001-01-01T00:00:00+14:00' is out of range (1900-01-01 to 2200-01-01)"),
        (7, "NaN is not a number JSON allows"),
        (8, "JSON nested deeper than 64 levels"),
        (9, "images must be a list of URLs"),
        (10, "id is longer than 255 characters"),
        (11, "not valid JSON (Expecting value)"),
    ]


def test_simulate_a_file_with_poison_lines_decides_the_rest_and_exits_7(
    cli: Cli, poison_file: Path, tmp_path: Path
) -> None:
    assert cli(*SANDBOX, "connect").exit_code == 0
    chosen = tmp_path / "bad" / "reviews.bad.jsonl"

    result = cli("--json", *SANDBOX, "reviews", "simulate", "--file", str(poison_file),
                 "--quarantine", str(chosen))  # fmt: skip

    assert result.exit_code == 7, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)["data"]
    assert [decision["review_id"] for decision in data["decisions"]] == ["good-1", "good-2"]
    assert (data["quarantined"], data["quarantine_file"]) == (10, str(chosen))
    assert len(chosen.read_text(encoding="utf-8").splitlines()) == 10

    plain = cli(*SANDBOX, "reviews", "simulate", "--file", str(poison_file))
    assert plain.exit_code == 7
    assert "10 reviews quarantined in" in plain.stderr
    assert "internal error" not in plain.stderr


def test_an_array_that_is_not_json_names_the_file(cli: Cli, tmp_path: Path) -> None:
    assert cli(*SANDBOX, "connect").exit_code == 0
    path = tmp_path / "reviews.json"
    path.write_text("[" * 10_000, encoding="utf-8")

    result = cli(*SANDBOX, "reviews", "simulate", "--file", str(path))

    assert result.exit_code == 3
    assert f"{path}: JSON nested deeper than 64 levels" in result.stderr


def test_what_a_review_leaves_out_is_completed_and_the_quarantine_keeps_it_as_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"email": "ann@example.com"}\n{"rating": 9}\n', encoding="utf-8")

    def complete(fields: Any) -> dict[str, Any]:
        return {"id": "filled-in", "status": "published", **fields}

    source = ReviewFile(path, origin="test", complete=complete)
    found = read_all(source)

    assert [(r.inbox.review_id, r.inbox.status) for r in found] == [("filled-in", "published")]
    (entry,) = [json.loads(line) for line in source.quarantine.path.read_text().splitlines()]
    assert (entry["line"], entry["record"]) == (2, {"rating": 9})
