"""Loyalty audiences mapped to Klaviyo lists.

Entry points: `manage` (`joyctl audiences create|list|show|delete|map|unmap`), `sync.sync_audiences`
(`joyctl audiences sync`), `definition` (the declarative filter) and `profiles` (customers ->
Klaviyo profile ids).
"""
