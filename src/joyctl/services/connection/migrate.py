"""`joyctl auth migrate`: move a profile's secrets from the insecure file into the OS keyring.

Each secret is read back from the keyring before it leaves the file, and a different value
already in the keyring is reported as a conflict with both copies left in place. The profile
moves with its secrets: once nothing is left behind, its later writes go to the keyring.
"""

from __future__ import annotations

from pydantic import BaseModel

from joyctl.credentials import CredentialStore, SecretStorage


class MigrationResult(BaseModel):
    profile: str
    moved: list[str]
    conflicts: list[str]  # a different value is in the keyring; both copies were kept
    insecure_file: str
    file_removed: bool
    keyring_backend: str | None
    secret_storage: SecretStorage  # where the profile writes its secrets from now on


def migrate_secrets(store: CredentialStore) -> MigrationResult:
    report = store.migrate_to_keyring()
    return MigrationResult(
        profile=store.profile,
        moved=list(report.moved),
        conflicts=list(report.conflicts),
        insecure_file=str(report.file_path),
        file_removed=report.file_removed,
        keyring_backend=store.keyring_status().backend,
        secret_storage=report.storage,
    )
