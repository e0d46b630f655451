"""The seeded demo organisation: its data, and the whole catalogue published from it.

See ``docs/architecture.md``.
"""
