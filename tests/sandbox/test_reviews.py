"""Reviews: server-side GET/PATCH with filters, sorts and page caps; client-side POST/GET."""

from __future__ import annotations

from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import (
    control,
    error_of,
    inspect,
    key_client,
    public_client,
    review_body,
)


def test_reviews_page_and_filter(server: SandboxServer) -> None:
    with key_client(server) as client:
        first_page = client.get("/api/reviews").json()
        pending = client.get("/api/reviews", params={"filter": "equals(status,'pending')"})
        high = client.get(
            "/api/reviews", params={"filter": "greater-or-equal(rating,5)", "page[size]": 100}
        ).json()["data"]
        too_big = client.get("/api/reviews", params={"page[size]": 101})
    assert len(first_page["data"]) == 20
    assert "next" in first_page["links"]
    assert [r["attributes"]["status"] for r in pending.json()["data"]] == [{"value": "pending"}]
    assert high and all(r["attributes"]["rating"] == 5 for r in high)
    assert too_big.status_code == 400


def test_reviews_filter_by_time_content_and_type(server: SandboxServer) -> None:
    seed = server.scenario_seed
    assert seed.connection is not None
    since = seed.connection.connected_at
    with key_client(server) as client:
        after = client.get(
            "/api/reviews",
            params={"filter": f"greater-or-equal(created,{since})", "page[size]": 100},
        ).json()["data"]
        contains = client.get(
            "/api/reviews", params={"filter": "contains(content,'exceeded my expectations')"}
        ).json()["data"]
        combined = client.get(
            "/api/reviews",
            params={"filter": "and(equals(review_type,'review'),equals(verified,true))"},
        ).json()["data"]
        bad = client.get("/api/reviews", params={"filter": "equals(email,'x@y.z')"})
    assert len(after) == 36
    assert len(contains) == 3
    assert combined and all(r["attributes"]["verified"] for r in combined)
    assert bad.status_code == 400


def test_reviews_sort_and_include_events(server: SandboxServer) -> None:
    with key_client(server) as client:
        newest = client.get("/api/reviews", params={"sort": "-created", "include": "events"}).json()
        review_id = newest["data"][0]["id"]
        single = client.get(f"/api/reviews/{review_id}").json()["data"]
    created = [r["attributes"]["created"] for r in newest["data"]]
    assert created == sorted(created, reverse=True)
    event_ids = {r["relationships"]["events"]["data"][0]["id"] for r in newest["data"]}
    assert {item["id"] for item in newest["included"]} == event_ids
    assert single["attributes"]["email"]


def test_patch_review_status(server: SandboxServer) -> None:
    review_id = next(r.id for r in server.scenario_seed.reviews if r.status == "pending")
    with key_client(server) as client:
        path = f"/api/reviews/{review_id}"

        def patch(status: dict[str, object]) -> int:
            body = {"data": {"type": "review", "id": review_id, "attributes": {"status": status}}}
            return client.patch(path, json=body).status_code

        assert patch({"value": "published"}) == 200
        assert patch({"value": "rejected"}) == 400
        assert patch({"value": "rejected", "rejection_reason": {"reason": "fake"}}) == 200
        assert patch({"value": "sparkly"}) == 400
        content = {"data": {"type": "review", "id": review_id, "attributes": {"content": "x"}}}
        assert client.patch(path, json=content).status_code == 400
        status = client.get(path).json()["data"]["attributes"]["status"]
    assert status == {"value": "rejected", "rejection_reason": {"reason": "fake"}}
    assert inspect(server)["reviews"]["by_status"] == {"published": 35, "rejected": 1}


def test_client_review_submission(server: SandboxServer) -> None:
    company = server.credentials.public_api_key
    customer = server.scenario_seed.customers[0]
    with public_client(server) as client:
        response = client.post(
            "/client/reviews", params={"company_id": company}, json=review_body(customer.email)
        )
    assert response.status_code == 202
    assert response.content == b""
    state = inspect(server)
    assert state["reviews"]["total"] == 37
    assert state["events"]["by_metric"]["Submitted Review"] == 37


def test_client_review_validation(server: SandboxServer) -> None:
    params = {"company_id": server.credentials.public_api_key}
    no_email = review_body("x@example.com")
    del no_email["data"]["attributes"]["email"]
    with public_client(server) as client:
        missing = client.post("/client/reviews", params=params, json=no_email)
        bad_type = client.post(
            "/client/reviews", params=params, json=review_body("x@x.com", review_type="essay")
        )
        bad_rating = client.post(
            "/client/reviews", params=params, json=review_body("x@x.com", rating=6)
        )
        bad_product = client.post(
            "/client/reviews",
            params=params,
            json=review_body("x@x.com", product={"external_id": "1", "integration_key": "etsy"}),
        )
        no_company = client.post("/client/reviews", json=review_body("x@x.com"))
        wrong_company = client.post(
            "/client/reviews", params={"company_id": "NOPE01"}, json=review_body("x@x.com")
        )
    assert error_of(missing)["source"]["pointer"] == "/data/attributes/email"
    assert error_of(bad_type)["source"]["pointer"] == "/data/attributes/review_type"
    assert error_of(bad_rating)["source"]["pointer"] == "/data/attributes/rating"
    assert error_of(bad_product)["source"]["pointer"] == "/data/attributes/product/integration_key"
    assert error_of(no_company)["source"] == {"parameter": "company_id"}
    assert wrong_company.status_code == 400


def test_moderation_decides_the_new_status(server: SandboxServer) -> None:
    params = {"company_id": server.credentials.public_api_key}
    control(server, "settings", {"reviews_auto_publish": False})
    with public_client(server) as client:
        client.post("/client/reviews", params=params, json=review_body("new@example.com"))
    assert inspect(server)["reviews"]["by_status"]["pending"] == 2


def test_client_reviews_show_published_without_email(server: SandboxServer) -> None:
    params = {"company_id": server.credentials.public_api_key, "page[size]": "100"}
    with public_client(server) as client:
        reviews = client.get("/client/reviews", params=params).json()["data"]
        pending = client.get(
            "/client/reviews", params={**params, "filter": "equals(status,'pending')"}
        ).json()["data"]
    assert len(reviews) == 35
    assert all("email" not in r["attributes"] for r in reviews)
    assert pending == []


def test_client_reviews_refused_without_klaviyo_reviews(make_server: ServerFactory) -> None:
    server = make_server(scenario="reviews-disabled")
    params = {"company_id": server.credentials.public_api_key}
    with public_client(server) as client:
        response = client.post("/client/reviews", params=params, json=review_body("a@x.com"))
    assert response.status_code == 403
