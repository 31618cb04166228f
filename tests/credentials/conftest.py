from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from joyctl.credentials import CredentialStore, OAuthTokens

from .memory_keyring import HangingKeyring, MemoryKeyring
from .support import StoreFactory, sample_tokens


@pytest.fixture
def tokens() -> OAuthTokens:
    return sample_tokens()


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    yield backend
    backend.release()  # let the abandoned worker threads finish


@pytest.fixture
def profile_folder(tmp_path: Path) -> Path:
    return tmp_path / "profiles" / "default"


@pytest.fixture
def make_store(profile_folder: Path) -> StoreFactory:
    """Builds a store for profile "default" in a temporary folder with the given backend."""

    def build(
        backend: KeyringBackend | None,
        *,
        allow_insecure_file: bool = False,
        timeout: float = 2.0,
        profile: str = "default",
    ) -> CredentialStore:
        return CredentialStore(
            profile,
            profile_folder,
            backend=backend,
            timeout=timeout,
            allow_insecure_file=allow_insecure_file,
        )

    return build


@pytest.fixture
def store(make_store: StoreFactory, memory: MemoryKeyring) -> CredentialStore:
    return make_store(memory)
