"""Delivery: the DORA four keys, computed as dora-team/fourkeys computes them (METRICS.md there).

- **Deployment frequency**: deployments in the period (and per day). Band, over the three
  months ending at the period end (fourkeys' look-back; not before the first deployment, as
  fourkeys starts at its first event): ``Daily`` when the median number of
  days with a deployment per week is ≥ 3; ``Weekly`` when the median week has a deployment;
  ``Monthly`` when the median month has one; else ``Yearly``. Weeks are ISO weeks (Monday) in
  the org time zone (fourkeys uses BigQuery's Sunday weeks).
- **Lead time for changes**: median of deployed_at − commit_at over the period's deployments,
  ignoring non-positive values as fourkeys does ("automated changes"). Band on the three-month
  median: < 1 day ``One day``, < 1 week ``One week``, < 730 h ``One month``, < 6 × 730 h
  ``Six months``, else ``One year``.
- **Change failure rate**: deployments that caused an incident (``incident_id`` set) ÷
  deployments. Band: ≤ 15 % ``0-15%``, < 46 % ``16-45%``, else ``46-100%`` (fourkeys labels
  the last ``46-60%``).
- **Failed deployment recovery time** (DORA's name since 2023 for time to restore): median of
  resolved_at − started_at over incidents caused by a deployment that started in the period.
  Band as fourkeys' time to restore: < 24 h ``One day``, < 168 h ``One week``, < 730 h
  ``One month``, < 6 × 730 h ``Six months``, else ``One year``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from srelib.metrics.compare import (
    Comparison,
    ProportionComparison,
    RateComparison,
    compare,
    compare_proportions,
    compare_rates,
)
from srelib.metrics.incidents import minutes_to_resolve_sql
from srelib.metrics.scope import Scope, periods_sql
from srelib.metrics.stats import DurationStats, duration_sql
from srelib.period import Period, Window, zone

HOUR = 60.0  # minutes


@dataclass(frozen=True)
class Delivery:
    deployments: int
    deployments_per_day: float
    deployment_frequency_band: str | None
    lead_time_minutes: DurationStats
    lead_time_band: str | None
    change_failures: int
    change_failure_rate: float | None
    change_failure_band: str | None
    failed_deployment_recovery_minutes: DurationStats
    recovery_band: str | None
    band_window: str  # the three months the bands look at


def caused_incident_sql(table: str = "") -> str:
    """SQL: the deployment caused an incident (its ``incident_id`` is set): a change failure."""
    at = f"{table}." if table else ""
    return f"trim(coalesce({at}incident_id, '')) <> ''"


def lead_time_sql(table: str = "") -> str:
    """SQL: a deployment's lead time in minutes, deployed_at − commit_at; NULL when not positive
    (fourkeys leaves those out as automated changes)."""
    at = f"{table}." if table else ""
    return f"CASE WHEN {at}deployed_at > {at}commit_at THEN epoch({at}deployed_at - {at}commit_at) / 60.0 END"


def change_failure_rate(failures: int, deployments: int) -> float | None:
    """Deployments that caused an incident ÷ deployments; None without deployments (fourkeys)."""
    return None if not deployments else failures / deployments


def time_band(minutes: float | None) -> str | None:
    """fourkeys' buckets for lead time and time to restore."""
    if minutes is None:
        return None
    hours = minutes / HOUR
    for limit, label in ((24, "One day"), (168, "One week"), (730, "One month"), (730 * 6, "Six months")):
        if hours < limit:
            return label
    return "One year"


def change_failure_band(rate: float | None) -> str | None:
    if rate is None:
        return None
    if rate <= 0.15:
        return "0-15%"
    if rate < 0.46:
        return "16-45%"
    return "46-100%"


def frequency_band(days_per_week: list[int], months_deployed: list[int]) -> str | None:
    """fourkeys: ``days_per_week`` — days with a deployment in each week of the look-back;
    ``months_deployed`` — for each week, the number of weeks with a deployment in its month."""
    if not days_per_week:
        return None
    if statistics.median(days_per_week) >= 3:
        return "Daily"
    if statistics.median([1 if d else 0 for d in days_per_week]) >= 1:
        return "Weekly"
    if statistics.median(months_deployed) >= 1:
        return "Monthly"
    return "Yearly"


def _scoped_deployments(scope: Scope, span: Period | Window, services: Sequence[str] = ()) -> tuple[str, list[object]]:
    """SQL: the deployments of ``span`` in ``scope`` (and of ``services``, when it names any)."""
    catalogue, params = scope.catalogue_sql()
    sql = f"""
        SELECT d.* FROM deployments d LEFT JOIN {catalogue} c ON c.service = d.service
        WHERE d.deployed_at >= ? AND d.deployed_at < ?
          AND (?::VARCHAR IS NULL OR coalesce(d.team, c.team) = ?::VARCHAR)
          AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], d.service))"""
    return sql, [*params, span.start_utc, span.end_utc, scope.team, scope.team, list(services), list(services)]


