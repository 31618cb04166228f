"""Every bad input of the corpus (tests/cli/bad_inputs.py) through the real CLI.

Each case runs in this process through `cli.run` (the same boundary as the installed command),
once as text and once with --json, in a home holding two ledgers with rows in them: the
built-in sandbox profile's and the `shop` profile's, whose Klaviyo is a loopback server that
answers as the case says. The OS keyring is unusable throughout, so a command that looked for a
credential before checking its arguments would exit 4 instead of 2, and a command that called
Klaviyo before checking them would reach the server (it counts requests). Each case must:
exit with the documented code; say one error line and one hint line (the JSON error envelope,
with stderr empty, under --json); never say "internal error" or show a traceback; leave every
ledger row, and config.toml, as they were; and leave `ledger verify` passing. The cases marked
`subprocess` also run in a fresh interpreter, as a user would run them (each in its own copy of
the home, two at a time).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import keyring
import pytest

from joyctl import envvars
from joyctl.errors import ExitCode
from joyctl.paths import resolve_paths
from tests.cli.bad_inputs import CASES, Case
from tests.conftest import Cli, Result
from tests.credentials.memory_keyring import no_backend

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = "email,first_name,points\nann@example.com,Ann,120\nbob@example.com,Bob,0\n"
EVENTS = '{"email": "ann@example.com", "metric": "Placed Order", "time": "2026-01-02T00:00Z"}\n'

# What the loopback Klaviyo answers: (status, headers, body).
ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "text": (200, {"content-type": "text/plain"}, b"hello"),
    "json_list": (200, {"content-type": "application/json"}, b"[1, 2]"),
    "empty": (200, {"content-type": "application/vnd.api+json"}, b""),
    "not_jsonapi": (200, {"content-type": "application/vnd.api+json"}, b'{"foo": 1}'),
    "html_501": (501, {"content-type": "text/html"}, b"<html>not implemented</html>"),
    "rate_limited": (429, {"content-type": "text/plain", "retry-after": "0.01"}, b"slow down"),
    "unauthorized": (401, {"content-type": "text/plain"}, b"no"),
}


class HostileKlaviyo:
    """A loopback server that answers every request the same way, and counts them."""

    def __init__(self) -> None:
        self.answer: str | None = None
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _reply(self) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests += 1
            answer = self.answer
        # A case that expects no request gets one it can tell from any real answer.
        return ANSWERS.get(answer or "", (418, {"content-type": "text/plain"}, b"unexpected"))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        klaviyo = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                status, headers, body = klaviyo._reply()
                self.send_response(status)
                for name, value in {**headers, "content-length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


@dataclass
class Corpus:
    """The prepared home, its files, the loopback Klaviyo and a runner."""

    home: Path
    klaviyo: HostileKlaviyo
    cli: Cli
    files: dict[str, str] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return resolve_paths({envvars.HOME: str(self.home)}).config_file

    def base_config(self) -> str:
        return f'[profiles.shop]\nbase_url = "{self.klaviyo.url}"\n'

    def write_config(self, case: Case) -> None:
        self.config_file.write_text(_config_text(self, case), encoding="utf-8")

    def args(self, case: Case) -> list[str]:
        return [arg.format(**self.files) if "{" in arg else arg for arg in case.args]

    def env(self, case: Case) -> dict[str, str]:
        return {k: v.format(**self.files) if "{" in v else v for k, v in case.env.items()}

    def snapshot(self) -> dict[str, Any]:
        return _snapshot(self.home)


def _config_text(corpus: Corpus, case: Case) -> str:
    if case.config is None:
        return corpus.base_config()
    return case.config if case.alone else case.config + "\n" + corpus.base_config()


def _snapshot(home: Path) -> dict[str, Any]:
    """Every row of every ledger under the home, with the schema."""
    ledgers = sorted((home / "data").rglob("ledger.sqlite3"))
    return {str(path.relative_to(home)): _rows(path) for path in ledgers}


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        rows = {"sqlite_master": connection.execute("SELECT * FROM sqlite_master").fetchall()}
        for name in tables:
            if connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()[0]:
                rows[name] = connection.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608
        return rows
    finally:
        connection.close()


def _clean_environ(home: Path) -> dict[str, str]:
    names = {v for k, v in vars(envvars).items() if k.isupper() and isinstance(v, str)}
    environ = {k: v for k, v in os.environ.items() if k not in names and k != "CI"}
    environ.update({envvars.HOME: str(home), "COLUMNS": "100"})
    return environ


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    previous = keyring.get_keyring()
    keyring.set_keyring(no_backend())
    home = tmp_path_factory.mktemp("corpus") / "home"
    klaviyo = HostileKlaviyo()
    corpus = Corpus(home, klaviyo, Cli(_clean_environ(home)))
    try:
        _prepare(corpus, tmp_path_factory.mktemp("corpus-files"))
        yield corpus
    finally:
        klaviyo.close()
        keyring.set_keyring(previous)


def _prepare(corpus: Corpus, folder: Path) -> None:
    """Two ledgers with rows (the sandbox seeds itself on first use), and the files cases use."""
    corpus.config_file.parent.mkdir(parents=True)
    corpus.config_file.write_text(corpus.base_config(), encoding="utf-8")
    customers = folder / "customers.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    events = folder / "events.jsonl"
    events.write_text(EVENTS, encoding="utf-8")
    notes = folder / "notes.txt"
    notes.write_text("not records\n", encoding="utf-8")
    (folder / "a-folder").mkdir()
    deep = folder / "deep.toml"
    deep.write_text("a = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    corpus.files.update(
        events=str(events),
        txt=str(notes),
        dir=str(folder / "a-folder"),
        missing=str(folder / "missing.jsonl"),
        inside_file=str(notes / "x.csv"),
        deep_toml=str(deep),
    )
    # `program show` opens the sandbox ledger, which seeds the profile once (config.toml too).
    seeding = ["program", "show"]
    for args in (seeding, ["ledger", "verify"], ["-p", "shop", "ledger", "import", str(customers)]):
        done = corpus.cli.run(args)
        assert done.exit_code == 0, done.stderr


@pytest.fixture
def unusable_keyring(corpus: Corpus) -> Iterator[None]:
    # The autouse memory keyring of conftest is replaced for each case, then given back.
    previous = keyring.get_keyring()
    keyring.set_keyring(no_backend())
    yield
    keyring.set_keyring(previous)


def _run_case(corpus: Corpus, case: Case, *, json_mode: bool) -> tuple[Result, int, bool]:
    """The result, the requests Klaviyo received, and whether config.toml stayed as written."""
    corpus.write_config(case)
    written = corpus.config_file.read_bytes()
    corpus.klaviyo.answer, corpus.klaviyo.requests = case.answer, 0
    args = ["--json", *corpus.args(case)] if json_mode else corpus.args(case)
    try:
        result = corpus.cli.run(args, env=corpus.env(case))
        kept = corpus.config_file.read_bytes() == written
    finally:
        corpus.write_config(Case("base", (), 0))
    return result, corpus.klaviyo.requests, kept


def _says(case: Case, text: str) -> None:
    assert case.says.lower() in text.lower(), f"expected {case.says!r} in {text!r}"


def check_text(case: Case, result: Result) -> None:
    assert result.exit_code == case.exit, result.stderr
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything
    assert "internal error" not in everything
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    at = errors[0]
    assert at + 1 < len(lines) and lines[at + 1].startswith("hint: "), result.stderr
    assert len(lines[at + 1]) > len("hint: "), result.stderr
    others = [line for line in lines if not line.startswith(("error: ", "hint: ", "warning: "))]
    assert others == [], result.stderr
    _says(case, lines[at] + " " + lines[at + 1])


def check_json(case: Case, result: Result) -> None:
    assert result.exit_code == case.exit, result.stdout
    assert result.stderr == ""
    envelope = json.loads(result.stdout)
    assert envelope["schema"] == "joyctl/1"
    problem = envelope.get("error") or envelope["data"]["problem"]
    assert problem["code"] != "internal"
    assert "\n" not in problem["message"]
    assert problem["hint"], envelope
    _says(case, f"{problem['message']} {problem['hint']}")
    if case.answer == "rate_limited":
        # The waits said on stderr without --json are in the envelope instead.
        assert envelope["warnings"] and all("waiting" in w for w in envelope["warnings"])


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_is_refused_as_documented(
    corpus: Corpus, unusable_keyring: None, case: Case, json_mode: bool
) -> None:
    before = corpus.snapshot()
    result, requests, config_kept = _run_case(corpus, case, json_mode=json_mode)
    (check_json if json_mode else check_text)(case, result)
    assert config_kept, "a refused command changed config.toml"
    if case.answer is None:
        assert requests == 0, "the command called Klaviyo before checking its input"
    assert corpus.snapshot() == before
    if not json_mode:
        for profile in ("sandbox", "shop"):
            verified = corpus.cli.run(["-p", profile, "ledger", "verify"])
            assert verified.exit_code == 0, verified.stdout


SUBPROCESS_CASES = [case for case in CASES if case.subprocess]


@dataclass(frozen=True)
class FreshRun:
    result: Result
    before: dict[str, Any]
    after: dict[str, Any]


@pytest.fixture(scope="module")
def fresh_runs(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, FreshRun]:
    """The subprocess cases, two at a time (one per core), each in its own copy of the home."""
    folder = tmp_path_factory.mktemp("fresh-runs")

    def run(case: Case) -> FreshRun:
        home = folder / case.id
        shutil.copytree(corpus.home, home)
        config = resolve_paths({envvars.HOME: str(home)}).config_file
        config.write_text(_config_text(corpus, case), encoding="utf-8")
        before = _snapshot(home)
        environ = {
            **corpus.cli.environ,
            envvars.HOME: str(home),
            **corpus.env(case),
            "PYTHONPATH": str(ROOT / "src"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        done = subprocess.run(
            [sys.executable, "-m", "joyctl", *corpus.args(case)],
            capture_output=True,
            text=True,
            env=environ,
            timeout=60,
            check=False,
        )
        return FreshRun(Result(done.returncode, done.stdout, done.stderr), before, _snapshot(home))

    corpus.klaviyo.answer, corpus.klaviyo.requests = None, 0  # none of them may reach Klaviyo
    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = [case.id for case in SUBPROCESS_CASES]
        runs = dict(zip(ids, pool.map(run, SUBPROCESS_CASES), strict=True))
    assert corpus.klaviyo.requests == 0
    return runs


@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[case.id for case in SUBPROCESS_CASES])
def test_a_bad_input_is_refused_by_the_installed_command(
    fresh_runs: dict[str, FreshRun], case: Case
) -> None:
    run = fresh_runs[case.id]
    check_text(case, run.result)
    assert run.after == run.before


def test_the_corpus_is_large_and_covers_every_kind_of_input() -> None:
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    assert any(case.answer for case in CASES) and any(case.config for case in CASES)
    assert {case.exit for case in CASES} >= {ExitCode.USAGE, ExitCode.DATA, ExitCode.REMOTE}
