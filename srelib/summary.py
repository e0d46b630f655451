"""PeriodSummary: one object per (period, team) behind every number a reader sees.

Reports, narratives, charts, dashboards and ``srelib metrics --json`` all read a
PeriodSummary; none computes a number of its own. It is written as ``summary.json``
beside the reports it feeds.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, Field

from srelib import __version__
from srelib.config import OrgConfig, Programme, Workbench
from srelib.errors import ConfigError
from srelib.ingest.schemas import TABLES
from srelib.ingest.warehouse import latest_fingerprint
from srelib.metrics.activities import ActivitySummary, activities
from srelib.metrics.annotations import Annotation, slo_annotations
from srelib.metrics.budget import SloBudget, slo_budgets
from srelib.metrics.corrections import CorrectionApplied, corrections_applied
from srelib.metrics.data_quality import SloDataQuality, data_quality
from srelib.metrics.delivery import (
    Delivery,
    DeliveryComparison,
    DeliveryPoint,
    delivery,
    delivery_against,
    delivery_trend,
)
from srelib.metrics.engagement import Engagement, engagement
from srelib.metrics.follow_up import FollowUpFigures, follow_up
from srelib.metrics.incidents import IncidentStats, all_teams, incident_list, incident_stats
from srelib.metrics.initiatives import InitiativeEffect, initiative_effects
from srelib.metrics.ledger import PolicyLedger, policy_ledger
from srelib.metrics.peers import TeamFigures, org_median, team_figures
from srelib.metrics.policy import PolicyState, error_budget_policy
from srelib.metrics.programme import ProgrammeStatus, RunHistory, programme_status
from srelib.metrics.readiness import Readiness, readiness
from srelib.metrics.reliability import Reliability, baseline_window, reliability
from srelib.metrics.rollup import Rollup, rollups
from srelib.metrics.satisfaction import (
    SatisfactionComparison,
    SatisfactionPoint,
    satisfaction_against,
    satisfaction_trend,
)
from srelib.metrics.scope import Scope
from srelib.metrics.slo import SloDefinition, SloResult, slo_definitions, slo_results
from srelib.metrics.slo_documents import SloSpecInfo, slo_specs
from srelib.metrics.surveys import SurveyResult, surveys
from srelib.metrics.value import SpendPoint, Value, spend_trend, value
from srelib.metrics.year import YearReview, year_review
from srelib.period import Period


@dataclass(frozen=True)
class ServicePolicy(PolicyState):
    """A service's error budget policy state, as ``summary.json`` has it: the facts, and ``reason``,
    the state in words, for the file's readers. Words are the present layer's: ``reason`` is
    filled by ``srelib.present.policy.with_reasons`` where a summary is published (the report
    run's ``summary.json``, ``srelib metrics --json``) and is None until then; views word the
    facts themselves with ``srelib.present.policy.reason``."""

    reason: str | None = None

    @classmethod
    def of(cls, state: PolicyState) -> ServicePolicy:
        return cls(**{f.name: getattr(state, f.name) for f in fields(state)})


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
    delivery: DeliveryPoint | None = None  # the four keys of the period (None in summaries before them)


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
    delivery_compared: DeliveryComparison | None = None  # against the baseline, with honest comparisons
    value: Value | None = None
    spend: list[SpendPoint] = Field(default_factory=list)  # cloud spend over the trend's periods, per service
    satisfaction: list[SatisfactionPoint] = Field(default_factory=list)  # CSAT, NPS, devex per trend period
    satisfaction_compared: SatisfactionComparison | None = None  # against the baseline, with honest comparisons
    engagement: Engagement | None = None
    team_figures: dict[str, TeamFigures] = Field(default_factory=dict)  # every team, whatever the scope
    peer_median: dict[str, float | None] = Field(default_factory=dict)  # each team figure's median across teams
    initiatives: dict[str, InitiativeEffect] = Field(default_factory=dict)  # before/after each initiative
    slo_specs: dict[str, SloSpecInfo] = Field(default_factory=dict)  # what each SLO measures, for its document
    corrections: list[CorrectionApplied] = Field(default_factory=list)  # what each correction took out of the period
    data_quality: dict[str, SloDataQuality] = Field(default_factory=dict)  # how much data each SLO's figures rest on
    rollups: list[Rollup] = Field(default_factory=list)  # SLOs rolled up: organisation, teams, services
    policy_ledger: PolicyLedger | None = None  # the policy's lines crossed in the period, the decisions, the gaps
    annotations: list[Annotation] = Field(default_factory=list)  # incidents, deployments and notes for the SLO charts
    activities: ActivitySummary | None = None  # the programme's activities per kind and team, their momentum
    surveys: dict[str, SurveyResult] = Field(default_factory=dict)  # every survey per question, with its trend
    follow_up: FollowUpFigures | None = None  # postmortems, action items, repeats with open actions
    readiness: Readiness | None = None  # PRR coverage of the critical services, launches with and without review
    year: YearReview | None = None  # a year's months, coverage and inputs for next year's plan (years only)
    programme: ProgrammeStatus | None = None  # the plan's phases, milestones and success criteria (the organisation's)
    partial: bool = False  # the period has not ended yet: its figures are "so far"
    data_as_of: str | None = None  # a partial period's newest data (ISO 8601, org time zone)
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
    history: RunHistory | None = None,
) -> PeriodSummary:
    """Compute the PeriodSummary for ``period`` (and ``team``) from a warehouse connection.

    ``org_summary``: the whole organisation's summary of the same period, if one is at hand. Every SLO
    figure (attainment per trend period, budgets, alerts, burn-down, the release policy) depends
    on the SLO alone, not on whose summary it is in, so a team's are taken from it instead of
    scanning the SLI buckets again. It is used only when computed by this srelib from the
    warehouse's current data; otherwise everything is computed here.

    ``history``: the reports published so far and the schedule (:func:`srelib.run.programme.run_history`
    reads them from ``outputs/runs.jsonl`` and ``params/schedule.yaml``), for the programme's
    milestones shown by a report and its regular communications; None: no run history (those
    read as not met). The programme section is the organisation's: a team's summary has none.
    """
    if team is not None:
        workbench.catalogue.check_team(team)  # configured teams only: data never names a scope
    scope = Scope(team, workbench.catalogue)
    teams = all_teams(con, scope)
    periods = period.trailing(workbench.org.trend_periods)
    incidents = incident_stats(con, periods, scope)
    fingerprint = latest_fingerprint(con)
    shared = _slo_figures_of(org_summary, con, scope, periods, fingerprint) if team is not None else None
    slos = shared.slos if shared else slo_results(con, periods, scope, workbench.org.slo_at_risk_below)
    data_start = _data_start(con)
    deliveries = {d.period: d for d in delivery_trend(con, periods, scope)}
    trend = [
        TrendPoint(
            period=p.label,
            title=p.title,
            covered=data_start is not None and p.end_utc > data_start,
            incidents=incidents[p.label],
            slos=slos[p.label],
            delivery=deliveries[p.label],
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
    figures = shared.team_figures if shared else team_figures(con, period, scope, org_slos, teams)
    policy = (
        shared.policy
        if shared
        else {s: ServicePolicy.of(p) for s, p in error_budget_policy(con, period, scope, workbench.policy).items()}
    )
    budget_postmortems = {share.incident_id for p in policy.values() for share in p.postmortems_required}
    applied = corrections_applied(con, period, list(slos[period.label]))
    definitions = slo_definitions(con, scope)
    partial, data_as_of = _partial(con, period)
    if team is None:
        check_programme(workbench.programme, workbench)
    summary = PeriodSummary(
        period=period.label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        team=team,
        teams=teams,
        incidents=incidents[period.label],
        slos=slos[period.label],
        kind=period.kind,
        title=f"{period.title} so far" if partial else period.title,
        partial=partial,
        data_as_of=data_as_of,
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
        error_budget_policy=policy,
        delivery=delivery(con, period, scope),
        delivery_compared=delivery_against(con, period, scope, baseline),
        value=value(con, period, scope, workbench, baseline),
        spend=spend_trend(con, periods, scope),
        satisfaction=satisfaction_trend(con, periods, scope),
        satisfaction_compared=satisfaction_against(con, period, scope, baseline),
        engagement=engagement(con, period, scope, workbench.targets, periods, workbench.activities),
        team_figures=figures,
        peer_median=org_median(figures),
        initiatives=initiative_effects(con, period, scope, workbench.initiatives.initiatives),
        slo_specs=slo_specs(con, scope, workbench.slo_documents, period),
        corrections=applied,
        annotations=slo_annotations(con, period, definitions),
        rollups=rollups(
            slos[period.label],
            {n: d.weight for n, d in workbench.slo_documents.documents.items()},
            workbench.org.name,
            team,
        ),
        data_quality=shared.data_quality if shared else _data_quality(con, period, definitions, slos, applied, org),
        activities=activities(con, period, scope, workbench.activities, periods),
        surveys=surveys(con, period, scope, workbench.activities, periods),
        follow_up=follow_up(con, period, scope, workbench.policy, workbench.follow_up, budget_postmortems),
        readiness=readiness(con, period, scope, workbench.follow_up),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        input_fingerprint=fingerprint,
    )
    summary.policy_ledger = policy_ledger(
        con,
        period,
        summary.slos,
        summary.slo_budgets,
        policy,
        at_risk_below=org.slo_at_risk_below,
        exhausted_at=workbench.policy.freeze_when_remaining_below,
        decision_due_days=workbench.policy.decision_due_days,
    )
    if period.kind == "year":  # the year month by month: its own trend is the years before
        summary.year = year_review(
            con, period, scope, workbench, baseline, data_start, summary.slos, summary.follow_up, summary.incidents
        )
    plan = workbench.programme
    if team is None and (org.programme_start is not None or not plan.relative):
        # the plan is the organisation's, judged on the rest of its summary; without a programme_start
        # a plan in programme months has no dates (params/programme.yaml is refused, the defaults wait)
        judged: dict[str, Any] = summary.model_dump(mode="json", exclude={"programme"})
        if summary.year is not None and summary.year.value is not None and judged.get("value"):
            # a year to date: its value and return are those of the months the data cover (the
            # value section also counts the months still to come), as the annual review says them
            covered = summary.year.value
            judged["value"]["roi"].update(
                value_delivered=covered.value_delivered, programme_cost=covered.programme_cost, roi=covered.roi
            )
        summary.programme = programme_status(con, plan, org.programme_start, period, periods, judged, history)
    return summary


@dataclass(frozen=True)
class _SloFigures:
    """A team's SLO figures, taken from the organisation's summary of the same period."""

    slos: dict[str, dict[str, SloResult]]  # per trend period
    budgets: dict[str, SloBudget]
    policy: dict[str, ServicePolicy]
    org_slos: dict[str, SloResult]
    team_figures: dict[str, TeamFigures]
    data_quality: dict[str, SloDataQuality]


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
        data_quality={n: q for n, q in org.data_quality.items() if n in names},
    )


def _data_quality(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    definitions: list[SloDefinition],
    slos: dict[str, dict[str, SloResult]],
    applied: list[CorrectionApplied],
    org: OrgConfig,
) -> dict[str, SloDataQuality]:
    return data_quality(
        con,
        period,
        definitions,
        slos[period.label],
        applied,
        min_coverage=org.sli_min_coverage,
        gap_minutes=org.sli_gap_minutes,
        low_traffic_events=org.low_traffic_events,
    )


def _partial(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[bool, str | None]:
    """Whether ``period`` is still going (it ends after now), and then when its newest data is
    from: the newest SLI bucket or incident start, in the org time zone."""
    if period.ended:
        return False, None
    row = con.execute("""SELECT greatest((SELECT max("timestamp") FROM sli WHERE "timestamp" < ?),
                                         (SELECT max(started_at) FROM incidents WHERE started_at < ?))""",
                      [period.end_utc, period.end_utc]).fetchall()  # fmt: skip
    newest = row[0][0] if row else None
    if newest is None:
        return True, None
    return True, newest.replace(tzinfo=UTC).astimezone(period.start.tzinfo).isoformat(timespec="minutes")


def _data_start(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The earliest incident start or SLI bucket: periods ending before it have no data at all."""
    row = con.execute("""SELECT least((SELECT min(started_at) FROM incidents),
                                      (SELECT min("timestamp") FROM sli))""").fetchall()
    return row[0][0] if row else None


# ---- params/programme.yaml: its metric paths name figures of this summary ----------------------------


def _figure_type(kind: Any, path: list[str]) -> tuple[Any, str | None]:
    """The type at ``path`` under ``kind`` (a model, dataclass, dict or value type), or the first part it lacks."""
    for i, part in enumerate(path):
        origin = typing.get_origin(kind)
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(kind) if a is not type(None)]
            kind = options[0] if len(options) == 1 else kind
            origin = typing.get_origin(kind)
        if origin is dict:
            kind = typing.get_args(kind)[1]  # any key: an SLO's, a team's, a period's
            continue
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            hints = {name: f.annotation for name, f in kind.model_fields.items()}
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind):
            hints = typing.get_type_hints(kind)
        else:
            return None, ".".join(path[: i + 1])
        if part not in hints:
            return None, ".".join(path[: i + 1])
        kind = hints[part]
    return kind, None


