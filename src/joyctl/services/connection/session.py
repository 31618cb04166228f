"""One place that turns a profile and its credentials into a ready Klaviyo client.

It resolves the credential in the documented lookup order, picks the auth (private key, or an
OAuth grant that refreshes itself and stores each refreshed bundle), and builds the client
through the klaviyo layer's single factory with the CLI's wait and debug callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from joyctl.credentials import (
    CredentialKind,
    CredentialSource,
    CredentialStore,
    OAuthTokens,
    ResolvedCredential,
    resolve_client_secret,
    resolve_klaviyo_credential,
)
from joyctl.errors import AuthError
from joyctl.klaviyo.auth import ApiKeyAuth, OAuthAuth
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.oauth import OAuthApp
from joyctl.klaviyo.tokens import TokenBundle
from joyctl.settings import Profile


@dataclass(frozen=True)
class ClientHooks:
    """What the CLI plugs into every client: wait reports, debug logging, a test transport."""

    on_wait: Callable[[float, str], None] | None = None
    debug: bool = False
    debug_sink: Callable[[str], None] | None = None
    transport: Any = None


@dataclass
class KlaviyoSession:
    client: KlaviyoClient
    credential: ResolvedCredential
    base_url: str
    oauth_app: OAuthApp | None
    store: CredentialStore

    def close(self) -> None:
        self.client.close()


def oauth_app(
    profile: Profile, base_url: str, *, client_id: str | None, client_secret: str | None
) -> OAuthApp | None:
    """The profile's OAuth app; None when no client id is known."""
    if not client_id:
        return None
    if profile.builtin:
        return OAuthApp.for_base_url(base_url, client_id, client_secret)
    return OAuthApp(
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=profile.authorize_url,
        token_url=profile.token_url,
        revoke_url=profile.revoke_url,
    )


def resolve_oauth_client(
    profile: Profile,
    environ: Mapping[str, str],
    *,
    store: Callable[[], CredentialStore],
    emulator: Callable[[], tuple[str, str]],
) -> tuple[str | None, str | None]:
    """The profile's OAuth client id and secret, when known.

    The built-in sandbox profile uses the emulator's own client. For any other profile a
    missing client secret is not an error here: the id alone names the app, and refreshing a
    grant then explains what is missing. `store` and `emulator` are called only when needed.
    """
    if profile.builtin:
        return emulator()
    client_id = profile.client_id or profile.connection.get("client_id")
    try:
        found = resolve_client_secret(store(), environ=environ)
    except AuthError:
        return client_id, None
    return client_id, found.secret.get_secret_value()


def bundle_from_tokens(tokens: OAuthTokens) -> TokenBundle:
    return TokenBundle(
        access_token=tokens.access_token.get_secret_value(),
        refresh_token=tokens.refresh_token.get_secret_value(),
        expires_at=tokens.expires_at,
        scopes=tuple(tokens.scopes),
    )


def tokens_from_bundle(bundle: TokenBundle) -> OAuthTokens:
    return OAuthTokens(
        access_token=SecretStr(bundle.access_token),
        refresh_token=SecretStr(bundle.refresh_token or ""),
        expires_at=bundle.expires_at or _far_future(),
        scopes=bundle.scopes,
    )


def _far_future() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=3650)


def build_auth(
    credential: ResolvedCredential, app: OAuthApp | None, store: CredentialStore
) -> ApiKeyAuth | OAuthAuth:
    secret = credential.secret.get_secret_value()
    if credential.kind is CredentialKind.API_KEY:
        return ApiKeyAuth(secret)
    if credential.tokens is None or credential.source in (
        CredentialSource.ENV,
        CredentialSource.FLAG,
        CredentialSource.STDIN,
    ):
        # A bare access token (e.g. from CI's environment) cannot be refreshed.
        return OAuthAuth(TokenBundle(access_token=secret))

    def save(bundle: TokenBundle) -> None:
        store.write_oauth_tokens(tokens_from_bundle(bundle))

    return OAuthAuth(bundle_from_tokens(credential.tokens), app=app, on_tokens_refreshed=save)


def open_session(
    profile: Profile,
    base_url: str,
    store: CredentialStore,
    environ: Mapping[str, str],
    hooks: ClientHooks,
    *,
    app: OAuthApp | None,
    explicit: ResolvedCredential | None = None,
) -> KlaviyoSession:
    credential = resolve_klaviyo_credential(store, explicit=explicit, environ=environ)
    client = make_client(profile, base_url, build_auth(credential, app, store), hooks)
    return KlaviyoSession(client, credential, base_url, app, store)


def make_client(
    profile: Profile, base_url: str, auth: ApiKeyAuth | OAuthAuth | None, hooks: ClientHooks
) -> KlaviyoClient:
    return build_client(
        base_url=base_url,
        auth=auth,
        revision=profile.revision,
        transport=hooks.transport,
        on_wait=hooks.on_wait,
        debug=hooks.debug,
        debug_sink=hooks.debug_sink,
    )
