"""joyctl's revision pin is a setting; a revision Klaviyo refuses is reported as what it is."""

from __future__ import annotations

import json

from joyctl.klaviyo.revisions import NEWEST_STABLE
from tests.conftest import Cli


def test_the_newest_revision_works_through_the_setting(cli: Cli) -> None:
    result = cli("--json", "--profile", "sandbox", "status", env={"JOYCTL_REVISION": NEWEST_STABLE})
    assert result.exit_code in (0, 4), result.stderr  # 4: the legacy grant lacks scopes
    assert json.loads(result.stdout)["data"]["connected"] is True


def test_a_refused_revision_is_a_usage_error_about_the_revision(cli: Cli) -> None:
    for revision in ("2099-01-01", "2023-01-24"):
        result = cli("--profile", "sandbox", "status", env={"JOYCTL_REVISION": revision})
        assert result.exit_code == 2, result.stderr
        assert f"Klaviyo refused the API revision '{revision}'" in result.stderr
        assert "JOYCTL_REVISION" in result.stderr
        assert "connect" not in result.stderr
