"""A store profile pointing at a local Klaviyo emulator, and a `$BROWSER` that clicks "Allow".

The emulator runs in the test's process on a free port; the profile's redirect port is another
free port that the emulator's OAuth app allows, so tests never depend on port 8765 being free.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from joyctl import envvars
from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.conftest import Cli, Result

PROFILE = "shop"

FAST: dict[str, Any] = {
    "rate_limits": "off",
    "job_step_seconds": 0.05,
    "delivery_batch_seconds": 0.02,
    "save_debounce_seconds": 0.02,
}

# A browser for $BROWSER: it opens the authorize URL, approves (or denies) on the consent page
# when there is one, and delivers the redirect to joyctl's listener, optionally with a forged
# state. It uses only the standard library, since it runs as its own process.
BROWSER_SCRIPT = """#!{python}
import re, sys, urllib.error, urllib.parse, urllib.request

MODE = {mode!r}

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

opener = urllib.request.build_opener(NoRedirect)

def visit(url, data=None):
    try:
        with opener.open(url, data=data, timeout=10) as answer:
            return None, answer.read().decode()
    except urllib.error.HTTPError as redirect:
        return redirect.headers["Location"], ""

url = sys.argv[1]
location, page = visit(url)
if location is None:
    request_id = re.search("name='request_id' value='([^']+)'", page).group(1)
    decision = "deny" if MODE == "deny" else "allow"
    form = urllib.parse.urlencode({{"request_id": request_id, "decision": decision}})
    origin = url.split("/oauth/")[0]
    location, _ = visit(origin + "/oauth/authorize", form.encode())
if MODE == "forge-state":
    location = re.sub("state=[^&]+", "state=forged", location)
with urllib.request.urlopen(location, timeout=10) as answer:
    answer.read()
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_browser(folder: Path, mode: str = "allow") -> Path:
    """An executable `$BROWSER` program; mode is allow, deny or forge-state."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"browser-{mode}.py"
    path.write_text(BROWSER_SCRIPT.format(python=sys.executable, mode=mode), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def write_failing_browser(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "no-browser.py"
    path.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(1)\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@dataclass
class Store:
    """A profile named `shop` on a running emulator, and the environment joyctl needs."""

    cli: Cli
    server: SandboxServer
    port: int
    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.cli("--profile", PROFILE, *args, env={**self.env, **(env or {})})

    def json(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
        result = self.run("--json", *args, env=env)
        return result.exit_code, json.loads(result.stdout)

    @property
    def client_secret(self) -> str:
        return self.server.credentials.client_secret

    def control(self, path: str, body: dict[str, Any]) -> None:
        answer = httpx.post(f"{self.server.base_url}/__sandbox/{path}", json=body)
        assert answer.status_code == 200, answer.text

    def revoke(self, refresh_token: str) -> None:
        """What uninstalling the app in Klaviyo does to joyctl's grant."""
        credentials = self.server.credentials
        answer = httpx.post(
            f"{self.server.base_url}/oauth/revoke",
            data={"token": refresh_token, "token_type_hint": "refresh_token"},
            auth=(credentials.client_id, credentials.client_secret),
        )
        assert answer.status_code == 200, answer.text


@contextlib.contextmanager
def store_profile(
    cli: Cli, folder: Path, *, browser: str | None = "allow", **config: Any
) -> Iterator[Store]:
    """Start an emulator (scenario `empty` unless given), add profile `shop` for it."""
    port = free_port()
    settings = {**FAST, "scenario": "empty", **config}
    settings["redirect_uris"] = (f"http://127.0.0.1:{port}/callback",)
    server = SandboxServer(SandboxConfig(**settings))
    server.start()
    try:
        added = cli(
            "profiles",
            "add",
            PROFILE,
            "--base-url",
            server.base_url,
            "--client-id",
            server.credentials.client_id,
            "--redirect-port",
            str(port),
        )
        assert added.exit_code == 0, added.stderr
        store = Store(cli, server, port, folder)
        store.env[envvars.CLIENT_SECRET] = store.client_secret
        if browser is not None:
            store.env["BROWSER"] = str(write_browser(folder, browser))
        yield store
    finally:
        server.stop()


def keyring_entry(backend: Any, name: str) -> str | None:
    """A secret in the in-memory keyring by its username, e.g. "shop:oauth_tokens"."""
    value: str | None = backend.entries.get(("joyctl", name))
    return value


def stored_tokens(backend: Any) -> dict[str, Any]:
    text = keyring_entry(backend, f"{PROFILE}:oauth_tokens")
    assert text is not None, "no OAuth tokens in the keyring"
    tokens: dict[str, Any] = json.loads(text)
    return tokens


def files_under(root: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name
