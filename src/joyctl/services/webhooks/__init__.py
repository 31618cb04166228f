"""Klaviyo system webhooks: subscriptions and the signed-delivery receiver.

Entry points: `subscriptions` (`joyctl webhooks topics|list|create|enable|disable|delete`),
`listen.listen` and `listen.replay` (`joyctl webhooks listen|replay`). A delivery goes
`receiver` (HTTP, with `framing` reading the body within deadlines and limits) -> `intake`
(cheap checks and the signature, then the signed request stored in full, or an audit row) ->
`verify` (signature, account, freshness) -> `process` (review events through the reward
pipeline).
"""
