"""The store's typed secrets: keyring names, read-back, deletion, reports."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr

from joyctl.credentials import (
    CredentialSource,
    CredentialStore,
    KeyringUnavailableError,
    OAuthTokens,
    SecretKind,
    SecretRef,
)
from joyctl.errors import CredentialStoreError, UsageError

from .memory_keyring import GarblingKeyring, MemoryKeyring, disabled_backend
from .support import API_KEY, CLIENT_SECRET, WEBHOOK_SECRET, StoreFactory, sample_tokens


def test_each_kind_has_its_own_keyring_username(
    store: CredentialStore, memory: MemoryKeyring, tokens: OAuthTokens
) -> None:
    store.write_api_key(SecretStr(API_KEY))
    store.write_oauth_tokens(tokens)
    store.write_client_secret(SecretStr(CLIENT_SECRET))
    store.write_webhook_secret("01HWEBHOOK", SecretStr(WEBHOOK_SECRET))

    assert set(memory.entries) == {
        ("joyctl", "default:api_key"),
        ("joyctl", "default:oauth_tokens"),
        ("joyctl", "default:client_secret"),
        ("joyctl", "default:webhook:01HWEBHOOK"),
    }


def test_each_kind_reads_back_what_was_written(store: CredentialStore, tokens: OAuthTokens) -> None:
    store.write_api_key(SecretStr(API_KEY))
    store.write_oauth_tokens(tokens)
    store.write_client_secret(SecretStr(CLIENT_SECRET))
    store.write_webhook_secret("01HWEBHOOK", SecretStr(WEBHOOK_SECRET))

    api_key = store.read_api_key()
    stored_tokens = store.read_oauth_tokens()
    client_secret = store.read_client_secret()
    webhook = store.read_webhook_secret("01HWEBHOOK")

    assert api_key is not None and api_key.value.get_secret_value() == API_KEY
    assert stored_tokens is not None and stored_tokens.value == tokens
    assert client_secret is not None and client_secret.value.get_secret_value() == CLIENT_SECRET
    assert webhook is not None and webhook.value.get_secret_value() == WEBHOOK_SECRET
    assert api_key.source is CredentialSource.KEYRING
    assert store.read_webhook_secret("another") is None


def test_the_token_bundle_is_one_json_secret(
    store: CredentialStore, memory: MemoryKeyring, tokens: OAuthTokens
) -> None:
    store.write_oauth_tokens(tokens)

    stored = memory.entries[("joyctl", "default:oauth_tokens")]

    assert OAuthTokens.model_validate_json(stored) == tokens
    assert '"expires_at": "2030-01-02T03:04:05+00:00"' in stored


def test_token_expiry_margin(tokens: OAuthTokens) -> None:
    just_before = tokens.expires_at - timedelta(seconds=30)
    long_before = tokens.expires_at - timedelta(hours=1)

    assert tokens.expires_within(timedelta(minutes=2), now=just_before)
    assert not tokens.expires_within(timedelta(minutes=2), now=long_before)
    assert not tokens.expires_within(timedelta(minutes=2))  # expires in 2030


def test_token_expiry_must_carry_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        OAuthTokens(
            access_token=SecretStr("a"),
            refresh_token=SecretStr("r"),
            expires_at=datetime(2030, 1, 1),  # naive on purpose
        )


def test_damaged_token_bundle_is_an_error(store: CredentialStore, memory: MemoryKeyring) -> None:
    memory.set_password("joyctl", "default:oauth_tokens", '{"access_token": "at_x"}')

    with pytest.raises(CredentialStoreError, match="damaged") as caught:
        store.read_oauth_tokens()

    assert "at_x" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_read_back_mismatch_is_an_error_and_nothing_is_kept(make_store: StoreFactory) -> None:
    garbling = GarblingKeyring()
    store = make_store(garbling, allow_insecure_file=True)

    with pytest.raises(CredentialStoreError, match="read back") as caught:
        store.write_api_key(SecretStr(API_KEY))

    assert caught.value.code == "keyring_mismatch"
    assert not isinstance(caught.value, KeyringUnavailableError)
    assert garbling.entries == {}
    assert not store.file_path.exists()  # a mismatch does not fall back to the file


def test_writing_without_a_keyring_needs_insecure_storage(make_store: StoreFactory) -> None:
    store = make_store(disabled_backend())

    with pytest.raises(KeyringUnavailableError, match="disabled"):
        store.write_api_key(SecretStr(API_KEY))

    assert not store.file_path.exists()


def test_insecure_storage_says_where_the_secret_went(make_store: StoreFactory) -> None:
    store = make_store(disabled_backend(), allow_insecure_file=True)

    location = store.write_api_key(SecretStr(API_KEY))

    assert location.source is CredentialSource.FILE
    assert location.origin == str(store.file_path)
    assert location.note is not None and "disabled" in location.note


def test_with_a_working_keyring_insecure_storage_still_uses_the_keyring(
    make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    store = make_store(memory, allow_insecure_file=True)

    location = store.write_api_key(SecretStr(API_KEY))

    assert location.source is CredentialSource.KEYRING
    assert not store.file_path.exists()


def test_storing_in_the_keyring_removes_the_file_copy(
    make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    make_store(disabled_backend(), allow_insecure_file=True).write_api_key(SecretStr("pk_old"))

    make_store(memory).write_api_key(SecretStr(API_KEY))

    assert not make_store(memory).file_path.exists()


@pytest.mark.parametrize("bad", ["", " pk_padded", "pk_padded\n"])
def test_empty_or_padded_secrets_are_refused(store: CredentialStore, bad: str) -> None:
    with pytest.raises(UsageError):
        store.write_api_key(SecretStr(bad))


def test_delete_is_idempotent(store: CredentialStore, memory: MemoryKeyring) -> None:
    store.write_api_key(SecretStr(API_KEY))

    first = store.delete_api_key()
    second = store.delete_api_key()

    assert first.removed_from == (CredentialSource.KEYRING,)
    assert second.removed_from == ()
    assert second.keyring_unreachable is None
    assert memory.entries == {}


def test_delete_removes_both_copies(make_store: StoreFactory, memory: MemoryKeyring) -> None:
    make_store(disabled_backend(), allow_insecure_file=True).write_client_secret(
        SecretStr(CLIENT_SECRET)
    )
    memory.set_password("joyctl", "default:client_secret", CLIENT_SECRET)
    store = make_store(memory)

    outcome = store.delete_client_secret()

    assert set(outcome.removed_from) == {CredentialSource.FILE, CredentialSource.KEYRING}
    assert store.read_client_secret() is None


def test_delete_without_a_keyring_clears_the_file_and_says_why(make_store: StoreFactory) -> None:
    store = make_store(disabled_backend(), allow_insecure_file=True)
    store.write_api_key(SecretStr(API_KEY))

    outcome = store.delete_api_key()
    again = store.delete_api_key()

    assert outcome.removed_from == (CredentialSource.FILE,)
    assert outcome.keyring_unreachable is not None
    assert again.removed_from == ()


def test_delete_all_covers_every_kind_and_known_webhooks(
    store: CredentialStore, memory: MemoryKeyring, tokens: OAuthTokens
) -> None:
    store.write_api_key(SecretStr(API_KEY))
    store.write_oauth_tokens(tokens)
    store.write_client_secret(SecretStr(CLIENT_SECRET))
    store.write_webhook_secret("w1", SecretStr(WEBHOOK_SECRET))

    outcomes = store.delete_all(webhook_ids=["w1", "w2"])

    assert memory.entries == {}
    assert [outcome.username for outcome in outcomes if outcome.removed_from] == [
        "default:api_key",
        "default:oauth_tokens",
        "default:client_secret",
        "default:webhook:w1",
    ]


def test_profiles_do_not_share_secrets(make_store: StoreFactory, memory: MemoryKeyring) -> None:
    make_store(memory, profile="shop-a").write_api_key(SecretStr(API_KEY))

    assert make_store(memory, profile="shop-b").read_api_key() is None


@pytest.mark.parametrize("profile", ["", "a:b", " padded", "tab\there"])
def test_profile_names_that_could_collide_are_refused(
    make_store: StoreFactory, memory: MemoryKeyring, profile: str
) -> None:
    with pytest.raises(UsageError):
        make_store(memory, profile=profile)


def test_secret_refs_round_trip_through_usernames() -> None:
    ref = SecretRef("default", SecretKind.WEBHOOK, "id:with:colons")

    assert ref.username == "default:webhook:id:with:colons"
    assert SecretRef.from_username(ref.username) == ref
    assert SecretRef.from_username("default:something_else") is None
    with pytest.raises(ValueError, match="webhook id"):
        SecretRef("default", SecretKind.WEBHOOK)


def test_report_says_where_each_secret_lives(
    make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    make_store(disabled_backend(), allow_insecure_file=True).write_webhook_secret(
        "w-file", SecretStr(WEBHOOK_SECRET)
    )
    store = make_store(memory)
    store.write_oauth_tokens(sample_tokens())

    report = store.report(webhook_ids=["w-unknown"])

    assert report.keyring.available
    assert report.file_exists
    assert [(s.username, s.source) for s in report.secrets] == [
        ("default:oauth_tokens", CredentialSource.KEYRING),
        ("default:webhook:w-file", CredentialSource.FILE),
    ]


def test_report_with_an_unavailable_keyring(make_store: StoreFactory) -> None:
    store = make_store(disabled_backend(), allow_insecure_file=True)
    store.write_api_key(SecretStr(API_KEY))

    report = store.report()

    assert not report.keyring.available
    assert report.keyring.backend == "keyring.backends.null.Keyring"
    assert [(s.username, s.source) for s in report.secrets] == [
        ("default:api_key", CredentialSource.FILE)
    ]


def test_report_survives_a_keyring_that_stops_answering(make_store: StoreFactory) -> None:
    class FailsAfterTwoReads(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            if len(self.calls) >= 2:
                raise RuntimeError("connection to the bus was lost")
            return super().get_password(service, username)

    report = make_store(FailsAfterTwoReads()).report()

    assert not report.keyring.available
    assert report.keyring.reason is not None
    assert "connection to the bus was lost" in report.keyring.reason
