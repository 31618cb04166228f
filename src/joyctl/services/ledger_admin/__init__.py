"""`joyctl ledger`: balances, history, adjustments, import/export, verify, path and backup.

Entry points: `operations` (balance, history, adjust, import, export, verify) and `location`
(path, backup).
"""
