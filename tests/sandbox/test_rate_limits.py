"""Rate limits per operation and per quota holder: headers on success, 429 with Retry-After."""

from __future__ import annotations

from typing import Any

import pytest

from joyctl.errors import UsageError
from joyctl.sandbox import SandboxServer, parse_rate_limits
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import (
    bearer_client,
    connect,
    control,
    error_of,
    inspect,
    key_client,
    public_client,
)


def _frozen(make_server: ServerFactory, **overrides: Any) -> SandboxServer:
    """A server whose clock stands still, so every request falls in the same window."""
    server = make_server(**overrides)
    control(server, "clock", {"freeze": True})
    return server


def test_burst_limit_answers_429_with_retry_after(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="real")
    with key_client(server) as client:
        first = client.get("/api/accounts")
        second = client.get("/api/accounts")
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "1, 1;w=1, 15;w=60"
    assert first.headers["RateLimit-Remaining"] == "0"
    assert first.headers["RateLimit-Reset"] in ("0", "1")
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"
    assert "RateLimit-Limit" not in second.headers
    error = error_of(second)
    assert error["code"] == "throttled"
    assert error["title"] == "Request was throttled."
    assert error["detail"] == "Request was throttled. Expected available in 1 second."
    assert inspect(server)["throttled"] == {"total": 1, "by_operation": {"get_accounts": 1}}


def test_steady_window_and_clock(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="real")
    now = control(server, "clock", {})["now"]
    control(server, "clock", {"advance_seconds": 60 - now % 60})  # start of a steady window
    with key_client(server) as client:
        for _ in range(15):
            assert client.get("/api/accounts").status_code == 200
            control(server, "clock", {"advance_seconds": 1.0})
        blocked = client.get("/api/accounts")
        control(server, "clock", {"advance_seconds": 60})
        after = client.get("/api/accounts")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 1
    assert after.status_code == 200


def test_operations_have_separate_quotas(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="real")
    with key_client(server) as client:
        assert client.get("/api/accounts").status_code == 200
        reviews = client.get("/api/reviews")
        assert client.get("/api/accounts").status_code == 429
    assert reviews.status_code == 200
    assert reviews.headers["RateLimit-Limit"] == "10, 10;w=1, 150;w=60"
    assert reviews.headers["RateLimit-Remaining"] == "9"


def test_oauth_apps_and_private_keys_have_separate_quotas(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="off")
    tokens = connect(server, "accounts:read")
    control(server, "settings", {"rate_limits": "real"})
    with key_client(server) as key, bearer_client(server, tokens["access_token"]) as oauth:
        assert key.get("/api/accounts").status_code == 200
        assert oauth.get("/api/accounts").status_code == 200
        assert key.get("/api/accounts").status_code == 429
        assert oauth.get("/api/accounts").status_code == 429


def test_scaled_limits(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="x3")
    with key_client(server) as client:
        statuses = [client.get("/api/accounts").status_code for _ in range(4)]
        headers = client.get("/api/reviews").headers
    assert statuses == [200, 200, 200, 429]
    assert headers["RateLimit-Limit"] == "30, 30;w=1, 450;w=60"


def test_off_means_no_limits_but_the_headers_klaviyo_sends(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="off")
    with key_client(server) as client:
        responses = [client.get("/api/accounts") for _ in range(20)]
    assert {r.status_code for r in responses} == {200}
    assert responses[0].headers["RateLimit-Limit"] == "1, 1;w=1, 15;w=60"
    assert [r.headers["RateLimit-Remaining"] for r in responses[:2]] == ["0", "0"]
    assert inspect(server)["throttled"]["total"] == 0


RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


@pytest.mark.parametrize("mode", ["real", "off", "x10"])
def test_every_answer_past_authentication_carries_the_headers(
    make_server: ServerFactory, mode: str
) -> None:
    server = make_server(rate_limits=mode, scenario="advanced-kdp")
    params = {"company_id": server.credentials.public_api_key}
    with key_client(server) as client, public_client(server) as public:
        answers = [
            client.get("/api/lists"),
            client.post("/api/profile-import", json={"data": {"type": "profile"}}),  # 400
            client.get("/api/reviews/no-such-review"),  # 404
            client.post("/api/events", json={"data": {"type": "event"}}),  # 400
            public.get("/client/reviews", params=params),
        ]
    for answer in answers:
        assert all(name in answer.headers for name in RATE_LIMIT_HEADERS), (
            answer.status_code,
            answer.url,
        )


def test_profile_count_has_its_own_lower_limit(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="real", scenario="empty")
    with key_client(server) as client:
        body = {"data": {"type": "list", "attributes": {"name": "Counted"}}}
        list_id = client.post("/api/lists", json=body).json()["data"]["id"]
        params = {"additional-fields[list]": "profile_count"}
        counted = client.get(f"/api/lists/{list_id}", params=params)
        again = client.get(f"/api/lists/{list_id}", params=params)
        plain = client.get(f"/api/lists/{list_id}")
    assert counted.headers["RateLimit-Limit"] == "1, 1;w=1, 15;w=60"
    assert again.status_code == 429
    assert plain.status_code == 200


def test_client_endpoints_are_limited_per_company(make_server: ServerFactory) -> None:
    server = _frozen(make_server, rate_limits="real")
    params = {"company_id": server.credentials.public_api_key}
    with public_client(server) as client:
        statuses = [client.get("/client/reviews", params=params).status_code for _ in range(11)]
    assert statuses.count(429) == 1


@pytest.mark.parametrize("text", ["fast", "x0", "x-2", "xabc", ""])
def test_bad_modes_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_rate_limits(text)


def test_mode_parsing() -> None:
    assert parse_rate_limits("REAL").kind == "real"
    assert parse_rate_limits("x10").scale(15) == 150
    assert parse_rate_limits("x0.1").scale(15) == 1
    assert parse_rate_limits("off").enforced is False
