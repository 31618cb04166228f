"""Error mapping: each HTTP failure becomes the right joyctl error, code, exit code and hint."""

from __future__ import annotations

import httpx
import pytest

from joyctl.errors import (
    AuthError,
    DataError,
    ExitCode,
    JoyctlError,
    NotFoundError,
    PermissionDeniedError,
    PlanGateError,
    RemoteError,
)
from joyctl.klaviyo.endpoints import find_endpoint
from joyctl.klaviyo.errors import map_failure
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo, error_body, jsonapi

KDP = "You must have Advanced KDP enabled to use this endpoint."
NOT_PERMITTED = "You do not have permission to perform this action."


def fail(
    status: int, body: object, method: str = "GET", path: str = "/api/webhooks"
) -> JoyctlError:
    request = httpx.Request(method, f"https://a.klaviyo.com{path}")
    response = httpx.Response(status, json=body, request=request)
    return map_failure(response, endpoint=find_endpoint(method, path))


def test_401_is_an_auth_error_naming_the_fix() -> None:
    error = fail(401, error_body(401, "authentication_failed", "Incorrect credentials."))
    assert isinstance(error, AuthError)
    assert error.code == "authentication_failed"
    assert error.exit_code == ExitCode.AUTH
    assert error.hint is not None
    assert "joyctl connect" in error.hint
    assert "JOYCTL_KLAVIYO_API_KEY" in error.hint


def test_403_advanced_kdp_is_a_plan_gate_not_a_scope() -> None:
    error = fail(403, error_body(403, "permission_denied", KDP))
    assert isinstance(error, PlanGateError)
    assert error.code == "plan_gate"
    assert error.exit_code == ExitCode.AUTH
    assert "Advanced KDP" in error.message
    assert error.hint is not None and "not a missing scope" in error.hint


def test_403_otherwise_names_the_operations_scopes() -> None:
    error = fail(403, error_body(403, "permission_denied", NOT_PERMITTED), "POST", "/api/webhooks")
    assert isinstance(error, PermissionDeniedError)
    assert not isinstance(error, PlanGateError)
    assert error.code == "missing_scope"
    assert "webhooks:write" in error.message
    assert error.hint is not None and "joyctl connect" in error.hint


def test_403_for_list_members_names_both_scopes() -> None:
    path = "/api/lists/L1/relationships/profiles"
    error = fail(403, error_body(403, "permission_denied", NOT_PERMITTED), "POST", path)
    assert "lists:write profiles:write" in error.message


def test_400_includes_the_pointer() -> None:
    body = error_body(400, "invalid", "Invalid email.", pointer="/data/attributes/email")
    error = fail(400, body, "POST", "/api/profile-import")
    assert isinstance(error, DataError)
    assert error.exit_code == ExitCode.DATA
    assert "Invalid email. (at /data/attributes/email)" in error.message
    assert "create_or_update_profile" in error.message


def test_400_lists_a_few_problems_and_counts_the_rest() -> None:
    items = [
        {"id": str(i), "code": "invalid", "title": "t", "detail": f"bad {i}"} for i in range(5)
    ]
    error = fail(400, {"errors": items}, "POST", "/api/events")
    assert "bad 0" in error.message and "bad 2" in error.message
    assert "bad 3" not in error.message
    assert "(and 2 more)" in error.message


def test_409_is_a_conflict() -> None:
    error = fail(409, error_body(409, "duplicate_profile", "exists"), "POST", "/api/profiles")
    assert isinstance(error, DataError)
    assert error.code == "conflict"


def test_404_is_not_found() -> None:
    error = fail(404, error_body(404, "not_found", "No webhook"), "GET", "/api/webhooks/W1")
    assert isinstance(error, NotFoundError)


def test_5xx_is_remote_with_the_error_id() -> None:
    error = fail(503, error_body(503, "error", "down"))
    assert isinstance(error, RemoteError)
    assert error.exit_code == ExitCode.REMOTE
    assert "err-1" in error.message


def test_an_html_403_still_maps() -> None:
    request = httpx.Request("GET", "https://a.klaviyo.com/api/webhooks")
    response = httpx.Response(403, text="<html>Forbidden</html>", request=request)
    error = map_failure(response, endpoint=find_endpoint("GET", "/api/webhooks"))
    assert isinstance(error, PermissionDeniedError)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, AuthError), (403, PermissionDeniedError), (400, DataError), (500, RemoteError)],
)
def test_the_client_raises_mapped_errors(
    fake: FakeKlaviyo, make_client: ClientFactory, status: int, kind: type[Exception]
) -> None:
    fake.add("POST", "/api/events", jsonapi(status, error_body(status, "x", "y")))
    with pytest.raises(kind):
        make_client().post("/api/events", {"data": {}})


@pytest.mark.parametrize(
    ("status", "code", "detail"),
    [
        (400, "invalid", "Invalid revision '2099-01-01': it is later than today (2026-12-04)."),
        (410, "gone", "Revision 2023-01-24 is retired (revisions are supported for two years)."),
    ],
)
def test_a_refused_revision_is_a_setting_to_change_not_a_credential(
    status: int, code: str, detail: str
) -> None:
    body = {
        "errors": [
            {"id": "e1", "status": status, "code": code, "title": "Invalid input.",
             "detail": detail, "source": {"parameter": "revision"}}
        ]
    }  # fmt: skip
    request = httpx.Request(
        "GET", "https://a.klaviyo.com/api/accounts", headers={"revision": "2099-01-01"}
    )
    error = map_failure(
        httpx.Response(status, json=body, request=request),
        endpoint=find_endpoint("GET", "/api/accounts"),
    )
    assert error.code == "revision_refused"
    assert error.exit_code == ExitCode.USAGE
    assert "revision '2099-01-01'" in error.message
    assert detail in error.message
    assert error.hint is not None
    assert "JOYCTL_REVISION" in error.hint and "connect" not in error.hint
