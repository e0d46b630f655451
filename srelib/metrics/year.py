"""A year month by month, and the inputs for next year's plan (docs/metrics.md, "Year").

A year's summary has the usual sections over the whole calendar year, and its trend is the years
before. The annual review also needs the year's own months, and only the months the data cover:

- **Coverage**: a month of the year is *covered* when it overlaps the span of the reliability data,
  from the earliest to the latest incident (start or resolution) or SLI bucket. The year is
  *complete* when all twelve months are. A year to date, or a year whose data begin in the middle,
  is said so, and every figure below is over the covered months only.
- **Month by month**: per month (org time zone), the incidents started, SEV1+SEV2, customer-impacting,
  the median time to resolve; the SLOs met, at risk and breached over the month; the programme's
  activities held and their reach; the engagement KPIs (teams engaged, collaboration events,
  training participation, practice adoption at the month's end); the value delivered and the
  programme cost (``srelib.metrics.value`` for the month) and both accumulated over the year.
- **Value over the year**: the sums of the monthly values over the covered months on or after
  ``programme_start`` (the programme's months of the year); ROI = (Σ value delivered − Σ programme
  cost) ÷ Σ programme cost. Every component of ``srelib.metrics.value`` is additive over months, so
  for a year the data cover entirely, with the programme running all year, this is the year's
  ``value`` section (to the cent: each month's programme cost is rounded on its own).
- **Incident rate year over year**: incidents per covered day this year against the previous year's
  and the baseline's covered days (``srelib.metrics.compare.compare_rates``: exact conditional
  Poisson test). Counting over covered days keeps a year whose data begin in June from looking
  twice as reliable as one covered all year.
- **Activities and surveys through the year**: the programme's activities per kind and team and
  every survey per question, per month (``srelib.metrics.activities``, ``srelib.metrics.surveys``),
  judged as of the last covered month: the lapses are the year-end lapses, counted in months.
- **Inputs for next year's plan**:
  *budget burners*: every SLO with data, most error budget consumed over the year first
  (1 − the year's error budget remaining; ties: more months breached, then name), with the months
  it was breached and at risk; *repeat services*: the services whose incidents repeated an earlier
  one (``srelib.metrics.follow_up``'s definition, over the year), most repeats first (ties: more
  repeats while the earlier incident's actions were open, then name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from srelib.config import ValueConfig, Workbench
from srelib.metrics.activities import ActivitySummary, activities
from srelib.metrics.compare import RateComparison, compare_rates
from srelib.metrics.engagement import engagement
from srelib.metrics.follow_up import FollowUpFigures
from srelib.metrics.incidents import IncidentStats, incident_stats
from srelib.metrics.scope import Scope
from srelib.metrics.slo import SloResult, slo_results
from srelib.metrics.surveys import SurveyResult, surveys
from srelib.metrics.value import RoiInputs, RoiRange, Value, roi_at_base, roi_range, value
from srelib.period import Period, Window


@dataclass(frozen=True)
class MonthFigures:
    period: str  # YYYY-MM
    title: str
    covered: bool  # the month overlaps the reliability data
    programme: bool  # on or after programme_start: its value counts for the year
    incidents: int = 0
    high_severity: int = 0  # SEV1 + SEV2
    customer_impacting: int = 0
    mttr_median_minutes: float | None = None
    resolved: int = 0  # the incidents behind the median
    slos_met: int = 0
    slos_at_risk: int = 0
    slos_breached: int = 0
    activities: int = 0  # occurrences of the programme's activities
    reach: int = 0
    teams_engaged: float | None = None
    collaboration_events: float | None = None
    training_participation_rate: float | None = None
    practice_adoption_rate: float | None = None  # at the month's end
    value_delivered: float | None = None  # None: not counted (not covered, or before the programme)
    programme_cost: float | None = None
    cumulative_value: float | None = None  # Σ value delivered over the counted months so far
    cumulative_cost: float | None = None


@dataclass(frozen=True)
class YearValue:
    """The value delivered and ROI over the year's counted months (covered, on or after programme_start)."""

    months: list[str]
    currency: str
    toil_hours: float
    toil_value: float
    initiative_savings: float
    downtime_avoided_minutes: float | None  # None: no month had a baseline to compare with
    downtime_avoided_value: float | None
    value_delivered: float
    programme_cost: float | None  # None for a team: the programme's cost is not split across teams
    roi: float | None
    range: RoiRange | None = None  # as a month's, over the counted months' totals


