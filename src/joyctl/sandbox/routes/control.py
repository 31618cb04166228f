"""Control routes under `/__sandbox/` (outside Klaviyo's API): inspection and test hooks.

- `GET  /__sandbox/state`            counters and contents (see inspection.py); `?brief=1`
- `GET  /__sandbox/credentials`      the emulator's test credentials
- `GET  /__sandbox/scenario`         the ScenarioSeed (customers, connection, reviews)
- `POST /__sandbox/clock`            `{"advance_seconds": 3600}` moves sandbox time forward,
                                     `{"freeze": true}` stops it (exact rate-limit windows)
- `POST /__sandbox/settings`         account flags, consent, rate limits, faults, the webhook
                                     payload shape (`{"webhook_payload": "no-review-id"}`)
- `POST /__sandbox/reset`            `{"scenario": "empty"}` starts over
- `POST /__sandbox/deliveries/flush` retries every pending webhook delivery now
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from joyctl.errors import UsageError
from joyctl.sandbox.config import SandboxConfig, parse_rate_limits, parse_webhook_payload
from joyctl.sandbox.context import RequestContext
from joyctl.sandbox.faults import FaultInjector, parse_faults
from joyctl.sandbox.jsonapi import Response, invalid, json_response
from joyctl.sandbox.scenarios.catalogue import build_state
from joyctl.sandbox.scenarios.seeds import SandboxCredentials
from joyctl.sandbox.store.inspection import brief, snapshot
from joyctl.sandbox.store.records import JsonObject
from joyctl.sandbox.store.state import SandboxState

if TYPE_CHECKING:
    from joyctl.sandbox.app import SandboxApp

ControlHandler = Callable[[RequestContext, "SandboxApp"], Response]
ACCOUNT_FLAGS = ("advanced_kdp", "reviews_enabled", "reviews_auto_publish", "test_account")


def credentials_of(state: SandboxState) -> SandboxCredentials:
    app = next(iter(state.oauth_apps.values()))
    return SandboxCredentials(
        private_key=next(iter(state.private_keys)),
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        public_api_key=state.account["public_api_key"],
        account_id=state.account["id"],
        redirect_uris=tuple(app["redirect_uris"]),
    )


def apply_config(state: SandboxState, config: SandboxConfig) -> None:
    """Settings the server's configuration decides whatever the state file says."""
    state.account["test_account"] = not config.live_account
    for app in state.oauth_apps.values():
        app["redirect_uris"] = list(dict.fromkeys([*app["redirect_uris"], *config.redirect_uris]))


def settings_of(app: SandboxApp) -> JsonObject:
    config = app.world.config
    return {
        "rate_limits": app.limiter.mode.describe(),
        "faults": config.faults,
        "seed": config.seed,
        "auto_consent": config.auto_consent,
        "consent_withheld_scopes": app.world.state.consent_withheld_scopes,
        "job_step_seconds": config.job_step_seconds,
        "latency": app.world.latency.spec,
        "retired_revisions": config.retired_revisions,
        "webhook_payload": config.webhook_payload,
    }


def _body(ctx: RequestContext) -> JsonObject:
    return ctx.json_body() if ctx.body else {}


def get_state(ctx: RequestContext, app: SandboxApp) -> Response:
    """`?brief=1` leaves out the per-profile items and per-attempt lists (large in benchmarks)."""
    document = snapshot(app.world.state, app.clock.now(), settings_of(app))
    if ctx.param("brief") in ("1", "true"):
        document = brief(document)
    return json_response(200, document, "application/json")


def get_credentials(ctx: RequestContext, app: SandboxApp) -> Response:
    return json_response(200, credentials_of(app.world.state).to_json(), "application/json")


def get_scenario(ctx: RequestContext, app: SandboxApp) -> Response:
    return json_response(200, app.world.state.scenario_seed, "application/json")


