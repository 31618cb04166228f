"""OAuth 2 with mandatory PKCE (S256), as Klaviyo runs it: authorize, token, refresh, revoke.

The authorize step either serves a consent page or, with auto-consent, redirects at once.
Errors that make the redirect URI untrustworthy (unknown client, URI not on the allow-list) are
shown as a page, never redirected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from html import escape
from urllib.parse import parse_qsl, urlencode

from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.ids import token
from joyctl.sandbox.jsonapi import Response
from joyctl.sandbox.store.oauth_grants import OAuthError, issue_for_code, refresh, revoke_token
from joyctl.sandbox.store.records import AuthCodeRecord, ConsentRequestRecord, OAuthAppRecord

VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE_PATTERN = re.compile(r"^[A-Za-z0-9\-_]{43}$")
CODE_LIFETIME = 600.0
REQUIRED_SCOPE = "accounts:read"  # Klaviyo grants it to every app


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response(302, headers={"Location": f"{uri}{separator}{urlencode(params)}"})


def _page(status: int, title: str, body: str) -> Response:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(status, html.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})


def _authorize_problem(ctx: RequestContext, app: OAuthAppRecord) -> tuple[str, str] | None:
    """An (error, description) pair to send back to the client, or None when all is well."""
    if ctx.param("response_type") != "code":
        return "unsupported_response_type", "response_type must be 'code'."
    if ctx.param("code_challenge_method") != "S256":
        return "invalid_request", "code_challenge_method must be 'S256'; PKCE is mandatory."
    if not CHALLENGE_PATTERN.match(ctx.param("code_challenge") or ""):
        return "invalid_request", "code_challenge must be the base64url SHA-256 of the verifier."
    if not ctx.param("state"):
        return "invalid_request", "state is required."
    requested = (ctx.param("scope") or "").split()
    outside = [scope for scope in requested if scope not in app["scopes"]]
    if not requested or outside:
        return "invalid_scope", "Requested scopes are not configured on this app: " + " ".join(
            outside or ["(none requested)"]
        )
    return None


def authorize(ctx: RequestContext, world: World) -> Response:
    app = world.state.oauth_apps.get(ctx.param("client_id") or "")
    if app is None:
        return _page(400, "Invalid client", "<p>The client_id is not a known app.</p>")
    redirect_uri = ctx.param("redirect_uri") or ""
    if redirect_uri not in app["redirect_uris"]:
        return _page(
            400,
            "Invalid redirect URI",
            "<p>redirect_uri does not exactly match one the app allows.</p>",
        )
    problem = _authorize_problem(ctx, app)
    state = ctx.param("state") or ""
    if problem is not None:
        error, description = problem
        params = {"error": error, "error_description": description}
        return _redirect(redirect_uri, {**params, "state": state} if state else params)
    request = ConsentRequestRecord(
        id=token(),
        client_id=app["client_id"],
        redirect_uri=redirect_uri,
        scopes=(ctx.param("scope") or "").split(),
        state=state,
        code_challenge=ctx.param("code_challenge") or "",
        expires_at=world.now() + CODE_LIFETIME,
    )
    if world.config.auto_consent:
        return _approve(world, request)
    world.state.consent_requests[request["id"]] = request
    return _consent_page(app, request)


def _consent_page(app: OAuthAppRecord, request: ConsentRequestRecord) -> Response:
    scopes = "".join(f"<li><code>{escape(scope)}</code></li>" for scope in request["scopes"])
    form = (
        f"<p><strong>{escape(app['name'])}</strong> asks for access to this Klaviyo account:</p>"
        f"<ul>{scopes}</ul><form method='post' action='/oauth/authorize'>"
        f"<input type='hidden' name='request_id' value='{escape(request['id'])}'>"
        "<button name='decision' value='allow'>Allow</button> "
        "<button name='decision' value='deny'>Deny</button></form>"
    )
    return _page(200, "Authorize app (Klaviyo sandbox)", form)


def _approve(world: World, request: ConsentRequestRecord) -> Response:
    withheld = set(world.state.consent_withheld_scopes) - {REQUIRED_SCOPE}
    granted = [s for s in dict.fromkeys([REQUIRED_SCOPE, *request["scopes"]]) if s not in withheld]
    code = AuthCodeRecord(
        code=token(),
        client_id=request["client_id"],
        redirect_uri=request["redirect_uri"],
        scopes=granted,
        code_challenge=request["code_challenge"],
        expires_at=world.now() + CODE_LIFETIME,
        used=False,
    )
    world.state.auth_codes[code["code"]] = code
    return _redirect(request["redirect_uri"], {"code": code["code"], "state": request["state"]})


def consent_decision(ctx: RequestContext, world: World) -> Response:
    """The consent page's form post: allow issues a code, deny sends `access_denied`."""
    form = dict(parse_qsl(ctx.body.decode("utf-8", "replace")))
    request = world.state.consent_requests.pop(form.get("request_id", ""), None)
    if request is None or request["expires_at"] <= world.now():
        return _page(400, "Request expired", "<p>Start the connection again.</p>")
    if form.get("decision") != "allow":
        params = {"error": "access_denied", "error_description": "The user denied access."}
        return _redirect(request["redirect_uri"], {**params, "state": request["state"]})
    return _approve(world, request)


