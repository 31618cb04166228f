"""Unavailable keyrings: missing, disabled, locked, failing or hanging backends."""

from __future__ import annotations

import time

import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import null
from keyring.errors import InitError
from pydantic import SecretStr

from joyctl import envvars
from joyctl.credentials import CredentialSource, KeyringUnavailableError
from joyctl.errors import CredentialStoreError, ExitCode

from .memory_keyring import (
    HangingKeyring,
    LockedKeyring,
    MemoryKeyring,
    disabled_backend,
    no_backend,
)
from .support import API_KEY, StoreFactory

# Generous next to the 0.2 s timeout, and far below the 60 s a hanging call would otherwise take.
BOUND_SECONDS = 10.0


class BrokenKeyring(MemoryKeyring):
    """A backend that fails with its own exception, as a D-Bus error would."""

    def get_password(self, service: str, username: str) -> str | None:
        raise InitError("Failed to create the collection: no such object")


def test_the_store_error_is_an_auth_error() -> None:
    assert issubclass(KeyringUnavailableError, CredentialStoreError)
    assert KeyringUnavailableError("x").exit_code == ExitCode.AUTH


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (no_backend(), "no keyring backend"),
        (disabled_backend(), "disabled"),
        (LockedKeyring(), "locked"),
        (BrokenKeyring(), "InitError"),
    ],
    ids=["fail", "null", "locked", "broken"],
)
@pytest.mark.parametrize("operation", ["read", "write"])
def test_unusable_backends_are_unavailable_with_advice(
    make_store: StoreFactory, backend: KeyringBackend, reason: str, operation: str
) -> None:
    store = make_store(backend)

    with pytest.raises(KeyringUnavailableError) as caught:
        if operation == "read":
            store.read_api_key()
        else:
            store.write_api_key(SecretStr(API_KEY))

    assert reason in caught.value.reason
    hint = caught.value.hint or ""
    for advice in ("gnome-keyring", envvars.API_KEY, envvars.ACCESS_TOKEN, "--insecure-storage"):
        assert advice in hint


def test_null_backend_is_never_asked(make_store: StoreFactory) -> None:
    # A null backend answers "nothing stored" and drops writes, which would look like success.
    class CountingNull(null.Keyring):
        calls = 0

        def get_password(self, service: str, username: str, password: str | None = None) -> None:
            CountingNull.calls += 1

    store = make_store(CountingNull())  # type: ignore[no-untyped-call]  # keyring's own class

    with pytest.raises(KeyringUnavailableError):
        store.read_api_key()
    assert CountingNull.calls == 0


def test_a_hanging_keyring_times_out_within_the_bound(
    make_store: StoreFactory, hanging: HangingKeyring
) -> None:
    store = make_store(hanging, timeout=0.2)

    started = time.monotonic()
    with pytest.raises(KeyringUnavailableError) as caught:
        store.read_api_key()

    assert time.monotonic() - started < BOUND_SECONDS
    assert "no answer within 0.2s" in caught.value.reason
    assert "gnome-keyring" in (caught.value.hint or "")


def test_a_hanging_write_times_out_too(make_store: StoreFactory, hanging: HangingKeyring) -> None:
    store = make_store(hanging, timeout=0.2)

    with pytest.raises(KeyringUnavailableError, match="no answer"):
        store.write_api_key(SecretStr(API_KEY))


def test_after_a_timeout_later_calls_fail_at_once(
    make_store: StoreFactory, hanging: HangingKeyring
) -> None:
    store = make_store(hanging, timeout=0.2)
    with pytest.raises(KeyringUnavailableError):
        store.read_api_key()

    started = time.monotonic()
    with pytest.raises(KeyringUnavailableError, match="no answer"):
        store.read_client_secret()

    assert time.monotonic() - started < 0.2
    assert hanging.calls == 1


def test_a_timeout_with_insecure_storage_falls_back_to_the_file(
    make_store: StoreFactory, hanging: HangingKeyring
) -> None:
    store = make_store(hanging, timeout=0.2, allow_insecure_file=True)

    location = store.write_api_key(SecretStr(API_KEY))

    assert location.source is CredentialSource.FILE
    assert location.note is not None
    assert "no answer" in location.note


def test_detection_honours_python_keyring_backend(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    store = make_store(None)

    status = store.keyring_status()

    assert status.available is False
    assert status.backend == "keyring.backends.null.Keyring"
    assert status.reason is not None
    assert "disabled" in status.reason


def test_detection_uses_a_globally_installed_backend(
    make_store: StoreFactory, memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", memory)

    make_store(None).write_api_key(SecretStr(API_KEY))

    assert memory.entries == {("joyctl", "default:api_key"): API_KEY}


def test_status_of_a_working_keyring(make_store: StoreFactory, memory: MemoryKeyring) -> None:
    status = make_store(memory).keyring_status()

    assert status.available is True
    assert status.backend == f"{MemoryKeyring.__module__}.MemoryKeyring"
    assert status.reason is None


def test_timeout_must_be_positive(make_store: StoreFactory, memory: MemoryKeyring) -> None:
    with pytest.raises(ValueError, match="positive"):
        make_store(memory, timeout=0)
