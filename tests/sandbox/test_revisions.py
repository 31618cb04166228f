"""The `revision` header as Klaviyo reads it: releases, dates between them, refusals, and the
revision at which each operation exists."""

from __future__ import annotations

import datetime as dt

import pytest

from joyctl.klaviyo.revisions import NEWEST_STABLE
from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import error_of, key_client, public_client, review_body


def _accounts(server: SandboxServer, revision: str) -> tuple[int, dict[str, object] | None]:
    with key_client(server) as client:
        response = client.get("/api/accounts", headers={"revision": revision})
    return response.status_code, error_of(response) if response.status_code >= 400 else None


@pytest.mark.parametrize("revision", [NEWEST_STABLE, "2026-07-15", "2026-08-01", "2026-07-15.pre"])
def test_released_revisions_and_dates_between_releases_are_served(
    server: SandboxServer, revision: str
) -> None:
    assert _accounts(server, revision) == (200, None)


@pytest.mark.parametrize(
    "revision", ["2026-02-30", "2026-07-15.banana", "July", "2099-01-01", "2021-06-01"]
)
def test_malformed_suffixed_future_and_prehistoric_revisions_are_invalid(
    server: SandboxServer, revision: str
) -> None:
    status, error = _accounts(server, revision)
    assert status == 400
    assert error is not None
    assert (error["code"], error["source"]) == ("invalid", {"parameter": "revision"})
    assert revision in str(error["detail"])


def test_a_date_after_the_emulators_today_is_in_the_future(server: SandboxServer) -> None:
    with key_client(server) as client:
        now = client.post("/__sandbox/clock", json={"freeze": True}).json()["now"]
    tomorrow = (dt.datetime.fromtimestamp(now, dt.UTC) + dt.timedelta(days=1)).date()
    assert _accounts(server, tomorrow.isoformat())[0] == 400


def test_retired_revisions_are_refused_by_default(server: SandboxServer) -> None:
    status, error = _accounts(server, "2023-01-24")
    assert status == 410
    assert error is not None
    assert error["code"] == "gone"
    assert "retired" in str(error["detail"])


def test_retired_revisions_can_fall_forward(make_server: ServerFactory) -> None:
    server = make_server(retired_revisions="fall-forward")
    assert _accounts(server, "2023-01-24") == (200, None)


def test_client_reviews_exist_from_their_ga_revision_or_as_a_beta(
    make_server: ServerFactory,
) -> None:
    server = make_server(scenario="advanced-kdp")
    params = {"company_id": server.credentials.public_api_key}

    def submit(revision: str) -> int:
        with public_client(server) as client:
            response = client.post(
                "/client/reviews",
                params=params,
                json=review_body("rev@example.com"),
                headers={"revision": revision},
            )
        return response.status_code

    assert submit("2025-01-15") == 404  # stable 2025-01-15 has no /client/reviews
    assert submit("2025-01-15.pre") == 202  # the beta did
    assert submit("2025-04-15") == 202  # GA
    assert submit(NEWEST_STABLE) == 202
