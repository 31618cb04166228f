"""Connecting a profile to Klaviyo, and everything that needs the connection to be right.

Entry points: `connect.connect_oauth` / `connect.connect_api_key` (`joyctl connect`),
`disconnect.disconnect` (`joyctl disconnect`), `status.check_status` (`joyctl status`),
`migrate.migrate_secrets` (`joyctl auth migrate`), `session.KlaviyoSession` (profile +
credential -> a ready client, used by every feature that calls Klaviyo),
`session.resolve_oauth_client` (the profile's OAuth app id and secret, when known), and
`credential_store.credential_store` (which store a profile's secrets live in).
"""
