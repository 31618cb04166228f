"""Klaviyo system webhooks: subscriptions and the signed-delivery receiver.

Entry points: `subscriptions` (`joyctl webhooks topics|list|create|enable|disable|delete`),
`listen.listen` and `listen.replay` (`joyctl webhooks listen|replay`). A delivery goes
`receiver` (HTTP) -> `intake` (store the raw request first) -> `verify` (signature, account,
freshness) -> `process` (review events through the reward pipeline).
"""
