"""What joyctl sends to Klaviyo after a ledger change, and sending it.

Entry points: `joy_events` (the `Joy: ...` events and profile properties, named as Joy names them)
and `pusher.push_outbox` (flush the outbox: events in bulk jobs, profile updates by import job).
"""
