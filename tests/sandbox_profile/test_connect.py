"""The built-in sandbox profile connects without a browser, which fixes its legacy grant."""

from __future__ import annotations

import json
import webbrowser

import pytest

from tests.conftest import Cli


def test_connecting_the_sandbox_grants_every_scope(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_browser(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the sandbox profile must not open a browser")

    monkeypatch.setattr(webbrowser, "open", no_browser)
    monkeypatch.setattr(webbrowser.GenericBrowser, "open", no_browser)

    before = cli("--profile", "sandbox", "--json", "status")
    assert before.exit_code == 4
    report = json.loads(before.stdout)["data"]
    lacking = {f["feature"] for f in report["features"] if f["access"] != "ok"}
    assert lacking == {"review_rewards", "webhooks"}
    assert report["fix"] == "joyctl --profile sandbox connect"

    connected = cli("--profile", "sandbox", "--no-input", "connect")
    assert connected.exit_code == 0, connected.stderr

    after = cli("--profile", "sandbox", "status")
    assert after.exit_code == 0, after.stderr
    assert "review_rewards\tyes\tok" in after.stdout
