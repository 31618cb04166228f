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
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel

from joyctl.errors import UsageError
from joyctl.paths import Paths
from joyctl.sandbox import (
    SandboxConfig,
    SandboxServer,
    list_scenarios,
)
from joyctl.services.sandbox_profile.first_use import STATE_FILE
from joyctl.settings import SANDBOX_PROFILE

# Real limits scaled up tenfold: pacing still runs, but trying a command takes seconds.
EMBEDDED_RATE_LIMITS = "x10"


class SandboxStateDocument(RootModel[dict[str, Any]]):
    """The emulator's inspection document, as `GET /__sandbox/state` answers it."""


class ScenarioView(BaseModel):
    name: str
    description: str


def state_file(paths: Paths) -> Path:
    return paths.profile_data_dir(SANDBOX_PROFILE) / STATE_FILE


def scenarios() -> list[ScenarioView]:
    return [ScenarioView(name=info.name, description=info.description) for info in list_scenarios()]


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
