"""The SRE programme against its plan (docs/metrics.md, "Programme"): phases, milestones with the
data that shows each met, success criteria, and how regularly the scheduled reports come out.

The plan is ``params/programme.yaml`` (:class:`srelib.config.Programme`; the seed strategy's
§7 timeline and §10 success criteria without it). Everything is judged **as of the period's
end** (midnight after its last day, org time zone): evidence dated before it counts, later
evidence does not. A completed period's figures therefore never change as runs and rows are
added afterwards (only a re-ingest of earlier data can change them).

- **Phase**: its first and last day (programme months counted from ``programme_start``, month 1
  being the month it starts, or dates). ``upcoming`` (starts after the period), ``in_progress``
  (under way at its end), ``done`` (ended, every milestone of the phase met), ``late`` (ended
  with a milestone not met).
- **Milestone**: due on its ``due`` day, at the end of programme month ``due_month``, or on its
  phase's last day. *First met* = the local date its evidence first shows (see
  :class:`srelib.config.Evidence`): the ``count``-th ``engagement`` row of the kind (or the day
  rows covered ``teams`` teams), the first run of the report published (``status: ok`` in
  ``outputs/runs.jsonl``, its ``finished_at``), the table's first row, the ``count``-th survey
  response, the earliest period in which a metric met its comparison (its last day); ``any_of``:
  the earliest. Status: ``done`` (met by its due day), ``done_late``, ``late`` (due day passed,
  not met), ``on_plan`` (not met, not yet due).
- **Communications**: each scheduled report (``params/schedule.yaml``) of each period that began
  at or after ``programme_start`` falls due ``due_after_days`` after the period at ``due_at``;
  it was *on time* when a run of it was published by then (a fan-out report counts once per
  period: its first published run). ``on_time_share`` = on time ÷ due, over the reports that fell
  due in the last ``communications.periods`` months before the period's end; its ``trend``: the
  share per trend period of the reports that fell due within it.
- **Criterion**: ``value`` = the summary figure at ``metric``; ``met`` = value compared with the
  threshold (a number, true/false or another figure); None when either is missing. Its ``trend``
  is the figure per trend period where the summary has one; ``direction`` = the last change
  between two periods with a value: ``toward`` or ``away`` from meeting, or ``flat``.
- **At risk next**: milestones not met and due by the end of the next period (not yet late), and
  criteria whose last change was away from meeting them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb

from srelib.config import Criterion, Evidence, Milestone, Programme, add_months
from srelib.ingest.schemas import TABLES
from srelib.metrics.follow_up import has_table
from srelib.period import Period, zone

# ---- the run history, as the run layer reads it (outputs/runs.jsonl, params/schedule.yaml) --------


@dataclass(frozen=True)
class Publication:
    """A report run that was published (``status: ok`` in ``outputs/runs.jsonl``)."""

    report: str
    period: str
    finished_at: datetime  # aware


@dataclass(frozen=True)
class Cadence:
    """A scheduled report: for every period of ``period_kind``, due ``due_after_days`` after it ends at ``due_at``."""

    report: str
    period_kind: str
    due_after_days: int
    due_at: time


@dataclass(frozen=True)
class RunHistory:
    publications: tuple[Publication, ...] = ()
    schedule: tuple[Cadence, ...] = ()


# ---- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseStatus:
    title: str
    start: str  # first day
    end: str  # last day
    status: str  # upcoming | in_progress | done | late
    milestones: int
    milestones_met: int


@dataclass(frozen=True)
class MilestoneStatus:
    title: str
    phase: str | None
    due: str  # the last day to meet it on time
    met: bool
    first_met: str | None  # local date the evidence first showed
    status: str  # on_plan | late | done | done_late
    days_late: int | None  # met late by, or overdue by at the period's end
    evidence: str  # which rule showed it (activity, report, table, survey, metric), or the rule's kind
    evidence_name: str | None  # the activity kind, report, table, survey or metric path
    figure: float | None  # the evidence's figure at the period's end, counted in ``figure_of``
    figure_of: str = "rows"  # rows (activity, table), teams (activity by teams), responses, periods published, value


@dataclass(frozen=True)
class LateReport:
    report: str
    period: str
    due_at: str  # ISO, org time zone
    published_at: str | None  # its first publication, if any by the period's end


@dataclass(frozen=True)
class Communications:
    history: bool  # False: no run history was read (the figures below are empty)
    periods: int
    window_start: str
    due: int
    on_time: int
    on_time_share: float | None
    late: list[LateReport] = field(default_factory=list)
    trend: dict[str, float | None] = field(default_factory=dict)  # trend period → share due within it on time


@dataclass(frozen=True)
class TrendValue:
    period: str
    value: float | None


@dataclass(frozen=True)
class CriterionStatus:
    title: str
    term: str  # short | long
    metric: str
    comparison: str  # at_least | above | at_most | below | equals
    threshold: float | bool | str | None
    value: float | bool | str | None
    met: bool | None
    trend: list[TrendValue] = field(default_factory=list)
    direction: str | None = None  # toward | away | flat
    description: str | None = None


@dataclass(frozen=True)
class AtRisk:
    milestones: list[str] = field(default_factory=list)  # due by the next period's end, not met
    criteria: list[str] = field(default_factory=list)  # trending away


@dataclass(frozen=True)
class ProgrammeStatus:
    as_of: str  # the period's last day: everything is judged at the end of it
    start: str | None  # programme_start
    month: int | None  # the programme month the period ends in (1 = the first)
    phases: dict[str, PhaseStatus]
    milestones: dict[str, MilestoneStatus]
    criteria: dict[str, CriterionStatus]
    communications: Communications
    milestones_done: int
    milestones_late: int
    criteria_met: int
    criteria_count: int
    criteria_evaluated: int  # with a value and a threshold
    at_risk: AtRisk


# ---- evidence ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """When a rule first held (None: not by the period's end) and its figure at the period's end."""

    first: date | None
    figure: float | None


# Tables whose rows came to be at another time than their schema's first dated column says: an
# action item exists from its created_at, else its incident's start (as follow_up counts it), not
# from its due day. A timestamp, naive UTC.
DATED_BY = {
    "actions": "coalesce(t.created_at, (SELECT min(i.started_at) FROM incidents i WHERE i.incident_id = t.incident_id))"
}


def time_column(table: str) -> str:
    """The column a table's rows are dated by: its first required timestamp or date, else its first one."""
    columns = TABLES[table].columns
    dated = [c for c in columns if c.type in ("timestamp", "date")]
    return next((c.name for c in dated if c.required), dated[0].name)


def _local(ts: datetime, tz: str) -> date:
    """A warehouse timestamp (naive UTC) or an aware one, as a date in the org time zone."""
    aware = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz)).date()


