"""Reviews end to end on the emulator: the approval queue, and deliveries that name no review.

A `joyctl webhooks listen` process receives what the sandbox delivers. With manual approval on,
a submitted review is held, listed by `reviews pending`, and `reviews approve --push` awards it
and sends its Joy: Earn Point event. With the sandbox's `no-review-id` payload shape the
listener finds the review by time, email and product; an event it cannot match is kept,
reported by diagnose, and finished by `webhooks replay` once Klaviyo has its review.
"""

from __future__ import annotations

import getpass
import json
import signal
from datetime import UTC, datetime
from typing import Any

import httpx
import keyring

from joyctl.credentials import SERVICE_NAME
from joyctl.sandbox import SandboxServer
from tests.conftest import Cli
from tests.webhooks.shop import PROFILE, Listener, Shop, cli_data
from tests.webhooks.support import REVIEW_TOPIC, delivery_body, free_port, post, signed_headers

CONTENT = "A wonderful blend that I brew every day, smooth and fragrant."


def _subscribe(cli: Cli, shop: Shop, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/klaviyo/webhooks"
    created: dict[str, Any] = cli_data(cli, shop, "webhooks", "create", "--endpoint", url)
    return created


def _submit(cli: Cli, shop: Shop, email: str, product: str) -> None:
    cli_data(
        cli, shop, "reviews", "submit", "--email", email, "--product", product, "--content", CONTENT
    )


def _balance(cli: Cli, shop: Shop, email: str) -> int:
    return int(cli_data(cli, shop, "ledger", "balance", email)["balance"])


def _settings(server: SandboxServer, **body: Any) -> None:
    response = httpx.post(f"{server.base_url}/__sandbox/settings", json=body)
    assert response.status_code == 200, response.text


def _joy_events(server: SandboxServer) -> int:
    return int(server.inspect()["events"]["by_metric"].get("Joy: Earn Point", 0))


def _check(cli: Cli, shop: Shop, check_id: str) -> dict[str, Any]:
    result = cli("--json", "diagnose", env=shop.env)
    checks = {check["id"]: check for check in json.loads(result.stdout)["data"]["checks"]}
    found: dict[str, Any] = checks[check_id]
    return found


def test_manual_approval_holds_a_delivered_review_until_it_is_approved(
    cli: Cli, shop: Shop
) -> None:
    port = free_port()
    _subscribe(cli, shop, port)
    assert cli("program", "set", "manual_approval", "true", env=shop.env).exit_code == 0
    email = shop.emails[0]
    before = _balance(cli, shop, email)
    listener = Listener.start(shop, port)
    try:
        listener.expect("listening")
        _submit(cli, shop, email, "held-1")
        line = listener.expect("delivery")
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr
    [review] = line["reviews"]
    assert (review["kind"], review["outcome"], line["held"]) == ("held", "held for approval", 1)
    review_id = review["review_id"]

    [pending] = cli_data(cli, shop, "reviews", "pending")
    assert (pending["review_id"], pending["email"], pending["product_id"]) == (
        review_id,
        email,
        "held-1",
    )
    assert pending["excerpt"].startswith("A wonderful blend")
    assert _balance(cli, shop, email) == before
    assert _joy_events(shop.server) == 0
    queue = _check(cli, shop, "approval_queue")
    fix = "joyctl --profile shop reviews approve --all"
    assert (queue["status"], queue["fix"]) == ("warn", fix)

    approved = cli_data(cli, shop, "reviews", "approve", review_id, "--push")
    assert (approved["awarded"], approved["points"], approved["still_rejected"]) == (1, 50, 0)
    assert approved["push"]["events_sent"] == 1
    assert _joy_events(shop.server) == 1
    assert _balance(cli, shop, email) == before + 50
    assert cli_data(cli, shop, "reviews", "pending") == []

    shown = cli_data(cli, shop, "reviews", "show", review_id)
    assert shown["approval"]["verdict"] == "approve"
    assert shown["approval"]["decided_by"] == getpass.getuser()
    assert shown["customer_email"] == email
    human = cli("reviews", "show", review_id, env=shop.env).stdout
    assert f"approved by {getpass.getuser()} at" in human
    history = cli("ledger", "history", email, env=shop.env).stdout.splitlines()
    assert history[1].endswith(f"\tearn\t+50\t{before + 50}\treview {review_id}")


def test_a_delivery_without_a_review_id_is_matched_and_awarded(cli: Cli, shop: Shop) -> None:
    port = free_port()
    _subscribe(cli, shop, port)
    _settings(shop.server, webhook_payload="no-review-id")
    email = shop.emails[1]
    before = _balance(cli, shop, email)
    listener = Listener.start(shop, port)
    try:
        listener.expect("listening")
        _submit(cli, shop, email, "plain-1")
        line = listener.expect("delivery")
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr
    [review] = line["reviews"]
    assert (review["kind"], review["outcome"]) == ("awarded", "awarded 50")
    [(sent,)] = shop.query("SELECT body FROM webhook_deliveries")
    assert b"review_id" not in sent  # the payload really named no review
    [stored] = shop.query("SELECT review_id, email FROM reviews WHERE product_id = 'plain-1'")
    assert (review["review_id"], stored["email"]) == (stored["review_id"], email)
    assert _balance(cli, shop, email) == before + 50


def test_an_unmatched_event_is_kept_reported_and_completed_by_replay(cli: Cli, shop: Shop) -> None:
    port = free_port()
    webhook = _subscribe(cli, shop, port)
    # The sandbox must not deliver the review submitted below: this test posts its own event.
    assert cli("webhooks", "disable", webhook["id"], env=shop.env).exit_code == 0
    email = shop.emails[2]
    before = _balance(cli, shop, email)
    event = {
        "external_id": "early-event-1",
        "topic": REVIEW_TOPIC,
        "payload": {
            "type": "event",
            "id": "early-event-1",
            "attributes": {
                "event_properties": {"email": email, "product_id": "late-1", "rating": 5},
                "datetime": datetime.now(UTC).isoformat(),
            },
        },
    }
    body = delivery_body([event], account_id=shop.account_id, webhook_id=webhook["id"])
    secret = keyring.get_password(SERVICE_NAME, f"{PROFILE}:webhook:{webhook['id']}")
    assert secret is not None
    listener = Listener.start(shop, port)
    try:
        ready = listener.expect("listening")
        # The event arrives before Klaviyo lists its review: nothing can be matched yet.
        assert (
            post(ready["url"], body, signed_headers(secret, body, webhook["id"])).status_code == 200
        )
        line = listener.expect("delivery")
    finally:
        listener.finish(signal.SIGTERM)
    [review] = line["reviews"]
    assert (review["kind"], review["external_id"]) == ("unmatched", "early-event-1")
    assert f"no review by {email} for product late-1" in review["reason"]
    assert _balance(cli, shop, email) == before

    reported = _check(cli, shop, "unmatched_events")
    assert reported["status"] == "fail"
    assert reported["fix"].endswith("joyctl --profile shop webhooks replay")
    assert any("early-event-1" in line for line in reported["evidence"])

    _submit(cli, shop, email, "late-1")
    replayed = cli("webhooks", "replay", env=shop.env)
    assert replayed.exit_code == 0, replayed.stderr
    assert (
        "1 delivery, 1 event: 1 awarded (50 points), 0 rejected, 0 held for approval,"
        " 0 unmatched, 0 ignored, 0 already done"
    ) in replayed.stderr
    assert _balance(cli, shop, email) == before + 50
    again = cli_data(cli, shop, "webhooks", "replay")
    assert (again["deliveries"], again["awarded"], again["unmatched"]) == (0, 0, 0)
    assert _check(cli, shop, "unmatched_events")["status"] == "pass"
