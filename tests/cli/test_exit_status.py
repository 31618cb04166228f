"""Commands hand their exit status to the boundary; a partial result is printed, then reported."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from joyctl.commands._common import exit_after
from joyctl.context import AppContext
from joyctl.errors import CheckFailedError, ExitCode, PartialError
from joyctl.output import Output

COMMANDS = Path(__file__).resolve().parents[2] / "src" / "joyctl" / "commands"


def _app(*, json_mode: bool) -> tuple[AppContext, io.StringIO, io.StringIO]:
    stdout, stderr = io.StringIO(), io.StringIO()
    return (
        AppContext(output=Output(stdout=stdout, stderr=stderr, json_mode=json_mode)),
        stdout,
        stderr,
    )


def test_exit_after_names_what_failed_on_stderr_and_returns_the_code() -> None:
    app, stdout, stderr = _app(json_mode=False)
    error = PartialError("4 records quarantined in bad.jsonl", hint="fix them and import again")

    code = exit_after(app, error)

    assert code is ExitCode.PARTIAL
    assert stdout.getvalue() == ""
    # A partial success is a warning: the rest of the work was done.
    assert "warning: 4 records quarantined in bad.jsonl" in stderr.getvalue()
    assert "error:" not in stderr.getvalue()
    assert "hint: fix them and import again" in stderr.getvalue()


def test_a_failed_check_is_an_error() -> None:
    app, _, stderr = _app(json_mode=False)
    assert exit_after(app, CheckFailedError("the ledger breaks 2 invariants")) == 6
    assert "error: the ledger breaks 2 invariants" in stderr.getvalue()


@pytest.mark.parametrize(
    ("error", "expected"),
    [(PartialError("partial"), ExitCode.PARTIAL), (CheckFailedError("broken"), 6)],
)
def test_exit_after_under_json_leaves_the_result_envelope_alone(
    error: PartialError | CheckFailedError, expected: int
) -> None:
    app, stdout, stderr = _app(json_mode=True)

    assert exit_after(app, error) == expected
    assert (stdout.getvalue(), stderr.getvalue()) == ("", "")


def test_no_command_exits_by_itself_with_a_number() -> None:
    # Exit statuses are ExitCode members returned to cli.run(), never raised from a command.
    numbered = re.compile(r"typer\.Exit\(\s*[^)\s]|SystemExit\(|sys\.exit\(")
    found = [
        f"{path.relative_to(COMMANDS)}:{number}"
        for path in sorted(COMMANDS.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if numbered.search(line)
    ]
    assert found == []
