"""OAuth installations and their tokens: issuing, refreshing and revoking.

Live behaviour the sandbox copies: a refresh returns a new access token and the same refresh
token, and the previous access token keeps working until it expires. A refresh token unused for
90 days stops working (`invalid_grant`).
"""

from __future__ import annotations

import json

from joyctl.sandbox.context import World
from joyctl.sandbox.ids import token, uuid_id
from joyctl.sandbox.jsonapi import Response
from joyctl.sandbox.store.records import (
    AccessTokenRecord,
    AuthCodeRecord,
    GrantRecord,
    OAuthAppRecord,
    RefreshTokenRecord,
)

REFRESH_IDLE_LIMIT = 90 * 86400.0


class OAuthError(Exception):
    """An OAuth error answered as `{"error": ..., "error_description": ...}`."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> Response:
        body: dict[str, str] = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="oauth"'
        return Response(self.status, json.dumps(body).encode(), headers)


def _token_response(
    access: AccessTokenRecord, refresh_token: str, scopes: list[str], now: float
) -> dict[str, object]:
    return {
        "access_token": access["token"],
        "token_type": "Bearer",
        "expires_in": int(access["expires_at"] - now),
        "refresh_token": refresh_token,
        "scope": " ".join(scopes),
    }


def _new_access(world: World, grant_id: str, now: float) -> AccessTokenRecord:
    access = AccessTokenRecord(
        token=token(),
        grant_id=grant_id,
        expires_at=now + world.config.access_token_lifetime,
        revoked=False,
    )
    world.state.access_tokens[access["token"]] = access
    return access


def issue_for_code(world: World, code: AuthCodeRecord) -> dict[str, object]:
    """Exchange a checked code: one installation per app, its scopes replaced on reconnect."""
    state, now = world.state, world.now()
    code["used"] = True
    grant = next(
        (
            g
            for g in state.grants.values()
            if g["client_id"] == code["client_id"] and not g["revoked"]
        ),
        None,
    )
    if grant is None:
        grant = GrantRecord(
            id=uuid_id(), client_id=code["client_id"], scopes=[], connected_at=now, revoked=False
        )
        state.grants[grant["id"]] = grant
    grant["scopes"] = list(code["scopes"])
    grant["connected_at"] = now
    refresh = RefreshTokenRecord(
        token=token(), grant_id=grant["id"], last_used_at=now, revoked=False
    )
    state.refresh_tokens[refresh["token"]] = refresh
    access = _new_access(world, grant["id"], now)
    return _token_response(access, refresh["token"], grant["scopes"], now)


def refresh(world: World, app: OAuthAppRecord, refresh_token: str) -> dict[str, object]:
    state, now = world.state, world.now()
    record = state.refresh_tokens.get(refresh_token)
    grant = state.grants.get(record["grant_id"]) if record else None
    if record is None or grant is None or record["revoked"] or grant["revoked"]:
        raise OAuthError(400, "invalid_grant")
    if grant["client_id"] != app["client_id"]:
        raise OAuthError(400, "invalid_grant")
    if now - record["last_used_at"] > REFRESH_IDLE_LIMIT:
        record["revoked"] = True
        raise OAuthError(400, "invalid_grant")
    record["last_used_at"] = now
    access = _new_access(world, grant["id"], now)
    return _token_response(access, refresh_token, grant["scopes"], now)


def revoke_token(world: World, app: OAuthAppRecord, value: str) -> bool:
    """Revoke a refresh token (and its installation with every token) or one access token."""
    state = world.state
    refresh_record = state.refresh_tokens.get(value)
    access_record = state.access_tokens.get(value)
    if refresh_record is not None:
        grant_id = refresh_record["grant_id"]
    elif access_record is not None:
        grant_id = access_record["grant_id"]
    else:
        return False
    grant = state.grants.get(grant_id)
    if grant is None or grant["client_id"] != app["client_id"]:
        return False
    if access_record is not None:
        if access_record["revoked"]:
            return False
        access_record["revoked"] = True
        return True
    if refresh_record is None or refresh_record["revoked"]:
        return False
    grant["revoked"] = True
    for record in state.refresh_tokens.values():
        if record["grant_id"] == grant["id"]:
            record["revoked"] = True
    for access in state.access_tokens.values():
        if access["grant_id"] == grant["id"]:
            access["revoked"] = True
    return True
