"""Sample secrets for the credential tests, with values distinctive enough to find any leak."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from keyring.backend import KeyringBackend
from pydantic import SecretStr

from joyctl.credentials import CredentialStore, OAuthTokens

API_KEY = "pk_test_APIKEY_d0e1f2a3b4c5"
ACCESS_TOKEN = "at_ACCESSTOKEN_6a7b8c9d"
REFRESH_TOKEN = "rt_REFRESHTOKEN_0e1f2a3b"
CLIENT_SECRET = "cs_CLIENTSECRET_4c5d6e7f"
WEBHOOK_SECRET = "wh_WEBHOOKSECRET_8a9b0c1d"
ALL_SECRETS = (API_KEY, ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, WEBHOOK_SECRET)


def sample_tokens(access_token: str = ACCESS_TOKEN) -> OAuthTokens:
    return OAuthTokens(
        access_token=SecretStr(access_token),
        refresh_token=SecretStr(REFRESH_TOKEN),
        expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        scopes=("accounts:read", "events:write"),
    )


class StoreFactory(Protocol):
    """The `make_store` fixture: a store for profile "default" in a temporary folder."""

    def __call__(
        self,
        backend: KeyringBackend | None,
        *,
        allow_insecure_file: bool = False,
        timeout: float = 2.0,
        profile: str = "default",
    ) -> CredentialStore: ...
