"""No secret value in any repr, str, exception text, hint or log line the store produces."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from joyctl import envvars
from joyctl.credentials import (
    CredentialKind,
    CredentialStore,
    explicit_credential,
    resolve_client_secret,
    resolve_klaviyo_credential,
)
from joyctl.errors import JoyctlError

from .memory_keyring import (
    GarblingKeyring,
    HangingKeyring,
    LockedKeyring,
    MemoryKeyring,
    disabled_backend,
)
from .support import (
    ACCESS_TOKEN,
    ALL_SECRETS,
    API_KEY,
    CLIENT_SECRET,
    WEBHOOK_SECRET,
    StoreFactory,
    sample_tokens,
)


class LeakyBackend(MemoryKeyring):
    """A backend whose error message quotes the secret it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot store {password!r} for {username}")


def assert_no_secret(text: str) -> None:
    for secret in ALL_SECRETS:
        assert secret not in text


def error_text(error: BaseException) -> str:
    hint = error.hint if isinstance(error, JoyctlError) else ""
    return f"{error!s} {error!r} {hint} {error.args!r}"


def fill(store: CredentialStore) -> None:
    store.write_api_key(SecretStr(API_KEY))
    store.write_oauth_tokens(sample_tokens())
    store.write_client_secret(SecretStr(CLIENT_SECRET))
    store.write_webhook_secret("w1", SecretStr(WEBHOOK_SECRET))


def test_holders_and_reports_are_masked(
    make_store: StoreFactory, memory: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        store = make_store(memory)
        fill(store)
        file_store = make_store(disabled_backend(), allow_insecure_file=True)
        objects: list[object] = [
            sample_tokens(),
            store.read_api_key(),
            store.read_oauth_tokens(),
            store.read_client_secret(),
            store.read_webhook_secret("w1"),
            store.report(webhook_ids=["w1"]),
            resolve_klaviyo_credential(store, environ={}),
            resolve_klaviyo_credential(store, environ={envvars.ACCESS_TOKEN: ACCESS_TOKEN}),
            resolve_client_secret(store, environ={}),
            explicit_credential(CredentialKind.API_KEY, API_KEY, origin="--api-key-stdin"),
            file_store.write_api_key(SecretStr(API_KEY)),
            file_store.delete_api_key(),
            store.delete_all(webhook_ids=["w1"]),
            store,
        ]

    for item in objects:
        assert_no_secret(repr(item))
        assert_no_secret(str(item))
    assert_no_secret(sample_tokens().model_dump_json())
    assert_no_secret(caplog.text)


Scenario = Callable[[StoreFactory], object]

SCENARIOS: dict[str, Scenario] = {
    "locked write": lambda make: make(LockedKeyring()).write_api_key(SecretStr(API_KEY)),
    "leaky backend": lambda make: make(LeakyBackend()).write_client_secret(
        SecretStr(CLIENT_SECRET)
    ),
    "read-back mismatch": lambda make: make(GarblingKeyring()).write_oauth_tokens(sample_tokens()),
    "no keyring": lambda make: make(disabled_backend()).write_webhook_secret(
        "w1", SecretStr(WEBHOOK_SECRET)
    ),
    "padded secret": lambda make: make(MemoryKeyring()).write_api_key(SecretStr(API_KEY + " ")),
    "both env vars": lambda make: resolve_klaviyo_credential(
        make(MemoryKeyring()),
        environ={envvars.API_KEY: API_KEY, envvars.ACCESS_TOKEN: ACCESS_TOKEN},
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_errors_never_carry_the_secret(
    make_store: StoreFactory, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(JoyctlError) as caught:
        SCENARIOS[name](make_store)

    assert_no_secret(error_text(caught.value))
    assert caught.value.__cause__ is None
    assert_no_secret(caplog.text)


def test_a_timed_out_write_does_not_carry_the_secret(make_store: StoreFactory) -> None:
    hanging = HangingKeyring()
    try:
        with pytest.raises(JoyctlError) as caught:
            make_store(hanging, timeout=0.1).write_api_key(SecretStr(API_KEY))
    finally:
        hanging.release()

    assert_no_secret(error_text(caught.value))
