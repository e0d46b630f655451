"""Layer 5, serve: the dashboards voila serves, and the process that keeps their views warm.

See ``docs/architecture.md``.
"""
