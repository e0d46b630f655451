"""Value: toil removed, cloud cost saved, downtime avoided, satisfaction, productivity, ROI.

Definitions (docs/metrics.md, "Value"); money in ``params/value.yaml``'s currency:

- **Toil removed**: Σ ``minutes_saved`` ÷ 60 over the period's automation runs (``ran_at`` in
  the period); its value = hours × ``hourly_rate``.
- **Cost**: FOCUS ``EffectiveCost`` (savings are measured in what was actually paid), each row
  allocated to the period in proportion to the overlap of ``[ChargePeriodStart,
  ChargePeriodEnd)`` with it (a row without an end counts at its start). ``BilledCost`` is kept
  alongside.
- **Initiative savings** (cost initiatives of ``params/initiatives.yaml``): baseline daily cost =
  the scope's allocated cost over the ``baseline_days`` before ``start`` ÷ those days; savings =
  baseline daily cost × the period's days on or after ``start`` − the scope's actual cost over
  those days. Negative when the scope costs more than before.
- **Downtime avoided**: (baseline customer-impacting incident minutes per day × the period's
  days) − the period's customer-impacting incident minutes (started in the span; resolved − started,
  open incidents to the span end); valued at ``downtime_cost_per_minute``. Needs
  ``programme_start``.
- **Satisfaction**: CSAT = mean ``score`` of the ``csat`` survey (1–5) and the share of 4s and
  5s; NPS = % promoters (9–10) − % detractors (0–6) of the ``nps`` survey (0–10), from −100 to
  100.
- **Developer experience**: mean ``score`` of the ``devex`` survey.
- **ROI** = (value delivered − programme cost) ÷ programme cost, where value delivered = toil
  value + initiative savings + downtime avoided value, and programme cost =
  ``programme_cost_per_month`` × the period's days ÷ (365.25 ÷ 12). None without a programme cost,
  and for a team (the programme's cost is not split across teams; its value components are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from srelib.config import Initiative, Workbench
from srelib.metrics.scope import Scope
from srelib.metrics.stats import exact_sum_sql
from srelib.period import Period, Window

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Toil:
    runs: int
    hours_saved: float
    value: float
    by_automation: dict[str, float] = field(default_factory=dict)  # hours saved per automation


@dataclass(frozen=True)
class InitiativeSaving:
    name: str
    title: str
    start: str
    baseline_daily_cost: float | None
    days_in_effect: float
    expected_cost: float | None  # baseline daily cost × days in effect
    actual_cost: float
    savings: float | None


@dataclass(frozen=True)
class Costs:
    effective_cost: float
    billed_cost: float
    currency: str
    by_service: dict[str, float] = field(default_factory=dict)
    initiatives: list[InitiativeSaving] = field(default_factory=list)
    savings: float = 0.0


@dataclass(frozen=True)
class Survey:
    n: int
    mean: float | None


@dataclass(frozen=True)
class Satisfaction:
    csat: Survey
    csat_satisfied_ratio: float | None  # share of 4 and 5
    nps: float | None
    nps_responses: int
    promoters: int
    detractors: int
    devex: Survey


@dataclass(frozen=True)
class Roi:
    currency: str
    toil_value: float
    initiative_savings: float
    downtime_avoided_minutes: float | None
    downtime_avoided_value: float | None
    value_delivered: float
    programme_cost: float | None  # the whole programme's: not split across teams (None for a team)
    roi: float | None


@dataclass(frozen=True)
class Value:
    toil: Toil
    costs: Costs
    satisfaction: Satisfaction
    roi: Roi
    saved: float = 0.0  # toil automated + cost initiative savings: what the team saved, before downtime avoided


def value(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, workbench: Workbench, baseline: Window | None
) -> Value:
    settings = workbench.value
    toil = _toil(con, period, scope, settings.hourly_rate)
    costs = _costs(con, period, scope, workbench.initiatives.initiatives, settings.currency)
    avoided = _downtime_avoided(con, period, scope, baseline)
    avoided_value = None if avoided is None else round(avoided * settings.downtime_cost_per_minute, 2)
    delivered = round(toil.value + costs.savings + (avoided_value or 0.0), 2)
    programme = None if scope.team else round(settings.programme_cost_per_month * period.days / DAYS_PER_MONTH, 2)
    return Value(
        toil=toil,
        costs=costs,
        satisfaction=_satisfaction(con, period, scope),
        saved=round(toil.value + costs.savings, 2),
        roi=Roi(
            currency=settings.currency,
            toil_value=toil.value,
            initiative_savings=costs.savings,
            downtime_avoided_minutes=None if avoided is None else round(avoided, 2),
            downtime_avoided_value=avoided_value,
            value_delivered=delivered,
            programme_cost=programme,
            roi=None if not programme else round((delivered - programme) / programme, 6),
        ),
    )


def toil_hours_sql() -> str:
    """SQL: the hours of toil the automation runs replaced, Σ ``minutes_saved`` ÷ 60.

    A DOUBLE sum, not :func:`~srelib.metrics.stats.exact_sum_sql`: the exact sum lands the demo's
    toil value on an exact tie (6,334.125) that rounds to .12 where published reports say .13.
    Deterministic while the runs of a query fit one DuckDB row group (122,880 rows)."""
    return "sum(minutes_saved) / 60.0"


def toil_hours(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, scope: Scope) -> float:
    """Hours of toil removed by the scope's automation runs in [start, end)."""
    row = con.execute(
        f"""SELECT {toil_hours_sql()} FROM automation_runs
            WHERE ran_at >= ? AND ran_at < ? AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)""",
        [start, end, scope.team, scope.team],
    ).fetchall()
    return float(row[0][0] or 0.0)


