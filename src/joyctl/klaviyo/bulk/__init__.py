"""Bulk sends to Klaviyo: events in bulk jobs, profiles in import jobs, several requests in flight.

Shared by every use case that sends many things at once (the outbox push, the backfills).
Modules, by what callers use:

- `batches.cut_chunks` cuts a stream of events into bulk jobs under Klaviyo's caps (1,000 events,
  5 MB, no repeated `unique_id`), each chunk carrying the input position after it; each event's
  JSON is written once (`bodies`) and a request body is made of those texts.
- `sender.OrderedSender` sends chunks on a few threads and hands the outcomes back in input
  order; `sender.send_events` sends one bulk job, isolating the events Klaviyo refuses;
  `sender.RequestTally` counts the requests and 429s of a run.
- `profile_jobs` cuts profiles into import jobs, submits them and polls each to its end.

Like the rest of the Klaviyo layer, nothing here imports services, ledger or engine code.
"""