def _client(ctx: RequestContext, world: World) -> OAuthAppRecord:
    """The app named by the Basic Authorization header, or `invalid_client`."""
    scheme, _, encoded = ctx.headers.get("authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, _, secret = decoded.partition(":")
    app = world.state.oauth_apps.get(client_id)
    if scheme.lower() != "basic" or app is None:
        raise OAuthError(401, "invalid_client")
    if not hmac.compare_digest(app["client_secret"].encode(), secret.encode()):
        raise OAuthError(401, "invalid_client")
    return app


def _form(ctx: RequestContext) -> dict[str, str]:
    content_type = ctx.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(400, "invalid_grant_type", "The body must be form-encoded.")
    return dict(parse_qsl(ctx.body.decode("utf-8", "replace")))


def _check_pkce(verifier: str, code: AuthCodeRecord) -> None:
    if not VERIFIER_PATTERN.match(verifier):
        raise OAuthError(400, "invalid_grant", 'Invalid "code_verifier"')
    if not hmac.compare_digest(s256(verifier), code["code_challenge"]):
        raise OAuthError(400, "invalid_grant", "Code challenge failed.")


def _exchange_code(world: World, app: OAuthAppRecord, form: dict[str, str]) -> dict[str, object]:
    code = world.state.auth_codes.get(form.get("code", ""))
    if code is None or code["used"] or code["expires_at"] <= world.now():
        raise OAuthError(400, "invalid_grant")
    if code["client_id"] != app["client_id"]:
        raise OAuthError(400, "invalid_grant")
    if form.get("redirect_uri", code["redirect_uri"]) != code["redirect_uri"]:
        raise OAuthError(400, "invalid_grant", "redirect_uri does not match.")
    _check_pkce(form.get("code_verifier", ""), code)
    return issue_for_code(world, code)


def token_endpoint(ctx: RequestContext, world: World) -> Response:
    try:
        app = _client(ctx, world)
        form = _form(ctx)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = _exchange_code(world, app, form)
        elif grant_type == "refresh_token":
            body = refresh(world, app, form.get("refresh_token", ""))
        else:
            raise OAuthError(400, "invalid_grant_type")
    except OAuthError as error:
        return error.response()
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return Response(200, json.dumps(body).encode(), headers)


def revoke_endpoint(ctx: RequestContext, world: World) -> Response:
    try:
        app = _client(ctx, world)
        form = _form(ctx)
        if not revoke_token(world, app, form.get("token", "")):
            raise OAuthError(400, "invalid_grant")
    except OAuthError as error:
        return error.response()
    return Response(200, b"{}", {"Content-Type": "application/json"})


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/oauth/authorize"): authorize,
    ("POST", "/oauth/authorize"): consent_decision,
    ("POST", "/oauth/token"): token_endpoint,
    ("POST", "/oauth/revoke"): revoke_endpoint,
}
