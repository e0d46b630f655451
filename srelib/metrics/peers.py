"""Every team's headline figures side by side, for team scorecards ("next to the org median").

Per team, over the period, with the same definitions as the rest of the catalogue: incidents
(by the incident's team, else its service's), customer-impacting ones, median time to resolve;
SLOs met or at risk out of those with data (by the SLO's service's team); deployments, change
failure rate and median lead time (fourkeys' definitions); practice adoption (practices the
team adopted by the period end ÷ practices known). :func:`org_median` gives the median of
each figure across teams (teams without a value for a figure are left out of its median).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

import duckdb

from srelib.metrics.delivery import caused_incident_sql, change_failure_rate, lead_time_sql
from srelib.metrics.incidents import minutes_to_resolve_sql, scoped_incidents
from srelib.metrics.scope import Scope
from srelib.metrics.slo import SloResult
from srelib.metrics.stats import median_sql
from srelib.period import Period


@dataclass(frozen=True)
class TeamFigures:
    incidents: int = 0
    customer_impacting: int = 0
    median_mttr_minutes: float | None = None
    slos: int = 0
    slos_met: int = 0
    slos_met_ratio: float | None = None
    deployments: int = 0
    change_failure_rate: float | None = None
    median_lead_time_minutes: float | None = None
    adoption_rate: float | None = None


def team_figures(
    con: duckdb.DuckDBPyConnection, period: Period, catalogue_scope: Scope, slos: dict[str, SloResult], teams: list[str]
) -> dict[str, TeamFigures]:
    scoped, params = scoped_incidents(Scope(None, catalogue_scope.catalogue), [period])
    incidents = {
        r[0]: r[1:]
        for r in con.execute(
            f"""SELECT owner, count(*), count(*) FILTER (WHERE customer_impact),
                       {median_sql(minutes_to_resolve_sql())}
                FROM ({scoped}) WHERE owner IS NOT NULL GROUP BY owner""",
            params,
        ).fetchall()
    }
    catalogue, catalogue_params = catalogue_scope.catalogue_sql()
    deployments = {
        r[0]: r[1:]
        for r in con.execute(
            f"""SELECT coalesce(d.team, c.team) AS owner, count(*),
                       count(*) FILTER (WHERE {caused_incident_sql("d")}), {median_sql(lead_time_sql("d"))}
                FROM deployments d LEFT JOIN {catalogue} c ON c.service = d.service
                WHERE d.deployed_at >= ? AND d.deployed_at < ? GROUP BY owner""",
            [*catalogue_params, period.start_utc, period.end_utc],
        ).fetchall()
    }
    practices = con.execute("SELECT count(DISTINCT practice) FROM adoption").fetchall()[0][0] or 0
    adopted = dict(
        con.execute(
            "SELECT team, count(DISTINCT practice) FROM adoption WHERE adopted_at < ? GROUP BY team",
            [period.end_utc],
        ).fetchall()
    )
    result = {}
    for team in teams:
        count, impacting, mttr = incidents.get(team, (0, 0, None))
        deploys, failures, lead = deployments.get(team, (0, 0, None))
        mine = [s for s in slos.values() if s.team == team and s.status != "no_data"]
        met = sum(1 for s in mine if s.status in ("met", "at_risk"))
        rate = change_failure_rate(int(failures), int(deploys))
        result[team] = TeamFigures(
            incidents=int(count),
            customer_impacting=int(impacting),
            median_mttr_minutes=None if mttr is None else round(float(mttr), 4),
            slos=len(mine),
            slos_met=met,
            slos_met_ratio=None if not mine else round(met / len(mine), 6),
            deployments=int(deploys),
            change_failure_rate=None if rate is None else round(rate, 6),
            median_lead_time_minutes=None if lead is None else round(float(lead), 4),
            adoption_rate=None if not practices else round(int(adopted.get(team, 0)) / practices, 6),
        )
    return result


def org_median(figures: dict[str, TeamFigures]) -> dict[str, float | None]:
    """The median across teams of each figure (None where no team has a value)."""
    columns: dict[str, list[float]] = {}
    for team in figures.values():
        for name, value in asdict(team).items():
            if value is not None:
                columns.setdefault(name, []).append(float(value))
    names = TeamFigures.__dataclass_fields__
    return {n: (round(statistics.median(columns[n]), 6) if columns.get(n) else None) for n in names}
