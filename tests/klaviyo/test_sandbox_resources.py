"""Resource functions, pacing and retries against the local Klaviyo emulator."""

from __future__ import annotations

import time

import pytest

from joyctl.errors import RemoteError
from joyctl.klaviyo.auth import OAuthAuth
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.bulk_import import (
    bulk_import_profiles,
    get_bulk_import_job,
    iter_import_errors,
)
from joyctl.klaviyo.resources.client_reviews import ClientReview, submit_client_review
from joyctl.klaviyo.resources.events import (
    EventInput,
    ProfileEvents,
    bulk_create_events,
    create_event,
)
from joyctl.klaviyo.resources.lists import (
    add_profiles_to_list,
    create_list,
    delete_list,
    find_list_by_name,
    iter_list_profile_ids,
    remove_profiles_from_list,
)
from joyctl.klaviyo.resources.metrics import find_metric_by_name, get_events
from joyctl.klaviyo.resources.profiles import get_profile_by_email, upsert_profile
from joyctl.klaviyo.resources.reviews import get_review, list_reviews, update_review_status
from joyctl.klaviyo.resources.webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhook_topics,
    update_webhook,
)
from tests.klaviyo.conftest import SandboxFactory
from tests.klaviyo.sandbox_support import app_for, client_for, connect, inspect, key_auth

EARNED = "Loyalty Points Earned"
SUBMITTED = "event:klaviyo.submitted_review"


def test_reviews_page_through_and_moderate(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox()
    with client_for(server, key_auth(server)) as client:
        small_pages = [review.id for review in list_reviews(client, page_size=5)]
        one_page = [review.id for review in list_reviews(client)]
        pending = list(list_reviews(client, status="pending"))
        moderated = update_review_status(client, pending[0].id, "published")
        reread = get_review(client, pending[0].id)

    assert len(small_pages) == 36 == len(set(small_pages))
    assert small_pages == one_page
    assert moderated.status_value == reread.status_value == "published"


def test_lists_and_members(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(scenario="empty")
    with client_for(server, key_auth(server)) as client:
        gold = create_list(client, "Joy's Gold Tier")
        found = find_list_by_name(client, "Joy's Gold Tier")
        ids = [upsert_profile(client, {"email": f"m{i}@example.com"}).id for i in range(3)]
        add_profiles_to_list(client, gold.id, ids)
        remove_profiles_from_list(client, gold.id, ids[:1])
        members = set(iter_list_profile_ids(client, gold.id))
        delete_list(client, gold.id)
        assert find_list_by_name(client, "Joy's Gold Tier") is None

    assert found is not None and found.id == gold.id
    assert members == set(ids[1:])


def test_events_are_recorded_once_per_unique_id(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(scenario="empty")
    profile = {"email": "ann@example.com"}
    with client_for(server, key_auth(server)) as client:
        for _ in range(2):
            create_event(client, EventInput(EARNED, {"points": 5}, unique_id="joy-1"), profile)
        bulk_create_events(
            client,
            [ProfileEvents(profile, [EventInput(EARNED, unique_id=f"joy-{n}") for n in (2, 3)])],
        )
        metric = find_metric_by_name(client, EARNED)
        assert metric is not None
        events = list(get_events(client, metric_id=metric.id))
        person = get_profile_by_email(client, "ann@example.com")

    assert len(events) == 3
    assert person is not None and {event.profile_id for event in events} == {person.id}
    assert inspect(server)["events"]["duplicates_dropped"] == 1


def test_bulk_import_job_reports_errors(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(scenario="empty")
    profiles = [{"email": "a@example.com"}, {"email": "b@example.com"}, {"email": "nope"}]
    with client_for(server, key_auth(server)) as client:
        gold = create_list(client, "Gold")
        job = bulk_import_profiles(client, profiles, list_ids=[gold.id])
        deadline = time.monotonic() + 10
        while not job.finished and time.monotonic() < deadline:
            time.sleep(0.05)
            job = get_bulk_import_job(client, job.id)
        errors = list(iter_import_errors(client, job.id))
        members = list(iter_list_profile_ids(client, gold.id))

    assert job.status == "complete"
    assert (job.total_count, job.failed_count) == (3, 1)
    assert len(errors) == 1 and errors[0].pointer
    assert len(members) == 2


def test_webhooks_through_oauth(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(auto_consent=True)
    auth = OAuthAuth(connect(server, "webhooks:read webhooks:write"), app=app_for(server))
    with client_for(server, auth) as client:
        topics = {topic.id for topic in list_webhook_topics(client)}
        hook = create_webhook(
            client,
            name="joyctl reviews",
            endpoint_url="https://hooks.example.com/klaviyo",
            secret_key="0123456789abcdef0123",
            topic_ids=[SUBMITTED],
        )
        update_webhook(client, hook.id, enabled=False)
        reread = get_webhook(client, hook.id)
        delete_webhook(client, hook.id)

    assert SUBMITTED in topics
    assert reread.enabled is False and reread.topic_ids == [SUBMITTED]
    assert inspect(server)["webhooks"] == []


def test_a_shopper_review_needs_no_credentials(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox()
    review = ClientReview("review", "ann@example.com", "Ann", "Lovely mug, would buy again", 5)
    with client_for(server, None) as shopper:
        submit_client_review(shopper, server.credentials.public_api_key, review)
    assert inspect(server)["reviews"]["total"] == 37


def test_pacing_keeps_within_real_limits(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(rate_limits="real")
    started = time.monotonic()
    with client_for(server, key_auth(server)) as client:
        for _ in range(3):  # get_accounts allows one per second
            get_account(client)
    assert time.monotonic() - started >= 2.0
    assert inspect(server)["throttled"]["total"] == 0


def test_without_pacing_a_429_waits_retry_after(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(rate_limits="real")
    waits: list[tuple[float, str]] = []
    options = {"pacing": False, "on_wait": lambda s, r: waits.append((s, r))}
    with client_for(server, key_auth(server), **options) as client:
        get_account(client)
        get_account(client)
    assert [reason for _, reason in waits] == ["Klaviyo rate-limited get_accounts (429)"]
    assert waits[0][0] >= 1.0


def test_reads_and_keyed_writes_survive_faults(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(scenario="empty", faults="5xx=0.25,drop=0.1,drop_after=0.15", seed=4)
    profile = {"email": "ann@example.com"}
    with client_for(server, key_auth(server)) as client:
        for number in range(12):
            create_event(client, EventInput(EARNED, unique_id=f"joy-{number}"), profile)
        read_back = [len(list(get_events(client))) for _ in range(5)]

    state = inspect(server)
    assert state["faults"]["total"] > 0
    assert state["events"]["by_metric"] == {EARNED: 12}
    assert read_back == [12] * 5


def test_a_plain_write_is_not_repeated_after_a_server_error(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(scenario="empty", faults="500=1.0")
    client = client_for(server, key_auth(server))
    with client, pytest.raises(RemoteError):
        create_event(client, EventInput(EARNED), {"email": "ann@example.com"})
    assert inspect(server)["requests"]["total"] == 1
