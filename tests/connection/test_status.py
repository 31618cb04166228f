"""`joyctl status`: exit codes and the documented `--json` shape."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from joyctl import envvars
from tests.conftest import Cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _status(cli: Cli, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    result = cli("--json", *args, "status", env=env)
    assert result.stderr == ""
    return result.exit_code, json.loads(result.stdout)["data"]


def _documented_keys() -> set[str]:
    section = README.read_text(encoding="utf-8").split("## Status JSON", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_.]+)` \|", section, re.MULTILINE))


def _flatten(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict) and key not in ("capabilities",):
            keys |= _flatten(value, f"{prefix}{key}.")
    return keys


def test_a_profile_that_never_connected_exits_4_with_the_fix(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--client-id", "abc").exit_code == 0
    code, report = _status(cli, "--profile", "shop")
    assert code == 4
    assert report["connected"] is False and report["ok"] is False
    assert report["problem"]["code"] == "not_connected"
    assert "looked up in this order" in report["problem"]["hint"]
    assert report["fix"] == "joyctl --profile shop connect"
    assert report["storage"]["available"] is True
    assert report["scopes"]["required"]


def test_plain_output_names_the_problem_and_fix(cli: Cli) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    result = cli("--profile", "shop", "status")
    assert result.exit_code == 4
    assert "connected     no" in result.stdout
    assert "error: not connected" in result.stderr
    assert "joyctl --profile shop connect" in result.stderr


def test_two_environment_credentials_are_refused_without_the_keyring(cli: Cli) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    env = {envvars.API_KEY: "pk_aaaaaaaaaaaaaaaa", envvars.ACCESS_TOKEN: "token-bbbbbbbb"}
    code, report = _status(cli, "--profile", "shop", env=env)
    assert code == 2  # a usage error, as in every other command
    assert "both" in report["problem"]["message"]
    assert report["storage"] is None


def test_every_json_field_is_documented(cli: Cli) -> None:
    code, report = _status(cli, "--profile", "sandbox")
    assert code == 4  # the sandbox starts with a legacy grant
    fields = _flatten(report)
    fields |= {f"features.{key}" for key in report["features"][0]}
    fields |= {f"storage.secrets.{key}" for key in report["storage"]["secrets"][0]}
    assert fields == _documented_keys()
