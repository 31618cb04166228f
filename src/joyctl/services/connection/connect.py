"""`joyctl connect`: authorize joyctl for a Klaviyo account by OAuth, or store a private key.

Both ways verify the credential with `GET /api/accounts` before anything is stored, so a
refused login or a bad key leaves no trace. Then the secret goes to the credential store, and
the account's facts to config.toml and the ledger's connection history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from joyctl import envvars
from joyctl.command_line import command
from joyctl.credentials import CredentialSource, ResolvedCredential, resolve_client_secret
from joyctl.errors import CredentialStoreError, UsageError
from joyctl.klaviyo.auth import ApiKeyAuth, OAuthAuth
from joyctl.klaviyo.oauth import (
    OAuthApp,
    exchange_code,
    generate_pkce_pair,
    generate_state,
    read_authorization_response,
)
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.tokens import TokenBundle
from joyctl.ledger.connections import record_connection
from joyctl.services.connection.capabilities import Probe, probe_capabilities, verified_scopes
from joyctl.services.connection.facts import (
    API_KEY,
    OAUTH,
    AccountFacts,
    ConnectionDeps,
    environment_override,
    save_connection_facts,
)
from joyctl.services.connection.oauth_login import (
    AuthorizationRequest,
    OAuthLogin,
    await_redirect,
    check_someone_can_log_in,
    follow_sandbox_consent,
)
from joyctl.services.connection.session import make_client, oauth_app, tokens_from_bundle


class ConnectResult(BaseModel):
    profile: str
    method: Literal["oauth", "api_key"]
    account: AccountFacts
    scopes: list[str]  # granted (OAuth) or proven by the capability probes (private key)
    missing_scopes: list[str]  # required by the profile but not granted
    capabilities: dict[str, Probe] | None  # private keys only
    expires_at: datetime | None
    connected_at: datetime
    stored_in: CredentialSource
    stored_at: str  # keyring backend or file path
    storage_note: str | None
    environment_override: str | None  # a variable that overrides the stored credential


def connect_oauth(
    deps: ConnectionDeps, login: OAuthLogin, *, client_secret: ResolvedCredential | None = None
) -> ConnectResult:
    """The authorization-code flow with PKCE; `client_secret` is one read from stdin.

    Where the grant will be kept is checked first: a login that ends in a keyring that cannot
    hold it would be wasted, and so would the person's time at the browser.
    """
    app, secret = _oauth_app(deps, client_secret)
    if not deps.profile.builtin:
        check_someone_can_log_in(login, deps.environ)
    deps.store.check_writable()
    request = AuthorizationRequest(
        app, requested_scopes(deps), generate_state(), generate_pkce_pair()
    )
    port = deps.profile.redirect_port
    if deps.profile.builtin:
        redirected, redirect_uri = follow_sandbox_consent(
            request, port=port, transport=deps.hooks.transport
        )
    else:
        redirected, redirect_uri = await_redirect(request, login, port=port, environ=deps.environ)
    code = read_authorization_response(redirected, expected_state=request.state)
    with make_client(deps.profile, deps.base_url, None, deps.hooks) as client:
        bundle = exchange_code(
            client.http,
            app,
            code=code,
            code_verifier=request.pkce.verifier,
            redirect_uri=redirect_uri,
        )
    with make_client(deps.profile, deps.base_url, OAuthAuth(bundle), deps.hooks) as client:
        account = AccountFacts.of(get_account(client))
    return _store_grant(deps, app, bundle, account, secret, request.scopes)


def connect_api_key(deps: ConnectionDeps, api_key: ResolvedCredential) -> ConnectResult:
    """Verify a private key, probe what it may read, then store it in place of any grant."""
    deps.store.check_writable()
    auth = ApiKeyAuth(api_key.secret.get_secret_value())
    with make_client(deps.profile, deps.base_url, auth, deps.hooks) as client:
        account = AccountFacts.of(get_account(client))
        probes = probe_capabilities(client)
    location = deps.store.write_api_key(api_key.secret)
    deps.store.delete_oauth_tokens()  # one credential per profile: the key replaces a grant
    connected_at = datetime.now(UTC)
    scopes = verified_scopes(probes)
    facts = _facts(API_KEY, account, scopes, connected_at)
    facts["capabilities"] = {name: result.value for name, result in probes.items()}
    _record(deps, facts, account, scopes, connected_at, API_KEY)
    return ConnectResult(
        profile=deps.profile.name,
        method=API_KEY,
        account=account,
        scopes=scopes,
        missing_scopes=[],
        capabilities=probes,
        expires_at=None,
        connected_at=connected_at,
        stored_in=location.source,
        stored_at=location.origin,
        storage_note=location.note,
        environment_override=environment_override(deps.environ),
    )


def requested_scopes(deps: ConnectionDeps) -> tuple[str, ...]:
    """The profile's required scopes; accounts:read always, since verifying needs it."""
    return tuple(dict.fromkeys(["accounts:read", *deps.profile.required_scopes]))


