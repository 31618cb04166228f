"""The embedded `sandbox` profile: the Klaviyo emulator started in-process, seeded on first use.

On first use the `legacy-permissions` scenario is built and the profile is seeded from it: the
store's customers and opening balances and its write-review program in the ledger, the OAuth
connection facts in config.toml, and the emulator's tokens in the profile's emulator secrets
file. Those tokens are the emulator's own fake credentials, so they live in the profile's data
folder instead of the OS keyring: the sandbox works on machines without a Secret Service.

Every command on the profile runs its own emulator on the one state file, shared under
transactions (`joyctl.sandbox.store.shared`): what any process does, every other sees at its
next request, and a running listener's emulator sends the deliveries other commands cause.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel

from joyctl.command_line import command
from joyctl.config_file import write_config
from joyctl.errors import UsageError
from joyctl.ledger.bulk import opening_key
from joyctl.ledger.connections import record_connection
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import transaction
from joyctl.ledger.points import EntryKind, NewEntry, append_entry
from joyctl.ledger.programs import latest_program_version, record_program_version
from joyctl.paths import Paths
from joyctl.sandbox import (
    DEFAULT_SCENARIO,
    SandboxConfig,
    SandboxServer,
    ScenarioSeed,
    list_scenarios,
    load_scenario_seed,
    lock_path,
    reset,
    state_lock,
)
from joyctl.services.sandbox_profile.first_use import STATE_FILE
from joyctl.settings import SANDBOX_PROFILE, Settings

# Real limits scaled up tenfold: pacing still runs, but trying a command takes seconds.
EMBEDDED_RATE_LIMITS = "x10"


class SandboxStateDocument(RootModel[dict[str, Any]]):
    """The emulator's inspection document, as `GET /__sandbox/state` answers it."""


class ScenarioView(BaseModel):
    name: str
    description: str


class ResetReport(BaseModel):
    scenario: str
    state_file: str
    customers: int
    reviews: int
    ledger_reset: bool


def state_file(paths: Paths) -> Path:
    return paths.profile_data_dir(SANDBOX_PROFILE) / STATE_FILE


def scenarios() -> list[ScenarioView]:
    return [ScenarioView(name=info.name, description=info.description) for info in list_scenarios()]


def ensure_seeded(settings: Settings, connection: sqlite3.Connection) -> ScenarioSeed:
    """Seed the profile from the default scenario the first time it is used (under the state's
    lock, so two commands started at once on a new machine seed it once)."""
    path = state_file(settings.paths)
    seed = load_scenario_seed(path)
    if seed is not None:
        return seed
    with state_lock(path):
        seed = load_scenario_seed(path)
        if seed is None:
            seed = reset(path, DEFAULT_SCENARIO)
            seed_profile(settings, connection, seed)
    return seed


def seed_profile(settings: Settings, connection: sqlite3.Connection, seed: ScenarioSeed) -> None:
    """Write what the scenario's store already had: customers, program, connection, tokens."""
    _seed_ledger(connection, seed)
    if seed.connection is not None:
        record_connection(
            connection,
            account_id=seed.account_id,
            account_name=None,
            method="oauth",
            scopes=seed.connection.scopes,
            connected_at=datetime.fromisoformat(seed.connection.connected_at),
        )
    _seed_connection(settings, seed)
    _seed_tokens(settings.paths, seed)


def _seed_ledger(connection: sqlite3.Connection, seed: ScenarioSeed) -> None:
    with transaction(connection):
        for customer in seed.customers:
            fields = CustomerFields(
                email=customer.email,
                external_id=customer.external_id,
                first_name=customer.first_name,
                last_name=customer.last_name,
                tier=customer.tier,
            )
            customer_id = upsert_customer(connection, fields).customer_id
            if customer.points > 0:
                opening = NewEntry(
                    customer_id=customer_id,
                    kind=EntryKind.OPENING,
                    delta=customer.points,
                    idempotency_key=opening_key(customer_id),
                    reason="opening balance from the sandbox scenario",
                )
                append_entry(connection, opening)
        program = seed.program
        if program is not None and latest_program_version(connection, "write-review") is None:
            settings = _program_settings(program.name, program.points_per_review, program.enabled)
            record_program_version(connection, "write-review", settings, list(settings))


# The demo store runs Joy's anti-cheat minimum length, so its too-short reviews are refused.
SANDBOX_MIN_CHARACTERS = 20


def _program_settings(name: str, points: int, enabled: bool) -> dict[str, object]:
    from joyctl.engine import WriteReviewProgram

    program = WriteReviewProgram(
        name=name,
        points_per_review=points,
        enabled=enabled,
        min_characters=SANDBOX_MIN_CHARACTERS,
    )
    return program.model_dump(mode="json")


def _seed_connection(settings: Settings, seed: ScenarioSeed) -> None:
    data = dict(settings.file_data)
    profiles = dict(data.get("profiles", {}))
    section = dict(profiles.get(SANDBOX_PROFILE, {}))
    facts: dict[str, object] = {
        "account_id": seed.account_id,
        "public_api_key": seed.public_api_key,
    }
    if seed.connection is not None:
        facts.update(
            method="oauth",
            client_id=seed.connection.client_id,
            scopes=list(seed.connection.scopes),
            connected_at=seed.connection.connected_at,
            test_account=True,
        )
    section["connection"] = facts
    profiles[SANDBOX_PROFILE] = section
    data["profiles"] = profiles
    write_config(settings.paths.config_file, data)
    settings.file_data = data


