"""Reliability beyond counts: comparisons, MTBF, repeat incidents and prevention (docs/metrics.md).

- **Comparisons** of the period against the previous period, the same period a year earlier,
  and the baseline (the ``baseline_months`` before ``programme_start``). Counts are compared as
  rates: the baseline's incidents per day × the period's days. Durations are compared with
  :func:`srelib.metrics.compare.compare` (medians, bootstrap interval, Mann–Whitney).
- **MTBF** per service = (period minutes − downtime minutes) ÷ failures, where failures are the
  service's incidents that started in the period and downtime is the union of their
  [started_at, resolved_at) intervals cut to the period (an open incident runs to the period
  end; overlapping incidents count once). No failures: MTBF is None.
- **Repeat incidents**: an incident whose service and cause (non-empty, compared ignoring case
  and surrounding blanks) match an earlier incident that started within the 30 days before it.
- **Prevention**: incidents caught before customer impact (``customer_impact`` false);
  changes stopped before they hurt (failed deployments without an incident); incidents that
  did not become serious (SEV4–SEV5 share).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from srelib.metrics.compare import Comparison, RateComparison, compare, compare_rates
from srelib.metrics.incidents import DURATIONS, scoped_incidents
from srelib.metrics.scope import Scope
from srelib.period import Period, Window

REPEAT_DAYS = 30


@dataclass(frozen=True)
class CountChange:
    """This period's count against another span's, scaled to this period's length."""

    label: str
    other: int  # the count in the other span
    other_scaled: float  # ... scaled to this period's length: other × this period's days ÷ its days
    change: float  # this period's count − other_scaled
    change_ratio: float | None  # change ÷ other_scaled; None when that is 0
    covered: bool = True  # False: the other span ends before the earliest data


@dataclass(frozen=True)
class PeriodComparison:
    """The period against one other span: counts, and the honest comparison of durations."""

    label: str
    title: str
    start: str
    end: str
    covered: bool
    incidents: CountChange
    customer_impacting: CountChange
    mttr: Comparison
    mtta: Comparison
    incident_rate: RateComparison | None = None  # incidents per day, tested (Poisson, exact conditional)


@dataclass(frozen=True)
class ServiceMtbf:
    failures: int
    downtime_minutes: float
    uptime_minutes: float
    mtbf_minutes: float | None


@dataclass(frozen=True)
class RepeatIncident:
    incident_id: str
    service: str
    cause: str
    repeats: str  # the earlier incident's id
    days_after: float


@dataclass(frozen=True)
class Prevention:
    incidents: int
    caught_before_customer_impact: int
    caught_before_customer_impact_ratio: float | None
    impact_unknown: int  # customer_impact not recorded
    low_severity: int  # SEV4 and SEV5
    low_severity_ratio: float | None
    failed_deployments: int
    failed_deployments_without_incident: int


@dataclass(frozen=True)
class Reliability:
    comparisons: dict[str, PeriodComparison] = field(default_factory=dict)  # previous, year_ago, baseline
    mtbf: dict[str, ServiceMtbf] = field(default_factory=dict)
    repeat_incidents: list[RepeatIncident] = field(default_factory=list)
    repeat_ratio: float | None = None
    prevention: Prevention | None = None


def baseline_window(programme_start: datetime | None, months: int, period: Period) -> Window | None:
    """The ``months`` calendar months before ``programme_start``, in the org time zone."""
    if programme_start is None:
        return None
    first = Period.containing("month", programme_start.date(), period.timezone)
    start = first.shift(-months)
    return Window(f"baseline {start.label}..{first.previous().label}", start.start_utc, first.start_utc)


