"""`joyctl config`: where files live, and reading and writing settings with their sources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.config_file import write_config
from joyctl.errors import ConfigError
from joyctl.settings import SANDBOX_PROFILE, SPECS, Resolved, Settings, spec_for


class ConfigPaths(BaseModel):
    config_file: str
    config_dir: str
    data_dir: str
    cache_dir: str
    ledger_file: str | None


class SettingView(BaseModel):
    key: str
    value: Any
    source: str
    scope: str
    profile: str | None
    help: str


class ConfigView(BaseModel):
    profile: str
    profile_source: str
    settings: list[SettingView]


def config_paths(settings: Settings) -> ConfigPaths:
    paths = settings.paths
    name = settings.profile_name.value
    return ConfigPaths(
        config_file=str(paths.config_file),
        config_dir=str(paths.config_dir),
        data_dir=str(paths.data_dir),
        cache_dir=str(paths.cache_dir),
        ledger_file=str(paths.ledger_file(name)),
    )


def _view(resolved: Resolved[Any], profile: str | None) -> SettingView:
    spec = spec_for(resolved.key)
    return SettingView(
        key=resolved.key,
        value=resolved.value,
        source=resolved.source,
        scope=spec.scope,
        profile=profile,
        help=spec.help,
    )


def show_config(settings: Settings) -> ConfigView:
    profile = settings.profile
    views = [_view(settings.globals[s.key], None) for s in SPECS if s.scope == "global"]
    views += [_view(profile.values[s.key], profile.name) for s in SPECS if s.scope == "profile"]
    return ConfigView(
        profile=profile.name, profile_source=settings.profile_name.source, settings=views
    )


def get_setting(settings: Settings, key: str) -> SettingView:
    spec = spec_for(key)
    if spec.scope == "global":
        return _view(settings.globals[key], None)
    profile = settings.profile
    return _view(profile.values[key], profile.name)


def set_setting(settings: Settings, key: str, raw_value: str) -> SettingView:
    """Validate and write one setting; profile settings go to the active profile."""
    spec = spec_for(key)
    value = spec.parse(raw_value)
    data = dict(settings.file_data)
    if spec.scope == "global":
        if key == "default_profile":
            settings.get_profile(value)  # refuse a default that does not exist
        data[key] = value
        profile_name = None
    else:
        profile_name = settings.profile.name
        if profile_name == SANDBOX_PROFILE and key == "base_url":
            raise ConfigError(
                "the built-in sandbox profile always uses the embedded emulator",
                hint="add a profile for another server:"
                f" `{command('profiles', 'add', 'NAME', '--base-url', 'URL', profile=None)}`",
            )
        profiles = dict(data.get("profiles", {}))
        section = dict(profiles.get(profile_name, {}))
        section[key] = value
        profiles[profile_name] = section
        data["profiles"] = profiles
    write_config(settings.paths.config_file, data)
    return SettingView(
        key=key, value=value, source="file", scope=spec.scope, profile=profile_name, help=spec.help
    )
