"""The browser step of an OAuth login: from the authorize URL to the redirected URL.

Three ways to get Klaviyo's answer: a one-shot listener on 127.0.0.1 that the browser is sent
to (the usual way), the redirected URL pasted back by the user (`--paste`, for SSH sessions
where the browser cannot reach this machine), or, for the embedded sandbox, which consents on
its own, the authorize response's `Location` header read directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from joyctl import envvars
from joyctl.command_line import command
from joyctl.errors import AuthError, UsageError
from joyctl.klaviyo.errors import map_failure
from joyctl.klaviyo.oauth import OAuthApp, PkcePair, build_authorize_url
from joyctl.services.connection.oauth_listener import LOOPBACK, CallbackListener, open_in_browser

DEFAULT_LOGIN_TIMEOUT = 300.0
# The port the sandbox's OAuth app allows when a profile asks for "any free port" (0).
SANDBOX_REDIRECT_PORT = 8765


@dataclass(frozen=True)
class OAuthLogin:
    """How the browser step runs. `tell` shows a line to the user (on stderr); `paste`, set by
    --paste, reads the redirected URL back; `browser` opens a URL, honouring `$BROWSER`."""

    tell: Callable[[str], None]
    open_browser: bool = True
    paste: Callable[[], str] | None = None
    timeout: float = DEFAULT_LOGIN_TIMEOUT
    interactive: bool = True
    browser: Callable[[str, Mapping[str, str]], bool] = open_in_browser
    # CI or --no-input: never open a browser and then wait for a person who is not there.
    unattended: bool = False


@dataclass(frozen=True)
class AuthorizationRequest:
    """One login attempt: the app, the scopes asked for, and the values checked on return."""

    app: OAuthApp
    scopes: tuple[str, ...]
    state: str
    pkce: PkcePair

    def url(self, redirect_uri: str) -> str:
        return build_authorize_url(
            self.app,
            redirect_uri=redirect_uri,
            scopes=self.scopes,
            state=self.state,
            pkce=self.pkce,
        )


def loopback_redirect_uri(port: int) -> str:
    return f"http://{LOOPBACK}:{port}/callback"


def await_redirect(
    request: AuthorizationRequest, login: OAuthLogin, *, port: int, environ: Mapping[str, str]
) -> tuple[str, str]:
    """The redirected URL (with code and state) and the redirect URI the login used."""
    if login.paste is not None:
        return _pasted(request, login, port), loopback_redirect_uri(port)
    with CallbackListener(port) as listener:
        _show(login, request.url(listener.redirect_uri), environ)
        redirected = listener.wait(login.timeout)
        if redirected is None:
            raise AuthError(
                f"the login was not finished within {login.timeout:g} seconds; nothing was stored",
                hint=f"run `{command('connect')}` again (--timeout SECONDS allows longer),"
                " or use --paste",
                code="login_timeout",
            )
        return redirected, listener.redirect_uri


def follow_sandbox_consent(
    request: AuthorizationRequest, *, port: int, transport: Any = None
) -> tuple[str, str]:
    """The embedded sandbox consents on its own: its answer to the authorize URL is the
    redirect itself, read from `Location` without following it."""
    redirect_uri = loopback_redirect_uri(port or SANDBOX_REDIRECT_PORT)
    try:
        with httpx.Client(follow_redirects=False, transport=transport) as browser:
            answer = browser.get(request.url(redirect_uri))
    except httpx.TransportError as exc:
        raise map_failure(exc, endpoint=None) from None
    location = answer.headers.get("location")
    if not answer.is_redirect or not location:
        raise AuthError(
            f"the sandbox did not approve the login (HTTP {answer.status_code})",
            hint=f"start the sandbox over with `{command('sandbox', 'reset', profile=None)}`",
            code="oauth_denied",
        )
    return location, redirect_uri


def _pasted(request: AuthorizationRequest, login: OAuthLogin, port: int) -> str:
    if port == 0:
        raise UsageError(
            "--paste needs a fixed redirect port, and redirect_port is 0 (any free port)",
            hint="set the port your Klaviyo app allows:"
            f" `{command('config', 'set', 'redirect_port', 'PORT')}`",
        )
    url = request.url(loopback_redirect_uri(port))
    login.tell(f"Open this URL in a browser and approve joyctl:\n\n  {url}\n")
    login.tell("Then paste the full address the browser was sent to (it may show an error page).")
    return login.paste() if login.paste is not None else ""


def check_someone_can_log_in(login: OAuthLogin, environ: Mapping[str, str]) -> None:
    """Refuse at once when nobody is there to finish a browser login (CI, --no-input)."""
    if not login.unattended or login.paste is not None:
        return
    already = [name for name in (envvars.API_KEY, envvars.ACCESS_TOKEN) if environ.get(name)]
    if already:
        hint = (
            f"{already[0]} is set, and every command uses it without connecting; to store a"
            " private key instead, pipe it to --api-key-stdin"
        )
    else:
        hint = (
            f"set {envvars.ACCESS_TOKEN} or {envvars.API_KEY}, or pipe a private key to"
            " --api-key-stdin"
        )
    raise UsageError(
        "connecting by OAuth needs a person to approve it in a browser; with CI or"
        " --no-input joyctl does not wait for one",
        hint=hint,
    )


def _show(login: OAuthLogin, url: str, environ: Mapping[str, str]) -> None:
    check_someone_can_log_in(login, environ)  # with or without --no-browser: nobody to finish
    if not login.open_browser:
        login.tell(f"Open this URL in a browser to connect joyctl to Klaviyo:\n\n  {url}\n")
    elif login.browser(url, environ):
        login.tell(
            f"A browser was opened to connect joyctl to Klaviyo. If not, visit:\n\n  {url}\n"
        )
    elif login.interactive:
        login.tell(f"No browser could be opened; open this URL yourself:\n\n  {url}\n")
    else:
        raise UsageError(
            "no browser could be opened, and joyctl does not wait for one without a terminal",
            hint=(
                "pass --no-browser to print the URL and wait, or --paste, or connect with "
                f"--api-key-stdin, or set {envvars.ACCESS_TOKEN} or {envvars.API_KEY}"
            ),
        )
    login.tell(f"Waiting up to {login.timeout:g} seconds for Klaviyo's answer...")
