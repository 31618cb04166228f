"""Settings from any text or any TOML value: only joyctl's own errors, and only usable values.

`config set` with arbitrary text for every key, every `JOYCTL_*` variable with arbitrary text,
and every key of config.toml holding an arbitrary TOML value: each is refused with a ConfigError
that names where the value came from, or accepted as a value that `config show` then reads back
unchanged. Nothing else escapes (no ValueError, OverflowError, TypeError or RecursionError).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joyctl import envvars, values
from joyctl.errors import ConfigError
from joyctl.paths import Paths, resolve_paths
from joyctl.settings import (
    KEYRING_TIMEOUT_RANGE,
    SPECS,
    WEBHOOK_TOLERANCE_RANGE,
    Settings,
    load_settings,
    spec_for,
)
from tests.conftest import Cli

SHOP = '[profiles.shop]\nbase_url = "http://127.0.0.1:9"\n'
ENV_SPECS = [spec for spec in SPECS if spec.env]

# Text a person might type: anything at all, and text close to what each setting takes.
typed_text = st.one_of(
    st.text(max_size=80),
    st.floats().map(repr),
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**40).map(str),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "1e-300",
            "1e400",
            "0",
            "-1",
            "65536",
            "0x10",
            " 5 ",
            "5s",
            "http://",
            "http://[::1",
            "https://a.klaviyo.com:99999",
            "https://exa mple.com",
            "ftp://a.klaviyo.com",
            "https://a.klaviyo.com/",
            "reviews:read lists:write",
            "2026-07-15",
            "2026-02-30",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01",
            "sandbox",
            "a b",
            "",
            "9" * 5000,
        ]
    ),  # fmt: skip
)

# Anything a TOML file can hold for a key.
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=40),
    st.datetimes(timezones=st.just(UTC)),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _paths(home: Path) -> Paths:
    return resolve_paths({envvars.HOME: str(home)})


def _checked(paths: Paths, environ: dict[str, str], profile: str | None = None) -> Settings:
    settings = load_settings(paths, environ, profile)
    settings.check()
    return settings


def _assert_in_bounds(key: str, value: Any) -> None:
    """What an accepted value may be, whatever text or TOML it came from."""
    if key == "keyring_timeout":
        low, high = KEYRING_TIMEOUT_RANGE
        assert math.isfinite(value) and low <= value <= high
    elif key == "webhook_tolerance":
        assert WEBHOOK_TOLERANCE_RANGE[0] <= value <= WEBHOOK_TOLERANCE_RANGE[1]
    elif key == "redirect_port":
        assert 0 <= value <= 65535
    elif isinstance(value, str):
        assert value.isprintable() and len(value) <= values.URL_LIMIT
    if key == "review_permission_cutover" and value is not None:
        assert values.EARLIEST <= datetime.fromisoformat(value) <= values.LATEST


@given(text=typed_text)
@pytest.mark.parametrize("spec", SPECS, ids=[spec.key for spec in SPECS])
def test_any_text_is_a_bounded_value_or_a_config_error(spec: Any, text: str) -> None:
    try:
        value = spec.parse(text)
    except ConfigError as error:
        assert error.message.startswith(f"{spec.key}: ")
        assert "\n" not in error.message and error.hint
        return
    _assert_in_bounds(spec.key, value)
    # What was accepted reads back as itself: `config show` can use what `config set` saved.
    again = " ".join(value) if isinstance(value, list) else str(value)
    assert spec.parse(again) == value


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bounded-settings")


@pytest.fixture(scope="module")
def config_cli(home: Path) -> Cli:
    names = {v for k, v in vars(envvars).items() if k.isupper() and isinstance(v, str)}
    environ = {k: v for k, v in os.environ.items() if k not in names and k != "CI"}
    return Cli({**environ, envvars.HOME: str(home)})


def _reset(paths: Paths, text: str = SHOP) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(text, encoding="utf-8")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=typed_text.filter(lambda text: text.strip() not in {"--help", "-h"}))
@pytest.mark.parametrize("spec", SPECS, ids=[spec.key for spec in SPECS])
def test_config_set_saves_only_what_config_show_can_use(
    home: Path, config_cli: Cli, spec: Any, text: str
) -> None:
    paths = _paths(home)
    _reset(paths)
    profile = ["-p", "shop"] if spec.scope == "profile" else []
    saved = config_cli.run([*profile, "--json", "config", "set", spec.key, text])
    assert saved.exit_code in (0, 2), saved.stdout
    envelope = json.loads(saved.stdout)
    if saved.exit_code == 2:
        assert envelope["error"]["code"] in ("config", "not_found")
        assert envelope["error"]["hint"]
        assert paths.config_file.read_text(encoding="utf-8") == SHOP  # nothing saved
        return
    shown = config_cli.run([*profile, "--json", "config", "get", spec.key])
    assert shown.exit_code == 0, shown.stdout
    assert json.loads(shown.stdout)["data"]["value"] == envelope["data"]["value"]


@settings(deadline=None)
@given(text=typed_text.filter(lambda text: "\x00" not in text))
@pytest.mark.parametrize("spec", ENV_SPECS, ids=[spec.key for spec in ENV_SPECS])
def test_any_environment_value_is_usable_or_named(spec: Any, text: str) -> None:
    paths = Paths(Path("/nonexistent/config"), Path("/nonexistent/data"), Path("/x"))
    try:
        settings = _checked(paths, {spec.env: text}, "sandbox")
    except ConfigError as error:
        # An empty variable is unset; anything else wrong is named by the variable.
        assert error.message.startswith(spec.env) or "no profile named" in error.message
        assert f"unset {spec.env}" in (error.hint or "") or "profiles" in (error.hint or "")
        return
    holder = settings if spec.scope == "global" else settings.profile
    found = holder.resolved(spec.key)
    if text.strip() and spec.key != "base_url":  # the sandbox profile keeps its own URL
        assert found.source == "env"
        _assert_in_bounds(spec.key, found.value)


@pytest.fixture
def toml_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    yield _paths(tmp_path_factory.mktemp("toml-values"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=toml_values)
@pytest.mark.parametrize("spec", SPECS, ids=[spec.key for spec in SPECS])
def test_any_toml_value_is_usable_or_names_file_key_and_what_is_allowed(
    toml_home: Paths, spec: Any, value: Any
) -> None:
    shop: dict[str, Any] = {"base_url": "http://127.0.0.1:9"}
    document: dict[str, Any] = {"profiles": {"shop": shop}}
    (document if spec.scope == "global" else shop)[spec.key] = value
    _reset(toml_home, tomli_w.dumps(document))
    try:
        settings = _checked(toml_home, {}, "shop")
    except ConfigError as error:
        assert str(toml_home.config_file) in error.message
        assert "\n" not in error.message and error.hint
        if spec.key != "default_profile" or "no profile named" not in error.message:
            assert spec.key in error.message
        return
    holder = settings if spec.scope == "global" else settings.profile
    _assert_in_bounds(spec.key, holder.resolved(spec.key).value)


def test_what_each_setting_allows_is_in_config_set_help(config_cli: Cli) -> None:
    shown = config_cli.run(["config", "set", "--help"])
    text = " ".join(shown.stdout.split())
    for spec in SPECS:
        assert spec.key in text
    assert "0.1 to 600" in text and "1 to 604800" in text and "0 to 65535" in text
    assert spec_for("keyring_timeout").allowed == "a number of seconds from 0.1 to 600"
