"""Where joyctl keeps its files: platformdirs locations, all moved together by JOYCTL_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from joyctl import envvars
from joyctl.files.private import (  # re-exported: every layer above asks paths for them
    PRIVATE_FILE_MODE,
    PRIVATE_FOLDER_MODE,
    make_private_folder,
    restrict_to_owner,
)

APP_NAME = "joyctl"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def profile_data_dir(self, profile: str) -> Path:
        return self.data_dir / "profiles" / profile

    def ledger_file(self, profile: str) -> Path:
        return self.profile_data_dir(profile) / "ledger.sqlite3"

    def own_folder(self, folder: Path) -> Path:
        """Create `folder` 0700, tightening it and the levels above it up to joyctl's root."""
        for root in (self.config_dir, self.data_dir, self.cache_dir):
            if folder == root or root in folder.parents:
                return make_private_folder(folder, tighten_from=root)
        return make_private_folder(folder)


def resolve_paths(environ: os._Environ[str] | dict[str, str] | None = None) -> Paths:
    """JOYCTL_HOME (config/, data/, cache/ beneath it) wins over the platform's directories."""
    env = os.environ if environ is None else environ
    home = env.get(envvars.HOME)
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "cache")
    import platformdirs  # lazy: only commands that touch files pay for it

    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)),
    )


__all__ = [
    "APP_NAME",
    "PRIVATE_FILE_MODE",
    "PRIVATE_FOLDER_MODE",
    "Paths",
    "make_private_folder",
    "resolve_paths",
    "restrict_to_owner",
]
