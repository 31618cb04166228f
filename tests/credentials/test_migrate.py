"""`joyctl auth migrate`: secrets move from the insecure file into the keyring, verified."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from joyctl.credentials import CredentialSource, CredentialStore, KeyringUnavailableError
from joyctl.errors import CredentialStoreError

from .memory_keyring import GarblingKeyring, MemoryKeyring, disabled_backend
from .support import API_KEY, CLIENT_SECRET, WEBHOOK_SECRET, StoreFactory, sample_tokens


@pytest.fixture
def file_only(make_store: StoreFactory) -> CredentialStore:
    """A store whose secrets all went to the file, as on a machine without a keyring."""
    store = make_store(disabled_backend(), allow_insecure_file=True)
    store.write_api_key(SecretStr(API_KEY))
    store.write_oauth_tokens(sample_tokens())
    store.write_client_secret(SecretStr(CLIENT_SECRET))
    store.write_webhook_secret("w1", SecretStr(WEBHOOK_SECRET))
    return store


def test_migrate_moves_every_secret_and_removes_the_file(
    file_only: CredentialStore, make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    store = make_store(memory)

    report = store.migrate_to_keyring()

    assert sorted(report.moved) == [
        "default:api_key",
        "default:client_secret",
        "default:oauth_tokens",
        "default:webhook:w1",
    ]
    assert report.conflicts == ()
    assert report.file_removed
    assert not file_only.file_path.exists()
    tokens = store.read_oauth_tokens()
    webhook = store.read_webhook_secret("w1")
    assert tokens is not None and tokens.value == sample_tokens()
    assert tokens.source is CredentialSource.KEYRING
    assert webhook is not None and webhook.value.get_secret_value() == WEBHOOK_SECRET


def test_migrate_twice_is_harmless(
    file_only: CredentialStore, make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    make_store(memory).migrate_to_keyring()

    again = make_store(memory).migrate_to_keyring()

    assert again.moved == ()
    assert again.file_removed


def test_a_different_keyring_value_is_a_conflict_and_both_stay(
    file_only: CredentialStore, make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    memory.set_password("joyctl", "default:api_key", "pk_already_in_keyring")

    report = make_store(memory).migrate_to_keyring()

    assert report.conflicts == ("default:api_key",)
    assert not report.file_removed
    assert memory.entries[("joyctl", "default:api_key")] == "pk_already_in_keyring"
    leftover = file_only.read_api_key()
    assert leftover is not None and leftover.value.get_secret_value() == API_KEY


def test_the_same_value_already_in_the_keyring_just_leaves_the_file(
    file_only: CredentialStore, make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    memory.set_password("joyctl", "default:api_key", API_KEY)

    report = make_store(memory).migrate_to_keyring()

    assert "default:api_key" in report.moved
    assert report.conflicts == ()


def test_migrate_without_a_keyring_keeps_the_file_and_gives_advice(
    file_only: CredentialStore, make_store: StoreFactory
) -> None:
    with pytest.raises(KeyringUnavailableError) as caught:
        make_store(disabled_backend()).migrate_to_keyring()

    assert "joyctl auth migrate" in (caught.value.hint or "")
    assert "--insecure-storage" not in (caught.value.hint or "").split("order:")[0]
    assert file_only.read_api_key() is not None


def test_a_read_back_mismatch_keeps_the_secret_in_the_file(
    file_only: CredentialStore, make_store: StoreFactory
) -> None:
    with pytest.raises(CredentialStoreError, match="read back"):
        make_store(GarblingKeyring()).migrate_to_keyring()

    assert file_only.read_api_key() is not None
    assert file_only.read_client_secret() is not None


def test_migrate_with_no_file_does_not_touch_the_keyring(make_store: StoreFactory) -> None:
    memory = MemoryKeyring()

    report = make_store(memory).migrate_to_keyring()

    assert report.moved == ()
    assert memory.calls == []
