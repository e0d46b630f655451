"""SLO attainment, error budget and status for a period (docs/metrics.md).

- Occurrences: attainment = Σgood / Σtotal over the SLI buckets whose timestamp lies in the
  period.
- Timeslices: a slice of ``timeSliceWindow`` is good when its good/total ≥
  ``timeSliceTarget``; slices without traffic are left out; attainment = good slices / slices.
- RatioTimeslices: attainment = the mean of the slices' good/total ratios.

Error budget remaining = 1 − (1 − attainment) / (1 − target), which for Occurrences is
1 − (Σtotal − Σgood) / ((1 − target) · Σtotal); negative when overspent. Status: ``no_data``
(no traffic), ``breached`` (attainment < target), ``at_risk`` (remaining < 0.25, configurable),
else ``met``. A 100 % target has no error budget: remaining is None and any bad event breaches.

Sources: OpenSLO v1 spec (budgetingMethod); Google SRE Workbook, "Implementing SLOs" and
"Alerting on SLOs" (error budget, burn rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from srelib.ingest import rollups
from srelib.ingest.corrections import BUCKETS_TABLE
from srelib.ingest.sql import slice_sums_sql, time_slice_sql
from srelib.metrics.scope import Scope
from srelib.period import Period, Window


def attainment_ratio(good: float, total: float) -> float | None:
    """Σgood / Σtotal; None without traffic."""
    return None if total == 0 else good / total


def attainment(
    budgeting_method: str, good: float, total: float, slices: float, good_slices: float, slice_ratio_sum: float
) -> float | None:
    """Attainment by the OpenSLO budgeting method, from the sums over the buckets or slices measured.

    Occurrences: Σgood / Σtotal. Timeslices: good slices / slices with traffic. RatioTimeslices:
    the mean of the slices' good/total ratios (their sum ÷ slices). None without traffic.
    """
    if budgeting_method == "Occurrences":
        return attainment_ratio(good, total)
    if budgeting_method == "Timeslices":
        return attainment_ratio(good_slices, slices)
    return attainment_ratio(slice_ratio_sum, slices)


def error_budget_remaining(attainment: float | None, target: float) -> float | None:
    """1 − (1 − attainment) / (1 − target); None without data or at a 100 % target."""
    if attainment is None or target >= 1:
        return None
    return 1 - (1 - attainment) / (1 - target)


def slo_status(attainment: float | None, remaining: float | None, target: float, at_risk_below: float = 0.25) -> str:
    if attainment is None:
        return "no_data"
    if attainment < target:
        return "breached"
    if remaining is not None and remaining < at_risk_below:
        return "at_risk"
    return "met"


def error_budget(target: float, amount: float) -> float:
    """The error budget of an amount of events or minutes: (1 − target) × amount (99.9 % over 30 d =
    43.2 minutes; over 10,000 events, 10 bad events)."""
    return (1 - target) * amount


@dataclass(frozen=True)
class SloDefinition:
    name: str
    service: str
    team: str | None
    display_name: str | None
    target: float
    budgeting_method: str
    window_duration: str
    window_minutes: float
    time_slice_target: float | None
    time_slice_seconds: int | None


@dataclass(frozen=True)
class SloResult:
    service: str
    team: str | None
    target: float
    budgeting_method: str
    good: int
    total: int
    attainment: float | None
    error_budget_remaining: float | None
    status: str
    slices: int | None = None
    good_slices: int | None = None
    display_name: str | None = None
    window: str = "28d"
    window_budget_minutes: float | None = None
    budget_consumed: float | None = None  # 1 − remaining: the share of the period's budget spent
    budget_minutes: float | None = None  # (1 − target) × the period's minutes
    budget_consumed_minutes: float | None = None
    budget_remaining_minutes: float | None = None


def sli_source(con: duckdb.DuckDBPyConnection) -> str:
    """What every SLO figure reads the SLI buckets from, for ``FROM {sli_source(con)} AS sli``: the
    ``sli`` table without the buckets that start inside a correction window of their SLO
    (:mod:`srelib.ingest.corrections`), or the table itself when there are none (a warehouse
    from before corrections has none)."""
    try:
        corrected = con.execute(f"SELECT EXISTS (SELECT 1 FROM {BUCKETS_TABLE})").fetchall()[0][0]
    except duckdb.CatalogException:
        return "sli"
    if not corrected:
        return "sli"
    return f'(SELECT b.* FROM sli b ANTI JOIN {BUCKETS_TABLE} x ON x.slo = b.slo AND x."timestamp" = b."timestamp")'


def grid_or_buckets(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> str:
    """What to read good and total from ``start`` to ``end`` in 5-minute steps: the 5-minute grid
    kept at ingest (:mod:`srelib.ingest.rollups`) when both lie on its blocks, so every window and
    step holds whole blocks and the sums are the buckets'; else :func:`sli_source`."""
    if rollups.available(con) and rollups.aligned(start, end, seconds=rollups.GRID_SECONDS):
        return rollups.GRID
    return sli_source(con)