@dataclass(frozen=True)
class YearRate:
    """Incidents per covered day in one span, and this year's rate compared with it."""

    label: str
    title: str
    covered_months: int
    covered_days: float
    incidents: int
    per_30_days: float | None
    comparison: RateComparison | None = None  # this year against this span; None for the year itself


@dataclass(frozen=True)
class BudgetBurner:
    slo: str
    service: str
    team: str | None
    display_name: str | None
    target: float
    attainment: float | None  # over the year
    budget_consumed: float | None  # 1 − the year's error budget remaining (over 1: overspent)
    months_breached: int
    months_at_risk: int
    months_with_data: int


@dataclass(frozen=True)
class ServiceRepeats:
    service: str
    team: str | None
    repeats: int  # the year's incidents of the service that repeat an earlier one
    with_open_actions: int  # ... while the earlier incident's action items were still open
    incidents: int  # the service's incidents in the year


@dataclass(frozen=True)
class YearReview:
    months: list[MonthFigures]
    covered_months: int
    complete: bool  # all twelve months covered
    first_covered: str | None
    last_covered: str | None
    as_of: str  # the month the activities and surveys are judged at: the last covered one (else December)
    value: YearValue | None
    incident_rates: dict[str, YearRate] = field(default_factory=dict)  # year, previous, baseline
    budget_burners: list[BudgetBurner] = field(default_factory=list)
    repeat_services: list[ServiceRepeats] = field(default_factory=list)
    activities: ActivitySummary | None = None  # per month, as of ``as_of``
    surveys: dict[str, SurveyResult] = field(default_factory=dict)  # per month, as of ``as_of``