def reliability(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    baseline: Window | None,
    data_start: datetime | None,
) -> Reliability:
    spans: dict[str, tuple[Period | Window, str]] = {"previous": (period.previous(), period.previous().title)}
    if period.kind != "year":  # a year's previous period is the year before: compared once
        spans["year_ago"] = (period.year_ago(), period.year_ago().title)
    if baseline is not None:
        spans["baseline"] = (baseline, baseline.label)
    durations = _durations(con, [period, *(s for s, _ in spans.values())], scope)
    counts = _counts(con, [period, *(s for s, _ in spans.values())], scope)
    here = counts.get(period.label, (0, 0))
    days = period.so_far().days  # a period still going is compared over its part so far
    comparisons = {}
    for key, (span, title) in spans.items():
        covered = data_start is not None and span.end_utc > data_start
        there = counts.get(span.label, (0, 0))
        span_days = (span.end_utc - span.start_utc).total_seconds() / 86400
        scale = days / span_days
        comparisons[key] = PeriodComparison(
            label=span.label,
            title=title,
            start=span.start_utc.isoformat() + "Z",
            end=span.end_utc.isoformat() + "Z",
            covered=covered,
            incidents=_change(span.label, here[0], there[0], scale, covered),
            customer_impacting=_change(span.label, here[1], there[1], scale, covered),
            mttr=compare(durations[span.label]["mttr_minutes"], durations[period.label]["mttr_minutes"]),
            mtta=compare(durations[span.label]["mtta_minutes"], durations[period.label]["mtta_minutes"]),
            incident_rate=compare_rates(there[0], span_days, here[0], days) if covered else None,
        )
    repeats = repeat_incidents(con, period, scope)
    return Reliability(
        comparisons=comparisons,
        mtbf=mtbf(con, period, scope),
        repeat_incidents=repeats,
        repeat_ratio=None if not here[0] else round(len(repeats) / here[0], 6),
        prevention=prevention(con, period, scope),
    )


def _change(label: str, count: int, other: int, scale: float, covered: bool) -> CountChange:
    scaled = other * scale
    return CountChange(
        label=label,
        other=other,
        other_scaled=round(scaled, 4),
        change=round(count - scaled, 4),
        change_ratio=None if scaled == 0 else round((count - scaled) / scaled, 6),
        covered=covered,
    )


def _counts(con: duckdb.DuckDBPyConnection, spans: list[Period | Window], scope: Scope) -> dict[str, tuple[int, int]]:
    scoped, params = scoped_incidents(scope, spans)
    rows = con.execute(
        f"SELECT period, count(*), count(*) FILTER (WHERE customer_impact) FROM ({scoped}) GROUP BY period", params
    ).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _durations(
    con: duckdb.DuckDBPyConnection, spans: list[Period | Window], scope: Scope
) -> dict[str, dict[str, list[float]]]:
    """Each span's individual durations in minutes (for the honest comparisons)."""
    scoped, params = scoped_incidents(scope, spans)
    exprs = ", ".join(f"list({DURATIONS[k]}) FILTER (WHERE {DURATIONS[k]} IS NOT NULL)" for k in DURATIONS)
    rows = con.execute(f"SELECT period, {exprs} FROM ({scoped}) GROUP BY period", params).fetchall()
    result: dict[str, dict[str, list[float]]] = {s.label: {k: [] for k in DURATIONS} for s in spans}
    for row in rows:
        result[row[0]] = {k: [float(v) for v in (row[1 + i] or [])] for i, k in enumerate(DURATIONS)}
    return result


