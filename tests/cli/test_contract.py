"""The output and exit-code contract: codes, JSON envelope, stderr discipline, the boundary."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from joyctl.errors import ExitCode, JoyctlError
from tests.conftest import Cli

README = Path(__file__).resolve().parents[2] / "README.md"

EXPECTED = {
    "OK": 0,
    "ERROR": 1,
    "USAGE": 2,
    "DATA": 3,
    "AUTH": 4,
    "REMOTE": 5,
    "CHECK_FAILED": 6,
    "PARTIAL": 7,
    "INTERRUPTED": 130,
}


def test_exit_codes_are_exactly_the_documented_ones() -> None:
    assert {code.name: code.value for code in ExitCode} == EXPECTED


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(title, 1)[1].split("\n#", 1)[0]


def test_readme_documents_every_exit_code() -> None:
    section = _readme_section("## Exit codes")
    documented = {int(code) for code in re.findall(r"^\| `?(\d+)`? \|", section, re.MULTILINE)}
    assert documented == set(EXPECTED.values())


def test_readme_gives_examples_for_every_failure_the_user_can_fix() -> None:
    rows = re.findall(r"^\| `(\d+)` \| (.+?) \| (.*?) \|$", _readme_section("## Exit codes"), re.M)
    examples = {int(code): example for code, _, example in rows}
    for code in (2, 3, 4, 5, 6, 7, 130):
        assert examples[code].strip(), f"exit code {code} has no example"


def test_readme_says_what_every_setting_and_variable_allows() -> None:
    from joyctl import envvars
    from joyctl.settings import SPECS

    settings = _readme_section("## Profiles and configuration")
    for spec in SPECS:
        assert f"`{spec.key}`" in settings, spec.key
    variables = _readme_section("### Environment variables")
    for name, value in vars(envvars).items():
        if name.isupper() and isinstance(value, str):
            assert re.search(rf"^\| `{value}` \|.*\|.*\|$", variables, re.M), value


def test_a_missing_command_under_json_is_an_envelope(cli: Cli) -> None:
    result = cli("--json", "ledger")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == ""
    envelope = json.loads(result.stdout)
    assert envelope["error"]["code"] == "usage"
    assert "joyctl ledger --help" in envelope["error"]["hint"]


def test_an_error_without_a_hint_gets_one_for_its_kind(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object, **__: object) -> None:
        raise JoyctlError("remote down", code="remote", exit_code=ExitCode.REMOTE)

    monkeypatch.setattr("joyctl.services.setup.config.config_paths", fail)
    result = cli("config", "path")
    assert result.exit_code == ExitCode.REMOTE
    assert result.stderr.splitlines() == [
        "error: remote down",
        "hint: rerun later; `joyctl status` checks the connection to Klaviyo",
    ]


def test_warnings_under_json_go_into_the_envelope_not_stderr() -> None:
    import io

    from joyctl.errors import RemoteError
    from joyctl.output import Output

    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(json_mode=True, stdout=stdout, stderr=stderr)
    out.warn("waiting 2.0s: Klaviyo rate-limited get_reviews (429)")
    out.error(RemoteError("Klaviyo kept throttling get_reviews", hint="rerun later"))
    envelope = json.loads(stdout.getvalue())
    assert envelope["warnings"] == ["waiting 2.0s: Klaviyo rate-limited get_reviews (429)"]
    assert stderr.getvalue() == ""


def test_unknown_option_is_a_usage_error(cli: Cli) -> None:
    result = cli("--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    assert result.stdout == ""


def test_usage_error_under_json_is_an_envelope(cli: Cli) -> None:
    result = cli("--json", "config", "get")
    assert result.exit_code == 2
    envelope = json.loads(result.stdout)
    assert envelope["schema"] == "joyctl/1"
    assert envelope["error"]["code"] == "usage"
    assert result.stderr == ""


def test_handled_error_under_json_has_an_empty_stderr(cli: Cli) -> None:
    result = cli("--json", "--profile", "missing", "config", "show")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == ""
    envelope = json.loads(result.stdout)
    assert set(envelope) == {"schema", "error"}
    assert set(envelope["error"]) == {"code", "message", "hint"}
    assert envelope["error"]["code"] == "not_found"
    assert "profiles add missing" in envelope["error"]["hint"]


def test_success_envelope_holds_the_data(cli: Cli) -> None:
    result = cli("--json", "config", "path")
    assert result.exit_code == 0
    assert result.stderr == ""
    envelope = json.loads(result.stdout)
    assert set(envelope) == {"schema", "data"}
    assert envelope["data"]["config_file"].endswith("config.toml")


def _explode(*_: object, **__: object) -> None:
    raise RuntimeError("secret-value-should-not-leak")


def test_unexpected_exception_is_one_line_and_exit_1(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("joyctl.services.setup.config.config_paths", _explode)
    result = cli("config", "path")
    assert result.exit_code == ExitCode.ERROR
    assert "internal error: RuntimeError" in result.stderr
    assert "rerun with --debug" in result.stderr
    assert "Traceback" not in result.stderr
    assert "secret-value-should-not-leak" not in result.stderr


def test_debug_shows_the_traceback(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("joyctl.services.setup.config.config_paths", _explode)
    result = cli("--debug", "config", "path")
    assert result.exit_code == ExitCode.ERROR
    assert "Traceback" in result.stderr


def test_joyctl_errors_carry_their_exit_code(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object, **__: object) -> None:
        raise JoyctlError("remote down", code="remote", exit_code=ExitCode.REMOTE, hint="retry")

    monkeypatch.setattr("joyctl.services.setup.config.config_paths", fail)
    result = cli("config", "path")
    assert result.exit_code == 5
    assert "error: remote down" in result.stderr
    assert "hint: retry" in result.stderr


def test_no_color_env_means_no_escape_codes(cli: Cli) -> None:
    result = cli("--profile", "missing", "config", "show", env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stderr


def test_piped_tables_are_plain_tab_separated(cli: Cli) -> None:
    result = cli("profiles", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "\tNAME\tBASE URL\tACCOUNT"
    assert "\x1b[" not in result.stdout
