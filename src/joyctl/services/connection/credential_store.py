"""Which credential store a profile uses, and where it remembers its choice.

Real profiles use the OS keyring, or the 0600 file chosen with --insecure-storage where no
keyring can be used. The choice is remembered in config.toml (`secret_storage` among the
profile's connection facts), so every later write (refreshed tokens, webhook signing secrets,
the client secret) goes to the same place with no flag. The built-in `sandbox` profile holds
only the emulator's own fake credentials, so it keeps them in a file in its data folder: the
sandbox then works on any machine, keyring or not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from joyctl.credentials import CredentialStore, SecretStorage
from joyctl.files.atomic import write_atomic
from joyctl.paths import Paths, make_private_folder
from joyctl.settings import SANDBOX_PROFILE, Settings

EMULATOR_SECRETS_FILE = "emulator-secrets.json"
STORAGE_FACT = "secret_storage"  # in [profiles.NAME.connection]: "keyring" or "file"


class EmulatorSecretsFile(KeyringBackend):
    """A keyring backend over one JSON file, for the emulator's fake credentials only."""

    priority = 0  # never chosen by keyring's own detection

    def __init__(self, path: Path) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's base is untyped
        self.path = path

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save(self, data: Mapping[str, str]) -> None:
        make_private_folder(self.path.parent)
        write_atomic(self.path, json.dumps(dict(data)), mode=0o600)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not stored")
        self._save(data)


def credential_store(
    paths: Paths,
    profile: str,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
    backend: Any = None,
    timeout: float = 5.0,
    insecure_storage: bool = False,
) -> CredentialStore:
    """The profile's store; with `settings`, one that keeps to the profile's remembered choice
    and remembers a new one."""
    folder = paths.profile_data_dir(profile)
    if profile == SANDBOX_PROFILE:
        backend = EmulatorSecretsFile(folder / EMULATOR_SECRETS_FILE)
        return CredentialStore(
            profile,
            folder,
            backend=backend,
            timeout=timeout,
            allow_insecure_file=insecure_storage,
            environ=environ,
        )
    store = CredentialStore(
        profile,
        folder,
        backend=backend,
        timeout=timeout,
        allow_insecure_file=insecure_storage,
        storage=remembered_storage(settings, profile) if settings is not None else None,
        on_storage_chosen=_remember(settings, profile) if settings is not None else None,
        environ=environ,
    )
    store.adopt_earlier_choice()
    return store


def remembered_storage(settings: Settings, profile: str) -> SecretStorage | None:
    """The profile's choice as config.toml remembers it; None when it has made none."""
    section = settings.file_data.get("profiles", {}).get(profile, {})
    value = section.get("connection", {}).get(STORAGE_FACT)
    try:
        return SecretStorage(value) if value is not None else None
    except ValueError:
        return None  # a hand-edited value: decided again by the next write


def _remember(settings: Settings, profile: str) -> Callable[[SecretStorage], None]:
    def remember(storage: SecretStorage) -> None:
        from joyctl.services.connection.facts import record_fact

        record_fact(settings, profile, STORAGE_FACT, storage.value)

    return remember