def mtbf(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> dict[str, ServiceMtbf]:
    """MTBF per service with at least one incident in the period (so far, if still going)."""
    so_far = period.so_far()
    scoped, params = scoped_incidents(scope, [period])
    rows = con.execute(
        f"SELECT service, started_at, resolved_at FROM ({scoped}) ORDER BY service, started_at", params
    ).fetchall()
    by_service: dict[str, list[tuple[datetime, datetime]]] = {}
    for service, started, resolved in rows:
        end = min(resolved or so_far.end_utc, so_far.end_utc)  # an open incident: down until now
        by_service.setdefault(service, []).append((started, max(started, end)))
    result = {}
    for service, intervals in sorted(by_service.items()):
        downtime = _union_minutes(intervals)
        uptime = so_far.minutes - downtime
        result[service] = ServiceMtbf(
            failures=len(intervals),
            downtime_minutes=round(downtime, 4),
            uptime_minutes=round(uptime, 4),
            mtbf_minutes=round(uptime / len(intervals), 4),
        )
    return result


def _union_minutes(intervals: list[tuple[datetime, datetime]]) -> float:
    """Minutes covered by the union of [start, end) intervals."""
    total = timedelta()
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total.total_seconds() / 60


def repeat_incidents(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> list[RepeatIncident]:
    """The period's incidents that repeat an earlier one (same service and cause, within 30 days):
    each with the latest earlier one (of those started at the same moment, the first by id).

    The latest earlier incident of the same service and cause is found by an as-of join, one
    per incident, not by pairing each with every earlier one in the 30 days (quadratic: 91M
    pairs and 10 GB for a year of 1M incidents); one older than 30 days means no repeat."""
    scoped, params = scoped_incidents(scope, [period])
    rows = con.execute(
        f"""
        WITH i AS (
            SELECT incident_id, service, cause, started_at, lower(trim(cause)) AS k FROM ({scoped})
            WHERE trim(coalesce(cause, '')) <> ''
        ), e AS (
            SELECT incident_id, service, started_at, lower(trim(cause)) AS k FROM incidents
            WHERE trim(coalesce(cause, '')) <> '' AND started_at >= ?::TIMESTAMP - INTERVAL {REPEAT_DAYS} DAY
              AND started_at < ?
        ), latest AS (
            SELECT i.incident_id, i.service, i.cause, i.k, i.started_at, e.started_at AS earlier
            FROM i ASOF JOIN e ON e.service = i.service AND e.k = i.k AND e.started_at < i.started_at
        )
        SELECT l.incident_id, l.service, l.cause, min(e.incident_id), epoch(l.started_at - l.earlier) / 86400.0
        FROM latest l JOIN e ON e.service = l.service AND e.k = l.k AND e.started_at = l.earlier
        WHERE l.earlier >= l.started_at - INTERVAL {REPEAT_DAYS} DAY
        GROUP BY l.incident_id, l.service, l.cause, l.started_at, l.earlier
        ORDER BY l.started_at, l.incident_id""",
        [*params, period.start_utc, period.end_utc],
    ).fetchall()
    return [RepeatIncident(r[0], r[1], r[2], r[3], round(float(r[4]), 4)) for r in rows]


def prevention(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> Prevention:
    scoped, params = scoped_incidents(scope, [period])
    count, caught, unknown, low = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE customer_impact = false),
                   count(*) FILTER (WHERE customer_impact IS NULL),
                   count(*) FILTER (WHERE severity IN ('SEV4', 'SEV5'))
            FROM ({scoped})""",
        params,
    ).fetchall()[0]
    catalogue, catalogue_params = scope.catalogue_sql()
    failed, stopped = con.execute(
        f"""SELECT count(*) FILTER (WHERE NOT d.succeeded),
                   count(*) FILTER (WHERE NOT d.succeeded AND trim(coalesce(d.incident_id, '')) = '')
            FROM deployments d LEFT JOIN {catalogue} c ON c.service = d.service
            WHERE d.deployed_at >= ? AND d.deployed_at < ?
              AND (?::VARCHAR IS NULL OR coalesce(d.team, c.team) = ?::VARCHAR)""",
        [*catalogue_params, period.start_utc, period.end_utc, scope.team, scope.team],
    ).fetchall()[0]
    known = count - unknown
    return Prevention(
        incidents=int(count),
        caught_before_customer_impact=int(caught),
        caught_before_customer_impact_ratio=None if not known else round(caught / known, 6),
        impact_unknown=int(unknown),
        low_severity=int(low),
        low_severity_ratio=None if not count else round(low / count, 6),
        failed_deployments=int(failed or 0),
        failed_deployments_without_incident=int(stopped or 0),
    )
