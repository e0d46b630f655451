"""Metric computations: SQL aggregation in DuckDB, formulas as small pure functions.

Every function takes a list of periods and returns one result per period, so a single
period and a 12-month trend are the same query (and can never disagree).
"""

from srelib.metrics.scope import Scope

__all__ = ["Scope"]
