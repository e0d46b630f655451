"""Error budgets over the SLO window: rolling status and daily burn-down (docs/metrics.md, "SLOs").

- **Rolling status at period end**: attainment, budget remaining and status over the SLO's own
  time window ending at the period end: ``[end − window, end)`` for rolling windows; for
  calendar-aligned windows, the calendar month, quarter, year, ISO week or day (by the window's
  unit, in the org time zone) that contains the period's last moment, cut at the period end.
- **Daily burn-down**: for each day *D* of the period (org time zone), the budget remaining over
  the window's whole days ending with *D* (rolling), or from the calendar window's start to *D*.

Burn rates and the multiwindow alerts are in :mod:`srelib.metrics.alerts`; the error budget
policy in :mod:`srelib.metrics.policy`; the formulas themselves in :mod:`srelib.metrics.slo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from srelib.ingest import rollups
from srelib.metrics.alerts import AlertEvaluation, alert_evaluations, burn_rates
from srelib.metrics.scope import Scope
from srelib.metrics.slo import (
    SloDefinition,
    SloResult,
    attainment,
    error_budget_remaining,
    sli_source,
    slice_sums_sql,
    slo_definitions,
    slo_results,
    time_slice_sql,
)
from srelib.period import Period, Window, zone


@dataclass(frozen=True)
class BurnDownPoint:
    day: str  # YYYY-MM-DD in the org time zone
    attainment: float | None
    remaining: float | None


@dataclass(frozen=True)
class SloBudget:
    window: str
    window_start: str
    rolling: SloResult
    burn_rates: dict[str, float | None]
    alerts: list[AlertEvaluation]
    burn_down: list[BurnDownPoint]


def window_for(definition: SloDefinition, rolling: bool, end: datetime, timezone: str) -> Window:
    """The SLO's time window ending at ``end`` (naive UTC)."""
    if rolling:
        return Window(definition.window_duration, end - timedelta(minutes=definition.window_minutes), end)
    unit = definition.window_duration[-1]
    local_last = (end - timedelta(microseconds=1)).replace(tzinfo=zone("UTC")).astimezone(zone(timezone))
    day = local_last.date()
    if unit in ("M", "Q", "Y"):
        first = Period.containing("month" if unit == "M" else "quarter", day, timezone).first_day
        if unit == "Y":
            first = date(day.year, 1, 1)
    elif unit == "w":
        first = day - timedelta(days=day.weekday())
    else:
        first = day
    start = datetime.combine(first, datetime.min.time(), zone(timezone)).astimezone(zone("UTC")).replace(tzinfo=None)
    return Window(definition.window_duration, start, end)


def slo_budgets(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, at_risk_below: float = 0.25
) -> dict[str, SloBudget]:
    definitions = slo_definitions(con, scope)
    if not definitions:
        return {}
    rolling_flags = dict(con.execute("SELECT name, window_rolling FROM slos").fetchall())
    end = period.end_utc
    windows = {d.name: window_for(d, rolling_flags.get(d.name, True), end, period.timezone) for d in definitions}
    rolling = _results_by_window(con, definitions, windows, scope, at_risk_below)
    rates = burn_rates(con, definitions, end)
    alerts = alert_evaluations(con, definitions, period, rates)
    burn_down = burn_downs(con, definitions, rolling_flags, period)
    return {
        d.name: SloBudget(
            window=d.window_duration,
            window_start=windows[d.name].start_utc.isoformat() + "Z",
            rolling=rolling[d.name],
            burn_rates=rates[d.name],
            alerts=alerts[d.name],
            burn_down=burn_down[d.name],
        )
        for d in definitions
    }


def _results_by_window(
    con: duckdb.DuckDBPyConnection,
    definitions: Sequence[SloDefinition],
    windows: dict[str, Window],
    scope: Scope,
    at_risk_below: float,
) -> dict[str, SloResult]:
    """Each SLO's result over its own window (SLOs sharing a window share one query)."""
    result: dict[str, SloResult] = {}
    for window in {(w.label, w.start_utc, w.end_utc) for w in windows.values()}:
        span = Window(*window)
        names = [d.name for d in definitions if windows[d.name] == span]
        computed = slo_results(con, [span], scope, at_risk_below, names=names)[span.label]
        result.update({n: computed[n] for n in names})
    return result


def burn_downs(
    con: duckdb.DuckDBPyConnection,
    definitions: Sequence[SloDefinition],
    rolling_flags: dict[str, bool],
    period: Period,
) -> dict[str, list[BurnDownPoint]]:
    """The daily burn-down of each SLO through the period (see the module's docstring)."""
    days = period.local_days()
    longest = max(round(d.window_minutes / 1440) for d in definitions)
    first_local = days[0] - timedelta(days=max(longest, 400 if not all(rolling_flags.values()) else 0))
    start = datetime.combine(first_local, datetime.min.time(), zone(period.timezone))
    start_utc = start.astimezone(zone("UTC")).replace(tzinfo=None)
    daily = _daily(con, definitions, start_utc, period)
    result = {}
    for d in definitions:
        rows = daily.get(d.name, {})
        points = []
        n_days = max(1, round(d.window_minutes / 1440))
        for day in days:
            if rolling_flags.get(d.name, True):
                span = [day - timedelta(days=k) for k in range(n_days)]
            else:
                window = window_for(
                    d, False, _local_midnight_utc(day + timedelta(days=1), period.timezone), period.timezone
                )
                local_start = window.start_utc.replace(tzinfo=zone("UTC")).astimezone(zone(period.timezone)).date()
                span = [local_start + timedelta(days=k) for k in range((day - local_start).days + 1)]
            attainment = _attainment(d, [rows[x] for x in span if x in rows])
            remaining = error_budget_remaining(attainment, d.target)
            points.append(
                BurnDownPoint(
                    day=day.isoformat(),
                    attainment=None if attainment is None else round(attainment, 8),
                    remaining=None if remaining is None else round(remaining, 6),
                )
            )
        result[d.name] = points
    return result


