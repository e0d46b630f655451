"""Incident metrics (docs/metrics.md).

An incident belongs to the period containing its ``started_at``. Durations in minutes,
over the period's incidents that have both timestamps:

- time to detect      = detected_at − started_at
- time to acknowledge = acknowledged_at − (detected_at, or started_at when empty)
- time to mitigate    = mitigated_at − started_at
- time to resolve     = resolved_at − started_at

Open incidents (no ``resolved_at``) count in ``count`` and ``open``, never in a resolve time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from srelib.ingest.schemas import SEVERITIES
from srelib.metrics.scope import Scope, periods_sql
from srelib.metrics.stats import DurationStats, duration_sql
from srelib.period import Period, Window


def minutes_to_resolve_sql(table: str = "") -> str:
    """SQL: an incident's time to resolve in minutes, resolved_at − started_at (NULL while open).
    ``table``: the incidents' alias in the query, if any (``"i"``)."""
    at = f"{table}." if table else ""
    return f"epoch({at}resolved_at - {at}started_at) / 60.0"


DURATIONS = {
    "mttd_minutes": "epoch(detected_at - started_at) / 60.0",
    "mtta_minutes": "epoch(acknowledged_at - coalesce(detected_at, started_at)) / 60.0",
    "mttr_minutes": minutes_to_resolve_sql(),
    "mttm_minutes": "epoch(mitigated_at - started_at) / 60.0",
}


@dataclass(frozen=True)
class IncidentStats:
    count: int = 0
    open: int = 0
    customer_impacting: int = 0
    by_severity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    mttd_minutes: DurationStats = field(default_factory=DurationStats)
    mtta_minutes: DurationStats = field(default_factory=DurationStats)
    mttr_minutes: DurationStats = field(default_factory=DurationStats)
    mttm_minutes: DurationStats = field(default_factory=DurationStats)
    by_service: dict[str, int] = field(default_factory=dict)
    by_team: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentRecord:
    """One incident as a reader sees it in a report's list."""

    incident_id: str
    title: str | None
    service: str
    team: str | None
    severity: str
    started_at: datetime  # UTC
    resolved_at: datetime | None
    customer_impact: bool | None
    postmortem_url: str | None
    minutes_to_resolve: float | None  # None while open


def scoped_incidents(scope: Scope, periods: Sequence[Period | Window]) -> tuple[str, list[object]]:
    """SQL for the incidents of ``scope`` that started in each of ``periods`` (column ``period``
    holds the period's label; ``owner`` the incident's team, from the catalogue when empty)."""
    period_rel, period_params = periods_sql(periods)
    catalogue_rel, catalogue_params = scope.catalogue_sql()
    sql = f"""
        SELECT p.period, i.*, coalesce(i.team, c.team) AS owner
        FROM incidents i
        JOIN {period_rel} p ON i.started_at >= p.start_at AND i.started_at < p.end_at
        LEFT JOIN {catalogue_rel} c ON c.service = i.service
        WHERE ?::VARCHAR IS NULL OR coalesce(i.team, c.team) = ?::VARCHAR"""
    return sql, [*period_params, *catalogue_params, scope.team, scope.team]


def incident_stats(
    con: duckdb.DuckDBPyConnection, periods: Sequence[Period | Window], scope: Scope
) -> dict[str, IncidentStats]:
    """:class:`IncidentStats` for each period (periods without incidents get zeros)."""
    scoped, params = scoped_incidents(scope, periods)
    severities = ", ".join(f"count(*) FILTER (WHERE severity = '{s}')" for s in SEVERITIES)
    durations = ", ".join(duration_sql(expr) for expr in DURATIONS.values())
    rows = con.execute(
        f"""
        SELECT period, count(*), count(*) FILTER (WHERE resolved_at IS NULL),
               count(*) FILTER (WHERE customer_impact), {severities}, {durations}
        FROM ({scoped}) GROUP BY period""",
        params,
    ).fetchall()
    groups = con.execute(
        f"""
        SELECT period, 'service' AS by, service AS key, count(*) FROM ({scoped}) GROUP BY ALL
        UNION ALL
        SELECT period, 'team', coalesce(owner, '(no team)'), count(*) FROM ({scoped}) GROUP BY ALL
        ORDER BY ALL""",
        params + params,
    ).fetchall()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for period, by, key, n in groups:
        counts.setdefault((period, by), {})[key] = int(n)
    result = {p.label: IncidentStats() for p in periods}
    for row in rows:
        period, count, open_, impacting = row[0], row[1], row[2], row[3]
        by_severity = dict(zip(SEVERITIES, (int(v) for v in row[4 : 4 + len(SEVERITIES)]), strict=True))
        base = 4 + len(SEVERITIES)
        stats = {
            name: DurationStats.from_row(*row[base + 4 * i : base + 4 * i + 4]) for i, name in enumerate(DURATIONS)
        }
        result[period] = IncidentStats(
            count=int(count),
            open=int(open_),
            customer_impacting=int(impacting),
            by_severity=by_severity,
            **stats,
            by_service=counts.get((period, "service"), {}),
            by_team=counts.get((period, "team"), {}),
        )
    return result


def incident_list(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, severities: tuple[str, ...] = ("SEV1", "SEV2")
) -> list[IncidentRecord]:
    """The period's incidents of the given severities, in order of start."""
    scoped, params = scoped_incidents(scope, [period])
    rows = con.execute(
        f"""
        SELECT incident_id, title, service, owner, severity, started_at, resolved_at,
               customer_impact, postmortem_url, {minutes_to_resolve_sql()}
        FROM ({scoped}) WHERE severity IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY started_at, incident_id""",
        [*params, list(severities)],
    ).fetchall()
    return [IncidentRecord(*[*row[:-1], None if row[-1] is None else round(row[-1], 4)]) for row in rows]


def all_teams(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[str]:
    """Every team named by the catalogue or by an incident."""
    rows = con.execute("SELECT DISTINCT team FROM incidents WHERE team IS NOT NULL").fetchall()
    return sorted({r[0] for r in rows} | set(scope.catalogue.teams))