def _path_problem(path: str, plan: Programme, workbench: Workbench, keyed: bool = False) -> str | None:
    parts = path.split(".")
    if parts[0] == "programme" and parts[1:2] not in (["milestones"], ["communications"]):
        return f"{path!r}: a criterion may use programme.milestones and programme.communications only"
    names: dict[tuple[str, str], tuple[str, set[str]]] = {
        ("programme", "milestones"): ("milestone", set(plan.milestones)),
        ("activities", "kinds"): ("activity", set(workbench.activities.kinds)),
    }
    for (first, second), (what, known) in names.items():
        if parts[:2] == [first, second] and len(parts) > 2 and parts[2] not in known:
            return f"{path!r}: unknown {what} {parts[2]!r}"
    if parts[0] == "surveys" and len(parts) > 1 and parts[1] not in workbench.activities.surveys:
        return f"{path!r}: unknown survey {parts[1]!r} (params/activities.yaml surveys)"
    kind, missing = _figure_type(PeriodSummary, parts)
    if missing is not None:
        return f"{path!r}: the summary has no figure {missing!r} (docs/metrics.md lists them)"
    is_keyed = typing.get_origin(kind) is dict or (
        typing.get_origin(kind) in (typing.Union, types.UnionType)
        and any(typing.get_origin(a) is dict for a in typing.get_args(kind))
    )
    if keyed and not is_keyed:
        return f"{path!r}: a trend names a figure per period ({{period: value}})"
    if not keyed and (is_keyed or typing.get_origin(kind) is list):
        return f"{path!r}: names a group of figures, not one figure"
    return None