def slo_definitions(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[SloDefinition]:
    """The SLOs in scope: a team's SLOs are those of its services (catalogue, else the SLO's team label)."""
    rows = con.execute("""
        SELECT name, service, team, display_name, target, budgeting_method, window_duration,
               window_minutes, time_slice_target, time_slice_seconds
        FROM slos ORDER BY name""").fetchall()
    definitions = []
    for row in rows:
        slo = SloDefinition(*row)
        team = scope.catalogue.team_of(slo.service) or slo.team
        slo = SloDefinition(slo.name, slo.service, team, *row[3:])
        if scope.team is None or team == scope.team:
            definitions.append(slo)
    return definitions


def slo_results(
    con: duckdb.DuckDBPyConnection,
    periods: Sequence[Period | Window],
    scope: Scope,
    at_risk_below: float = 0.25,
    names: Sequence[str] | None = None,
) -> dict[str, dict[str, SloResult]]:
    """For each period, each in-scope SLO's :class:`SloResult` (only ``names``, when given), aggregated in DuckDB."""
    definitions = [d for d in slo_definitions(con, scope) if names is None or d.name in names]
    result: dict[str, dict[str, SloResult]] = {p.label: {} for p in periods}
    if not definitions:
        return result
    names = [d.name for d in definitions]
    known = con.execute("SELECT count(*) FROM slos").fetchall()[0][0]
    # One small aggregate per period, each reading only its own stretch of the (time-ordered)
    # buckets: far cheaper than giving every bucket its period with a CASE, or joining ranges.
    # A few SLOs (a team's) are picked out of the rows first; all of them, after aggregating.
    picked = "AND slo IN (SELECT unnest(?::VARCHAR[]))" if len(names) < known else ""
    source = sli_source(con)
    rolled = rollups.available(con) and all(rollups.aligned(p.start_utc, p.end_utc) for p in periods)
    events, params = _per_period(
        periods,
        "slo, sum(good) AS good, sum(total) AS total",
        picked,
        [names] if picked else [],
        source=rollups.ROLLUP if rolled else source,
    )
    # Time slices: per slice width, the SLOs that have it: their slices' sums from the roll-up
    # when their slices lie within its blocks, else their slices from the buckets, then summed.
    widths: dict[int, list[str]] = {}
    for d in definitions:
        if d.budgeting_method != "Occurrences" and (d.time_slice_seconds or 0) > 0:
            widths.setdefault(int(d.time_slice_seconds or 0), []).append(d.name)
    none = "NULL::VARCHAR AS period, NULL::VARCHAR AS slo, NULL::HUGEINT AS good, NULL::HUGEINT AS total"
    slice_parts = [f"SELECT {none} WHERE false"]
    slice_params: list[Any] = []
    summed_parts: list[str] = []
    summed_params: list[Any] = []
    for width, sliced in widths.items():
        if rolled and rollups.sliced_in_blocks(width):
            query, query_params = _per_period(
                periods,
                "slo, sum(slices) AS slices, sum(good_slices) AS good_slices, sum(ratio_sum) AS ratio_sum",
                "AND slo IN (SELECT unnest(?::VARCHAR[]))",
                [sliced],
                source=rollups.ROLLUP,
            )
            summed_parts.append(f"UNION ALL SELECT period, slo, slices, good_slices, ratio_sum FROM ({query})")
            summed_params += query_params
            continue
        query, query_params = _per_period(
            periods,
            f"slo, {time_slice_sql(str(width))} AS slice, sum(good) AS good, sum(total) AS total",
            "AND slo IN (SELECT unnest(?::VARCHAR[]))",
            [sliced],
            having="sum(total) > 0",
            source=source,
        )
        slice_parts.append(f"SELECT period, slo, good, total FROM ({query})")
        slice_params += query_params
    rows = con.execute(
        f"""
        WITH events AS ({events}),
        slices AS ({" UNION ALL ".join(slice_parts)}),
        slice_summary AS (
            SELECT period, slo, {slice_sums_sql("d.time_slice_target")}
            FROM slices JOIN slos d ON d.name = slices.slo GROUP BY ALL
            {" ".join(summed_parts)}
        )
        SELECT e.period, e.slo, e.good, e.total, s.slices, s.good_slices, s.ratio_sum
        FROM events e LEFT JOIN slice_summary s USING (period, slo)
        WHERE list_contains(?::VARCHAR[], e.slo)""",
        [*params, *slice_params, *summed_params, names],
    ).fetchall()
    measured = {(r[0], r[1]): r[2:] for r in rows}
    for period in periods:
        for d in definitions:
            good, total, slices, good_slices, ratio_sum = measured.get((period.label, d.name), (0, 0, None, None, None))
            good, total = int(good or 0), int(total or 0)
            attained = attainment(
                d.budgeting_method, good, total, int(slices or 0), int(good_slices or 0), float(ratio_sum or 0)
            )
            remaining = error_budget_remaining(attained, d.target)
            budget = error_budget(d.target, period.minutes) if d.target < 1 else None
            consumed = None if remaining is None else 1 - remaining
            result[period.label][d.name] = SloResult(
                service=d.service,
                team=d.team,
                target=d.target,
                budgeting_method=d.budgeting_method,
                good=good,
                total=total,
                attainment=None if attained is None else round(attained, 8),
                error_budget_remaining=None if remaining is None else round(remaining, 6),
                status=slo_status(attained, remaining, d.target, at_risk_below),
                slices=None if d.budgeting_method == "Occurrences" else int(slices or 0),
                good_slices=None if d.budgeting_method == "Occurrences" else int(good_slices or 0),
                display_name=d.display_name,
                window=d.window_duration,
                window_budget_minutes=round(error_budget(d.target, d.window_minutes), 4),
                budget_consumed=None if consumed is None else round(consumed, 6),
                budget_minutes=None if budget is None else round(budget, 4),
                budget_consumed_minutes=None if consumed is None or budget is None else round(consumed * budget, 4),
                budget_remaining_minutes=None if remaining is None or budget is None else round(remaining * budget, 4),
            )
    return result


def _per_period(
    periods: Sequence[Period | Window],
    select: str,
    where: str,
    where_params: list[Any],
    having: str = "true",
    source: str = "sli",
) -> tuple[str, list[Any]]:
    """``SELECT period, {select} FROM sli`` (``source``: :func:`sli_source`) grouped within each
    period, as one UNION ALL query."""
    parts, params = [], []
    for p in periods:
        parts.append(
            f"SELECT ?::VARCHAR AS period, {select} FROM {source} AS sli "
            f'WHERE "timestamp" >= ? AND "timestamp" < ? {where} GROUP BY ALL HAVING {having}'
        )
        params += [p.label, p.start_utc, p.end_utc, *where_params]
    return " UNION ALL ".join(parts), params