def _per_day(count: int, days: float) -> float:
    """``count`` per day over ``days`` (the period so far: a period that has just begun has none)."""
    return round(count / days, 4) if days > 0 else 0.0


def delivery(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> Delivery:
    last_month = Period.containing("month", period.end.date() - timedelta(days=1), period.timezone)
    three_months = Window(
        f"{last_month.shift(-2).label}..{last_month.label}", last_month.shift(-2).start_utc, period.end_utc
    )
    here = _figures(con, period, scope)
    look_back = _figures(con, three_months, scope)
    return Delivery(
        deployments=here["deployments"],
        deployments_per_day=_per_day(here["deployments"], period.so_far().days),
        deployment_frequency_band=_frequency(con, three_months, scope, period.timezone)
        if look_back["deployments"]
        else None,
        lead_time_minutes=here["lead"],
        lead_time_band=time_band(look_back["lead"].median),
        change_failures=here["failures"],
        change_failure_rate=_rounded(change_failure_rate(here["failures"], here["deployments"])),
        change_failure_band=change_failure_band(change_failure_rate(look_back["failures"], look_back["deployments"])),
        failed_deployment_recovery_minutes=here["recovery"],
        recovery_band=time_band(look_back["recovery"].median),
        band_window=three_months.label,
    )


def _figures(con: duckdb.DuckDBPyConnection, span: Period | Window, scope: Scope) -> dict[str, Any]:
    scoped, params = _scoped_deployments(scope, span)
    row = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE {caused_incident_sql()}), {duration_sql(lead_time_sql())}
            FROM ({scoped})""",
        params,
    ).fetchall()[0]
    # Recovery: incidents caused by a deployment (any deployment), started in the span.
    catalogue, catalogue_params = scope.catalogue_sql()
    recovery = con.execute(
        f"""SELECT {duration_sql(minutes_to_resolve_sql("i"))}
            FROM incidents i LEFT JOIN {catalogue} c ON c.service = i.service
            WHERE i.incident_id IN (SELECT incident_id FROM deployments WHERE {caused_incident_sql()})
              AND i.started_at >= ? AND i.started_at < ?
              AND (?::VARCHAR IS NULL OR coalesce(i.team, c.team) = ?::VARCHAR)""",
        [*catalogue_params, span.start_utc, span.end_utc, scope.team, scope.team],
    ).fetchall()[0]
    return {
        "deployments": int(row[0]),
        "failures": int(row[1]),
        "lead": DurationStats.from_row(*row[2:6]),
        "recovery": DurationStats.from_row(*recovery),
    }


def _frequency(con: duckdb.DuckDBPyConnection, span: Window, scope: Scope, timezone: str) -> str | None:
    """fourkeys' deployment frequency band over ``span`` (every ISO week that overlaps it)."""
    scoped, params = _scoped_deployments(scope, span)
    days = {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT CAST(timezone(?, timezone('UTC', deployed_at)) AS DATE) FROM ({scoped})",
            [timezone, *params],
        ).fetchall()
    }
    tz = zone(timezone)
    first = span.start_utc.replace(tzinfo=zone("UTC")).astimezone(tz).date()
    # fourkeys counts only days since the data starts (its first event); here, the first deployment.
    start = con.execute("SELECT min(deployed_at) FROM deployments").fetchall()[0][0]
    if start is not None:
        first = max(first, start.replace(tzinfo=zone("UTC")).astimezone(tz).date())
    last = (span.end_utc - timedelta(microseconds=1)).replace(tzinfo=zone("UTC")).astimezone(tz).date()
    weeks: dict[date, list[date]] = {}
    day = first
    while day <= last:
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(day)
        day += timedelta(days=1)
    per_week = {w: sum(1 for d in ds if d in days) for w, ds in weeks.items()}
    by_month: dict[tuple[int, int], int] = {}
    for w, n in per_week.items():
        by_month[(w.year, w.month)] = by_month.get((w.year, w.month), 0) + (1 if n else 0)
    months_deployed = [by_month[(w.year, w.month)] for w in per_week]
    return frequency_band(list(per_week.values()), months_deployed)


@dataclass(frozen=True)
class DeliveryPoint:
    """One trend period's four keys, as :func:`delivery` counts them for the period (no bands)."""

    period: str
    deployments: int
    change_failures: int
    change_failure_rate: float | None
    lead_time_minutes: DurationStats
    failed_deployment_recovery_minutes: DurationStats


