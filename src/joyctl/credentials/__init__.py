"""Secrets of a profile: the OS keyring (bounded by a timeout), an opt-in 0600 file, and the
one lookup order every command follows (LOOKUP_ORDER).

Used by the services layer; nothing here imports Typer or Rich, and `keyring` is imported only
when a secret is actually read from or written to the keyring.
"""

from joyctl.credentials.insecure_file import FILE_NAME
from joyctl.credentials.keyring_access import (
    DEFAULT_TIMEOUT_SECONDS,
    KEYRING_ADVICE,
    KeyringUnavailableError,
    keyring_advice,
    under_ci,
)
from joyctl.credentials.lookup import (
    explicit_credential,
    find_klaviyo_credential,
    resolve_client_secret,
    resolve_klaviyo_credential,
    webhook_secret_from_environment,
)
from joyctl.credentials.model import (
    CLIENT_SECRET_LOOKUP_ORDER,
    LOOKUP_ORDER,
    SERVICE_NAME,
    CredentialKind,
    CredentialSource,
    DeleteOutcome,
    KeyringStatus,
    MigrationReport,
    OAuthTokens,
    ResolvedCredential,
    SecretKind,
    SecretLocation,
    SecretRef,
    SecretStorage,
    StorageReport,
    Stored,
    plain_store_name,
    with_lookup_order,
)
from joyctl.credentials.store import CredentialStore

__all__ = [
    "CLIENT_SECRET_LOOKUP_ORDER",
    "DEFAULT_TIMEOUT_SECONDS",
    "FILE_NAME",
    "KEYRING_ADVICE",
    "LOOKUP_ORDER",
    "SERVICE_NAME",
    "CredentialKind",
    "CredentialSource",
    "CredentialStore",
    "DeleteOutcome",
    "KeyringStatus",
    "KeyringUnavailableError",
    "MigrationReport",
    "OAuthTokens",
    "ResolvedCredential",
    "SecretKind",
    "SecretLocation",
    "SecretRef",
    "SecretStorage",
    "StorageReport",
    "Stored",
    "explicit_credential",
    "find_klaviyo_credential",
    "keyring_advice",
    "plain_store_name",
    "under_ci",
    "resolve_client_secret",
    "resolve_klaviyo_credential",
    "webhook_secret_from_environment",
    "with_lookup_order",
]
