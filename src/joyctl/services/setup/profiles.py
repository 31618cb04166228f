"""`joyctl profiles`: one profile per store and Klaviyo account."""

from __future__ import annotations

import shutil

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.config_file import write_config
from joyctl.errors import UsageError
from joyctl.settings import SANDBOX_PROFILE, Profile, Settings, _parse_profile_name, default_value


class ProfileSummary(BaseModel):
    name: str
    active: bool
    builtin: bool
    base_url: str
    account_id: str | None
    account_name: str | None
    ledger_file: str


class RemovedProfile(BaseModel):
    name: str
    ledger_file: str
    ledger_deleted: bool
    was_default: bool


def _summary(settings: Settings, profile: Profile) -> ProfileSummary:
    base_url = profile.resolved("base_url")
    return ProfileSummary(
        name=profile.name,
        active=profile.name == settings.profile_name.value,
        builtin=profile.builtin,
        # Listed even when its URL is unusable; commands run with the profile say why.
        base_url=base_url.value if base_url.problem is None else "(not usable: see config show)",
        account_id=profile.connection.get("account_id"),
        account_name=profile.connection.get("account_name"),
        ledger_file=str(settings.paths.ledger_file(profile.name)),
    )


def list_profiles(settings: Settings) -> list[ProfileSummary]:
    return [_summary(settings, settings.get_profile(name)) for name in settings.profile_names()]


def add_profile(
    settings: Settings,
    name: str,
    *,
    base_url: str,
    client_id: str | None = None,
    redirect_port: int | None = None,
    oauth_urls: dict[str, str] | None = None,
) -> ProfileSummary:
    from joyctl.settings import spec_for

    name = _parse_profile_name(name, "NAME")
    if name in settings.profile_names():
        raise UsageError(
            f"a profile named {name!r} exists already",
            hint=f"change it with `{command('config', 'set', 'KEY', 'VALUE', profile=name)}`",
        )
    section: dict[str, object] = {"base_url": spec_for("base_url").parse(base_url, "--base-url")}
    for key, url in (oauth_urls or {}).items():
        section[key] = spec_for(key).parse(url, "--" + key.replace("_", "-"))
    if client_id is not None:
        section["client_id"] = spec_for("client_id").parse(client_id, "--client-id")
    if redirect_port is not None:
        section["redirect_port"] = spec_for("redirect_port").parse(
            str(redirect_port), "--redirect-port"
        )
    data = dict(settings.file_data)
    data["profiles"] = {**data.get("profiles", {}), name: section}
    write_config(settings.paths.config_file, data)
    settings.file_data = data
    return _summary(settings, settings.get_profile(name))


def use_profile(settings: Settings, name: str) -> ProfileSummary:
    profile = settings.get_profile(_parse_profile_name(name, "NAME"))
    data = {**settings.file_data, "default_profile": profile.name}
    write_config(settings.paths.config_file, data)
    settings.file_data = data
    settings.profile_flag = profile.name
    return _summary(settings, profile)


def remove_profile(settings: Settings, name: str, *, delete_ledger: bool) -> RemovedProfile:
    """Remove a profile's settings; its ledger stays unless deletion was asked for by name."""
    if name == SANDBOX_PROFILE:
        raise UsageError(
            "the built-in sandbox profile cannot be removed",
            hint=f"start it over with `{command('sandbox', 'reset', profile=None)}`",
        )
    settings.get_profile(name)  # raises NotFoundError with a hint
    data = dict(settings.file_data)
    data["profiles"] = {k: v for k, v in data.get("profiles", {}).items() if k != name}
    was_default = data.get("default_profile") == name
    if was_default:
        data["default_profile"] = default_value("default_profile")
    write_config(settings.paths.config_file, data)
    profile_dir = settings.paths.profile_data_dir(name)
    if delete_ledger and profile_dir.exists():
        shutil.rmtree(profile_dir)
    return RemovedProfile(
        name=name,
        ledger_file=str(settings.paths.ledger_file(name)),
        ledger_deleted=delete_ledger,
        was_default=was_default,
    )