def advance_clock(ctx: RequestContext, app: SandboxApp) -> Response:
    """`{"advance_seconds": n}` moves time forward; `{"freeze": true}` stops it until unfrozen."""
    body = _body(ctx)
    seconds = body.get("advance_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise invalid(
            "'advance_seconds' must be a non-negative number.", pointer="/advance_seconds"
        )
    if "freeze" in body:
        app.clock.freeze(bool(body["freeze"]))
    app.clock.advance(float(seconds))
    app.world.after_change()
    document = {
        "now": app.clock.now(),  # seconds since the epoch, sandbox time
        "offset_seconds": app.clock.offset,
        "frozen": app.clock.frozen,
    }
    return json_response(200, document, "application/json")


def _apply_runtime(app: SandboxApp, body: JsonObject) -> None:
    config = app.world.config
    if "rate_limits" in body:
        app.limiter.mode = parse_rate_limits(str(body["rate_limits"]))
        config = replace(config, rate_limits=str(body["rate_limits"]))
    if "faults" in body or "seed" in body:
        faults = str(body.get("faults", config.faults))
        seed = body.get("seed", config.seed)
        app.faults = FaultInjector(parse_faults(faults), seed)
        config = replace(config, faults=faults, seed=seed)
    if "auto_consent" in body:
        config = replace(config, auto_consent=bool(body["auto_consent"]))
    if "latency" in body:
        app.world.latency = config.latency_profile(str(body["latency"]))
        config = replace(config, latency=str(body["latency"]))
    if "webhook_payload" in body:
        shape = parse_webhook_payload(str(body["webhook_payload"]))
        config = replace(config, webhook_payload=shape)
    app.world.config = config


def _apply_state(app: SandboxApp, body: JsonObject) -> None:
    state = app.world.state
    for flag in ACCOUNT_FLAGS:
        if flag in body:
            if not isinstance(body[flag], bool):
                raise invalid(f"'{flag}' must be a boolean.", pointer=f"/{flag}")
            cast(JsonObject, state.account)[flag] = body[flag]
    if "consent_withheld_scopes" in body:
        state.consent_withheld_scopes = [str(scope) for scope in body["consent_withheld_scopes"]]
    if "redirect_uris" in body:
        for oauth_app in state.oauth_apps.values():
            added = [str(uri) for uri in body["redirect_uris"]]
            oauth_app["redirect_uris"] = list(dict.fromkeys([*oauth_app["redirect_uris"], *added]))


def update_settings(ctx: RequestContext, app: SandboxApp) -> Response:
    body = _body(ctx)
    try:
        _apply_runtime(app, body)
    except UsageError as exc:
        raise invalid(exc.message, pointer="/") from exc
    _apply_state(app, body)
    return json_response(200, settings_of(app), "application/json")


def reset_scenario(ctx: RequestContext, app: SandboxApp) -> Response:
    scenario = _body(ctx).get("scenario", app.world.state.scenario)
    config = app.world.config
    try:
        state = build_state(
            str(scenario),
            app.clock.now() - app.clock.offset,
            live_account=config.live_account,
            access_token_lifetime=config.access_token_lifetime,
        )
    except UsageError as exc:
        raise invalid(exc.message, pointer="/scenario") from exc
    apply_config(state, config)
    app.clock.set_offset(0.0)
    app.world.state = state
    app.limiter = type(app.limiter)(app.limiter.mode)
    return json_response(200, state.scenario_seed, "application/json")


def flush_deliveries(ctx: RequestContext, app: SandboxApp) -> Response:
    now = app.clock.now()
    pending = [d for d in app.world.state.deliveries.values() if d["status"] == "pending"]
    for delivery in pending:
        delivery["next_attempt_at"] = min(delivery["next_attempt_at"], now)
    app.world.after_change()
    return json_response(200, {"pending": len(pending)}, "application/json")


CONTROL_ROUTES: dict[tuple[str, str], ControlHandler] = {
    ("GET", "/__sandbox/state"): get_state,
    ("GET", "/__sandbox/credentials"): get_credentials,
    ("GET", "/__sandbox/scenario"): get_scenario,
    ("POST", "/__sandbox/clock"): advance_clock,
    ("POST", "/__sandbox/settings"): update_settings,
    ("POST", "/__sandbox/reset"): reset_scenario,
    ("POST", "/__sandbox/deliveries/flush"): flush_deliveries,
}
