"""Typed settings: every registry entry is a typed attribute that still says where it came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl import envvars
from joyctl.api_contract import REVISION, all_required_scopes
from joyctl.paths import Paths
from joyctl.settings import (
    SANDBOX_BASE_URL,
    SANDBOX_WEBHOOK_ENDPOINT,
    SPECS,
    Profile,
    Resolved,
    Settings,
    TypedSetting,
    load_settings,
    spec_for,
)

SHOP = '[profiles.shop]\nbase_url = "http://127.0.0.1:9000"\n'


def _settings(
    home: Path, toml: str = "", environ: dict[str, str] | None = None, flag: str | None = None
) -> Settings:
    paths = Paths(home / "config", home / "data", home / "cache")
    if toml:
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        paths.config_file.write_text(toml, encoding="utf-8")
    return load_settings(paths, environ or {}, flag)


def _typed_attributes(holder: type[Any]) -> dict[str, TypedSetting[Any]]:
    return {name: v for name, v in vars(holder).items() if isinstance(v, TypedSetting)}


def test_every_registry_entry_is_a_typed_attribute_of_its_scope() -> None:
    for holder, scope in ((Settings, "global"), (Profile, "profile")):
        typed = _typed_attributes(holder)
        assert sorted(typed) == sorted(spec.key for spec in SPECS if spec.scope == scope)
        assert all(attribute.key == name for name, attribute in typed.items())


def test_global_defaults_are_typed_and_say_default(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert (settings.keyring_timeout, settings.webhook_tolerance) == (5.0, 300.0)
    assert type(settings.webhook_tolerance) is float  # the receiver compares it with clock deltas
    resolved = Settings.keyring_timeout.resolved_in(settings)
    assert resolved == Resolved("keyring_timeout", 5.0, "default")
    assert settings.profile_name == Resolved("default_profile", "sandbox", "default")


def test_global_values_from_file_and_environment_keep_their_source(tmp_path: Path) -> None:
    toml = f'keyring_timeout = 2\nwebhook_tolerance = 60\ndefault_profile = "shop"\n{SHOP}'
    settings = _settings(tmp_path, toml, {envvars.KEYRING_TIMEOUT: "1.5"})
    assert Settings.keyring_timeout.resolved_in(settings) == Resolved("keyring_timeout", 1.5, "env")
    tolerance = Settings.webhook_tolerance.resolved_in(settings)
    assert tolerance == Resolved("webhook_tolerance", 60.0, "file")
    assert settings.profile_name == Resolved("default_profile", "shop", "file")
    assert settings.profile.name == "shop"


def test_the_profile_name_says_env_or_flag(tmp_path: Path) -> None:
    toml = f'{SHOP}[profiles.other]\nbase_url = "http://127.0.0.1:9001"\n'
    from_env = _settings(tmp_path, toml, {envvars.PROFILE: "other"})
    assert from_env.profile_name == Resolved("default_profile", "other", "env")
    from_flag = _settings(tmp_path, toml, {envvars.PROFILE: "other"}, flag="shop")
    assert from_flag.profile_name == Resolved("profile", "shop", "flag")
    assert from_flag.profile.name == "shop"


def test_profile_settings_are_typed_and_keep_their_source(tmp_path: Path) -> None:
    toml = SHOP + (
        'redirect_port = 8800\nrequired_scopes = ["accounts:read", "reviews:read"]\n'
        "review_permission_cutover = 2025-06-01T00:00:00\n"
    )
    environ = {envvars.CLIENT_ID: "client-1", envvars.REVISION: "2026-01-15"}
    profile = _settings(tmp_path, toml, environ).get_profile("shop")

    assert Profile.redirect_port.resolved_in(profile) == Resolved("redirect_port", 8800, "file")
    assert Profile.client_id.resolved_in(profile) == Resolved("client_id", "client-1", "env")
    assert Profile.revision.resolved_in(profile) == Resolved("revision", "2026-01-15", "env")
    token_url = Profile.token_url.resolved_in(profile)
    assert token_url == Resolved("token_url", "http://127.0.0.1:9000/oauth/token", "default")
    assert profile.base_url == "http://127.0.0.1:9000"
    assert profile.required_scopes == ["accounts:read", "reviews:read"]
    assert profile.webhook_endpoint is None
    # TOML reads an unquoted time as a datetime; the typed value is its text.
    assert (profile.review_permission_cutover or "")[:10] == "2025-06-01"


def test_an_unset_optional_setting_is_none_with_source_default(tmp_path: Path) -> None:
    profile = _settings(tmp_path, SHOP).get_profile("shop")
    assert Profile.client_id.resolved_in(profile) == Resolved("client_id", None, "default")
    assert profile.revision == REVISION
    assert profile.required_scopes == list(all_required_scopes())


def test_the_sandbox_profile_reports_its_builtin_values(tmp_path: Path) -> None:
    profile = _settings(tmp_path).profile
    assert profile.builtin
    base_url = Profile.base_url.resolved_in(profile)
    assert base_url == Resolved("base_url", SANDBOX_BASE_URL, "builtin")
    endpoint = Profile.webhook_endpoint.resolved_in(profile)
    assert endpoint == Resolved("webhook_endpoint", SANDBOX_WEBHOOK_ENDPOINT, "builtin")


def test_a_hand_edited_number_in_quotes_is_checked_and_read_as_a_number(tmp_path: Path) -> None:
    profile = _settings(tmp_path, SHOP + 'redirect_port = "8800"\n').get_profile("shop")
    assert profile.redirect_port == 8800
    assert profile.values["redirect_port"] == Resolved("redirect_port", 8800, "file")


@pytest.fixture(scope="module")
def no_file(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    home = tmp_path_factory.mktemp("typed-settings")
    return Paths(home / "config", home / "data", home / "cache")


@given(port=st.integers(min_value=0, max_value=65535))
def test_a_port_set_in_the_file_reads_back_as_that_int(no_file: Paths, port: int) -> None:
    section = {"redirect_port": spec_for("redirect_port").parse(str(port))}
    settings = Settings(no_file, {"profiles": {"shop": section}}, {}, None, {})
    profile = settings.get_profile("shop")
    assert Profile.redirect_port.resolved_in(profile) == Resolved("redirect_port", port, "file")


@given(seconds=st.floats(min_value=0.1, max_value=600, allow_nan=False, allow_infinity=False))
def test_a_keyring_timeout_from_the_environment_reads_back_as_that_float(
    no_file: Paths, seconds: float
) -> None:
    settings = load_settings(no_file, {envvars.KEYRING_TIMEOUT: repr(seconds)}, None)
    resolved = Settings.keyring_timeout.resolved_in(settings)
    assert resolved == Resolved("keyring_timeout", seconds, "env")


@pytest.mark.parametrize("module", ["joyctl.settings", "joyctl.api_contract"])
def test_settings_never_load_the_klaviyo_layer(module: str) -> None:
    # A fresh interpreter: this one has imported the Klaviyo layer for other tests.
    program = (
        f"import json, sys, {module}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('joyctl.klaviyo'))))\n"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(src), "PATH": ""},
        check=True,
    )
    assert json.loads(done.stdout) == []
