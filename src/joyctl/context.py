"""AppContext: the one object every command receives, and the test seam.

It carries the global options, the output, and lazy providers (settings, ledger, Klaviyo
client, credential store) so that a command pays only for what it uses and tests can swap
any provider. Heavy modules are imported inside the providers, never at import time.
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

    from joyctl.paths import Paths
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
    _settings: Settings | None = None
    _ledgers: dict[str, sqlite3.Connection] = field(default_factory=dict)

    def configure(self, options: GlobalOptions) -> None:
        """Apply the root callback's options; env vars fill in what flags left unset."""
        self.options = options
        if not options.json_mode and _truthy(self.environ.get(envvars.JSON)):
            options.json_mode = True
        if not options.debug and _truthy(self.environ.get(envvars.DEBUG)):
            options.debug = True
        if not options.no_input and _truthy(self.environ.get(envvars.NO_INPUT)):
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
        return self._settings

    def reload_settings(self) -> Settings:
        self._settings = None
        return self.settings

    @property
    def interactive(self) -> bool:
        """Prompts are allowed only with a terminal on stdin and without --no-input or CI."""
        if self.options.no_input or _truthy(self.environ.get("CI")):
            return False
        return sys.stdin is not None and sys.stdin.isatty()

    def ledger(self, profile: str | None = None) -> sqlite3.Connection:
        """The profile's ledger, opened (and migrated) once per process."""
        name = profile or self.settings.profile.name
        if name not in self._ledgers:
            from joyctl.ledger.db import open_ledger

            self._ledgers[name] = open_ledger(self.paths.ledger_file(name))
        return self._ledgers[name]

    def close(self) -> None:
        for connection in self._ledgers.values():
            connection.close()
        self._ledgers.clear()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
