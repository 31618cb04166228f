"""Review rewards: reviews from any origin through the engine into the ledger.

Entry points: `pipeline.RewardPipeline` (decide a batch of reviews and write each decision with its
outbox rows in one transaction), `reviews.simulate_reviews` (`joyctl reviews simulate`),
`explain.list_reviews` / `explain.explain_review` (`joyctl reviews list|show`, read only),
`replay.replay_reviews` / `replay.submit_review` (`joyctl reviews replay|submit`),
`program.show_program` / `program.set_program_value` (`joyctl program`; the rules themselves,
such as `min_characters`, are in `joyctl.engine`), and `sources` (turning Klaviyo reviews, files
and options into pipeline input).
"""