def delivery_trend(con: duckdb.DuckDBPyConnection, periods: Sequence[Period], scope: Scope) -> list[DeliveryPoint]:
    """The four keys of each of ``periods`` (the summary's trend) in two queries; each point equals
    the figures of :func:`delivery` for that period alone."""
    if not periods:
        return []
    spans, span_params = periods_sql(periods)
    catalogue, catalogue_params = scope.catalogue_sql()
    deployed = {
        r[0]: r[1:]
        for r in con.execute(
            f"""SELECT p.period, count(*), count(*) FILTER (WHERE {caused_incident_sql("d")}),
                       {duration_sql(lead_time_sql("d"))}
                FROM deployments d JOIN {spans} p ON d.deployed_at >= p.start_at AND d.deployed_at < p.end_at
                LEFT JOIN {catalogue} c ON c.service = d.service
                WHERE ?::VARCHAR IS NULL OR coalesce(d.team, c.team) = ?::VARCHAR
                GROUP BY p.period""",
            [*span_params, *catalogue_params, scope.team, scope.team],
        ).fetchall()
    }
    recovered = {
        r[0]: r[1:]
        for r in con.execute(
            f"""SELECT p.period, {duration_sql(minutes_to_resolve_sql("i"))}
                FROM incidents i JOIN {spans} p ON i.started_at >= p.start_at AND i.started_at < p.end_at
                LEFT JOIN {catalogue} c ON c.service = i.service
                WHERE i.incident_id IN (SELECT incident_id FROM deployments WHERE {caused_incident_sql()})
                  AND (?::VARCHAR IS NULL OR coalesce(i.team, c.team) = ?::VARCHAR)
                GROUP BY p.period""",
            [*span_params, *catalogue_params, scope.team, scope.team],
        ).fetchall()
    }
    points = []
    for p in periods:
        count, failures, *lead = deployed.get(p.label, (0, 0, 0, None, None, None))
        recovery = DurationStats.from_row(*recovered.get(p.label, (0, None, None, None)))
        points.append(
            DeliveryPoint(
                period=p.label,
                deployments=int(count),
                change_failures=int(failures),
                change_failure_rate=_rounded(change_failure_rate(int(failures), int(count))),
                lead_time_minutes=DurationStats.from_row(*lead),
                failed_deployment_recovery_minutes=recovery,
            )
        )
    return points


@dataclass(frozen=True)
class DeliveryComparison:
    """The four keys of a span against those of an earlier one (the programme's baseline, or the
    days before an initiative), each with its honest comparison (:mod:`srelib.metrics.compare`):
    deployments per day as Poisson rates (higher is better), lead time and failed deployment
    recovery time as medians, change failure rate as proportions (lower is better)."""

    baseline: str
    deployment_rate: RateComparison
    lead_time: Comparison
    recovery: Comparison
    change_failure_rate: ProportionComparison | None = None  # None: a summary from before it was compared


def delivery_against(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, baseline: Window | None
) -> DeliveryComparison | None:
    """:class:`DeliveryComparison` of ``period`` with ``baseline``; None without a baseline."""
    if baseline is None:
        return None
    return compare_delivery(con, baseline, period, scope)


def compare_delivery(
    con: duckdb.DuckDBPyConnection,
    before: Period | Window,
    after: Period | Window,
    scope: Scope,
    services: Sequence[str] = (),
) -> DeliveryComparison:
    """:class:`DeliveryComparison` of the span ``after`` with the span ``before``, over ``scope``
    (and ``services``, when it names any)."""
    a, b = _samples(con, before, scope, services), _samples(con, after, scope, services)
    return DeliveryComparison(
        baseline=before.label,
        deployment_rate=compare_rates(
            a["deployments"], before.days, b["deployments"], after.days, lower_is_better=False
        ),
        lead_time=compare(a["lead"], b["lead"]),
        recovery=compare(a["recovery"], b["recovery"]),
        change_failure_rate=compare_proportions(a["failures"], a["deployments"], b["failures"], b["deployments"]),
    )


def _samples(
    con: duckdb.DuckDBPyConnection, span: Period | Window, scope: Scope, services: Sequence[str] = ()
) -> dict[str, Any]:
    """The span's deployments, the change failures among them, their lead times and the recovery
    times of the incidents they caused (as :func:`_figures` counts them), as values to compare."""
    scoped, params = _scoped_deployments(scope, span, services)
    leads = con.execute(f"SELECT {lead_time_sql()}, {caused_incident_sql()} FROM ({scoped})", params).fetchall()
    catalogue, catalogue_params = scope.catalogue_sql()
    recoveries = con.execute(
        f"""SELECT {minutes_to_resolve_sql("i")}
            FROM incidents i LEFT JOIN {catalogue} c ON c.service = i.service
            WHERE i.incident_id IN (SELECT incident_id FROM deployments WHERE {caused_incident_sql()})
              AND i.started_at >= ? AND i.started_at < ?
              AND (?::VARCHAR IS NULL OR coalesce(i.team, c.team) = ?::VARCHAR)
              AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], i.service))""",
        [*catalogue_params, span.start_utc, span.end_utc, scope.team, scope.team, list(services), list(services)],
    ).fetchall()
    return {
        "deployments": len(leads),
        "failures": sum(1 for r in leads if r[1]),
        "lead": [r[0] for r in leads if r[0] is not None],
        "recovery": [r[0] for r in recoveries if r[0] is not None],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