def check_programme(plan: Programme, workbench: Workbench) -> None:
    """A :class:`ConfigError` naming each criterion or milestone of ``params/programme.yaml`` whose
    metric, threshold or trend path is not a figure of the PeriodSummary."""
    found = []
    for key, criterion in plan.criteria.items():
        _, threshold = criterion.comparison()
        checks = [("metric", criterion.metric, False), ("trend", criterion.trend, True)]
        checks.append(("threshold", threshold if isinstance(threshold, str) else None, False))
        for name, path, keyed in checks:
            problem = None if path is None else _path_problem(path, plan, workbench, keyed)
            if problem:
                found.append(f"criteria.{key}.{name}: {problem}")
    for key, milestone in plan.milestones.items():
        for leaf in milestone.evidence.leaves():
            problem = None if leaf.metric is None else _path_problem(leaf.metric, plan, workbench)
            if leaf.table is not None and leaf.table not in TABLES:
                found.append(f"milestones.{key}.evidence: unknown table {leaf.table!r} (tables: {', '.join(TABLES)})")
            if problem or (leaf.metric or "").startswith("programme."):
                found.append(
                    f"milestones.{key}.evidence.metric: {problem or 'a milestone cannot rest on the programme'}"
                )
    if found:
        raise ConfigError(f"{workbench.root / 'params' / 'programme.yaml'}: {'; '.join(found)}")