def _toil(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, rate: float) -> Toil:
    rows = con.execute(
        f"""SELECT automation, count(*), {toil_hours_sql()} FROM automation_runs
            WHERE ran_at >= ? AND ran_at < ? AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)
            GROUP BY automation ORDER BY automation""",
        [period.start_utc, period.end_utc, scope.team, scope.team],
    ).fetchall()
    hours = sum(float(r[2]) for r in rows)
    return Toil(
        runs=sum(int(r[1]) for r in rows),
        hours_saved=round(hours, 4),
        value=round(hours * rate, 2),
        by_automation={r[0]: round(float(r[2]), 4) for r in rows},
    )


def _cost_between(
    con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, services: list[str], scope: Scope
) -> tuple[float, float, dict[str, float]]:
    """EffectiveCost and BilledCost allocated to [start, end) (by overlap), total and per service.

    A team's costs are the rows tagged ``team: <team>``, else those of the team's services.
    """
    owned, owners = scope.catalogue_sql()[1]
    rows = con.execute(
        f"""
        WITH rows AS (
            SELECT "ServiceName" AS service, "EffectiveCost" AS effective, "BilledCost" AS billed,
                   coalesce(nullif(trim(json_extract_string("Tags", '$.team')), ''),
                            $owners[list_position($owned, "ServiceName")]) AS owner,
                   CASE WHEN "ChargePeriodEnd" IS NULL OR "ChargePeriodEnd" <= "ChargePeriodStart"
                        THEN CAST("ChargePeriodStart" >= $start AND "ChargePeriodStart" < $end AS DOUBLE)
                        ELSE greatest(0, epoch(least("ChargePeriodEnd", $end) - greatest("ChargePeriodStart", $start)))
                             / epoch("ChargePeriodEnd" - "ChargePeriodStart")
                   END AS share
            FROM costs
            WHERE "ChargePeriodStart" < $end AND coalesce("ChargePeriodEnd", "ChargePeriodStart") >= $start
        )
        SELECT service, {exact_sum_sql("effective * share")}, {exact_sum_sql("billed * share")} FROM rows
        WHERE share > 0
          AND (len($services) = 0 OR list_contains($services, service))
          AND ($team IS NULL OR owner = $team)
        GROUP BY ALL""",
        {
            "start": start,
            "end": end,
            "services": services,
            "team": scope.team,
            "owned": owned,
            "owners": owners,
        },
    ).fetchall()
    by_service = {(r[0] or "(no service)"): round(float(r[1] or 0), 2) for r in rows}
    return sum(float(r[1] or 0) for r in rows), sum(float(r[2] or 0) for r in rows), by_service


def _costs(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, initiatives: list[Initiative], currency: str
) -> Costs:
    effective, billed, by_service = _cost_between(con, period.start_utc, period.end_utc, [], scope)
    savings = [_saving(con, period, scope, i) for i in initiatives if i.kind == "cost"]
    return Costs(
        effective_cost=round(effective, 2),
        billed_cost=round(billed, 2),
        currency=currency,
        by_service=dict(sorted(by_service.items())),
        initiatives=savings,
        savings=round(sum(s.savings or 0 for s in savings), 2),
    )


