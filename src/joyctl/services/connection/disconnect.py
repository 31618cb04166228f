"""`joyctl disconnect`: revoke the grant in Klaviyo, then forget the profile's secrets.

Revocation comes first, and if it fails nothing is deleted: a grant that joyctl forgot but
Klaviyo still honours could never be revoked by joyctl again. `--local-only` skips it on
purpose. The ledger and its connection history are kept; running it twice is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from joyctl import envvars
from joyctl.command_line import command
from joyctl.credentials import CredentialSource, KeyringUnavailableError, OAuthTokens
from joyctl.errors import AuthError, JoyctlError
from joyctl.klaviyo.oauth import OAuthApp, revoke_refresh_token
from joyctl.ledger.connections import close_connections
from joyctl.ledger.deliveries import subscriptions
from joyctl.services.connection.facts import ConnectionDeps, environment_override, mark_disconnected
from joyctl.services.connection.session import make_client, oauth_app

Revocation = Literal["revoked", "already_revoked", "skipped", "nothing_to_revoke"]


class RemovedSecret(BaseModel):
    name: str
    removed_from: list[CredentialSource]


class DisconnectResult(BaseModel):
    profile: str
    revocation: Revocation
    removed: list[RemovedSecret]
    keyring_unreachable: str | None  # why the keyring could not be cleaned, if it could not
    connection_closed: bool
    ledger_file: str  # kept
    environment_override: str | None  # a variable still supplying a credential


def disconnect(deps: ConnectionDeps, *, local_only: bool = False) -> DisconnectResult:
    tokens = _stored_tokens(deps, tolerate_keyring_failure=local_only)
    revocation: Revocation = "nothing_to_revoke"
    if tokens is not None:
        revocation = "skipped" if local_only else _revoke(deps, tokens)
    # The keyring cannot list entries: name the webhooks this profile subscribed, so their
    # signing secrets go too.
    outcomes = deps.store.delete_all(webhook_ids=list(subscriptions(deps.ledger())))
    now = datetime.now(UTC)
    closed_rows = close_connections(deps.ledger(), at=now)
    closed_facts = mark_disconnected(deps.settings, deps.profile.name, now)
    unreachable = next((o.keyring_unreachable for o in outcomes if o.keyring_unreachable), None)
    return DisconnectResult(
        profile=deps.profile.name,
        revocation=revocation,
        removed=[
            RemovedSecret(name=o.username, removed_from=list(o.removed_from))
            for o in outcomes
            if o.removed_from
        ],
        keyring_unreachable=unreachable,
        connection_closed=bool(closed_rows) or closed_facts,
        ledger_file=str(deps.settings.paths.ledger_file(deps.profile.name)),
        environment_override=environment_override(deps.environ),
    )


def _stored_tokens(deps: ConnectionDeps, *, tolerate_keyring_failure: bool) -> OAuthTokens | None:
    try:
        stored = deps.store.read_oauth_tokens()
    except KeyringUnavailableError:
        if tolerate_keyring_failure:
            return None
        raise
    return stored.value if stored is not None else None


def _revoke(deps: ConnectionDeps, tokens: OAuthTokens) -> Revocation:
    """Revoke the refresh token (and with it the grant); already revoked is fine."""
    try:
        app = _revoking_app(deps)
        with make_client(deps.profile, deps.base_url, None, deps.hooks) as client:
            revoked = revoke_refresh_token(
                client.http, app, tokens.refresh_token.get_secret_value()
            )
    except JoyctlError as exc:
        raise type(exc)(
            f"{exc.message}; nothing was deleted",
            hint=(
                f"{exc.hint + '; then ' if exc.hint else ''}"
                f"run `{command('disconnect')}` again, or "
                "pass --local-only to forget the credentials without revoking the grant"
            ),
            code=exc.code,
            exit_code=exc.exit_code,
        ) from None
    return "revoked" if revoked else "already_revoked"


def _revoking_app(deps: ConnectionDeps) -> OAuthApp:
    client_id, client_secret = deps.oauth_client()
    app = oauth_app(deps.profile, deps.base_url, client_id=client_id, client_secret=client_secret)
    if app is None or not client_secret:
        raise AuthError(
            "revoking the grant needs the OAuth app's client id and secret",
            hint=f"set {envvars.CLIENT_SECRET} (and the profile's client_id)",
            code="no_client_secret",
        )
    return app