def data_end(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest incident start or resolution, or SLI bucket (naive UTC): the reliability data's end."""
    row = con.execute("""SELECT greatest((SELECT max(started_at) FROM incidents),
                                         (SELECT max(resolved_at) FROM incidents),
                                         (SELECT max("timestamp") FROM sli))""").fetchall()
    return row[0][0] if row else None


def covered(span: Period | Window, start: datetime | None, end: datetime | None) -> bool:
    """Whether ``span`` overlaps the data's span ``[start, end]`` (naive UTC)."""
    return start is not None and end is not None and span.start_utc <= end and span.end_utc > start


def months_of(period: Period) -> list[Period]:
    """The calendar months of ``period`` (a year: January to December), in order."""
    first = Period.containing("month", period.first_day, period.timezone)
    months = []
    while first.start_utc < period.end_utc:
        months.append(first)
        first = first.shift(1)
    return months


def year_review(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    workbench: Workbench,
    baseline: Window | None,
    data_start: datetime | None,
    year_slos: Mapping[str, SloResult],
    year_follow_up: FollowUpFigures | None,
    year_incidents: IncidentStats,
) -> YearReview:
    """:class:`YearReview` of ``period`` (a year) for ``scope``: the parts of a year's summary that
    its trend of earlier years cannot give."""
    end = data_end(con)
    months = months_of(period)
    seen = [m for m in months if covered(m, data_start, end)]
    as_of = seen[-1] if seen else months[-1]
    upto = months[: months.index(as_of) + 1]
    programme = workbench.org.programme_start
    counted = [m for m in seen if programme is None or m.first_day >= programme]
    org = workbench.org
    stats = incident_stats(con, months, scope)
    slos = slo_results(con, months, scope, org.slo_at_risk_below)
    year_activities = activities(con, as_of, scope, workbench.activities, upto)
    monthly_value = {m.label: value(con, m, scope, workbench, baseline) for m in counted}
    figures = []
    total_value = total_cost = 0.0
    for m in months:
        s = stats[m.label]
        statuses = [r.status for r in slos[m.label].values()]
        kpis = engagement(con, m, scope, workbench.targets, [m], workbench.activities).kpis if m in upto else {}
        v = monthly_value.get(m.label)
        if v is not None:
            total_value += v.roi.value_delivered
            total_cost += v.roi.programme_cost or 0.0
        activity = sum(k.counts.get(m.label, 0) for k in year_activities.kinds.values())
        reach = sum(k.reaches.get(m.label, 0) for k in year_activities.kinds.values())
        figures.append(
            MonthFigures(
                period=m.label,
                title=m.title,
                covered=m in seen,
                programme=programme is None or m.first_day >= programme,
                incidents=s.count,
                high_severity=s.by_severity.get("SEV1", 0) + s.by_severity.get("SEV2", 0),
                customer_impacting=s.customer_impacting,
                mttr_median_minutes=s.mttr_minutes.median,
                resolved=s.mttr_minutes.n,
                slos_met=statuses.count("met"),
                slos_at_risk=statuses.count("at_risk"),
                slos_breached=statuses.count("breached"),
                activities=activity,
                reach=reach,
                teams_engaged=kpis["teams_engaged"].value if kpis else None,
                collaboration_events=kpis["collaboration_events"].value if kpis else None,
                training_participation_rate=kpis["training_participation_rate"].value if kpis else None,
                practice_adoption_rate=kpis["practice_adoption_rate"].value if kpis else None,
                value_delivered=None if v is None else v.roi.value_delivered,
                programme_cost=None if v is None else v.roi.programme_cost,
                cumulative_value=None if v is None else round(total_value, 2),
                cumulative_cost=None if v is None or v.roi.programme_cost is None else round(total_cost, 2),
            )
        )
    return YearReview(
        months=figures,
        covered_months=len(seen),
        complete=len(seen) == len(months),
        first_covered=seen[0].label if seen else None,
        last_covered=seen[-1].label if seen else None,
        as_of=as_of.label,
        value=_year_value(counted, monthly_value, workbench.value, scope),
        incident_rates=_incident_rates(con, period, scope, baseline, data_start, end, year_incidents),
        budget_burners=budget_burners(year_slos, slos),
        repeat_services=repeat_services(year_follow_up, year_incidents, scope),
        activities=year_activities,
        surveys=surveys(con, as_of, scope, workbench.activities, upto),
    )


def _year_value(counted: list[Period], monthly: Mapping[str, Value], settings: ValueConfig, scope: Scope) -> YearValue:
    rois = [monthly[m.label].roi for m in counted]
    currency = settings.currency
    toils = [monthly[m.label].toil for m in counted]
    avoided = [r.downtime_avoided_minutes for r in rois if r.downtime_avoided_minutes is not None]
    avoided_value = [r.downtime_avoided_value for r in rois if r.downtime_avoided_value is not None]
    delivered = round(sum(r.value_delivered for r in rois), 2)
    cost = None if scope.team else round(sum(r.programme_cost or 0.0 for r in rois), 2)
    return YearValue(
        months=[m.label for m in counted],
        currency=currency,
        toil_hours=round(sum(t.hours_saved for t in toils), 4),
        toil_value=round(sum(r.toil_value for r in rois), 2),
        initiative_savings=round(sum(r.initiative_savings for r in rois), 2),
        downtime_avoided_minutes=round(sum(avoided), 2) if avoided else None,
        downtime_avoided_value=round(sum(avoided_value), 2) if avoided_value else None,
        value_delivered=delivered,
        programme_cost=cost,
        roi=None if not cost else round((delivered - cost) / cost, 6),
        range=_year_range(counted, monthly, settings, scope) if counted else None,
    )


def _year_range(counted: list[Period], monthly: Mapping[str, Value], settings: ValueConfig, scope: Scope) -> RoiRange:
    """The ROI range over the year's totals. Every month's downtime interval comes from the same
    baseline's resamples (the same rate quantiles), so the year's interval is their sum."""
    rois = [monthly[m.label].roi for m in counted]
    with_baseline = [r for r in rois if r.downtime_avoided_minutes is not None]
    intervals = [r.range for r in with_baseline if r.range is not None and r.range.downtime_avoided_low is not None]
    inputs = RoiInputs(
        toil_hours=sum(monthly[m.label].toil.hours_saved for m in counted),
        savings=sum(r.initiative_savings for r in rois),
        downtime_avoided_minutes=sum(r.downtime_avoided_minutes or 0.0 for r in with_baseline)
        if with_baseline
        else None,
        days=sum(m.days for m in counted),
        programme=scope.team is None,
    )
    interval = None
    if with_baseline and len(intervals) == len(with_baseline):
        interval = (
            sum(i.downtime_avoided_low or 0.0 for i in intervals),
            sum(i.downtime_avoided_high or 0.0 for i in intervals),
        )
    return roi_range(inputs, settings, interval, roi_at_base(inputs, settings))


def _incident_rates(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    baseline: Window | None,
    start: datetime | None,
    end: datetime | None,
    year_incidents: IncidentStats,
) -> dict[str, YearRate]:
    """This year's incidents per covered day, and the previous year's and the baseline's against it."""
    here = _rate("year", period.title, months_of(period), year_incidents.count, start, end)
    rates = {"year": here}
    spans: list[tuple[str, str, Period | Window]] = [("previous", period.previous().title, period.previous())]
    if baseline is not None:
        spans.append(("baseline", baseline.label, baseline))
    for key, title, span in spans:
        months = _months_in(span, period.timezone)
        count = incident_stats(con, [span], scope)[span.label].count
        there = _rate(span.label, title, months, count, start, end)
        if not there.covered_days:
            continue
        comparison = (
            compare_rates(there.incidents, there.covered_days, here.incidents, here.covered_days)
            if here.covered_days
            else None
        )
        rates[key] = YearRate(**{**vars(there), "comparison": comparison})
    return rates


def _months_in(span: Period | Window, timezone: str) -> list[Period]:
    if isinstance(span, Period):
        return months_of(span)
    months = []
    month = Period.containing("month", span.start_utc.date(), timezone)
    while month.start_utc < span.end_utc:
        if month.start_utc >= span.start_utc:
            months.append(month)
        month = month.shift(1)
    return months


def _rate(
    label: str, title: str, months: list[Period], incidents: int, start: datetime | None, end: datetime | None
) -> YearRate:
    seen = [m for m in months if covered(m, start, end)]
    days = round(sum(m.days for m in seen), 6)
    return YearRate(
        label=label,
        title=title,
        covered_months=len(seen),
        covered_days=days,
        incidents=incidents,
        per_30_days=round(incidents / days * 30, 6) if days else None,
    )


def budget_burners(year: Mapping[str, SloResult], monthly: Mapping[str, Mapping[str, SloResult]]) -> list[BudgetBurner]:
    """Every SLO with data over the year, most error budget consumed first (ties: more months
    breached, then name)."""
    burners = []
    for name, result in year.items():
        if result.attainment is None:
            continue
        statuses = [months[name].status for months in monthly.values() if name in months]
        burners.append(
            BudgetBurner(
                slo=name,
                service=result.service,
                team=result.team,
                display_name=result.display_name,
                target=result.target,
                attainment=result.attainment,
                budget_consumed=result.budget_consumed,
                months_breached=statuses.count("breached"),
                months_at_risk=statuses.count("at_risk"),
                months_with_data=sum(1 for s in statuses if s != "no_data"),
            )
        )
    return sorted(
        burners,
        key=lambda b: (b.budget_consumed is None, -(b.budget_consumed or 0), -b.months_breached, b.slo),
    )


def repeat_services(follow_up: FollowUpFigures | None, incidents: IncidentStats, scope: Scope) -> list[ServiceRepeats]:
    """The services whose incidents repeated an earlier one over the year, most repeats first (ties:
    more with the earlier incident's actions open, then name)."""
    if follow_up is None:
        return []
    open_by_service: dict[str, int] = {}
    for r in follow_up.repeats_with_open_actions:
        open_by_service[r.service] = open_by_service.get(r.service, 0) + 1
    rows = [
        ServiceRepeats(
            service=service,
            team=scope.catalogue.team_of(service),
            repeats=n,
            with_open_actions=open_by_service.get(service, 0),
            incidents=incidents.by_service.get(service, 0),
        )
        for service, n in follow_up.repeats_by_service.items()
        if n
    ]
    return sorted(rows, key=lambda r: (-r.repeats, -r.with_open_actions, r.service))
