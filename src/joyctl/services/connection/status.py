"""`joyctl status`: is the profile connected, to which account, with which credential from
where, and may it do everything the profile requires?

The check is live: `GET /api/accounts` proves the credential (refreshing an expired OAuth token
on the way, as every command would), and a credential whose scopes cannot be known (a private
key, an access token from the environment) gets one safe read per capability. With an
environment credential the keyring is never touched. The report is the stable `--json` shape
documented in the README ("Status JSON").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.credentials import (
    LOOKUP_ORDER,
    SERVICE_NAME,
    CredentialKind,
    CredentialSource,
    ResolvedCredential,
    SecretStorage,
    resolve_klaviyo_credential,
)
from joyctl.errors import (
    ConfigError,
    CredentialStoreError,
    DataError,
    ExitCode,
    JoyctlError,
    RemoteError,
    UsageError,
    hint_for,
)
from joyctl.klaviyo.auth import OAuthAuth
from joyctl.klaviyo.oauth import OAuthApp
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.services.connection.capabilities import (
    FeatureAccess,
    Probe,
    ProbeFixes,
    blocking,
    features_from_probes,
    features_from_scopes,
    probe_capabilities,
)
from joyctl.services.connection.facts import AccountFacts, ConnectionDeps, connect_command
from joyctl.services.connection.session import build_auth, make_client, oauth_app

_STORED = (CredentialSource.KEYRING, CredentialSource.FILE)


class CredentialView(BaseModel):
    kind: Literal["oauth", "api_key", "access_token"]
    source: CredentialSource
    origin: str  # the variable, keyring backend or file path
    refreshable: bool


class SecretPlace(BaseModel):
    name: str
    source: CredentialSource
    origin: str


class SecretStorageView(BaseModel):
    """Where the profile writes its secrets, known without asking the keyring anything."""

    kind: SecretStorage
    remembered: bool  # chosen earlier and kept in config.toml (else: the keyring, by default)
    location: str  # the keyring service, or the insecure file's path


class StorageView(BaseModel):
    backend: str | None
    available: bool
    reason: str | None
    insecure_file: str
    insecure_file_exists: bool
    secrets: list[SecretPlace]


class TokenView(BaseModel):
    expires_at: datetime
    refreshed: bool  # refreshed during this check


class ScopeView(BaseModel):
    granted: list[str] | None  # None: a private key or bare token, whose scopes are unknown
    required: list[str]
    missing: list[str] | None


class Problem(BaseModel):
    code: str
    message: str
    hint: str | None


class StatusReport(BaseModel):
    profile: str
    base_url: str
    connected: bool
    ok: bool
    exit_code: int
    account: AccountFacts | None
    connected_at: str | None
    credential: CredentialView | None
    lookup_order: str
    secret_storage: SecretStorageView
    storage: StorageView | None
    token: TokenView | None
    scopes: ScopeView
    features: list[FeatureAccess]
    capabilities: dict[str, Probe] | None
    problem: Problem | None
    fix: str | None
    warnings: list[str]


def check_status(deps: ConnectionDeps) -> StatusReport:
    try:
        credential = resolve_klaviyo_credential(deps.store, environ=deps.environ)
    except CredentialStoreError as exc:
        return _failed(deps, exc, storage=_storage(deps))
    except JoyctlError as exc:  # not connected, or both environment variables set
        storage = _storage(deps) if exc.code == "not_connected" else None
        return _failed(deps, exc, storage=storage)
    return _live_check(deps, credential)


@dataclass(frozen=True)
class _Access:
    features: list[FeatureAccess]
    granted: list[str] | None = None
    token: TokenView | None = None
    fix_command: str | None = None
    probes: dict[str, Probe] | None = None


def _live_check(deps: ConnectionDeps, credential: ResolvedCredential) -> StatusReport:
    stored_grant = credential.tokens is not None and credential.source in _STORED
    auth = build_auth(credential, _refreshing_app(deps) if stored_grant else None, deps.store)
    try:
        with make_client(deps.profile, deps.base_url, auth, deps.hooks) as client:
            account = AccountFacts.of(get_account(client))
            probes = None if stored_grant else probe_capabilities(client)
    except JoyctlError as exc:
        storage = _storage_if_stored(deps, credential)
        return _failed(deps, exc, credential=credential, storage=storage)
    if isinstance(auth, OAuthAuth) and stored_grant:
        access = _grant_access(deps, credential, auth)
    else:
        features = features_from_probes(probes, _required(deps), _probe_fixes(deps, credential))
        stored = credential.source in _STORED
        command = connect_command(deps.profile.name) if stored else None
        access = _Access(features, fix_command=command, probes=probes)
    return _connected(deps, credential, account, access)


def _grant_access(deps: ConnectionDeps, credential: ResolvedCredential, auth: OAuthAuth) -> _Access:
    """Scopes and expiry of a stored grant, as they are after any refresh during the check."""
    bundle = auth.tokens
    granted = list(bundle.scopes)
    expires = bundle.expires_at
    if expires is None and credential.tokens is not None:
        expires = credential.tokens.expires_at
    token = None
    if expires is not None:
        refreshed = bundle.access_token != credential.secret.get_secret_value()
        token = TokenView(expires_at=expires, refreshed=refreshed)
    command = connect_command(deps.profile.name)
    fix = f"run `{command}` to grant them (your Klaviyo app must list them too)"
    return _Access(features_from_scopes(granted, _required(deps), fix), granted, token, command)


def _connected(
    deps: ConnectionDeps,
    credential: ResolvedCredential,
    account: AccountFacts,
    access: _Access,
) -> StatusReport:
    required = _required(deps)
    missing = None if access.granted is None else [s for s in required if s not in access.granted]
    problem = _missing_access(access.features, missing or [], access.fix_command)
    return StatusReport(
        profile=deps.profile.name,
        base_url=deps.base_url,
        connected=True,
        ok=problem is None,
        exit_code=ExitCode.OK if problem is None else ExitCode.AUTH,
        account=account,
        connected_at=deps.profile.connection.get("connected_at"),
        credential=_credential_view(credential),
        lookup_order=LOOKUP_ORDER,
        secret_storage=_secret_storage(deps),
        storage=_storage_if_stored(deps, credential),
        token=access.token,
        scopes=ScopeView(granted=access.granted, required=required, missing=missing),
        features=access.features,
        capabilities=access.probes,
        problem=problem,
        fix=access.fix_command if problem else None,
        warnings=_account_warnings(deps, account),
    )


def _failed(
    deps: ConnectionDeps,
    error: JoyctlError,
    *,
    credential: ResolvedCredential | None = None,
    storage: StorageView | None,
) -> StatusReport:
    # A network failure (5), an answer joyctl cannot read (3), a malformed environment (2) or
    # a setting such as the revision is said as every other command says it; the rest means the
    # profile is not usably connected.
    said_as_such = RemoteError | DataError | UsageError | ConfigError
    exit_code = error.exit_code if isinstance(error, said_as_such) else ExitCode.AUTH
    # Reconnecting helps a missing or dead credential, not the failures above or the keyring's.
    reconnect = not isinstance(error, said_as_such | CredentialStoreError)
    fix = connect_command(deps.profile.name) if reconnect else None
    return StatusReport(
        profile=deps.profile.name,
        base_url=deps.base_url,
        connected=False,
        ok=False,
        exit_code=exit_code,
        account=AccountFacts.recorded(deps.profile.connection),
        connected_at=deps.profile.connection.get("connected_at"),
        credential=_credential_view(credential) if credential else None,
        lookup_order=LOOKUP_ORDER,
        secret_storage=_secret_storage(deps),
        storage=storage,
        token=None,
        scopes=ScopeView(granted=None, required=_required(deps), missing=None),
        features=[],
        capabilities=None,
        problem=Problem(
            code=error.code, message=error.message, hint=hint_for(error, command("status"))
        ),
        fix=fix,
        warnings=[],
    )


def _required(deps: ConnectionDeps) -> list[str]:
    return deps.profile.required_scopes


def _refreshing_app(deps: ConnectionDeps) -> OAuthApp | None:
    client_id, client_secret = deps.oauth_client()
    return oauth_app(deps.profile, deps.base_url, client_id=client_id, client_secret=client_secret)


def _credential_view(credential: ResolvedCredential) -> CredentialView:
    kind: Literal["oauth", "api_key", "access_token"] = "api_key"
    if credential.kind is CredentialKind.ACCESS_TOKEN:
        kind = "oauth" if credential.tokens is not None else "access_token"
    refreshable = credential.tokens is not None and credential.source in _STORED
    return CredentialView(
        kind=kind, source=credential.source, origin=credential.origin, refreshable=refreshable
    )


def _secret_storage(deps: ConnectionDeps) -> SecretStorageView:
    store = deps.store
    if store.storage is SecretStorage.FILE:
        location = str(store.file_path)
    elif deps.profile.builtin:
        location = "the sandbox profile's own file (the emulator's fake credentials)"
    else:
        location = f"OS keyring, service '{SERVICE_NAME}'"
    return SecretStorageView(kind=store.storage, remembered=store.storage_chosen, location=location)


def _storage_if_stored(deps: ConnectionDeps, credential: ResolvedCredential) -> StorageView | None:
    """The storage report, unless the credential came from elsewhere: then the keyring is
    not ours to touch."""
    return _storage(deps) if credential.source in _STORED else None


def _storage(deps: ConnectionDeps) -> StorageView:
    report = deps.store.report()
    return StorageView(
        backend=report.keyring.backend,
        available=report.keyring.available,
        reason=report.keyring.reason,
        insecure_file=str(report.file_path),
        insecure_file_exists=report.file_exists,
        secrets=[
            SecretPlace(name=place.username, source=place.source, origin=place.origin)
            for place in report.secrets
        ],
    )


def _probe_fixes(deps: ConnectionDeps, credential: ResolvedCredential) -> ProbeFixes:
    reconnect = connect_command(deps.profile.name)
    if credential.source is CredentialSource.ENV:
        return ProbeFixes(
            missing_scope=(
                f"set {credential.origin} to a private key with the scopes {{scopes}}, "
                f"or unset it and run `{reconnect}`"
            ),
            plan_gate=f"unset {credential.origin} and run `{reconnect}` (OAuth is not plan-gated)",
        )
    return ProbeFixes(
        missing_scope=(
            "create a private key with the scopes {scopes} in Klaviyo and pipe it to "
            f"`{connect_command(deps.profile.name, '--api-key-stdin')}`, or run `{reconnect}`"
        ),
        plan_gate=f"run `{reconnect}` to connect by OAuth, which is not plan-gated",
    )


def _missing_access(
    features: list[FeatureAccess], missing_scopes: list[str], fix_command: str | None
) -> Problem | None:
    """What the profile requires and the credential lacks: whole features, and required scopes
    outside any feature (such as reviews:write); None when nothing is lacking."""
    lacking = blocking(features)
    covered = {scope for feature in lacking for scope in feature.missing}
    loose = [scope for scope in missing_scopes if scope not in covered]
    if not lacking and not loose:
        return None
    parts = [
        f"{f.feature} ({' '.join(f.missing)})" if f.missing else f"{f.feature} ({f.access})"
        for f in lacking
    ]
    if loose:
        parts.append(f"the scopes {' '.join(loose)}")
    fixes = list(dict.fromkeys(f.fix for f in lacking if f.fix))
    if not fixes and fix_command:
        fixes = [f"run `{fix_command}` to grant them (your Klaviyo app must list them too)"]
    return Problem(
        code="missing_scope",
        message=f"the credential lacks what the profile requires: {', '.join(parts)}",
        hint="; ".join(fixes) or "check the credential's access in Klaviyo",
    )


def _account_warnings(deps: ConnectionDeps, account: AccountFacts) -> list[str]:
    recorded = AccountFacts.recorded(deps.profile.connection)
    if recorded is None or recorded.id == account.id:
        return []
    return [
        f"the credential belongs to account {account.id}, but profile {deps.profile.name!r} "
        f"was connected to account {recorded.id}"
    ]
