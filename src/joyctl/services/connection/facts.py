"""What connect, disconnect and status share: their inputs, the account facts, and where the
facts of a connection are recorded (config.toml and the ledger's history, never a secret)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from joyctl import envvars
from joyctl.command_line import command
from joyctl.config_file import write_config
from joyctl.credentials import CredentialStore
from joyctl.klaviyo.models import Account
from joyctl.services.connection.session import ClientHooks
from joyctl.settings import Profile, Settings

OAUTH = "oauth"
API_KEY = "api_key"


@dataclass
class ConnectionDeps:
    """Everything the connection use cases need from the CLI, built lazily where it costs.

    `oauth_client` returns the profile's OAuth client id and secret (the emulator's own for the
    built-in sandbox); it may read the keyring, so it is called only when a grant needs it.
    """

    settings: Settings
    profile: Profile
    base_url: str
    store: CredentialStore
    environ: Mapping[str, str]
    hooks: ClientHooks
    ledger: Callable[[], sqlite3.Connection]
    oauth_client: Callable[[], tuple[str | None, str | None]]


class AccountFacts(BaseModel):
    id: str
    name: str | None
    public_api_key: str | None
    test_account: bool

    @classmethod
    def of(cls, account: Account) -> AccountFacts:
        return cls(
            id=account.id,
            name=account.organization_name,
            public_api_key=account.public_api_key,
            test_account=account.test_account,
        )

    @classmethod
    def recorded(cls, facts: Mapping[str, Any]) -> AccountFacts | None:
        """The account as `connect` recorded it in config.toml, if it did."""
        account_id = facts.get("account_id")
        if not account_id:
            return None
        return cls(
            id=str(account_id),
            name=facts.get("account_name"),
            public_api_key=facts.get("public_api_key"),
            test_account=bool(facts.get("test_account", True)),
        )


def connect_command(profile: str, *suffix: str) -> str:
    """The exact command line that (re)connects a profile."""
    return command("connect", *suffix, profile=profile)


def environment_override(environ: Mapping[str, str]) -> str | None:
    """The variable whose credential every command uses instead of the stored one, if set."""
    for name in (envvars.API_KEY, envvars.ACCESS_TOKEN):
        if environ.get(name, "").strip():
            return name
    return None


# Facts about the profile rather than one connection: a new connection keeps them.
_PROFILE_FACTS = ("secret_storage",)


def save_connection_facts(settings: Settings, profile: str, facts: Mapping[str, Any]) -> None:
    """Replace the profile's `[profiles.NAME.connection]` table (facts only, no secrets),
    keeping where the profile stores its secrets."""

    def replace(old: dict[str, Any]) -> dict[str, Any]:
        kept = {key: old[key] for key in _PROFILE_FACTS if key in old}
        return {**kept, **facts}

    _update_connection(settings, profile, replace)


def record_fact(settings: Settings, profile: str, key: str, value: object) -> None:
    """Set one fact in the profile's connection table, leaving the others as they are."""
    _update_connection(settings, profile, lambda old: {**old, key: value})


def mark_disconnected(settings: Settings, profile: str, at: datetime) -> bool:
    """Record when the profile was disconnected; False when it had no connection facts."""
    section = settings.file_data.get("profiles", {}).get(profile, {})
    current = section.get("connection")
    if not current or not current.get("account_id") or current.get("disconnected_at"):
        return False
    _update_connection(settings, profile, lambda old: {**old, "disconnected_at": at.isoformat()})
    return True


def _update_connection(
    settings: Settings,
    profile: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    data = dict(settings.file_data)
    profiles = dict(data.get("profiles", {}))
    section = dict(profiles.get(profile, {}))
    section["connection"] = change(dict(section.get("connection", {})))
    profiles[profile] = section
    data["profiles"] = profiles
    write_config(settings.paths.config_file, data)
    settings.file_data = data
