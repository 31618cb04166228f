"""Facts diagnose needs, each fetched once; a failed call is kept as evidence, not raised.

Klaviyo's webhook and account endpoints allow 1 request per second, so every remote fact is
memoised: several checks share one call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from joyctl.credentials import CredentialStore, ResolvedCredential, find_klaviyo_credential
from joyctl.errors import JoyctlError
from joyctl.settings import Profile

T = TypeVar("T")
REVIEW_SCAN_LIMIT = 5_000  # reviews read from Klaviyo at most, to keep diagnose quick


@dataclass
class Fetched:
    """A remote fact, or the error that kept joyctl from getting it."""

    value: Any = None
    error: JoyctlError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def problem(self) -> str:
        return self.error.message if self.error is not None else ""

    @property
    def hint(self) -> str | None:
        return self.error.hint if self.error is not None else None


@dataclass
class Probe:
    profile: Profile
    connection: sqlite3.Connection
    store: CredentialStore
    environ: Mapping[str, str]
    open_client: Callable[[], Any]
    now: datetime
    since: datetime | None = None
    _facts: dict[str, Fetched] = field(default_factory=dict)
    _client: Any = None

    def credential(self) -> Fetched:
        return self._memo("credential", lambda: _find(self.store, self.environ))

    def client(self) -> Any:
        if self._client is None:
            self._client = self.open_client()
        return self._client

    def remote(self, key: str, fetch: Callable[[Any], T]) -> Fetched:
        """Call Klaviyo once for `key`; authentication must have worked first."""
        return self._memo(key, lambda: fetch(self.client()))

    def remote_error(self, key: str) -> JoyctlError | None:
        """Why the remote fact `key` could not be had, if it was asked for and failed."""
        fetched = self._facts.get(key)
        return fetched.error if fetched is not None else None

    def _memo(self, key: str, produce: Callable[[], Any]) -> Fetched:
        if key not in self._facts:
            try:
                self._facts[key] = Fetched(value=produce())
            except JoyctlError as error:
                self._facts[key] = Fetched(error=error)
        return self._facts[key]

    @property
    def connected_at(self) -> datetime | None:
        """The first connection to this account: reviews since then should have points."""
        from joyctl.services.rewards.reviews import program_connection_facts

        return program_connection_facts(dict(self.profile.connection), self.connection).connected_at

    def granted_scopes(self) -> tuple[str, ...] | None:
        credential = self.credential().value
        if isinstance(credential, ResolvedCredential) and credential.tokens is not None:
            return tuple(credential.tokens.scopes)
        scopes = self.profile.connection.get("scopes")
        return tuple(scopes) if scopes else None


def _find(store: CredentialStore, environ: Mapping[str, str]) -> ResolvedCredential | None:
    return find_klaviyo_credential(store, environ=environ)
