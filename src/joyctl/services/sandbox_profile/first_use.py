"""The moment the built-in sandbox profile is seeded: the first time a command opens its ledger.

Kept apart from `embedded` so that opening any other profile's ledger does not import the
emulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from joyctl.settings import SANDBOX_PROFILE

# The emulator's saved state; it exists once the profile has been seeded.
STATE_FILE = "sandbox-state.json"

if TYPE_CHECKING:
    import sqlite3

    from joyctl.settings import Settings


def prepare_ledger(settings: Settings, profile: str, connection: sqlite3.Connection) -> None:
    """What a profile's ledger needs once a command has opened (and migrated) it.

    The built-in sandbox profile is seeded from its scenario the first time it is used; any
    other profile's ledger is ready as it is.
    """
    if profile != SANDBOX_PROFILE:
        return
    if (settings.paths.profile_data_dir(SANDBOX_PROFILE) / STATE_FILE).exists():
        # Seeded already: a local command (`ledger balance`) need not import the emulator.
        return
    from joyctl.services.sandbox_profile.seeding import ensure_seeded

    ensure_seeded(settings, connection)
