"""PeriodSummary: one object per (period, team) behind every number a reader sees.

Reports, narratives, charts, dashboards and ``srelib metrics --json`` all read a
PeriodSummary; none computes a number of its own. It is written as ``summary.json``
beside the reports it feeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from pydantic import BaseModel, Field

from srelib import __version__
from srelib.config import Workbench
from srelib.errors import UsageError
from srelib.metrics.budget import ServicePolicy, SloBudget, error_budget_policy, slo_budgets
from srelib.metrics.delivery import Delivery, delivery
from srelib.metrics.engagement import Engagement, engagement
from srelib.metrics.incidents import IncidentStats, all_teams, incident_list, incident_stats
from srelib.metrics.initiatives import InitiativeEffect, initiative_effects
from srelib.metrics.peers import TeamFigures, team_figures
from srelib.metrics.reliability import Reliability, baseline_window, reliability
from srelib.metrics.scope import Scope
from srelib.metrics.slo import SloResult, slo_definitions, slo_results
from srelib.metrics.specs import SloSpecInfo, slo_specs
from srelib.metrics.value import Value, value
from srelib.period import Period
from srelib.warehouse import latest_fingerprint


class NotableIncident(BaseModel):
    incident_id: str
    title: str | None
    service: str
    team: str | None
    severity: str
    started_at: str  # ISO 8601 in the org time zone
    minutes_to_resolve: float | None
    open: bool
    customer_impact: bool | None
    postmortem_url: str | None


class TrendPoint(BaseModel):
    """One earlier (or this) period's headline figures, for trend charts and comparisons."""

    period: str
    title: str
    covered: bool = True  # False: the period ends before the earliest data, so its zeros mean "no data"
    incidents: IncidentStats
    slos: dict[str, SloResult]


class BaselineSpan(BaseModel):
    """The months before the SRE programme that comparisons call "the baseline" (UTC bounds)."""

    label: str
    start: str
    end: str


