"""A profile's choice of where its secrets live, and the advice when the keyring cannot help.

Once a write has gone to the 0600 file (--insecure-storage where no keyring works), the profile
keeps its secrets there: later writes need no flag and never touch the keyring, reads look
nowhere else, and `auth migrate` moves the secrets and the choice back to the keyring.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import pytest
from keyring.backend import KeyringBackend
from pydantic import SecretStr

from joyctl import envvars
from joyctl.credentials import (
    CredentialSource,
    CredentialStore,
    KeyringUnavailableError,
    SecretStorage,
    keyring_advice,
    resolve_klaviyo_credential,
)
from joyctl.errors import AuthError

from .memory_keyring import MemoryKeyring, disabled_backend, no_backend
from .support import API_KEY, WEBHOOK_SECRET, StoreFactory, sample_tokens


class Remembered:
    """What credential_store() wires to config.toml: the choices, as they are told."""

    def __init__(self) -> None:
        self.choices: list[SecretStorage] = []

    def __call__(self, storage: SecretStorage) -> None:
        self.choices.append(storage)


@pytest.fixture
def remembered() -> Remembered:
    return Remembered()


@pytest.fixture
def store_with(profile_folder: Path, remembered: Remembered) -> StoreWith:
    def build(
        backend: KeyringBackend,
        *,
        storage: SecretStorage | None = None,
        allow_insecure_file: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> CredentialStore:
        return CredentialStore(
            "default",
            profile_folder,
            backend=backend,
            timeout=2.0,
            allow_insecure_file=allow_insecure_file,
            storage=storage,
            on_storage_chosen=remembered,
            environ=environ,
        )

    return build


class StoreWith(Protocol):
    def __call__(
        self,
        backend: KeyringBackend,
        *,
        storage: SecretStorage | None = None,
        allow_insecure_file: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> CredentialStore: ...


def test_a_fallback_to_the_file_is_remembered_and_every_later_write_goes_there(
    store_with: StoreWith, memory: MemoryKeyring, remembered: Remembered
) -> None:
    store = store_with(no_backend(), allow_insecure_file=True)

    store.write_oauth_tokens(sample_tokens())

    assert remembered.choices == [SecretStorage.FILE]
    # A later command, with the choice remembered and no flag, on a machine whose keyring
    # would even work: the file it is.
    later = store_with(memory, storage=SecretStorage.FILE)
    location = later.write_webhook_secret("w1", SecretStr(WEBHOOK_SECRET))
    refreshed = later.write_oauth_tokens(sample_tokens("at_REFRESHED"))
    assert {location.source, refreshed.source} == {CredentialSource.FILE}
    assert memory.calls == []  # the keyring was never asked
    found = later.read_oauth_tokens()
    assert found is not None and found.value == sample_tokens("at_REFRESHED")


def test_a_file_profile_reads_only_its_file(store_with: StoreWith, memory: MemoryKeyring) -> None:
    memory.set_password("joyctl", "default:api_key", "pk_stale_in_the_keyring")
    store = store_with(memory, storage=SecretStorage.FILE)

    assert store.read_api_key() is None
    with pytest.raises(AuthError, match="not connected") as caught:
        resolve_klaviyo_credential(store, environ={})
    hint = caught.value.hint or ""
    assert hint.index(envvars.API_KEY) < hint.index("connect")  # no keyring here: variables


def test_a_working_keyring_is_the_remembered_choice(
    store_with: StoreWith, memory: MemoryKeyring, remembered: Remembered
) -> None:
    store = store_with(memory)

    store.write_api_key(SecretStr(API_KEY))

    assert remembered.choices == [SecretStorage.KEYRING]
    assert store.storage is SecretStorage.KEYRING and store.storage_chosen


def test_an_older_profile_whose_credential_is_in_the_file_keeps_the_file(
    make_store: StoreFactory, store_with: StoreWith, memory: MemoryKeyring
) -> None:
    make_store(disabled_backend(), allow_insecure_file=True).write_api_key(SecretStr(API_KEY))
    store = store_with(memory)

    store.adopt_earlier_choice()

    assert store.storage is SecretStorage.FILE
    written = store.write_webhook_secret("w1", SecretStr(WEBHOOK_SECRET))
    assert written.source is CredentialSource.FILE


def test_the_storage_is_checked_before_anything_is_done(
    store_with: StoreWith, memory: MemoryKeyring
) -> None:
    with pytest.raises(KeyringUnavailableError):
        store_with(no_backend()).check_writable()
    allowed = store_with(no_backend(), allow_insecure_file=True)
    assert allowed.check_writable() is SecretStorage.FILE
    assert store_with(memory).check_writable() is SecretStorage.KEYRING
    assert store_with(memory, storage=SecretStorage.FILE).check_writable() is SecretStorage.FILE


def test_migrate_moves_the_profile_with_its_secrets(
    make_store: StoreFactory, store_with: StoreWith, memory: MemoryKeyring, remembered: Remembered
) -> None:
    make_store(no_backend(), allow_insecure_file=True).write_api_key(SecretStr(API_KEY))
    store = store_with(memory, storage=SecretStorage.FILE)

    report = store.migrate_to_keyring()

    assert report.moved == ("default:api_key",)
    assert report.storage is SecretStorage.KEYRING
    assert remembered.choices == [SecretStorage.KEYRING]
    written = store.write_webhook_secret("w1", SecretStr(WEBHOOK_SECRET))
    assert written.source is CredentialSource.KEYRING


def test_migrate_with_a_conflict_leaves_the_profile_on_the_file(
    make_store: StoreFactory, store_with: StoreWith, memory: MemoryKeyring
) -> None:
    make_store(no_backend(), allow_insecure_file=True).write_api_key(SecretStr(API_KEY))
    memory.set_password("joyctl", "default:api_key", "pk_a_different_key")

    report = store_with(memory, storage=SecretStorage.FILE).migrate_to_keyring()

    assert report.conflicts == ("default:api_key",)
    assert report.storage is SecretStorage.FILE


@pytest.mark.parametrize(
    ("environ", "missing", "first"),
    [
        ({}, False, "Secret Service"),
        ({"CI": "true"}, False, envvars.API_KEY),
        ({}, True, envvars.API_KEY),
    ],
)
def test_the_advice_leads_with_what_fits(
    environ: dict[str, str], missing: bool, first: str
) -> None:
    steps = keyring_advice(environ, missing=missing).split("Credentials are looked up")[0]
    names = (envvars.API_KEY, "--insecure-storage", "Secret Service")
    positions = {name: steps.find(name) for name in names}
    assert all(position >= 0 for position in positions.values())
    assert min(positions, key=lambda name: positions[name]) == first


@pytest.mark.parametrize("name", [envvars.API_KEY, envvars.ACCESS_TOKEN])
def test_the_advice_never_asks_for_a_variable_already_set(name: str) -> None:
    advice = keyring_advice({"CI": "true", name: "set-already"}, missing=True)
    steps = advice.split("Credentials are looked up")[0]
    assert envvars.API_KEY not in steps and envvars.ACCESS_TOKEN not in steps
    assert "--insecure-storage" in steps


def test_a_store_that_knows_the_environment_gives_fitting_advice(store_with: StoreWith) -> None:
    store = store_with(no_backend(), environ={"CI": "true"})

    with pytest.raises(KeyringUnavailableError) as caught:
        resolve_klaviyo_credential(store, environ={"CI": "true"})

    hint = caught.value.hint or ""
    assert hint.index(envvars.API_KEY) < hint.index("Secret Service")
