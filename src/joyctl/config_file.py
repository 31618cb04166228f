"""Reading and writing config.toml: profiles and settings, never secrets.

The file's shape is checked when it is read (tables where tables belong); the values in it are
checked by the settings registry, which names the file and the key of a value it cannot use.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from joyctl.errors import ConfigError
from joyctl.files.atomic import write_atomic
from joyctl.paths import make_private_folder
from joyctl.values import shown

# A configuration file is a few hundred bytes; anything near this is not one.
CONFIG_LIMIT = 1024 * 1024
_BY_HAND = "fix the file by hand, or move it away to start from defaults"


def read_config(path: Path) -> dict[str, Any]:
    """The parsed file, or an empty table when it does not exist yet."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(CONFIG_LIMIT + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
        ) from exc
    if len(raw) > CONFIG_LIMIT:
        raise ConfigError(f"{path} is larger than {CONFIG_LIMIT} bytes", hint=_BY_HAND)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path} is not valid TOML: {reason}", hint=_BY_HAND) from exc
    except RecursionError:
        raise ConfigError(f"{path} nests values too deeply", hint=_BY_HAND) from None
    _check_shape(path, data)
    return data


def _check_shape(path: Path, data: dict[str, Any]) -> None:
    """Profiles, and each profile's connection facts, are tables."""
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        hint = f"use [profiles.NAME]; {_BY_HAND}"
        raise ConfigError(f"{path}: profiles is not a table", hint=hint)
    for key, section in profiles.items():
        name = key if key.isidentifier() else shown(key)
        if not isinstance(section, dict):
            raise ConfigError(
                f"{path}: profiles.{name} is not a table", hint=f"use [profiles.{name}]; {_BY_HAND}"
            )
        if not isinstance(section.get("connection", {}), dict):
            raise ConfigError(
                f"{path}: profiles.{name}.connection is not a table",
                hint=f"joyctl writes it when it connects; {_BY_HAND}",
            )


def write_config(path: Path, data: dict[str, Any]) -> None:
    """Atomically replace the file, so a crash never leaves half a config behind.

    The file is 0600, in a folder made 0700: profiles name accounts and clients.
    """
    import tomli_w

    make_private_folder(path.parent, tighten_from=path.parent)  # joyctl's own config folder
    write_atomic(path, tomli_w.dumps(_drop_none(data)), mode=0o600)


def _drop_none(value: Any) -> Any:
    # TOML has no null: an unset value is simply absent.
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