def _oauth_app(
    deps: ConnectionDeps, explicit: ResolvedCredential | None
) -> tuple[OAuthApp, ResolvedCredential | None]:
    """The profile's OAuth app with its client secret (the emulator's own for the sandbox)."""
    profile = deps.profile
    resolved: ResolvedCredential | None = None
    if profile.builtin:
        client_id, secret = deps.oauth_client()
    else:
        client_id = profile.client_id or profile.connection.get("client_id")
        if client_id:
            resolved = _client_secret(deps, explicit)
        secret = resolved.secret.get_secret_value() if resolved else None
    app = oauth_app(profile, deps.base_url, client_id=client_id, client_secret=secret)
    if app is None:
        raise UsageError(
            f"profile {profile.name!r} has no OAuth client id",
            hint=(
                "set it with"
                f" `{command('config', 'set', 'client_id', 'ID', profile=profile.name)}` or "
                f"{envvars.CLIENT_ID}, or connect with a private key: --api-key-stdin"
            ),
        )
    return app, resolved


def _client_secret(deps: ConnectionDeps, explicit: ResolvedCredential | None) -> ResolvedCredential:
    try:
        return resolve_client_secret(deps.store, explicit=explicit, environ=deps.environ)
    except CredentialStoreError as exc:
        # The keyring was asked only because no other source had the secret: say so.
        raise CredentialStoreError(
            f"no OAuth client secret was given, and {exc.message}",
            hint=(
                f"set {envvars.CLIENT_SECRET} or pass --client-secret-stdin; "
                f"for storing the tokens afterwards: {exc.hint}"
            ),
            code=exc.code,
        ) from None


def _store_grant(
    deps: ConnectionDeps,
    app: OAuthApp,
    bundle: TokenBundle,
    account: AccountFacts,
    secret: ResolvedCredential | None,
    requested: tuple[str, ...],
) -> ConnectResult:
    tokens = tokens_from_bundle(bundle)
    location = deps.store.write_oauth_tokens(tokens)
    deps.store.delete_api_key()  # one credential per profile: the grant replaces a key
    if secret is not None and secret.source is CredentialSource.STDIN:
        deps.store.write_client_secret(secret.secret)  # refreshing needs it later
    connected_at = datetime.now(UTC)
    scopes = list(tokens.scopes)
    facts = _facts(OAUTH, account, scopes, connected_at)
    facts.update(client_id=app.client_id, expires_at=tokens.expires_at.isoformat())
    _record(deps, facts, account, scopes, connected_at, OAUTH)
    return ConnectResult(
        profile=deps.profile.name,
        method=OAUTH,
        account=account,
        scopes=scopes,
        missing_scopes=[scope for scope in requested if scope not in scopes],
        capabilities=None,
        expires_at=tokens.expires_at,
        connected_at=connected_at,
        stored_in=location.source,
        stored_at=location.origin,
        storage_note=location.note,
        environment_override=environment_override(deps.environ),
    )


def _facts(
    method: str, account: AccountFacts, scopes: list[str], connected_at: datetime
) -> dict[str, object]:
    return {
        "method": method,
        "account_id": account.id,
        "account_name": account.name,
        "public_api_key": account.public_api_key,
        "test_account": account.test_account,
        "scopes": scopes,
        "connected_at": connected_at.isoformat(),
    }


def _record(
    deps: ConnectionDeps,
    facts: dict[str, object],
    account: AccountFacts,
    scopes: list[str],
    connected_at: datetime,
    method: str,
) -> None:
    ledger = deps.ledger()  # first: the sandbox profile seeds its config here on first use
    if not deps.profile.builtin:  # the built-in profile keeps the emulator's fake secrets
        facts["secret_storage"] = deps.store.storage.value
    save_connection_facts(deps.settings, deps.profile.name, facts)
    record_connection(
        ledger,
        account_id=account.id,
        account_name=account.name,
        method=method,
        scopes=scopes,
        connected_at=connected_at,
    )
