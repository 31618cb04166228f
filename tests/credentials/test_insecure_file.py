"""The --insecure-storage file: 0600 in a 0700 folder from the first byte, atomic, honest."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from joyctl.credentials import CredentialStore
from joyctl.errors import CredentialStoreError

from .memory_keyring import disabled_backend
from .support import API_KEY, CLIENT_SECRET, StoreFactory

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def file_store(make_store: StoreFactory) -> CredentialStore:
    return make_store(disabled_backend(), allow_insecure_file=True)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable and writable."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_file_is_0600_and_folder_0700(file_store: CredentialStore, open_umask: None) -> None:
    file_store.write_api_key(SecretStr(API_KEY))

    assert mode_of(file_store.file_path) == 0o600
    assert mode_of(file_store.file_path.parent) == 0o700


def test_an_existing_open_folder_is_closed_to_others(file_store: CredentialStore) -> None:
    file_store.file_path.parent.mkdir(parents=True)
    # A folder others can read is the situation under test.
    os.chmod(file_store.file_path.parent, 0o755)  # noqa: S103

    file_store.write_api_key(SecretStr(API_KEY))

    assert mode_of(file_store.file_path.parent) == 0o700


def test_the_file_is_never_readable_by_others_before_it_is_in_place(
    file_store: CredentialStore, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes_at_rename: list[int] = []
    real_replace = os.replace

    def checking_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        modes_at_rename.append(mode_of(Path(source)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", checking_replace)

    file_store.write_api_key(SecretStr(API_KEY))
    file_store.write_client_secret(SecretStr(CLIENT_SECRET))

    assert modes_at_rename == [0o600, 0o600]


def test_a_failed_write_leaves_no_temporary_file(
    file_store: CredentialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", failing_replace)

    with pytest.raises(CredentialStoreError, match="could not be written: Permission denied"):
        file_store.write_api_key(SecretStr(API_KEY))

    assert list(file_store.file_path.parent.iterdir()) == []


def test_the_file_warns_and_holds_usernames(file_store: CredentialStore) -> None:
    file_store.write_api_key(SecretStr(API_KEY))

    document = json.loads(file_store.file_path.read_text(encoding="utf-8"))

    assert document["format"] == "joyctl-credentials/1"
    assert "joyctl auth migrate" in document["warning"]
    assert document["secrets"] == {"default:api_key": API_KEY}


def test_removing_the_last_secret_removes_the_file(file_store: CredentialStore) -> None:
    file_store.write_api_key(SecretStr(API_KEY))
    file_store.write_client_secret(SecretStr(CLIENT_SECRET))

    file_store.delete_api_key()
    assert file_store.file_path.exists()
    file_store.delete_client_secret()

    assert not file_store.file_path.exists()


def test_a_file_opened_up_by_someone_is_tightened(
    file_store: CredentialStore, caplog: pytest.LogCaptureFixture
) -> None:
    file_store.write_api_key(SecretStr(API_KEY))
    os.chmod(file_store.file_path, 0o644)

    with caplog.at_level(logging.WARNING):
        found = file_store.read_api_key()

    assert found is not None
    assert mode_of(file_store.file_path) == 0o600
    assert "readable by other users" in caplog.text
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    "content",
    ["not json " + API_KEY, '{"secrets": ["' + API_KEY + '"]}', '{"secrets": {"a": 1}}'],
)
def test_a_damaged_file_is_an_error_that_quotes_nothing(
    file_store: CredentialStore, content: str
) -> None:
    file_store.file_path.parent.mkdir(parents=True)
    file_store.file_path.write_text(content, encoding="utf-8")
    os.chmod(file_store.file_path, 0o600)

    with pytest.raises(CredentialStoreError, match="damaged") as caught:
        file_store.read_api_key()

    assert API_KEY not in f"{caught.value} {caught.value.hint}"
    assert caught.value.__cause__ is None
