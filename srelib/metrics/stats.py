"""Summary statistics shared by the metric groups."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DurationStats:
    """``{n, mean, median, p90}`` of durations in minutes; all None when n = 0.

    p90 interpolates linearly between closest ranks (numpy's default, DuckDB's
    ``quantile_cont``), as docs/metrics.md specifies.
    """

    n: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None

    @classmethod
    def from_row(cls, n: int | None, mean: float | None, median: float | None, p90: float | None) -> DurationStats:
        if not n:
            return cls()
        return cls(int(n), _clean(mean), _clean(median), _clean(p90))


def _clean(value: float | None) -> float | None:
    """Round away binary noise (57.99999999 minutes is 58)."""
    return None if value is None else round(float(value), 4)


def duration_sql(expr: str) -> str:
    """The four aggregates of :class:`DurationStats` over ``expr`` (NULLs ignored)."""
    # avg, not an exact sum: incidents are few (one thread), and an exact mean rounds differently at
    # exact ties (12.20625 minutes), which would change published figures.
    return f"count({expr}), avg({expr}), {median_sql(expr)}, quantile_cont({expr}, 0.9)"


def median_sql(expr: str) -> str:
    """The median of ``expr``, interpolated between the two middle values (numpy's ``median``)."""
    return f"quantile_cont({expr}, 0.5)"
