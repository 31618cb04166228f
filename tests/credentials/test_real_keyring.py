"""The store against a real Secret Service (gnome-keyring over D-Bus), not a stand-in.

Run with `bash .ci/keyring-session.sh python -m pytest tests/credentials -m keyring_real`:
the script starts a private D-Bus session with an unlocked gnome-keyring and sets
JOYCTL_TEST_REAL_KEYRING=1. Without it these tests skip, since a developer's own keyring may be
locked, absent, or full of real secrets.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import uuid
import warnings
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import keyring.core
import pytest
from keyring.backend import KeyringBackend
from pydantic import SecretStr

from joyctl.credentials import (
    SERVICE_NAME,
    CredentialSource,
    CredentialStore,
    KeyringUnavailableError,
)

from .memory_keyring import disabled_backend
from .support import API_KEY, CLIENT_SECRET, WEBHOOK_SECRET, sample_tokens

pytestmark = [
    pytest.mark.keyring_real,
    pytest.mark.skipif(
        os.environ.get("JOYCTL_TEST_REAL_KEYRING") != "1",
        reason="needs a real Secret Service: run under .ci/keyring-session.sh, "
        "which sets JOYCTL_TEST_REAL_KEYRING=1",
    ),
]

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
WEBHOOK_ID = "01HREALWEBHOOK"


def secret_service_backend() -> KeyringBackend:
    from keyring.backends import SecretService

    return SecretService.Keyring()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated


def secret_service_items(username: str) -> list[bytes]:
    """The secrets gnome-keyring holds for `username`, asked directly, not through keyring."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.get_default_collection(connection)
        items = collection.search_items({"service": SERVICE_NAME, "username": username})
        return [item.get_secret() for item in items]


@pytest.fixture
def profile() -> str:
    # Unique per test: the collection outlives the test, and a rerun must not see old entries.
    return f"realtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def real_store(profile: str, tmp_path: Path) -> Iterator[CredentialStore]:
    store = CredentialStore(profile, tmp_path, backend=secret_service_backend())
    yield store
    store.delete_all(webhook_ids=[WEBHOOK_ID])


def fresh(store: CredentialStore) -> CredentialStore:
    """Another store on the same profile, so reads cannot come from anything cached."""
    return CredentialStore(store.profile, store.file_path.parent, backend=secret_service_backend())


def test_every_secret_kind_is_stored_read_back_and_deleted(real_store: CredentialStore) -> None:
    locations = [
        real_store.write_api_key(SecretStr(API_KEY)),
        real_store.write_oauth_tokens(sample_tokens()),
        real_store.write_client_secret(SecretStr(CLIENT_SECRET)),
        real_store.write_webhook_secret(WEBHOOK_ID, SecretStr(WEBHOOK_SECRET)),
    ]

    assert {(where.source, where.origin) for where in locations} == {
        (CredentialSource.KEYRING, SECRET_SERVICE)
    }
    reader = fresh(real_store)
    api_key, tokens = reader.read_api_key(), reader.read_oauth_tokens()
    client_secret, webhook = reader.read_client_secret(), reader.read_webhook_secret(WEBHOOK_ID)
    assert api_key is not None and api_key.value.get_secret_value() == API_KEY
    assert tokens is not None and tokens.value == sample_tokens()
    assert client_secret is not None and client_secret.value.get_secret_value() == CLIENT_SECRET
    assert webhook is not None and webhook.value.get_secret_value() == WEBHOOK_SECRET
    assert secret_service_items(f"{real_store.profile}:api_key") == [API_KEY.encode()]

    outcomes = reader.delete_all(webhook_ids=[WEBHOOK_ID])

    assert [outcome.removed_from for outcome in outcomes] == [(CredentialSource.KEYRING,)] * 4
    assert fresh(real_store).read_api_key() is None
    assert fresh(real_store).read_oauth_tokens() is None
    assert secret_service_items(f"{real_store.profile}:webhook:{WEBHOOK_ID}") == []


def test_deleting_what_is_not_there_is_fine(real_store: CredentialStore) -> None:
    outcome = real_store.delete_client_secret()

    assert outcome.removed_from == ()
    assert outcome.keyring_unreachable is None


def test_writing_again_replaces_the_secret(real_store: CredentialStore) -> None:
    real_store.write_api_key(SecretStr("pk_first_value"))
    real_store.write_api_key(SecretStr(API_KEY))

    assert secret_service_items(f"{real_store.profile}:api_key") == [API_KEY.encode()]


def test_migrate_moves_the_file_into_the_secret_service(
    real_store: CredentialStore, tmp_path: Path
) -> None:
    file_only = CredentialStore(
        real_store.profile, tmp_path, backend=disabled_backend(), allow_insecure_file=True
    )
    file_only.write_api_key(SecretStr(API_KEY))
    file_only.write_webhook_secret(WEBHOOK_ID, SecretStr(WEBHOOK_SECRET))

    report = real_store.migrate_to_keyring()

    profile = real_store.profile
    assert sorted(report.moved) == [f"{profile}:api_key", f"{profile}:webhook:{WEBHOOK_ID}"]
    assert report.file_removed
    found = fresh(real_store).read_webhook_secret(WEBHOOK_ID)
    assert found is not None and found.source is CredentialSource.KEYRING


def test_the_secret_service_is_what_keyring_detects(
    profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)

    status = CredentialStore(profile, tmp_path).keyring_status()

    assert status.available, status.reason
    assert status.backend == SECRET_SERVICE


def test_a_missing_collection_is_unavailable(profile: str, tmp_path: Path) -> None:
    # What libsecret users meet as "Object does not exist at path .../collection/login".
    backend = secret_service_backend()
    backend.preferred_collection = "/org/freedesktop/secrets/collection/joyctl_missing"  # type: ignore[attr-defined]  # read by the backend

    with warnings.catch_warnings():
        # keyring leaves the D-Bus connection open when the collection is missing; collect it
        # here, where its ResourceWarning is expected, rather than in some later test.
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(KeyringUnavailableError, match="could not be opened"):
            CredentialStore(profile, tmp_path, backend=backend).read_api_key()
        del backend
        gc.collect()


LOCKED_PROGRAM = """
import secretstorage
from contextlib import closing
from pathlib import Path
from keyring.backends import SecretService
from joyctl.credentials import CredentialStore, KeyringUnavailableError

with closing(secretstorage.dbus_init()) as connection:
    secretstorage.get_default_collection(connection).lock()
store = CredentialStore("locked", Path({folder!r}), backend=SecretService.Keyring(), timeout=2)
try:
    store.read_api_key()
except KeyringUnavailableError as error:
    print(error.reason)
else:
    raise SystemExit("a locked keyring was read")
"""


def test_a_locked_collection_is_unavailable(tmp_path: Path) -> None:
    # Locking the shared collection would break every later test in this session, and only
    # its throwaway password unlocks it, so the lock happens in a session of its own.
    script = Path(__file__).resolve().parents[2] / ".ci" / "keyring-session.sh"
    program = textwrap.dedent(LOCKED_PROGRAM).format(folder=str(tmp_path))
    src = str(Path(__file__).resolve().parents[2] / "src")

    result = subprocess.run(
        ["bash", str(script), sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": src},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    # Without a display the unlock prompt fails at once; where a prompt waits, the timeout ends it.
    assert "locked" in result.stdout or "no answer" in result.stdout, result.stdout
