"""Count targets per calendar period: a month is a month, whatever its days (docs/metrics.md, "Targets").

A count target is configured per calendar period kind (``per_week``, ``per_month``,
``per_quarter``, ``per_year``) and a period is held to the target of its own kind:

- a target given for the period's kind is used as it is;
- a quarter without one is held to 3 × the monthly target; a year to 4 × the quarterly one, else
  12 × the monthly one (coarser periods add up whole finer ones);
- a week without one is held to the monthly pace, 12 ÷ 52 of the monthly target, rounded to a
  whole number (half up): weeks do not tile months, and a count is whole. A pace that rounds to
  0 (under half a session a week) is no weekly target;
- a month is never held to a share of a quarterly or yearly target (a quarter's target may be
  met unevenly across its months): without ``per_month``, a month has no target.

So exactly 6 collaboration events in a 31-day month meet a target of 6 a month (it is not scaled
to 6.11 by the month's days), a quarter needs 18, and a week 1 (6 × 12 ÷ 52 = 1.38).
"""

from __future__ import annotations

WEEKS_PER_YEAR = 52


def period_target(
    period_kind: str,
    per_month: float | None,
    per_week: float | None = None,
    per_quarter: float | None = None,
    per_year: float | None = None,
) -> float | None:
    """The count target of a ``period_kind`` period ("week", "month", "quarter", "year"), or None."""
    if period_kind == "month":
        return per_month
    if period_kind == "quarter":
        return per_quarter if per_quarter is not None else _times(per_month, 3)
    if period_kind == "year":
        if per_year is not None:
            return per_year
        return _times(per_quarter, 4) if per_quarter is not None else _times(per_month, 12)
    if period_kind == "week":
        if per_week is not None:
            return per_week
        if per_month is None:
            return None
        weekly = _round_half_up(per_month * 12 / WEEKS_PER_YEAR)
        return weekly or None
    raise ValueError(f"unknown period kind {period_kind!r}")


def meets(value: float | None, target: float | None, higher_is_better: bool = True) -> bool | None:
    """Whether ``value`` meets ``target`` (≥, or ≤ when lower is better); None without either."""
    if value is None or target is None:
        return None
    return value >= target if higher_is_better else value <= target


def _times(value: float | None, factor: int) -> float | None:
    return None if value is None else round(value * factor, 6)


def _round_half_up(value: float) -> float:
    return float(int(value + 0.5 + 1e-9))
