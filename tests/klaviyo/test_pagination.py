"""Cursor pagination: follow links.next, respect page caps, never leave the base URL."""

from __future__ import annotations

import httpx
import pytest

from joyctl.klaviyo.resources.lists import iter_lists
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo, collection, jsonapi, resource


def page(ids: list[str], next_url: str | None = None) -> httpx.Response:
    return jsonapi(body=collection(*(resource("review", i) for i in ids), next_url=next_url))


def test_follows_next_links_until_absent(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add(
        "GET",
        "/api/reviews",
        page(
            ["r1", "r2"], "https://a.klaviyo.com/api/reviews?page%5Bcursor%5D=c2&page%5Bsize%5D=100"
        ),
        page(["r3"], "https://a.klaviyo.com/api/reviews?page%5Bcursor%5D=c3&page%5Bsize%5D=100"),
        page(["r4"]),
    )
    ids = [item["id"] for item in make_client().paginate("/api/reviews", {"sort": "created"})]

    assert ids == ["r1", "r2", "r3", "r4"]
    cursors = [r.url.params.get("page[cursor]") for r in fake.requests]
    assert cursors == [None, "c2", "c3"]
    assert fake.requests[0].url.params["page[size]"] == "100"
    assert fake.requests[0].url.params["sort"] == "created"


def test_page_size_is_capped_per_endpoint(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/lists", jsonapi(body=collection()))
    fake.add("GET", "/api/events", jsonapi(body=collection()))
    fake.add("GET", "/api/metrics", jsonapi(body=collection()))
    client = make_client()

    list(client.paginate("/api/lists", page_size=50))
    list(client.paginate("/api/events", page_size=300))
    list(client.paginate("/api/metrics", page_size=50))

    lists, events, metrics = fake.requests
    assert lists.url.params["page[size]"] == "10"
    assert events.url.params["page[size]"] == "300"
    assert "page[size]" not in metrics.url.params


def test_limit_stops_early(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add(
        "GET", "/api/reviews", page(["r1", "r2", "r3"], "https://a.klaviyo.com/api/reviews?x=1")
    )
    items = list(make_client().paginate("/api/reviews", limit=2))
    assert [item["id"] for item in items] == ["r1", "r2"]


def test_next_links_never_leave_the_base_url(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add(
        "GET",
        "/api/reviews",
        page(["r1"], "https://evil.example.com/api/reviews?page%5Bcursor%5D=c2"),
    )
    fake.add("GET", "/api/reviews", page(["r2"]))
    list(make_client().paginate("/api/reviews"))
    assert {r.url.host for r in fake.requests} == {"a.klaviyo.com"}


def test_a_base_url_prefix_is_kept(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add(
        "GET",
        "/emulator/api/reviews",
        page(["r1"], "http://127.0.0.1:9/emulator/api/reviews?page%5Bcursor%5D=c2"),
        page(["r2"]),
    )
    client = make_client(base_url="http://127.0.0.1:9/emulator")
    assert [item["id"] for item in client.paginate("/api/reviews")] == ["r1", "r2"]


def test_a_repeated_next_link_ends_the_loop(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    same = "https://a.klaviyo.com/api/reviews?page%5Bcursor%5D=c2"
    fake.add("GET", "/api/reviews", page(["r1"], same), page(["r2"], same))
    assert len(list(make_client().paginate("/api/reviews"))) == 2


@pytest.mark.parametrize("name", ["Joy Gold Tier", "Joy's Gold"])
def test_lists_are_found_by_name_filter(
    fake: FakeKlaviyo, make_client: ClientFactory, name: str
) -> None:
    fake.add("GET", "/api/lists", jsonapi(body=collection(resource("list", "L1", name=name))))
    found = list(iter_lists(make_client(), name=name))
    assert found[0].id == "L1"
    quoted = f'"{name}"' if "'" in name else f"'{name}'"
    assert fake.requests[0].url.params["filter"] == f"equals(name,{quoted})"
