"""`joyctl ledger`: balances, history, adjustments, import/export, verify, path and backup.

Entry points: `balances` (balance, history), `adjust`, `operations` (import, export, verify)
and `location` (path, backup). `customer_file` holds the columns of the file `ledger import`
reads and `ledger export` writes; `importing` loads it a batch at a time and quarantines what
it cannot.
"""
