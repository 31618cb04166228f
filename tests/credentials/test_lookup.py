"""The lookup order: explicit > environment > keyring > insecure file, the same everywhere."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import keyring
import keyring.core
import pytest
from pydantic import SecretStr

from joyctl import envvars
from joyctl.credentials import (
    CLIENT_SECRET_LOOKUP_ORDER,
    LOOKUP_ORDER,
    CredentialKind,
    CredentialSource,
    CredentialStore,
    KeyringUnavailableError,
    explicit_credential,
    find_klaviyo_credential,
    resolve_client_secret,
    resolve_klaviyo_credential,
)
from joyctl.errors import AuthError, ExitCode, UsageError

from .memory_keyring import MemoryKeyring, TripwireKeyring, disabled_backend, no_backend
from .support import ACCESS_TOKEN, API_KEY, CLIENT_SECRET, StoreFactory, sample_tokens

STDIN_KEY = "pk_from_stdin_55aa"
ENV_KEY = "pk_from_env_66bb"
FILE_KEY = "pk_from_file_77cc"


def file_backed_store(make_store: StoreFactory, secret: str) -> None:
    """Put `secret` as the API key in the insecure file, through a keyring-less store."""
    make_store(disabled_backend(), allow_insecure_file=True).write_api_key(SecretStr(secret))


def test_lookup_order_names_every_source() -> None:
    for part in ("flag or stdin", envvars.API_KEY, envvars.ACCESS_TOKEN, "keyring", "file"):
        assert part in LOOKUP_ORDER
    assert LOOKUP_ORDER.index("stdin") < LOOKUP_ORDER.index(envvars.API_KEY)
    assert LOOKUP_ORDER.index(envvars.ACCESS_TOKEN) < LOOKUP_ORDER.index("keyring")
    assert LOOKUP_ORDER.index("keyring") < LOOKUP_ORDER.index("insecure file")
    assert envvars.CLIENT_SECRET in CLIENT_SECRET_LOOKUP_ORDER


def test_explicit_beats_environment_keyring_and_file(
    make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    file_backed_store(make_store, FILE_KEY)
    store = make_store(memory)
    store.write_api_key(SecretStr(API_KEY))
    explicit = explicit_credential(
        CredentialKind.API_KEY, STDIN_KEY + "\n", origin="--api-key-stdin"
    )

    found = resolve_klaviyo_credential(store, explicit=explicit, environ={envvars.API_KEY: ENV_KEY})

    assert found.secret.get_secret_value() == STDIN_KEY
    assert (found.source, found.origin) == (CredentialSource.STDIN, "--api-key-stdin")


def test_environment_beats_keyring_and_file(
    make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    file_backed_store(make_store, FILE_KEY)
    store = make_store(memory)
    store.write_api_key(SecretStr(API_KEY))

    found = resolve_klaviyo_credential(store, environ={envvars.API_KEY: ENV_KEY})

    assert found.secret.get_secret_value() == ENV_KEY
    assert (found.kind, found.source, found.origin) == (
        CredentialKind.API_KEY,
        CredentialSource.ENV,
        envvars.API_KEY,
    )
    assert found.describe() == f"environment variable {envvars.API_KEY}"


def test_environment_access_token_is_a_bearer_credential_without_refresh(
    store: CredentialStore,
) -> None:
    found = resolve_klaviyo_credential(store, environ={envvars.ACCESS_TOKEN: ACCESS_TOKEN})

    assert found.kind is CredentialKind.ACCESS_TOKEN
    assert found.origin == envvars.ACCESS_TOKEN
    assert found.tokens is None


def test_keyring_beats_file(make_store: StoreFactory, memory: MemoryKeyring) -> None:
    file_backed_store(make_store, FILE_KEY)
    # Put the keyring copy in directly: a store write would also clear the file's copy.
    memory.set_password("joyctl", "default:api_key", API_KEY)

    found = resolve_klaviyo_credential(make_store(memory), environ={})

    assert found.secret.get_secret_value() == API_KEY
    assert found.source is CredentialSource.KEYRING
    assert found.origin == f"{MemoryKeyring.__module__}.MemoryKeyring"


def test_file_is_used_when_the_keyring_has_nothing(
    make_store: StoreFactory, memory: MemoryKeyring
) -> None:
    file_backed_store(make_store, FILE_KEY)
    store = make_store(memory)

    found = resolve_klaviyo_credential(store, environ={})

    assert found.secret.get_secret_value() == FILE_KEY
    assert (found.source, found.origin) == (CredentialSource.FILE, str(store.file_path))


def test_file_is_used_when_the_keyring_is_unavailable(make_store: StoreFactory) -> None:
    file_backed_store(make_store, FILE_KEY)

    found = resolve_klaviyo_credential(make_store(no_backend()), environ={})

    assert found.source is CredentialSource.FILE


def test_stored_oauth_grant_wins_over_stored_api_key(store: CredentialStore) -> None:
    store.write_api_key(SecretStr(API_KEY))
    store.write_oauth_tokens(sample_tokens())

    found = resolve_klaviyo_credential(store, environ={})

    assert found.kind is CredentialKind.ACCESS_TOKEN
    assert found.secret.get_secret_value() == ACCESS_TOKEN
    assert found.tokens == sample_tokens()


def test_nothing_anywhere_is_not_connected_and_names_the_order(store: CredentialStore) -> None:
    assert find_klaviyo_credential(store, environ={}) is None
    with pytest.raises(AuthError) as caught:
        resolve_klaviyo_credential(store, environ={})

    assert caught.value.exit_code == ExitCode.AUTH
    assert caught.value.code == "not_connected"
    assert caught.value.hint is not None
    assert LOOKUP_ORDER in caught.value.hint


def test_unavailable_keyring_and_no_file_is_an_error_with_advice(
    make_store: StoreFactory,
) -> None:
    with pytest.raises(KeyringUnavailableError) as caught:
        resolve_klaviyo_credential(make_store(no_backend()), environ={})

    hint = caught.value.hint or ""
    assert caught.value.exit_code == ExitCode.AUTH
    assert "gnome-keyring" in hint
    assert envvars.API_KEY in hint
    assert "--insecure-storage" in hint
    assert LOOKUP_ORDER in hint


def test_blank_environment_variables_count_as_unset(store: CredentialStore) -> None:
    store.write_api_key(SecretStr(API_KEY))

    found = resolve_klaviyo_credential(
        store, environ={envvars.API_KEY: "", envvars.ACCESS_TOKEN: "  \n"}
    )

    assert found.source is CredentialSource.KEYRING


def test_both_environment_credentials_set_is_a_usage_error(store: CredentialStore) -> None:
    environ = {envvars.API_KEY: ENV_KEY, envvars.ACCESS_TOKEN: ACCESS_TOKEN}

    with pytest.raises(UsageError, match="both"):
        resolve_klaviyo_credential(store, environ=environ)


def test_explicit_credential_rejects_empty_input_and_stored_sources() -> None:
    with pytest.raises(UsageError, match="--api-key-stdin"):
        explicit_credential(CredentialKind.API_KEY, " \n", origin="--api-key-stdin")
    with pytest.raises(ValueError, match="flag or stdin"):
        explicit_credential(
            CredentialKind.API_KEY, API_KEY, origin="x", source=CredentialSource.KEYRING
        )


def test_client_secret_order_is_stdin_environment_keyring(store: CredentialStore) -> None:
    store.write_client_secret(SecretStr(CLIENT_SECRET))
    piped = explicit_credential(
        CredentialKind.CLIENT_SECRET, "cs_piped_1", origin="--client-secret-stdin"
    )
    environ = {envvars.CLIENT_SECRET: "cs_env_2"}

    from_stdin = resolve_client_secret(store, explicit=piped, environ=environ)
    from_env = resolve_client_secret(store, environ=environ)
    from_keyring = resolve_client_secret(store, environ={})

    assert from_stdin.secret.get_secret_value() == "cs_piped_1"
    assert (from_env.source, from_env.origin) == (CredentialSource.ENV, envvars.CLIENT_SECRET)
    assert from_keyring.secret.get_secret_value() == CLIENT_SECRET
    assert from_keyring.source is CredentialSource.KEYRING


def test_missing_client_secret_names_its_order(store: CredentialStore) -> None:
    with pytest.raises(AuthError) as caught:
        resolve_client_secret(store, environ={})

    assert CLIENT_SECRET_LOOKUP_ORDER in (caught.value.hint or "")


@pytest.mark.parametrize("variable", [envvars.API_KEY, envvars.ACCESS_TOKEN])
def test_environment_credential_never_touches_an_injected_keyring(
    make_store: StoreFactory, variable: str
) -> None:
    tripwire = TripwireKeyring()

    found = resolve_klaviyo_credential(make_store(tripwire), environ={variable: ENV_KEY})

    assert found.source is CredentialSource.ENV
    assert tripwire.calls == []


def test_environment_client_secret_never_touches_the_keyring(make_store: StoreFactory) -> None:
    tripwire = TripwireKeyring()

    resolve_client_secret(make_store(tripwire), environ={envvars.CLIENT_SECRET: "cs_env"})

    assert tripwire.calls == []


def test_environment_credential_never_initialises_the_default_keyring(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    detections: list[str] = []

    def refuse_detection() -> None:
        detections.append("init_backend")
        raise AssertionError("keyring backend detection must not run")

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setattr(keyring.core, "init_backend", refuse_detection)

    found = resolve_klaviyo_credential(make_store(None), environ={envvars.API_KEY: ENV_KEY})

    assert found.source is CredentialSource.ENV
    assert detections == []


def test_environment_credential_never_imports_keyring(tmp_path: Path) -> None:
    # A fresh interpreter, since this one has imported keyring for the other tests.
    program = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from joyctl.credentials import CredentialStore, resolve_klaviyo_credential

        store = CredentialStore("default", Path({str(tmp_path)!r}))
        found = resolve_klaviyo_credential(store, environ={{{envvars.API_KEY!r}: "pk_env"}})
        assert found.source == "env", found
        loaded = sorted(
            name for name in sys.modules
            if name.split(".")[0] in ("keyring", "secretstorage", "jeepney")
        )
        assert not loaded, loaded
        """
    )
    src = Path(__file__).resolve().parents[2] / "src"
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(src), "PATH": ""},
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_an_explicit_credential_of_the_wrong_kind_is_a_programming_error(
    store: CredentialStore,
) -> None:
    client_secret = explicit_credential(CredentialKind.CLIENT_SECRET, "cs", origin="--x")
    api_key = explicit_credential(CredentialKind.API_KEY, "pk", origin="--y")

    with pytest.raises(ValueError, match="cannot stand in"):
        resolve_klaviyo_credential(store, explicit=client_secret, environ={})
    with pytest.raises(ValueError, match="cannot stand in"):
        resolve_client_secret(store, explicit=api_key, environ={})