def _local_midnight_utc(day: date, timezone: str) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone(timezone)).astimezone(zone("UTC")).replace(tzinfo=None)


def _attainment(d: SloDefinition, rows: list[tuple[float, float, float, float, float]]) -> float | None:
    """The attainment over some days, from their sums (see :func:`_daily`)."""
    good, total, slices, good_slices, ratio_sum = (sum(r[i] for r in rows) for i in range(5))
    return attainment(d.budgeting_method, good, total, slices, good_slices, ratio_sum)


def _daily(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[SloDefinition], start_utc: datetime, period: Period
) -> dict[str, dict[date, tuple[float, float, float, float, float]]]:
    """Per SLO and local day: good, total, slices with traffic, good slices, sum of slice ratios.

    Read from the roll-up's 15-minute blocks (:mod:`srelib.ingest.rollups`; a local day is
    whole blocks); otherwise, and for a time-sliced SLO whose slice does not divide 15 minutes,
    the buckets are first summed into 15-minute blocks (Occurrences) or the SLO's time slices, in
    DuckDB. Only those few rows are converted to the org's local days.
    """
    raw = list(definitions)
    rows: list[tuple[Any, ...]] = []
    if rollups.available(con) and rollups.aligned(start_utc, period.end_utc):
        rolled = [
            d.name
            for d in definitions
            if d.budgeting_method == "Occurrences" or rollups.sliced_in_blocks(d.time_slice_seconds)
        ]
        raw = [d for d in definitions if d.name not in rolled]
        rows += con.execute(
            f"""SELECT slo, CAST(timezone(?, timezone('UTC', "timestamp")) AS DATE) AS day, sum(good), sum(total),
                       sum(slices), sum(good_slices), sum(ratio_sum)
                FROM {rollups.ROLLUP}
                WHERE list_contains(?::VARCHAR[], slo) AND "timestamp" >= ? AND "timestamp" < ?
                GROUP BY ALL""",
            [period.timezone, rolled, start_utc, period.end_utc],
        ).fetchall()
    if raw:
        rows += _daily_from_buckets(con, raw, start_utc, period)
    result: dict[str, dict[date, tuple[float, float, float, float, float]]] = {}
    for slo, day, good, total, slices, good_slices, ratio_sum in rows:
        result.setdefault(slo, {})[day] = (
            float(good or 0),
            float(total or 0),
            float(slices or 0),
            float(good_slices or 0),
            float(ratio_sum or 0),
        )
    return result


def _daily_from_buckets(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[SloDefinition], start_utc: datetime, period: Period
) -> list[tuple[Any, ...]]:
    """:func:`_daily`'s rows (slo, day and the five sums) from the SLI buckets."""
    return con.execute(
        f"""
        WITH b AS (
            SELECT s.slo, s."timestamp", s.good, s.total, d.budgeting_method AS method,
                   d.time_slice_seconds AS seconds, d.time_slice_target AS slice_target
            FROM {sli_source(con)} AS s JOIN (SELECT * FROM slos WHERE list_contains(?::VARCHAR[], name)) d
                ON d.name = s.slo
            WHERE s."timestamp" >= ? AND s."timestamp" < ?
        ), blocked AS (
            SELECT slo, method, slice_target, good, total,
                   CASE WHEN method = 'Occurrences' OR seconds IS NULL OR seconds <= 0
                        THEN time_bucket(INTERVAL 15 MINUTE, "timestamp")
                        ELSE make_timestamp(CAST({time_slice_sql("seconds")} * seconds * 1000000 AS BIGINT))
                   END AS block
            FROM b
        ), blocks AS (
            SELECT slo, block, any_value(method) AS method, any_value(slice_target) AS slice_target,
                   sum(good) AS good, sum(total) AS total
            FROM blocked GROUP BY slo, block
        ), days AS (
            SELECT slo, method, slice_target, good, total,
                   CAST(timezone(?, timezone('UTC', block)) AS DATE) AS day
            FROM blocks
        ), events AS (
            SELECT slo, day, sum(good) AS good, sum(total) AS total FROM days GROUP BY ALL
        ), slices AS (
            SELECT slo, day, {slice_sums_sql("slice_target")}
            FROM days WHERE method <> 'Occurrences' GROUP BY ALL
        )
        SELECT e.slo, e.day, e.good, e.total, s.slices, s.good_slices, s.ratio_sum
        FROM events e LEFT JOIN slices s USING (slo, day)""",
        [[d.name for d in definitions], start_utc, period.end_utc, period.timezone],
    ).fetchall()
