"""Seeding the built-in `sandbox` profile from a scenario, and `joyctl sandbox reset`.

Apart from the emulator (`embedded`) so that a command on a profile already seeded loads none
of the ledger writers the seeding uses.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

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
    ScenarioSeed,
    list_scenarios,
    load_scenario_seed,
    lock_path,
    reset,
    state_lock,
)
from joyctl.services.sandbox_profile.embedded import state_file
from joyctl.settings import SANDBOX_PROFILE, Settings


class ResetReport(BaseModel):
    scenario: str
    state_file: str
    customers: int
    reviews: int
    ledger_reset: bool


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
