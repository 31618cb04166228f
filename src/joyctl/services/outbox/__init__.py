"""Pushing the outbox: what the ledger recorded for Klaviyo, sent once it is committed.

Entry point: `pusher.push_outbox` (flush the outbox: events in bulk jobs through
`joyctl.klaviyo.bulk`, profile updates one by one or by import job). The payloads are written by
the reward pipeline with `joyctl.klaviyo.joy_events`, named as Joy names them.
"""
