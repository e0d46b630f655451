"""Layer 1, ingest: exports and canonical files in, validated, into the DuckDB warehouse.

``schemas`` (the canonical inputs), ``validate`` (one rule table, every problem with file, row
and column), ``warehouse`` (the DuckDB file, written in one transaction), ``specs`` (OpenSLO and
Sloth) and ``sources`` (vendor exports: FOCUS, PagerDuty, Opsgenie, Prometheus, generic files).
Imports only from the modules below every layer (``config``, ``period``, ``errors``, ``files``,
``resources``). See ``docs/architecture.md``.
"""