class PeriodSummary(BaseModel):
    period: str
    start: str
    end: str
    team: str | None
    teams: list[str]
    incidents: IncidentStats
    slos: dict[str, SloResult]
    kind: str
    title: str
    timezone: str
    org: str
    previous: TrendPoint | None = None
    trend: list[TrendPoint] = Field(default_factory=list)
    notable_incidents: list[NotableIncident] = Field(default_factory=list)
    programme_start: str | None = None
    baseline: BaselineSpan | None = None
    reliability: Reliability | None = None
    slo_budgets: dict[str, SloBudget] = Field(default_factory=dict)
    error_budget_policy: dict[str, ServicePolicy] = Field(default_factory=dict)
    delivery: Delivery | None = None
    value: Value | None = None
    engagement: Engagement | None = None
    team_figures: dict[str, TeamFigures] = Field(default_factory=dict)  # every team, whatever the scope
    initiatives: dict[str, InitiativeEffect] = Field(default_factory=dict)  # before/after each initiative
    slo_specs: dict[str, SloSpecInfo] = Field(default_factory=dict)  # what each SLO measures, for its document
    generated_at: str = ""
    srelib_version: str = __version__
    input_fingerprint: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> PeriodSummary:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def build_summary(
    con: duckdb.DuckDBPyConnection,
    workbench: Workbench,
    period: Period,
    team: str | None = None,
    org_summary: PeriodSummary | None = None,
) -> PeriodSummary:
    """Compute the PeriodSummary for ``period`` (and ``team``) from a warehouse connection.

    ``org_summary``: the whole organisation's summary of the same period, if one is at hand. Every SLO
    figure (attainment per trend period, budgets, alerts, burn-down, the release policy) depends
    on the SLO alone, not on whose summary it is in, so a team's are taken from it instead of
    scanning the SLI buckets again. It is used only when computed by this srelib from the
    warehouse's current data; otherwise everything is computed here.
    """
    scope = Scope(team, workbench.catalogue)
    teams = all_teams(con, scope)
    if team is not None and team not in teams:
        raise UsageError(f"unknown team {team!r}: known teams are {', '.join(teams) or 'none'}")
    periods = period.trailing(workbench.org.trend_periods)
    incidents = incident_stats(con, periods, scope)
    fingerprint = latest_fingerprint(con)
    shared = _slo_figures_of(org_summary, con, scope, periods, fingerprint) if team is not None else None
    slos = shared.slos if shared else slo_results(con, periods, scope, workbench.org.slo_at_risk_below)
    data_start = _data_start(con)
    trend = [
        TrendPoint(
            period=p.label,
            title=p.title,
            covered=data_start is not None and p.end_utc > data_start,
            incidents=incidents[p.label],
            slos=slos[p.label],
        )
        for p in periods
    ]
    previous = trend[-2] if len(trend) > 1 and trend[-2].covered else None
    tz = period.start.tzinfo
    notable = [
        NotableIncident(
            incident_id=i.incident_id,
            title=i.title,
            service=i.service,
            team=i.team,
            severity=i.severity,
            started_at=i.started_at.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="minutes"),
            minutes_to_resolve=i.minutes_to_resolve,
            open=i.resolved_at is None,
            customer_impact=i.customer_impact,
            postmortem_url=i.postmortem_url,
        )
        for i in incident_list(con, period, scope)
    ]
    org = workbench.org
    programme = (
        None
        if org.programme_start is None
        else datetime.combine(org.programme_start, datetime.min.time(), period.start.tzinfo)
    )
    baseline = baseline_window(programme, org.baseline_months, period)
    if shared:
        org_slos = shared.org_slos
    elif team is None:
        org_slos = slos[period.label]
    else:
        org_slos = slo_results(con, [period], Scope(None, workbench.catalogue))[period.label]
    return PeriodSummary(
        period=period.label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        team=team,
        teams=teams,
        incidents=incidents[period.label],
        slos=slos[period.label],
        kind=period.kind,
        title=period.title,
        timezone=period.timezone,
        org=workbench.org.name,
        previous=previous,
        trend=trend,
        notable_incidents=notable,
        programme_start=None if org.programme_start is None else org.programme_start.isoformat(),
        baseline=None
        if baseline is None
        else BaselineSpan(
            label=baseline.label, start=baseline.start_utc.isoformat() + "Z", end=baseline.end_utc.isoformat() + "Z"
        ),
        reliability=reliability(con, period, scope, baseline, data_start),
        slo_budgets=shared.budgets if shared else slo_budgets(con, period, scope, org.slo_at_risk_below),
        error_budget_policy=shared.policy if shared else error_budget_policy(con, period, scope, workbench.policy),
        delivery=delivery(con, period, scope),
        value=value(con, period, scope, workbench, baseline),
        engagement=engagement(con, period, scope, workbench.targets, periods),
        team_figures=shared.team_figures if shared else team_figures(con, period, scope, org_slos, teams),
        initiatives=initiative_effects(con, period, scope, workbench.initiatives.initiatives),
        slo_specs=slo_specs(con, scope, workbench.slo_documents),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        input_fingerprint=fingerprint,
    )


@dataclass(frozen=True)
class _SloFigures:
    """A team's SLO figures, taken from the organisation's summary of the same period."""

    slos: dict[str, dict[str, SloResult]]  # per trend period
    budgets: dict[str, SloBudget]
    policy: dict[str, ServicePolicy]
    org_slos: dict[str, SloResult]
    team_figures: dict[str, TeamFigures]


def _slo_figures_of(
    org: PeriodSummary | None,
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    periods: list[Period],
    fingerprint: str | None,
) -> _SloFigures | None:
    """The in-scope part of ``org``'s SLO figures, or None when ``org`` cannot stand in for a
    computation here (another period or trend, other data, another srelib)."""
    if org is None or fingerprint is None or org.team is not None:
        return None
    same = (org.input_fingerprint, org.srelib_version) == (fingerprint, __version__)
    if not same or [t.period for t in org.trend] != [p.label for p in periods]:
        return None
    definitions = slo_definitions(con, scope)
    names = {d.name for d in definitions}
    services = {d.service for d in definitions}
    return _SloFigures(
        slos={t.period: {n: r for n, r in t.slos.items() if n in names} for t in org.trend},
        budgets={n: b for n, b in org.slo_budgets.items() if n in names},
        policy={s: p for s, p in org.error_budget_policy.items() if s in services},
        org_slos=org.slos,
        team_figures=org.team_figures,
    )


def _data_start(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The earliest incident start or SLI bucket: periods ending before it have no data at all."""
    row = con.execute("""SELECT least((SELECT min(started_at) FROM incidents),
                                      (SELECT min("timestamp") FROM sli))""").fetchall()
    return row[0][0] if row else None