def _nth(dates: list[date], n: int) -> date | None:
    return dates[n - 1] if len(dates) >= n else None


def activity_evidence(con: duckdb.DuckDBPyConnection, rule: Evidence, end: date) -> Found:
    """The ``count``-th engagement row of the kind before ``end`` (or the day rows covered ``teams`` teams)."""
    rows = con.execute(
        "SELECT date, team FROM engagement WHERE kind = ? AND date < ? ORDER BY date, team",
        [rule.activity, end],
    ).fetchall()
    if rule.teams is None:
        return Found(_nth([r[0] for r in rows], rule.count), float(len(rows)))
    seen: dict[str, date] = {}
    for day, team in rows:
        if team:
            seen.setdefault(team, day)
    firsts = sorted(seen.values())
    return Found(_nth(firsts, rule.teams), float(len(seen)))


def survey_evidence(con: duckdb.DuckDBPyConnection, rule: Evidence, end: Period, tz: str) -> Found:
    rows = con.execute(
        "SELECT submitted_at FROM surveys WHERE survey = ? AND submitted_at < ? ORDER BY submitted_at",
        [rule.survey, end.start_utc],
    ).fetchall()
    return Found(_nth([_local(r[0], tz) for r in rows], rule.count), float(len(rows)))


def table_evidence(con: duckdb.DuckDBPyConnection, table: str, end: Period, tz: str) -> Found:
    """The table's first row before ``end``; its figure: the rows before ``end``."""
    if not has_table(con, table):
        return Found(None, 0.0)
    if table in DATED_BY:
        dated, timestamp = DATED_BY[table], True
    else:
        column = time_column(table)
        dated, timestamp = f't."{column}"', TABLES[table].column(column).type == "timestamp"
    first, rows = con.execute(
        f'SELECT min({dated}), count({dated}) FROM "{table}" t WHERE {dated} < ?',  # names from the schemas
        [end.start_utc if timestamp else end.first_day],
    ).fetchall()[0]
    if first is None:
        return Found(None, 0.0)
    return Found(first if isinstance(first, date) and not isinstance(first, datetime) else _local(first, tz), rows)


