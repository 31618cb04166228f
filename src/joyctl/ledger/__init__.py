"""The SQLite ledger: one file per profile, migrations, and the queries on it.

Nothing here imports from services, cli, klaviyo or engine.
"""
