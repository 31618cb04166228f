"""The factory: base URL, headers, timeouts, auth per request, configuration checks."""

from __future__ import annotations

import httpx
import pytest

from joyctl import __version__
from joyctl.api_contract import REVISION
from joyctl.errors import ConfigError, DataError, UsageError
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.resources.client_reviews import ClientReview, submit_client_review
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo, collection, jsonapi, resource

API_KEY = "pk_test_0123456789abcdef"


def test_every_request_carries_revision_json_api_and_user_agent(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("GET", "/api/accounts", jsonapi(body=collection(resource("account", "A1"))))
    client = make_client(auth=ApiKeyAuth(API_KEY))

    client.get("/api/accounts")

    request = fake.requests[0]
    assert request.url == "https://a.klaviyo.com/api/accounts"
    assert request.headers["revision"] == REVISION == "2026-07-15"
    assert request.headers["accept"] == "application/vnd.api+json"
    assert request.headers["user-agent"] == f"joyctl/{__version__}"
    assert request.headers["authorization"] == f"Klaviyo-API-Key {API_KEY}"
    assert "content-type" not in request.headers


def test_json_bodies_are_sent_as_json_api(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("POST", "/api/lists", jsonapi(201, {"data": resource("list", "L1", name="Gold")}))
    client = make_client(auth=ApiKeyAuth(API_KEY))

    client.post("/api/lists", {"data": {"type": "list", "attributes": {"name": "Gold"}}})

    assert fake.requests[0].headers["content-type"] == "application/vnd.api+json"


def test_revision_and_base_url_can_be_overridden(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("GET", "/api/accounts", jsonapi(body=collection()))
    client = make_client(base_url="http://127.0.0.1:8765", revision="2026-07-15.pre")

    client.get("/api/accounts")

    assert str(fake.requests[0].url) == "http://127.0.0.1:8765/api/accounts"
    assert fake.requests[0].headers["revision"] == "2026-07-15.pre"
    assert client.revision == "2026-07-15.pre"


def test_timeouts_are_explicit(make_client: ClientFactory) -> None:
    client = make_client()
    assert client.http.timeout.connect == 10.0
    assert client.http.timeout.read == 30.0
    assert make_client(timeout=5.0).http.timeout.read == 5.0


@pytest.mark.parametrize(
    "base_url", ["http://a.klaviyo.com", "ftp://127.0.0.1", "a.klaviyo.com", "http://10.0.0.2"]
)
def test_unsafe_base_urls_are_refused(make_client: ClientFactory, base_url: str) -> None:
    with pytest.raises(ConfigError):
        make_client(base_url=base_url)


def test_client_endpoints_send_no_credentials(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/client/reviews", jsonapi(202))
    client = make_client(auth=ApiKeyAuth(API_KEY))
    review = ClientReview(
        review_type="review",
        email="a@example.com",
        author="Ann",
        content="Great",
        rating=5,
        product_external_id="p-1",
        incentive_type="loyalty_points",
    )

    submit_client_review(client, "AbC123", review)

    request = fake.requests[0]
    assert "authorization" not in request.headers
    assert request.url.params["company_id"] == "AbC123"
    assert request.headers["revision"] == REVISION
    attributes = httpx.Response(200, content=request.content).json()["data"]["attributes"]
    assert attributes["product"] == {"external_id": "p-1", "integration_key": "shopify"}
    assert attributes["incentive_type"] == "loyalty_points"


def test_an_empty_api_key_is_refused() -> None:
    with pytest.raises(UsageError):
        ApiKeyAuth("  ")


def test_a_non_json_body_is_a_data_error(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/accounts", httpx.Response(200, text="<html>hi</html>"))
    with pytest.raises(DataError):
        make_client().get("/api/accounts")


def test_the_client_closes_as_a_context_manager(make_client: ClientFactory) -> None:
    with make_client() as client:
        pass
    assert client.http.is_closed
