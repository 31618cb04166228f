"""AppContext: the one object every command receives, and the test seam.

It is a table of lazy providers and nothing else: the global options, the output, settings,
ledgers, credential stores, the embedded sandbox and Klaviyo sessions. A command pays only for
what it uses and tests can swap any provider. Decisions (when the sandbox profile is seeded,
what a missing OAuth client secret means) belong to the services the providers call. Heavy
modules are imported inside the providers, never at import time.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from joyctl import envvars
from joyctl.output import Output

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Mapping

    from joyctl.credentials import CredentialStore, ResolvedCredential
    from joyctl.errors import JoyctlError
    from joyctl.paths import Paths
    from joyctl.services.connection.session import ClientHooks, KlaviyoSession
    from joyctl.services.sandbox_profile.embedded import EmbeddedSandbox
    from joyctl.settings import Settings


@dataclass
class GlobalOptions:
    profile: str | None = None
    json_mode: bool = False
    quiet: bool = False
    verbose: int = 0
    debug: bool = False
    no_color: bool = False
    no_input: bool = False


@dataclass
class AppContext:
    options: GlobalOptions = field(default_factory=GlobalOptions)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    output: Output = field(default_factory=Output)
    # Providers tests may replace; None means "build the real one on first use".
    paths_override: Paths | None = None
    http_transport: Any = None
    keyring_backend: Any = None
    insecure_storage: bool = False
    # Commands that repair config.toml (`config set`, `profiles ...`) read it as it is; every
    # other command refuses to start while a setting it could read is unusable.
    settings_as_written: bool = False
    command_path: str = "joyctl"  # the command running, for hints such as `... --help`
    _settings: Settings | None = None
    _settings_checked: bool = False
    _ledgers: dict[str, sqlite3.Connection] = field(default_factory=dict)
    _sandbox: EmbeddedSandbox | None = None
    _sessions: list[KlaviyoSession] = field(default_factory=list)

    def configure(self, options: GlobalOptions) -> None:
        """Apply the root callback's options; env vars fill in what flags left unset."""
        self.options = options
        if not options.json_mode and truthy(self.environ.get(envvars.JSON)):
            options.json_mode = True
        if not options.debug and truthy(self.environ.get(envvars.DEBUG)):
            options.debug = True
        if not options.no_input and truthy(self.environ.get(envvars.NO_INPUT)):
            options.no_input = True
        self.output.json_mode = options.json_mode
        self.output.quiet = options.quiet
        self.output.verbose = max(options.verbose, 1 if options.debug else 0)
        self.output.no_color = self.output.no_color or options.no_color

    @property
    def paths(self) -> Paths:
        if self.paths_override is None:
            from joyctl.paths import resolve_paths

            self.paths_override = resolve_paths(dict(self.environ))
        return self.paths_override

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from joyctl.settings import load_settings

            self._settings = load_settings(self.paths, self.environ, self.options.profile)
            _name_profile_in_printed_commands(self._settings)
        if not self._settings_checked and not self.settings_as_written:
            self._settings.check()
            self._settings_checked = True
        return self._settings

    @property
    def unattended(self) -> bool:
        """--no-input (or JOYCTL_NO_INPUT) or CI: nobody is there to answer, whatever stdin is."""
        return self.options.no_input or truthy(self.environ.get("CI"))

    @property
    def interactive(self) -> bool:
        """Prompts are allowed only with a terminal on stdin and without --no-input or CI."""
        if self.unattended:
            return False
        return sys.stdin is not None and sys.stdin.isatty()

    def ledger(self, profile: str | None = None) -> sqlite3.Connection:
        """The profile's ledger, opened (and migrated) once per process, then made ready."""
        name = profile or self.settings.profile.name
        if name not in self._ledgers:
            from joyctl.ledger.db import open_ledger
            from joyctl.services.sandbox_profile.first_use import prepare_ledger

            path = self.paths.ledger_file(name)
            self.paths.own_folder(path.parent)  # 0700, up to joyctl's data folder
            connection = open_ledger(path)
            self._ledgers[name] = connection
            prepare_ledger(self.settings, name, connection)
        return self._ledgers[name]

    def ledger_damage(self, error: BaseException) -> JoyctlError | None:
        """A damaged page met in the middle of a command, told as what it is, not as a bug."""
        if "sqlite3" not in sys.modules:
            return None  # no ledger was opened, so no SQLite error can be behind this
        from joyctl.ledger.health import damage_in

        return damage_in(error, [self.paths.ledger_file(name) for name in self._ledgers])

    def credentials(self, profile: str | None = None) -> CredentialStore:
        from joyctl.services.connection.credential_store import credential_store

        name = profile or self.settings.profile.name
        timeout = self.settings.keyring_timeout
        return credential_store(
            self.paths,
            name,
            settings=self.settings,
            environ=self.environ,
            backend=self.keyring_backend,
            timeout=timeout,
            insecure_storage=self.insecure_storage,
        )

    def sandbox(self) -> EmbeddedSandbox:
        """The embedded emulator, started on first use and stopped when the command ends."""
        if self._sandbox is None:
            from joyctl.services.sandbox_profile.embedded import EmbeddedSandbox

            latency = self.environ.get(envvars.SANDBOX_LATENCY) or "short"
            payload = self.environ.get(envvars.SANDBOX_WEBHOOK_PAYLOAD)
            self._sandbox = EmbeddedSandbox(self.paths, self.ledger, latency, payload)
        return self._sandbox

    def klaviyo_base_url(self) -> str:
        profile = self.settings.profile
        return self.sandbox().base_url if profile.builtin else profile.base_url

    def client_hooks(self) -> ClientHooks:
        from joyctl.services.connection.session import ClientHooks

        def on_wait(seconds: float, reason: str) -> None:
            self.output.warn(f"waiting {seconds:.1f}s: {reason}")

        def debug_sink(line: str) -> None:
            self.output.stderr.write(line.rstrip("\n") + "\n")

        return ClientHooks(
            on_wait=on_wait,
            debug=self.options.debug,
            debug_sink=debug_sink,
            transport=self.http_transport,
        )

    def klaviyo(self, explicit: ResolvedCredential | None = None) -> KlaviyoSession:
        """A Klaviyo client for the active profile, with its credential and OAuth app."""
        from joyctl.services.connection.session import oauth_app, open_session

        profile = self.settings.profile
        base_url = self.klaviyo_base_url()
        store = self.credentials()
        client_id, client_secret = self.oauth_client()
        app = oauth_app(profile, base_url, client_id=client_id, client_secret=client_secret)
        session = open_session(
            profile, base_url, store, self.environ, self.client_hooks(), app=app, explicit=explicit
        )
        self._sessions.append(session)
        return session

    def oauth_client(self) -> tuple[str | None, str | None]:
        """The OAuth client id and secret of the active profile, when known."""
        from joyctl.services.connection.session import resolve_oauth_client

        return resolve_oauth_client(
            self.settings.profile,
            self.environ,
            store=self.credentials,
            emulator=lambda: self.sandbox().oauth_client(),
        )

    def close(self) -> None:
        from joyctl.command_line import name_profile

        name_profile(None)
        for session in self._sessions:
            session.close()
        self._sessions.clear()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        for connection in self._ledgers.values():
            connection.close()
        self._ledgers.clear()


def _name_profile_in_printed_commands(settings: Settings) -> None:
    """Commands joyctl prints name the profile unless it is the one used without --profile."""
    from joyctl.command_line import name_profile
    from joyctl.errors import JoyctlError
    from joyctl.settings import SANDBOX_PROFILE

    try:
        active = settings.profile_name.value
    except JoyctlError:  # a bad --profile is reported by whatever uses it
        return
    # JOYCTL_PROFILE is left out on purpose: a printed command may be run in another shell.
    usual = settings.file_data.get("default_profile") or SANDBOX_PROFILE
    name_profile(None if active == usual else active)


def truthy(value: str | None) -> bool:
    """How the on/off variables (JOYCTL_JSON, JOYCTL_DEBUG, JOYCTL_NO_INPUT, CI) are read."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
