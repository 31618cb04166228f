"""Reading and changing the program's settings by key.

These back `joyctl program show`, `joyctl program set KEY VALUE` and `--from-file program.toml`.
Every change goes through full model validation, so cross-setting rules (the start/end window)
hold whichever key changed. Problems are raised as `ConfigError` with a hint naming the key's
type and default.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, ValidationError

from joyctl.command_line import command
from joyctl.engine.program import KNOWN_SOURCES, WriteReviewProgram
from joyctl.errors import ConfigError

READ_ONLY_KEYS = frozenset({"program_id"})
"""Keys that `set` and `--from-file` refuse: changing them would orphan earlier rewards."""

_TYPE_OVERRIDES = {
    "source": "|".join(KNOWN_SOURCES),
    "frequency_period_days": "days (or day|week|month)",
}
_EXAMPLES = {
    "true|false": "true",
    "an integer": "50",
    "a date-time with UTC offset": "2026-01-01T00:00:00Z",
    "days (or day|week|month)": "week",
}


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One settable key, for `program show` and for help text."""

    key: str
    type_label: str
    description: str
    default: object


def settable_keys() -> list[SettingInfo]:
    """Every key `program set` accepts, in the model's order."""
    return [
        SettingInfo(
            key=key,
            type_label=_type_label(key),
            description=field.description or "",
            default=field.default,
        )
        for key, field in WriteReviewProgram.model_fields.items()
        if key not in READ_ONLY_KEYS
    ]


def apply_setting(program: WriteReviewProgram, key: str, value: str) -> WriteReviewProgram:
    """Return a copy of `program` with `key` set from its command-line text `value`."""
    check_keys([key])
    changed = {**program.model_dump(), key: value}
    return _validate(changed, keys_given=[key])


def program_from_mapping(
    data: Mapping[str, object], base: WriteReviewProgram | None = None
) -> WriteReviewProgram:
    """Build a program from a TOML-shaped mapping of setting keys.

    Keys missing from `data` keep their value in `base`, or the default when there is no base.
    Unknown and read-only keys are refused rather than ignored, so a typo cannot silently leave
    an anti-cheat rule at its default.
    """
    keys = [str(key) for key in data]
    check_keys(keys)
    merged: dict[str, Any] = base.model_dump() if base is not None else {}
    merged.update({str(key): value for key, value in data.items()})
    return _validate(merged, keys_given=keys)


def program_to_mapping(program: WriteReviewProgram) -> dict[str, object]:
    """The program as plain TOML-writable values (unset bounds left out, enums as text).

    Read-only keys are left out too, so the result loads back with `program_from_mapping`.
    """
    plain: dict[str, object] = {}
    for key, value in program.model_dump().items():
        if value is None or key in READ_ONLY_KEYS:
            continue
        plain[key] = value.value if isinstance(value, Enum) else value
    return plain


def check_keys(keys: list[str]) -> None:
    """Refuse a key that is not a program setting, or one that cannot change (ConfigError)."""
    known = [key for key in WriteReviewProgram.model_fields if key not in READ_ONLY_KEYS]
    for key in keys:
        if key in READ_ONLY_KEYS:
            raise ConfigError(
                f"program setting {key!r} cannot be changed",
                hint="it identifies the rewards already in the ledger",
            )
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"unknown program setting {key!r}",
                hint=f"{suggestion}`{command('program', 'show')}` lists the settings",
            )


def _validate(values: dict[str, Any], keys_given: list[str]) -> WriteReviewProgram:
    try:
        return WriteReviewProgram.model_validate(values)
    except ValidationError as error:
        raise _config_error(error, keys_given) from None


def _config_error(error: ValidationError, keys_given: list[str]) -> ConfigError:
    first = error.errors(include_url=False)[0]
    location = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    key = location if location in WriteReviewProgram.model_fields else None
    if key is None:
        hint = f"check {', '.join(keys_given)}" if keys_given else None
        return ConfigError(f"invalid program settings: {message}", hint=hint)
    info = next(item for item in settable_keys() if item.key == key)
    label = info.type_label.removesuffix(" or none")
    example = f", e.g. {_EXAMPLES[label]}" if label in _EXAMPLES else ""
    return ConfigError(
        f"invalid value for {key}: {message}",
        hint=f"{key} takes {info.type_label}{example} (default {_show_default(info.default)})",
    )


def _show_default(default: object) -> str:
    if default is None:
        return "none"
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def _type_label(key: str) -> str:
    if key in _TYPE_OVERRIDES:
        return _TYPE_OVERRIDES[key]
    annotation = WriteReviewProgram.model_fields[key].annotation
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        annotation = members[0]
    label = _plain_type_label(annotation)
    return f"{label} or none" if optional else label


def _plain_type_label(annotation: object) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(member.value) for member in annotation)
    if annotation is bool:
        return "true|false"
    if annotation is int:
        return "an integer"
    if annotation is datetime or annotation is AwareDatetime:
        return "a date-time with UTC offset"
    return "text"
