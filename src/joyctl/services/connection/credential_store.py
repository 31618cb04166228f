"""Which credential store a profile uses.

Real profiles use the OS keyring (or, with --insecure-storage, a 0600 file). The built-in
`sandbox` profile holds only the emulator's own fake credentials, so it keeps them in a file in
its data folder: the sandbox then works on any machine, keyring or not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from joyctl.credentials import CredentialStore
from joyctl.files.atomic import write_atomic
from joyctl.paths import Paths, make_private_folder
from joyctl.settings import SANDBOX_PROFILE

EMULATOR_SECRETS_FILE = "emulator-secrets.json"


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
    backend: Any = None,
    timeout: float = 5.0,
    insecure_storage: bool = False,
) -> CredentialStore:
    folder = paths.profile_data_dir(profile)
    if profile == SANDBOX_PROFILE:
        backend = EmulatorSecretsFile(folder / EMULATOR_SECRETS_FILE)
    return CredentialStore(
        profile, folder, backend=backend, timeout=timeout, allow_insecure_file=insecure_storage
    )
