"""The emulator's state: records, indexes, persistence, and the operations routes share.

`state.SandboxState` holds everything; `persistence` saves and loads it; `events`, `profiles`,
`reviews` and `oauth_grants` are the state changes more than one route needs.
"""
