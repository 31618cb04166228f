"""Settings precedence (flag > JOYCTL_* environment > config.toml > default) and `config`."""

from __future__ import annotations

import json
from pathlib import Path

from joyctl.config_file import read_config
from tests.conftest import Cli


def _data(cli: Cli, *args: str, env: dict[str, str] | None = None) -> object:
    result = cli("--json", *args, env=env)
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)["data"]


def _get(cli: Cli, key: str, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    data = _data(cli, *args, "config", "get", key, env=env)
    assert isinstance(data, dict)
    return data


def test_profile_precedence_flag_env_file_default(cli: Cli) -> None:
    assert cli("profiles", "add", "fromfile", "--base-url", "http://127.0.0.1:1").exit_code == 0
    assert cli("profiles", "add", "fromenv", "--base-url", "http://127.0.0.1:2").exit_code == 0
    assert cli("profiles", "add", "fromflag", "--base-url", "http://127.0.0.1:3").exit_code == 0

    view = _data(cli, "config", "show")
    assert isinstance(view, dict)
    assert (view["profile"], view["profile_source"]) == ("sandbox", "default")

    assert cli("profiles", "use", "fromfile").exit_code == 0
    view = _data(cli, "config", "show")
    assert isinstance(view, dict)
    assert (view["profile"], view["profile_source"]) == ("fromfile", "file")

    view = _data(cli, "config", "show", env={"JOYCTL_PROFILE": "fromenv"})
    assert isinstance(view, dict)
    assert (view["profile"], view["profile_source"]) == ("fromenv", "env")

    view = _data(cli, "--profile", "fromflag", "config", "show", env={"JOYCTL_PROFILE": "fromenv"})
    assert isinstance(view, dict)
    assert (view["profile"], view["profile_source"]) == ("fromflag", "flag")


def test_profile_setting_precedence_env_file_default(cli: Cli) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    assert _get(cli, "revision", "-p", "shop")["source"] == "default"
    assert cli("-p", "shop", "config", "set", "revision", "2025-10-15").exit_code == 0
    got = _get(cli, "revision", "-p", "shop")
    assert (got["value"], got["source"]) == ("2025-10-15", "file")
    got = _get(cli, "revision", "-p", "shop", env={"JOYCTL_REVISION": "2026-01-15"})
    assert (got["value"], got["source"]) == ("2026-01-15", "env")


def test_oauth_urls_follow_the_base_url(cli: Cli) -> None:
    assert cli("profiles", "add", "local", "--base-url", "http://127.0.0.1:9000/").exit_code == 0
    token = _get(cli, "token_url", "-p", "local")
    assert token["value"] == "http://127.0.0.1:9000/oauth/token"
    assert cli("profiles", "add", "live").exit_code == 0
    authorize = _get(cli, "authorize_url", "-p", "live")
    assert authorize["value"] == "https://www.klaviyo.com/oauth/authorize"
    assert _get(cli, "token_url", "-p", "live")["value"] == "https://a.klaviyo.com/oauth/token"


def test_set_validates_key_and_value(cli: Cli, isolated_home: Path) -> None:
    unknown = cli("config", "set", "colour", "blue")
    assert unknown.exit_code == 2
    assert "unknown setting" in unknown.stderr
    assert "known settings" in unknown.stderr
    bad_port = cli("config", "set", "redirect_port", "99999")
    assert bad_port.exit_code == 2
    assert "out of range" in bad_port.stderr
    assert "0 to 65535" in bad_port.stderr
    assert not (isolated_home / "config" / "config.toml").exists()


def test_set_global_and_profile_settings_land_in_the_right_table(
    cli: Cli, isolated_home: Path
) -> None:
    assert cli("config", "set", "keyring_timeout", "2.5").exit_code == 0
    assert cli("config", "set", "redirect_port", "9123").exit_code == 0
    data = read_config(isolated_home / "config" / "config.toml")
    assert data["keyring_timeout"] == 2.5
    assert data["profiles"]["sandbox"]["redirect_port"] == 9123


def test_sandbox_base_url_is_fixed(cli: Cli) -> None:
    result = cli("config", "set", "base_url", "https://example.com")
    assert result.exit_code == 2
    assert "embedded emulator" in result.stderr


def test_broken_config_file_is_a_clear_error(cli: Cli, isolated_home: Path) -> None:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("profiles = [", encoding="utf-8")
    result = cli("config", "show")
    assert result.exit_code == 2
    assert "is not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_joyctl_home_moves_every_directory(cli: Cli, isolated_home: Path) -> None:
    data = _data(cli, "config", "path")
    assert isinstance(data, dict)
    for key in ("config_dir", "data_dir", "cache_dir", "ledger_file"):
        assert data[key].startswith(str(isolated_home))