def _saving(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, initiative: Initiative) -> InitiativeSaving:
    start = datetime.combine(initiative.start, datetime.min.time(), period.start.tzinfo)
    start_utc = start.astimezone(UTC).replace(tzinfo=None)
    baseline_from = (start - timedelta(days=initiative.baseline_days)).astimezone(UTC).replace(tzinfo=None)
    baseline_cost, _, _ = _cost_between(con, baseline_from, start_utc, initiative.services, scope)
    has_baseline = con.execute(
        'SELECT count(*) FROM costs WHERE "ChargePeriodStart" < ? AND "ChargePeriodStart" >= ?',
        [start_utc, baseline_from],
    ).fetchall()[0][0]
    effect_from = max(start_utc, period.start_utc)
    days = max(0.0, (period.end_utc - effect_from).total_seconds() / 86400)
    actual, _, _ = _cost_between(con, effect_from, period.end_utc, initiative.services, scope) if days else (0.0, 0, {})
    daily = baseline_cost / initiative.baseline_days if has_baseline else None
    expected = None if daily is None else daily * days
    return InitiativeSaving(
        name=initiative.name,
        title=initiative.title or initiative.name,
        start=initiative.start.isoformat(),
        baseline_daily_cost=None if daily is None else round(daily, 2),
        days_in_effect=round(days, 4),
        expected_cost=None if expected is None else round(expected, 2),
        actual_cost=round(actual, 2),
        savings=None if expected is None else round(expected - actual, 2),
    )


def impact_minutes(con: duckdb.DuckDBPyConnection, span: Period | Window, scope: Scope) -> float:
    """Customer-impacting incident minutes of incidents started in ``span`` (open ones to its end)."""
    from srelib.metrics.incidents import scoped_incidents

    scoped, params = scoped_incidents(scope, [span])
    impacted = "epoch(least(coalesce(resolved_at, ?::TIMESTAMP), ?::TIMESTAMP) - started_at) / 60.0"
    row = con.execute(
        f"""SELECT {exact_sum_sql(impacted)}
            FROM ({scoped}) WHERE customer_impact""",
        [span.end_utc, span.end_utc, *params],
    ).fetchall()
    return float(row[0][0] or 0.0)


def _downtime_avoided(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, baseline: Window | None
) -> float | None:
    if baseline is None:
        return None
    per_day = impact_minutes(con, baseline, scope) / baseline.days
    return per_day * period.days - impact_minutes(con, period, scope)


def _satisfaction(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> Satisfaction:
    # Survey rows without a team are org-wide: they count for the org, not for a team.
    rows = con.execute(
        """SELECT survey, count(*), avg(score),
                  count(*) FILTER (WHERE score >= 4), count(*) FILTER (WHERE score >= 9),
                  count(*) FILTER (WHERE score <= 6)
           FROM surveys
           WHERE submitted_at >= ? AND submitted_at < ? AND survey IN ('csat', 'nps', 'devex')
             AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)
           GROUP BY survey""",
        [period.start_utc, period.end_utc, scope.team, scope.team],
    ).fetchall()
    by = {r[0]: r[1:] for r in rows}
    csat = by.get("csat", (0, None, 0, 0, 0))
    nps = by.get("nps", (0, None, 0, 0, 0))
    devex = by.get("devex", (0, None, 0, 0, 0))
    return Satisfaction(
        csat=Survey(int(csat[0]), None if csat[1] is None else round(float(csat[1]), 4)),
        csat_satisfied_ratio=None if not csat[0] else round(csat[2] / csat[0], 6),
        nps=nps_score(int(nps[3]), int(nps[4]), int(nps[0])),
        nps_responses=int(nps[0]),
        promoters=int(nps[3]),
        detractors=int(nps[4]),
        devex=Survey(int(devex[0]), None if devex[1] is None else round(float(devex[1]), 4)),
    )


def nps_score(promoters: int, detractors: int, responses: int) -> float | None:
    """Net Promoter Score: % promoters (9–10) − % detractors (0–6); None without responses."""
    if responses == 0:
        return None
    return round(100 * (promoters - detractors) / responses, 4)