def report_evidence(history: RunHistory | None, report: str, end: datetime, tz: str) -> Found:
    """The first publication of ``report`` before ``end``; its figure: the periods published by then."""
    published = [p for p in (history.publications if history else ()) if p.report == report and p.finished_at < end]
    if not published:
        return Found(None, 0.0)
    return Found(_local(min(p.finished_at for p in published), tz), float(len({p.period for p in published})))


FIGURE_OF = {"activity": "rows", "table": "rows", "survey": "responses", "report": "periods", "metric": "value"}
FIGURE_OF["any_of"] = "rows"  # none of an any_of's rules held: the first one's figure


# ---- figures from the summary ------------------------------------------------------------------------


def resolve(figures: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of the summary's JSON (``value.roi.roi``); None where it has none."""
    node: Any = figures
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def series(figures: Mapping[str, Any], path: str, trend: str | None) -> dict[str, Any]:
    """The figure per trend period: the ``trend`` path's ``{period: value}``, or for incident and SLO
    figures the summary's trend points; empty where the summary has no trend for it."""
    if trend is not None:
        found = resolve(figures, trend)
        return dict(found) if isinstance(found, Mapping) else {}
    if path.split(".")[0] in ("incidents", "slos"):
        return {point["period"]: resolve(point, path) for point in figures.get("trend") or [] if point.get("covered")}
    return {}


def compare(value: Any, comparison: str, threshold: Any) -> bool | None:
    """``value`` against ``threshold``: at_least ≥, above >, at_most ≤, below <, equals ==; None if either
    is missing."""
    if value is None or threshold is None:
        return None
    if comparison == "equals":
        return bool(value == threshold)
    if isinstance(value, bool) or isinstance(threshold, bool):
        return None
    if not isinstance(value, int | float) or not isinstance(threshold, int | float):
        return None
    return {
        "at_least": value >= threshold,
        "above": value > threshold,
        "at_most": value <= threshold,
        "below": value < threshold,
    }[comparison]


def direction(values: list[Any], comparison: str) -> str | None:
    """``toward`` or ``away`` from meeting the comparison, or ``flat``: the last change between two
    periods with a number. None without two, or for ``equals``."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) < 2 or comparison == "equals":
        return None
    change = numbers[-1] - numbers[-2]
    if change == 0:
        return "flat"
    up_is_good = comparison in ("at_least", "above")
    return "toward" if (change > 0) == up_is_good else "away"


def _scalar(value: Any) -> float | bool | str | None:
    """A figure as a criterion holds it: a number as a float, true/false, text; None for anything else."""
    if isinstance(value, bool | str) or value is None:
        return value
    return float(value) if isinstance(value, int | float) else None


def criterion_status(criterion: Criterion, figures: Mapping[str, Any], periods: list[str]) -> CriterionStatus:
    comparison, given = criterion.comparison()
    threshold = _scalar(resolve(figures, given) if isinstance(given, str) else given)
    value = _scalar(resolve(figures, criterion.metric))
    trend_of = series(figures, criterion.metric, criterion.trend)
    trend = [TrendValue(p, _number_or_none(trend_of[p])) for p in periods if p in trend_of] if trend_of else []
    return CriterionStatus(
        title=criterion.title,
        term=criterion.term,
        metric=criterion.metric,
        comparison=comparison,
        threshold=threshold,
        value=value,
        met=compare(value, comparison, threshold),
        trend=trend,
        direction=direction([t.value for t in trend], comparison),
        description=criterion.description,
    )


def metric_evidence(rule: Evidence, figures: Mapping[str, Any], periods: list[Period]) -> Found:
    """The last day of the earliest period (of those the summary holds the figure for) in which it met
    the comparison."""
    assert rule.metric is not None
    comparison, threshold = rule.comparison()
    trend_of = series(figures, rule.metric, None) or {periods[-1].label: resolve(figures, rule.metric)}
    for period in periods:
        if period.label in trend_of and compare(trend_of[period.label], comparison, threshold):
            value = resolve(figures, rule.metric)
            return Found(period.shift(1).first_day - timedelta(days=1), value if _number(value) else None)
    value = resolve(figures, rule.metric)
    return Found(None, value if _number(value) else None)


def _number_or_none(value: Any) -> float | None:
    return float(value) if _number(value) else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---- communications -----------------------------------------------------------------------------------


def due_reports(
    schedule: tuple[Cadence, ...], start: datetime, end: datetime, since: date | None, tz: str
) -> list[tuple[Cadence, Period, datetime]]:
    """Every scheduled (report, period) that fell due in ``[start, end)``, for periods that began on or
    after ``since``."""
    found = []
    for cadence in schedule:
        period = Period.containing(cadence.period_kind, (start - timedelta(days=cadence.due_after_days + 1)).date(), tz)
        period = period.shift(-1)
        while True:
            due = datetime.combine(period.end.date() + timedelta(days=cadence.due_after_days), cadence.due_at, zone(tz))
            if due >= end:
                break
            if due >= start and (since is None or period.first_day >= since):
                found.append((cadence, period, due))
            period = period.shift(1)
    return sorted(found, key=lambda f: (f[2], f[0].report, f[1].label))


def on_time(
    history: RunHistory, schedule: tuple[Cadence, ...], start: datetime, end: datetime, since: date | None, tz: str
) -> tuple[int, int, list[LateReport]]:
    """Reports due in ``[start, end)``, how many were published by their due time, and the others."""
    first: dict[tuple[str, str], datetime] = {}
    for p in history.publications:
        if p.finished_at < end:
            key = (p.report, p.period)
            first[key] = min(first.get(key, p.finished_at), p.finished_at)
    due = due_reports(schedule, start, end, since, tz)
    late = []
    for cadence, period, due_at in due:
        published = first.get((cadence.report, period.label))
        if published is None or published > due_at:
            late.append(
                LateReport(
                    cadence.report,
                    period.label,
                    due_at.isoformat(timespec="minutes"),
                    None if published is None else published.astimezone(zone(tz)).isoformat(timespec="minutes"),
                )
            )
    return len(due), len(due) - len(late), late


def communications(
    history: RunHistory | None, period: Period, trend: list[Period], since: date | None, months: int
) -> Communications:
    tz = period.timezone
    end = period.end
    window = datetime.combine(add_months(end.date(), -months), time(0), zone(tz))
    if history is None:
        return Communications(False, months, window.isoformat(), 0, 0, None)
    due, timely, late = on_time(history, history.schedule, window, end, since, tz)
    shares: dict[str, float | None] = {}
    for point in trend:
        n, k, _ = on_time(history, history.schedule, point.start, point.end, since, tz)
        shares[point.label] = round(k / n, 6) if n else None
    return Communications(
        True, months, window.isoformat(), due, timely, round(timely / due, 6) if due else None, late, shares
    )


# ---- the programme -----------------------------------------------------------------------------------


def programme_month(start: date, day: date) -> int:
    """The programme month ``day`` falls in (``day`` on or after ``start``): month *n* runs from
    ``add_months(start, n - 1)`` to the day before ``add_months(start, n)``, as a milestone's
    ``due_month`` ends (so a programme starting on 31 January has its month 2 from 28 February)."""
    month = (day.year - start.year) * 12 + day.month - start.month + 1
    return month - (add_months(start, month - 1) > day)


def due_day(milestone: Milestone, spans: Mapping[str, tuple[date, date]], start: date | None) -> date:
    if milestone.due is not None:
        return milestone.due
    if milestone.due_month is not None:
        assert start is not None  # checked when params are loaded
        return add_months(start, milestone.due_month) - timedelta(days=1)
    assert milestone.phase is not None
    return spans[milestone.phase][1]


def _milestone_status(first: date | None, due: date, end: date) -> tuple[str, int | None]:
    if first is not None:
        return ("done", None) if first <= due else ("done_late", (first - due).days)
    if due < end:
        return "late", (end - timedelta(days=1) - due).days
    return "on_plan", None


def evidence(
    con: duckdb.DuckDBPyConnection,
    rule: Evidence,
    period: Period,
    history: RunHistory | None,
    figures: Mapping[str, Any],
    periods: list[Period],
) -> tuple[Found, Evidence]:
    """When ``rule`` was first met (before the period's end), and which simple rule showed it."""
    tz, end = period.timezone, period.shift(1)
    if rule.any_of:
        found = [evidence(con, r, period, history, figures, periods) for r in rule.any_of]
        met = [f for f in found if f[0].first is not None]
        if met:
            return min(met, key=lambda f: f[0].first or date.max)
        return found[0]
    if rule.activity is not None:
        return activity_evidence(con, rule, end.first_day), rule
    if rule.survey is not None:
        return survey_evidence(con, rule, end, tz), rule
    if rule.table is not None:
        return table_evidence(con, rule.table, end, tz), rule
    if rule.report is not None:
        return report_evidence(history, rule.report, period.end, tz), rule
    return metric_evidence(rule, figures, periods), rule


def programme_status(
    con: duckdb.DuckDBPyConnection,
    plan: Programme,
    programme_start: date | None,
    period: Period,
    trend: list[Period],
    figures: dict[str, Any],
    history: RunHistory | None,
) -> ProgrammeStatus:
    """The programme as of ``period``'s end; ``figures``: the rest of the period's summary as JSON
    (the criteria's metrics), ``trend``: the summary's trend periods (this one last)."""
    end = period.shift(1).first_day  # the first day after the period: everything before it counts
    spans = {key: phase.span(programme_start) for key, phase in plan.phases.items()}
    milestones: dict[str, MilestoneStatus] = {}
    for key, milestone in plan.milestones.items():
        found, shown_by = evidence(con, milestone.evidence, period, history, figures, trend)
        due = due_day(milestone, spans, programme_start)
        status, days_late = _milestone_status(found.first, due, end)
        milestones[key] = MilestoneStatus(
            title=milestone.title,
            phase=milestone.phase,
            due=due.isoformat(),
            met=found.first is not None,
            first_met=None if found.first is None else found.first.isoformat(),
            status=status,
            days_late=days_late,
            evidence=shown_by.rule,
            evidence_name=str(getattr(shown_by, shown_by.rule)) if shown_by.rule != "any_of" else None,
            figure=found.figure,
            figure_of=FIGURE_OF[shown_by.rule] if shown_by.teams is None else "teams",
        )
    phases = {}
    for key, phase in plan.phases.items():
        first, last = spans[key]
        own = [m for m in milestones.values() if m.phase == key]
        met = sum(m.met for m in own)
        if first >= end:
            status = "upcoming"
        elif last >= end:
            status = "in_progress"
        else:
            status = "done" if met == len(own) else "late"
        phases[key] = PhaseStatus(phase.title, first.isoformat(), last.isoformat(), status, len(own), met)
    comms = communications(history, period, trend, programme_start, plan.communications.periods)
    labels = [p.label for p in trend]
    with_programme = {
        **figures,
        "programme": {
            "milestones": {k: vars(m) for k, m in milestones.items()},
            "communications": {**vars(comms), "late": [vars(x) for x in comms.late]},
        },
    }
    criteria = {key: criterion_status(c, with_programme, labels) for key, c in plan.criteria.items()}
    next_end = period.shift(2).first_day
    at_risk = AtRisk(
        milestones=[k for k, m in milestones.items() if m.status == "on_plan" and date.fromisoformat(m.due) < next_end],
        criteria=[k for k, c in criteria.items() if c.direction == "away"],
    )
    month = None
    if programme_start is not None and end > programme_start:
        month = programme_month(programme_start, end - timedelta(days=1))
    return ProgrammeStatus(
        as_of=(end - timedelta(days=1)).isoformat(),
        start=None if programme_start is None else programme_start.isoformat(),
        month=month,
        phases=phases,
        milestones=milestones,
        criteria=criteria,
        communications=comms,
        milestones_done=sum(m.met for m in milestones.values()),
        milestones_late=sum(m.status in ("late", "done_late") for m in milestones.values()),
        criteria_met=sum(c.met is True for c in criteria.values()),
        criteria_count=len(criteria),
        criteria_evaluated=sum(c.met is not None for c in criteria.values()),
        at_risk=at_risk,
    )
