"""Scenarios: what each seeds, and the plain data the joyctl side seeds its ledger from."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from joyctl.api_contract import all_required_scopes
from joyctl.errors import UsageError
from joyctl.sandbox import ScenarioSeed, list_scenarios
from joyctl.sandbox.scenarios.catalogue import build_state
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import inspect, key_client, token_request


def test_scenarios_are_listed_with_descriptions() -> None:
    scenarios = {s.name: s.description for s in list_scenarios()}
    assert {"empty", "legacy-permissions", "healthy", "reviews-disabled", "advanced-kdp"} <= set(
        scenarios
    )
    assert all(description for description in scenarios.values())


@pytest.mark.parametrize("name", [s.name for s in list_scenarios()])
def test_every_scenario_builds_and_round_trips(name: str) -> None:
    state = build_state(name, time.time())
    seed = ScenarioSeed.from_json(state.scenario_seed)
    assert seed.name == name
    assert ScenarioSeed.from_json(seed.to_json()) == seed


def test_unknown_scenario() -> None:
    with pytest.raises(UsageError):
        build_state("nope", time.time())


def test_legacy_permissions_seed(make_server: ServerFactory) -> None:
    server = make_server(scenario="legacy-permissions")
    seed = server.scenario_seed
    connection = seed.connection
    assert connection is not None
    missing = {"reviews:read", "webhooks:read", "webhooks:write"}
    assert not missing & set(connection.scopes)
    assert set(connection.scopes) | missing | {"reviews:write"} == set(all_required_scopes())
    assert seed.reviews_enabled and not seed.advanced_kdp
    assert len(seed.customers) == 30
    assert len(seed.reviews) == 36
    emails = {customer.email for customer in seed.customers}
    assert {review.email for review in seed.reviews} <= emails
    connected = datetime.fromisoformat(connection.connected_at)
    assert all(datetime.fromisoformat(r.created) > connected for r in seed.reviews)
    traits = [trait for review in seed.reviews for trait in review.traits]
    assert traits.count("pending") == 1
    assert traits.count("too_short") >= 2
    assert traits.count("duplicate_text") >= 2
    assert all(len(r.content) < 20 for r in seed.reviews if "too_short" in r.traits)
    assert seed.program is not None and seed.program.kind == "write_review"
    state = inspect(server)
    assert state["webhooks"] == []
    assert state["reviews"]["by_status"] == {"published": 35, "pending": 1}
    assert state["profiles"]["total"] == 30


def test_customers_carry_tier_and_points(make_server: ServerFactory) -> None:
    server = make_server(scenario="healthy")
    seed = server.scenario_seed
    assert {c.tier for c in seed.customers} <= {"Bronze", "Silver", "Gold"}
    customer = seed.customers[5]
    with key_client(server) as client:
        profile = client.get(
            "/api/profiles", params={"filter": f"equals(external_id,'{customer.external_id}')"}
        ).json()["data"][0]["attributes"]
    assert profile["email"] == customer.email
    assert profile["properties"]["Joy Loyalty Points"] == customer.points


def test_the_seeded_connection_works(make_server: ServerFactory) -> None:
    server = make_server(scenario="legacy-permissions")
    connection = server.scenario_seed.connection
    assert connection is not None
    assert connection.client_id == server.credentials.client_id
    refreshed = token_request(
        server, {"grant_type": "refresh_token", "refresh_token": connection.refresh_token}
    ).json()
    assert refreshed["scope"].split() == list(connection.scopes)


def test_empty_and_kdp_scenarios(make_server: ServerFactory) -> None:
    empty = make_server(scenario="empty").scenario_seed
    kdp = make_server(scenario="advanced-kdp").scenario_seed
    assert empty.customers == () and empty.connection is None and empty.program is None
    assert kdp.advanced_kdp


def test_live_account_flag(make_server: ServerFactory) -> None:
    server = make_server(live_account=True)
    assert inspect(server)["account"]["test_account"] is False
