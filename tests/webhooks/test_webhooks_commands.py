"""`joyctl webhooks` management, listen's start-up errors and replay's, on a sandbox store."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

import httpx
import keyring

from joyctl import envvars
from joyctl.credentials import SERVICE_NAME
from tests.conftest import Cli, Result
from tests.webhooks.shop import PROFILE, Shop, cli_data

HOOK_URL = "https://hooks.example.com/klaviyo/webhooks"
REVIEW_TOPIC = "event:klaviyo.submitted_review"


def _run(cli: Cli, shop: Shop, *args: str, **env: str) -> Result:
    return cli(*args, env={**shop.env, **env})


def _settings(shop: Shop, **flags: Any) -> None:
    response = httpx.post(f"{shop.server.base_url}/__sandbox/settings", json=flags)
    assert response.status_code == 200, response.text


def _secret(webhook_id: str) -> str | None:
    return keyring.get_password(SERVICE_NAME, f"{PROFILE}:webhook:{webhook_id}")


def test_topics_mark_the_review_topics(cli: Cli, shop: Shop) -> None:
    report = cli_data(cli, shop, "webhooks", "topics")
    assert REVIEW_TOPIC in report["review_topics"]
    marked = {t["id"] for t in report["topics"] if t["review"]}
    assert marked == set(report["review_topics"])


def test_topics_explain_an_account_without_klaviyo_reviews(cli: Cli, shop: Shop) -> None:
    _settings(shop, reviews_enabled=False)
    result = _run(cli, shop, "webhooks", "topics")
    assert result.exit_code == 0
    assert "no review topics" in result.stderr
    assert "Klaviyo Reviews" in result.stderr
    refused = _run(cli, shop, "webhooks", "create", "--endpoint", HOOK_URL)
    assert refused.exit_code == 2
    assert "Klaviyo Reviews" in refused.stderr


def test_create_stores_a_strong_secret_it_never_prints(cli: Cli, shop: Shop) -> None:
    result = _run(cli, shop, "--json", "webhooks", "create", "--endpoint", HOOK_URL)
    assert result.exit_code == 0, result.stderr
    created = json.loads(result.stdout)["data"]
    assert created["topics"] == [REVIEW_TOPIC]
    secret = _secret(created["id"])
    assert secret is not None and len(secret) >= 32
    assert secret not in result.stdout + result.stderr
    [hook] = shop.server.inspect()["webhooks"]
    assert (hook["endpoint_url"], hook["enabled"]) == (HOOK_URL, True)

    listed = cli_data(cli, shop, "webhooks", "list")
    assert [(h["id"], h["endpoint_url"], h["secret"]) for h in listed] == [
        (created["id"], HOOK_URL, "stored")
    ]


def test_create_refuses_plain_http_except_on_loopback(cli: Cli, shop: Shop) -> None:
    refused = _run(cli, shop, "webhooks", "create", "--endpoint", "http://hooks.example.com/k")
    assert refused.exit_code == 2
    assert "https" in refused.stderr
    assert shop.server.inspect()["webhooks"] == []
    local = _run(cli, shop, "webhooks", "create", "--endpoint", "http://localhost:8780/k")
    assert local.exit_code == 0, local.stderr


def test_disable_enable_and_delete(cli: Cli, shop: Shop) -> None:
    created = cli_data(cli, shop, "webhooks", "create", "--endpoint", HOOK_URL)
    hook_id = created["id"]
    assert cli_data(cli, shop, "webhooks", "disable", hook_id)["enabled"] is False
    assert shop.server.inspect()["webhooks"][0]["enabled"] is False
    assert cli_data(cli, shop, "webhooks", "enable", hook_id)["enabled"] is True

    unconfirmed = _run(cli, shop, "--no-input", "webhooks", "delete", hook_id)
    assert unconfirmed.exit_code == 2
    assert "--yes" in unconfirmed.stderr
    deleted = cli_data(cli, shop, "webhooks", "delete", hook_id, "--yes")
    assert (deleted["deleted_in_klaviyo"], deleted["secret_removed"]) == (True, True)
    assert shop.server.inspect()["webhooks"] == []
    assert _secret(hook_id) is None
    assert cli_data(cli, shop, "webhooks", "list") == []


def test_an_unknown_webhook_is_a_clear_error(cli: Cli, shop: Shop) -> None:
    result = _run(cli, shop, "webhooks", "disable", "01HNOSUCHWEBHOOK0000000000")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


def test_a_private_key_meets_the_plan_gate(cli: Cli, shop: Shop) -> None:
    key = shop.server.credentials.private_key
    result = cli("webhooks", "list", env={envvars.PROFILE: PROFILE, envvars.API_KEY: key})
    assert result.exit_code == 4
    assert "Advanced KDP" in result.stderr or "plan" in result.stderr


def test_listen_on_a_port_in_use_exits_2(cli: Cli, shop: Shop) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(cli, shop, "webhooks", "listen", "--port", str(port))
    assert result.exit_code == 2
    assert f"port {port} is in use" in result.stderr
    assert "--port" in result.stderr


def test_create_and_listen_say_when_the_program_is_disabled(cli: Cli, shop: Shop) -> None:
    enable = "run `joyctl program set enabled true`"
    created = _run(cli, shop, "webhooks", "create", "--endpoint", HOOK_URL)
    assert created.exit_code == 0 and "program" not in created.stderr
    assert _run(cli, shop, "program", "set", "enabled", "false").exit_code == 0
    created = _run(cli, shop, "webhooks", "create", "--endpoint", HOOK_URL)
    assert created.exit_code == 0, created.stderr
    assert "the write-review program is disabled" in created.stderr
    assert enable in created.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = _run(cli, shop, "webhooks", "listen", "--port", str(taken.getsockname()[1]))
    assert listen.exit_code == 2
    assert enable in listen.stderr


def test_listen_needs_an_absolute_path(cli: Cli, shop: Shop) -> None:
    result = _run(cli, shop, "webhooks", "listen", "--path", "hooks")
    assert result.exit_code == 2


def test_replay_of_nothing_and_of_unknown_ids(cli: Cli, shop: Shop) -> None:
    summary = cli_data(cli, shop, "webhooks", "replay")
    assert (summary["deliveries"], summary["awarded"]) == (0, 0)
    missing = _run(cli, shop, "webhooks", "replay", "--id", "42")
    assert missing.exit_code == 2
    assert "no stored delivery 42" in missing.stderr
    bad_date = _run(cli, shop, "webhooks", "replay", "--since", "yesterday")
    assert bad_date.exit_code == 2


def test_debug_logging_never_shows_the_webhook_secret(cli: Cli, shop: Shop) -> None:
    result = _run(cli, shop, "--debug", "webhooks", "create", "--endpoint", HOOK_URL)
    assert result.exit_code == 0, result.stderr
    assert "POST" in result.stderr  # the traffic is logged...
    [hook] = shop.server.inspect()["webhooks"]
    secret = _secret(hook["id"])
    assert secret is not None
    assert secret not in result.stderr + result.stdout  # ...but not the secret


def test_delivery_lines_say_what_happened() -> None:
    from joyctl.commands.webhooks.receive import _delivery_text
    from joyctl.services.webhooks.intake import DeliveryLine
    from joyctl.services.webhooks.outcomes import ReviewOutcome

    base = {"delivery_id": 7, "received_at": "2026-05-01T10:00:00+00:00", "webhook_id": "01H"}
    reviews = [
        ReviewOutcome(
            external_id="e1", review_id="r1", kind="awarded", outcome="awarded 50", points=50
        ),
        ReviewOutcome(
            external_id="e2",
            review_id="r2",
            kind="rejected",
            outcome="rejected TOO_SHORT",
            reason="TOO_SHORT",
        ),
        ReviewOutcome(external_id="e3", review_id="r3", kind="held", outcome="held for approval"),
        ReviewOutcome(
            external_id="e4",
            review_id=None,
            kind="unmatched",
            outcome="unmatched",
            reason="no review by ann@example.com was created within 10 minutes of T",
        ),
        ReviewOutcome(
            external_id="e5", review_id="r5", kind="already_done", outcome="already done"
        ),
    ]
    verified = DeliveryLine(
        **base,
        status_code=200,
        verdict="verified",
        events=6,
        processed=5,
        awarded=1,
        points=50,
        rejected=1,
        held=1,
        unmatched=1,
        ignored=1,
        reviews=reviews,
    )
    assert _delivery_text(verified).endswith(
        "delivery 7: verified (200) 6 events: review r1 awarded 50, review r2 rejected TOO_SHORT,"
        " review r3 held for approval, event e4 unmatched (no review by ann@example.com was"
        " created within 10 minutes of T), review r5 already done; 1 other event ignored;"
        " 50 points for 1 review; unmatched events are kept for `joyctl webhooks replay`"
    )
    one = DeliveryLine(**base, status_code=200, verdict="verified", events=1, reviews=reviews[:1])
    assert _delivery_text(one).endswith("delivery 7: verified (200) 1 event: review r1 awarded 50")
    rejected = DeliveryLine(
        **base, status_code=401, verdict="rejected", reason="bad_signature", detail="no match"
    )
    assert _delivery_text(rejected).endswith("delivery 7: rejected (401 bad_signature) no match")


def test_replay_judges_deliveries_stored_but_never_verified(cli: Cli, shop: Shop) -> None:
    from joyctl.ledger import deliveries as queries
    from joyctl.ledger.db import open_ledger
    from joyctl.services.webhooks.verify import kept_headers
    from tests.webhooks.support import delivery_body, review_event, signed_headers

    hook = cli_data(cli, shop, "webhooks", "create", "--endpoint", HOOK_URL)
    secret = _secret(hook["id"])
    assert secret is not None
    email = shop.emails[2]
    before = int(cli_data(cli, shop, "ledger", "balance", email)["balance"])
    genuine = delivery_body(
        [review_event("e1", "r1", email=email)], account_id=shop.account_id, webhook_id=hook["id"]
    )
    forged = genuine.replace(b"r1", b"r2")
    arrived = datetime.now(UTC).isoformat()
    connection = open_ledger(shop.paths.ledger_file(PROFILE))
    try:
        # What a process that died right after storing leaves behind: no verdict yet.
        for body in (genuine, forged):
            headers = {k.lower(): v for k, v in signed_headers(secret, genuine, hook["id"]).items()}
            received = queries.NewDelivery(
                arrived, hook["id"], kept_headers(headers), body, len(body)
            )
            queries.store_delivery(connection, received)
    finally:
        connection.close()

    summary = cli_data(cli, shop, "webhooks", "replay", "--push")
    assert (summary["rechecked"], summary["deliveries"], summary["awarded"]) == (2, 1, 1)
    assert (summary["pushed"], summary["push_pending"]) == (2, 0)
    assert shop.server.inspect()["events"]["by_metric"]["Joy: Earn Point"] == 1
    verdicts = shop.query("SELECT verdict, reason FROM webhook_deliveries ORDER BY id")
    assert [tuple(row) for row in verdicts] == [("verified", None), ("rejected", "bad_signature")]
    assert int(cli_data(cli, shop, "ledger", "balance", email)["balance"]) == before + 50


def test_a_webhook_secret_from_the_environment_must_be_one_klaviyo_takes(
    cli: Cli, shop: Shop
) -> None:
    env = {**shop.env, "JOYCTL_WEBHOOK_SECRET": "too-short"}
    url = "http://127.0.0.1:9/klaviyo/webhooks"
    result = cli("webhooks", "create", "--endpoint", url, env=env)
    assert result.exit_code == 2
    assert "JOYCTL_WEBHOOK_SECRET must be at least 16 characters" in result.stderr
    assert "too-short" not in result.stderr
