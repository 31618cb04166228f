"""Finding the credential a command uses, in the one order every command follows.

Explicit value (flag or stdin) > environment > OS keyring > insecure file. The environment is
checked before the store is asked anything, so with an environment credential the keyring is
never imported, probed or called: CI runners with a broken or absent keyring just work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import SecretStr

from joyctl import envvars
from joyctl.command_line import command
from joyctl.credentials.keyring_access import under_ci
from joyctl.credentials.model import (
    CLIENT_SECRET_LOOKUP_ORDER,
    CredentialKind,
    CredentialSource,
    OAuthTokens,
    ResolvedCredential,
    SecretKind,
    SecretStorage,
    with_lookup_order,
)
from joyctl.credentials.store import CredentialStore
from joyctl.errors import AuthError, UsageError

_EXPLICIT_SOURCES = (CredentialSource.FLAG, CredentialSource.STDIN)


SECRET_LIMIT = 4096  # far more than any Klaviyo key or token


def explicit_credential(
    kind: CredentialKind,
    value: str,
    *,
    origin: str,
    source: CredentialSource = CredentialSource.STDIN,
) -> ResolvedCredential:
    """A credential the user gave directly; `origin` is the flag that read it, e.g.
    "--api-key-stdin". Surrounding whitespace (a newline from a pipe) is dropped."""
    if source not in _EXPLICIT_SOURCES:
        raise ValueError(f"an explicit credential comes from a flag or stdin, not {source}")
    secret = value.strip()
    if not secret:
        raise UsageError(f"{origin} got an empty {kind.value.replace('_', ' ')}")
    return ResolvedCredential(kind, SecretStr(secret), source, origin)


def find_klaviyo_credential(
    store: CredentialStore,
    *,
    explicit: ResolvedCredential | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedCredential | None:
    """The first Klaviyo credential in LOOKUP_ORDER, or None when there is none anywhere.

    In storage an OAuth grant wins over an API key (connecting replaces one with the other,
    so both exist only if that was interrupted). Raises CredentialStoreError when the keyring
    cannot be asked and the file has nothing, since the keyring may hold the credential.
    """
    if explicit is not None:
        _check_explicit(explicit, (CredentialKind.API_KEY, CredentialKind.ACCESS_TOKEN))
        return explicit
    from_environment = _klaviyo_from_environment(os.environ if environ is None else environ)
    if from_environment is not None:
        return from_environment
    return _klaviyo_from_store(store)


def resolve_klaviyo_credential(
    store: CredentialStore,
    *,
    explicit: ResolvedCredential | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedCredential:
    """Like find_klaviyo_credential, but having none is an AuthError naming the lookup order."""
    variables = os.environ if environ is None else environ
    found = find_klaviyo_credential(store, explicit=explicit, environ=variables)
    if found is None:
        raise AuthError(
            f"not connected: profile {store.profile!r} has no Klaviyo credential",
            hint=with_lookup_order(_not_connected_advice(store, variables)),
            code="not_connected",
        )
    return found


def _not_connected_advice(store: CredentialStore, environ: Mapping[str, str]) -> str:
    """Connecting first on a desktop; the environment first under CI or where the profile keeps
    its secrets in the file (a machine without a keyring), where nobody opens a browser."""
    name = store.profile
    connect = (
        f"`{command('connect', profile=name)}` (OAuth) or "
        f"`{command('connect', '--api-key-stdin', profile=name)}`"
    )
    environment = f"{envvars.API_KEY} or {envvars.ACCESS_TOKEN}"
    if under_ci(environ) or store.storage is SecretStorage.FILE:
        return f"Set {environment} in the environment, or connect once with {connect}."
    return f"Run {connect}, or set {environment}."


def resolve_client_secret(
    store: CredentialStore,
    *,
    explicit: ResolvedCredential | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedCredential:
    """The OAuth client secret in CLIENT_SECRET_LOOKUP_ORDER; missing is an AuthError."""
    if explicit is not None:
        _check_explicit(explicit, (CredentialKind.CLIENT_SECRET,))
        return explicit
    variables = os.environ if environ is None else environ
    from_environment = _from_variable(variables, envvars.CLIENT_SECRET)
    if from_environment is not None:
        return ResolvedCredential(
            CredentialKind.CLIENT_SECRET,
            SecretStr(from_environment),
            CredentialSource.ENV,
            envvars.CLIENT_SECRET,
        )
    stored = store.read_client_secret()
    if stored is None:
        raise AuthError(
            f"no OAuth client secret for profile {store.profile!r}",
            hint=with_lookup_order(
                f"Set {envvars.CLIENT_SECRET}, or pipe it to `{command('connect')}` on stdin.",
                CLIENT_SECRET_LOOKUP_ORDER,
            ),
            code="no_client_secret",
        )
    return ResolvedCredential(
        CredentialKind.CLIENT_SECRET, stored.value, stored.source, stored.origin
    )


def webhook_secret_from_environment(environ: Mapping[str, str]) -> SecretStr | None:
    """The signing secret of the webhook the listener serves, when the environment holds it.

    A container or CI runner hands it in as JOYCTL_WEBHOOK_SECRET; it then wins over any
    stored secret, as every environment credential does, and is never written anywhere.
    """
    value = _non_blank(environ.get(envvars.WEBHOOK_SECRET))
    return SecretStr(value) if value is not None else None


def _klaviyo_from_environment(environ: Mapping[str, str]) -> ResolvedCredential | None:
    api_key = _from_variable(environ, envvars.API_KEY)
    access_token = _from_variable(environ, envvars.ACCESS_TOKEN)
    if api_key is not None and access_token is not None:
        # Picking one silently would hide which account a CI job really talks to.
        raise UsageError(
            f"both {envvars.API_KEY} and {envvars.ACCESS_TOKEN} are set",
            hint=with_lookup_order("Unset one of them."),
        )
    if api_key is not None:
        return ResolvedCredential(
            CredentialKind.API_KEY, SecretStr(api_key), CredentialSource.ENV, envvars.API_KEY
        )
    if access_token is not None:
        return ResolvedCredential(
            CredentialKind.ACCESS_TOKEN,
            SecretStr(access_token),
            CredentialSource.ENV,
            envvars.ACCESS_TOKEN,
        )
    return None


def _klaviyo_from_store(store: CredentialStore) -> ResolvedCredential | None:
    found = store.read_first([store.ref(SecretKind.OAUTH_TOKENS), store.ref(SecretKind.API_KEY)])
    if found is None:
        return None
    ref, stored = found
    if ref.kind is SecretKind.API_KEY:
        return ResolvedCredential(
            CredentialKind.API_KEY, stored.value, stored.source, stored.origin
        )
    tokens = OAuthTokens.from_secret_json(stored.value.get_secret_value(), stored.origin)
    return ResolvedCredential(
        CredentialKind.ACCESS_TOKEN,
        tokens.access_token,
        stored.source,
        stored.origin,
        tokens=tokens,
    )


def _from_variable(environ: Mapping[str, str], name: str) -> str | None:
    """A secret from the environment, refused (never shown) when it cannot be one.

    It is sent in an HTTP header, so a pasted line break, a space or a non-ASCII character
    would otherwise fail deep in the HTTP library, or be sent to Klaviyo as part of the key.
    """
    value = _non_blank(environ.get(name))
    if value is None:
        return None
    if len(value) > SECRET_LIMIT or not value.isascii() or not value.isprintable() or " " in value:
        raise UsageError(
            f"{name} holds characters a credential cannot have"
            " (spaces, line breaks, control or non-ASCII characters)",
            hint=f"copy the secret again into {name}; it is never printed",
        )
    return value


def _non_blank(value: str | None) -> str | None:
    # An empty variable (`JOYCTL_KLAVIYO_API_KEY=` in a CI file) means "not set", not "empty key".
    if value is None or not value.strip():
        return None
    return value.strip()


def _check_explicit(explicit: ResolvedCredential, kinds: tuple[CredentialKind, ...]) -> None:
    if explicit.kind not in kinds:
        raise ValueError(f"a {explicit.kind} cannot stand in for a {' or '.join(kinds)}")
    if explicit.source not in _EXPLICIT_SOURCES:
        raise ValueError(
            f"an explicit credential comes from a flag or stdin, not {explicit.source}"
        )
