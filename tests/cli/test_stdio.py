"""`-` is stdin for a file joyctl reads and stdout for one it writes; never a file named `-`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli

CUSTOMERS = b"email,points\nann@example.com,10\nbob@example.com,20\nnot-an-email,5\n"


@pytest.fixture
def in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_ledger_import_reads_stdin_with_format(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, in_cwd: Path
) -> None:
    _stdin(monkeypatch, CUSTOMERS)

    result = cli("--json", "ledger", "import", "-", "--format", "csv")

    assert result.exit_code == 7
    summary = json.loads(result.stdout)["data"]
    assert (summary["file"], summary["customers_created"], summary["quarantined"]) == (
        "stdin",
        2,
        1,
    )
    assert (in_cwd / "stdin.quarantine.jsonl").exists()
    assert not (in_cwd / "-").exists()


def test_ledger_import_from_stdin_needs_format(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, in_cwd: Path
) -> None:
    _stdin(monkeypatch, CUSTOMERS)
    result = cli("ledger", "import", "-")
    assert result.exit_code == 2
    assert "--format csv" in result.stderr


def test_ledger_export_to_dash_is_stdout(cli: Cli, in_cwd: Path) -> None:
    result = cli("ledger", "export", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("email,")
    assert "written to stdout" in result.stderr
    assert not (in_cwd / "-").exists()


def test_an_export_piped_into_an_import_round_trips(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, in_cwd: Path
) -> None:
    exported = cli("ledger", "export", "--format", "jsonl", "-o", "-").stdout
    _stdin(monkeypatch, exported.encode("utf-8"))
    result = cli("--json", "ledger", "import", "-", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["data"]["records"] == len(exported.splitlines())


def test_reviews_simulate_reads_stdin(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    review = {"id": "r1", "email": "nobody@example.com", "content": "Lovely tea, really lovely"}
    _stdin(monkeypatch, (json.dumps(review) + "\n").encode("utf-8"))

    result = cli("--json", "reviews", "simulate", "--file", "-")

    assert result.exit_code == 0, result.stderr
    [decision] = json.loads(result.stdout)["data"]["decisions"]
    assert decision["review_id"] == "r1"


def test_a_bad_review_on_stdin_is_quarantined_beside_no_file(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, in_cwd: Path
) -> None:
    _stdin(monkeypatch, b"{not json\n")
    result = cli("reviews", "simulate", "--file", "-")
    assert result.exit_code == 7
    assert "quarantined in stdin.quarantine.jsonl" in result.stderr
    assert (in_cwd / "stdin.quarantine.jsonl").exists()


def test_program_set_reads_toml_from_stdin(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, b"points_per_review = 60\nmin_characters = 20\n")
    assert cli("program", "set", "--from-file", "-").exit_code == 0
    shown = json.loads(cli("--json", "program", "show").stdout)["data"]["settings"]
    values = {item["key"]: item["value"] for item in shown}
    assert (values["points_per_review"], values["min_characters"]) == (60, 20)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["diagnose", "--bundle", "-"], "--bundle"),
        (["ledger", "backup", "-"], "FILE"),
        (["ledger", "import", "x.csv", "--quarantine", "-"], "--quarantine"),
        (["sandbox", "serve", "--state", "-"], "--state"),
        (["--json", "smoke", "--junit", "-"], "--junit"),
    ],
)
def test_where_dash_cannot_work_it_says_why_and_writes_nothing(
    cli: Cli, in_cwd: Path, args: list[str], option: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert option in (result.stderr + result.stdout)
    assert not (in_cwd / "-").exists()
