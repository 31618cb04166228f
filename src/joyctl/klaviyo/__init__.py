"""The Klaviyo layer: HTTP client, OAuth, pacing, endpoint facts, webhook signatures, models.

Nothing here imports from services, cli, ledger or engine, and nothing here imports Typer or
Rich. Modules, by what callers use:

- `client.build_client(...)` builds every `KlaviyoClient` (base URL, revision, auth, timeouts,
  pacing, retries, debug log); `auth` holds `ApiKeyAuth` and `OAuthAuth`; `bounds` gives
  every request a deadline and every answer a size limit.
- `resources.*` are small typed functions per operation; `models` are what they return.
- `oauth` has PKCE, the authorize URL, code exchange, refresh and revocation; `tokens` the
  stored token bundle.
- `bulk` sends many events or profiles at once: bulk jobs cut under Klaviyo's caps, several
  in flight, outcomes in input order (the outbox push and the backfills use it).
- `joy_events` names what joyctl sends exactly as Joy names it (metrics, profile properties).
- `errors.map_failure` is the one place HTTP failures become joyctl errors.
- `endpoints` (scopes, limits, page caps) and `signing` (webhook signatures) are shared with
  the sandbox.

This package imports nothing on purpose, so that `import joyctl.klaviyo.endpoints` stays cheap.
"""