def _seed_tokens(paths: Paths, seed: ScenarioSeed) -> None:
    from joyctl.credentials import OAuthTokens

    if seed.connection is None:
        return
    tokens = OAuthTokens.model_validate(
        {
            "access_token": seed.connection.access_token,
            "refresh_token": seed.connection.refresh_token,
            "expires_at": seed.connection.access_token_expires_at,
            "scopes": seed.connection.scopes,
        }
    )
    from joyctl.services.connection.credential_store import credential_store

    credential_store(paths, SANDBOX_PROFILE).write_oauth_tokens(tokens)


def reset_sandbox(settings: Settings, scenario: str) -> ResetReport:
    """Start the sandbox profile over: emulator state, ledger, connection and its secrets."""
    known = {info.name for info in list_scenarios()}
    if scenario not in known:
        raise UsageError(
            f"unknown scenario {scenario!r}",
            hint=f"see `{command('sandbox', 'scenarios', profile=None)}`:"
            f" {', '.join(sorted(known))}",
        )
    from joyctl.ledger.db import open_ledger

    path = state_file(settings.paths)
    with state_lock(path):
        _empty_folder(settings.paths.profile_data_dir(SANDBOX_PROFILE), keep=lock_path(path))
        seed = reset(path, scenario)
        connection = open_ledger(settings.paths.ledger_file(SANDBOX_PROFILE))
        try:
            seed_profile(settings, connection, seed)
        finally:
            connection.close()
    return ResetReport(
        scenario=scenario,
        state_file=str(state_file(settings.paths)),
        customers=len(seed.customers),
        reviews=len(seed.reviews),
        ledger_reset=True,
    )


def _empty_folder(folder: Path, *, keep: Path) -> None:
    """Remove everything in `folder` but `keep`: the lock other processes may be waiting on."""
    if not folder.exists():
        return
    for entry in folder.iterdir():
        if entry == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


class EmbeddedSandbox:
    """The emulator for one joyctl command: started on a free loopback port, its state the
    file every process of the profile shares.

    `open_ledger` opens a profile's ledger the way every command does (see
    `first_use.prepare_ledger`); the sandbox profile's ledger is opened first so that the
    scenario is seeded before the emulator serves it. `webhook_payload` is the shape of its
    review deliveries (`full` or `no-review-id`); the command takes it from
    JOYCTL_SANDBOX_WEBHOOK_PAYLOAD, so tests of the `sandbox` profile can choose it as
    `joyctl sandbox serve --webhook-payload` does.
    """

    def __init__(
        self,
        paths: Paths,
        open_ledger: Callable[[str], sqlite3.Connection],
        latency: str = "short",
        webhook_payload: str | None = None,
    ) -> None:
        open_ledger(SANDBOX_PROFILE)
        config = SandboxConfig(
            state_file=state_file(paths),
            auto_consent=True,
            rate_limits=EMBEDDED_RATE_LIMITS,
            latency=latency,
            webhook_payload=webhook_payload or "full",
            shared_state=True,
        )
        config.validate()
        self._server = SandboxServer(config)
        self.base_url = self._server.start()

    @property
    def server(self) -> SandboxServer:
        return self._server

    def oauth_client(self) -> tuple[str, str]:
        """The emulator's own OAuth client id and secret (fake credentials, never a real app)."""
        credentials = self._server.credentials
        return credentials.client_id, credentials.client_secret

    def close(self) -> None:
        self._server.stop()


def sandbox_state(sandbox: EmbeddedSandbox, *, brief: bool = False) -> SandboxStateDocument:
    """The built-in profile's emulator state as every process on it sees it now, with the
    work whose time has come (accepted writes, job steps) done first, as a request would."""
    return SandboxStateDocument(sandbox.server.inspect(brief=brief))


class ServeInfo(BaseModel):
    """What `joyctl sandbox serve` prints once it accepts connections (fake credentials)."""

    base_url: str
    scenario: str
    state_file: str | None
    rate_limits: str
    latency: str
    webhook_payload: str
    test_account: bool
    account_id: str
    public_api_key: str
    private_key: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]


def serve(config: SandboxConfig, on_ready: Callable[[ServeInfo], None]) -> None:
    """Run the emulator until SIGINT or SIGTERM; state is saved on the way out."""
    config.validate()
    server = SandboxServer(config)

    def ready(base_url: str) -> None:
        credentials = server.credentials
        on_ready(
            ServeInfo(
                base_url=base_url,
                scenario=config.scenario,
                state_file=str(config.state_file) if config.state_file else None,
                rate_limits=config.rate_limits,
                latency=config.latency,
                webhook_payload=config.webhook_payload,
                test_account=not config.live_account,
                account_id=credentials.account_id,
                public_api_key=credentials.public_api_key,
                private_key=credentials.private_key,
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                redirect_uris=list(credentials.redirect_uris),
            )
        )

    _bind(server, config)
    server.serve_forever_until_signal(on_ready=ready)


def _bind(server: SandboxServer, config: SandboxConfig) -> None:
    """Start serving, or say why the address cannot be served (exit 2, not a traceback)."""
    where = f"{config.host}:{config.port}"
    try:
        server.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {config.port} is in use on {config.host}",
                hint="stop the other process, or pick another port with --port (0: any free one)",
            ) from None
        raise UsageError(
            f"cannot serve on {where}: {exc.strerror or exc}", hint="check --host and --port"
        ) from None
