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
- **Satisfaction**: CSAT, NPS and developer experience (:mod:`srelib.metrics.satisfaction`).
- **ROI** = (value delivered − programme cost) ÷ programme cost, where value delivered = toil
  value + initiative savings + downtime avoided value, and programme cost =
  ``programme_cost_per_month`` × the period's days ÷ (365.25 ÷ 12). None without a programme cost,
  and for a team (the programme's cost is not split across teams; its value components are).
- **ROI range**: the assumptions of ``params/value.yaml`` each have a low, base and high figure,
  and the downtime avoided has a 95 % interval: the baseline's customer-impacting minutes per day
  from a percentile bootstrap over the baseline's days (10,000 resamples of its days, fixed seed).
  The range is the lowest and highest ROI (and value delivered) over every combination of those
  ends; ``positive``: the ROI stays above zero at all of them. Sensitivity: the ROI with one of
  them at its low and at its high, the others at base (a tornado, widest swing first). Shares:
  each component ÷ value delivered.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np

from srelib.config import Initiative, ValueConfig, Workbench
from srelib.ingest.sql import exact_sum_sql
from srelib.metrics.compare import RESAMPLES, SEED
from srelib.metrics.satisfaction import Satisfaction, satisfaction
from srelib.metrics.scope import Scope
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
class Sensitivity:
    """One assumption (or ``downtime_avoided_minutes``, the statistical one) at its low and high
    figures, the others at base."""

    name: str
    low: float
    high: float
    value_low: float  # value delivered with it at its low figure
    value_high: float
    roi_low: float | None  # None for a team (no programme cost)
    roi_high: float | None


@dataclass(frozen=True)
class RoiRange:
    low: float | None  # the lowest ROI over every combination of the ranges' ends
    high: float | None
    value_low: float  # value delivered, lowest and highest over the same combinations
    value_high: float
    downtime_avoided_low: float | None  # minutes: the 95 % interval (bootstrap over the baseline's days)
    downtime_avoided_high: float | None
    positive: bool | None  # the ROI above zero at every combination (None: no ROI)
    sensitivity: list[Sensitivity] = field(default_factory=list)  # widest ROI (else value) swing first
    shares: dict[str, float] = field(default_factory=dict)  # toil, initiatives, downtime ÷ value delivered
    initiative_shares: dict[str, float] = field(default_factory=dict)  # each cost initiative's savings ÷ it


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
    range: RoiRange | None = None  # with the assumptions' ranges and the downtime interval


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
    toil, hours = _toil(con, period, scope, settings.hourly_rate.base)
    costs = _costs(con, period, scope, workbench.initiatives.initiatives, settings.currency)
    so_far = period.so_far()  # a period still going is valued over its part so far
    avoided, interval = _downtime_avoided(con, so_far, scope, baseline)
    by_initiative = {i.name: i.savings for i in costs.initiatives if i.savings is not None}
    inputs = RoiInputs(hours, costs.savings, avoided, so_far.days, scope.team is None, by_initiative)
    base = roi_at_base(inputs, settings)
    return Value(
        toil=toil,
        costs=costs,
        satisfaction=satisfaction(con, period, scope),
        saved=round(toil.value + costs.savings, 2),
        roi=Roi(
            currency=settings.currency,
            toil_value=toil.value,
            initiative_savings=costs.savings,
            downtime_avoided_minutes=None if avoided is None else round(avoided, 2),
            downtime_avoided_value=base.downtime_value,
            value_delivered=base.delivered,
            programme_cost=base.programme_cost,
            roi=base.roi,
            range=roi_range(inputs, settings, interval, base),
        ),
    )


@dataclass(frozen=True)
class RoiInputs:
    """What the ROI is computed from, besides the assumptions."""

    toil_hours: float
    savings: float
    downtime_avoided_minutes: float | None  # None: no baseline
    days: float  # the period's
    programme: bool  # the organisation's (a team has no programme cost)
    by_initiative: dict[str, float] = field(default_factory=dict)  # each cost initiative's savings


@dataclass(frozen=True)
class RoiFigures:
    toil_value: float
    downtime_value: float | None
    delivered: float
    programme_cost: float | None
    roi: float | None


def roi_at(
    inputs: RoiInputs,
    hourly_rate: float,
    downtime_cost_per_minute: float,
    programme_cost_per_month: float,
    downtime_avoided_minutes: float | None = None,
) -> RoiFigures:
    """The value delivered and ROI at these assumptions (``downtime_avoided_minutes``: instead of
    the measured figure), rounded as published: the one ROI formula."""
    minutes = inputs.downtime_avoided_minutes if downtime_avoided_minutes is None else downtime_avoided_minutes
    toil_value = round(inputs.toil_hours * hourly_rate, 2)
    downtime = None if minutes is None else round(minutes * downtime_cost_per_minute, 2)
    delivered = round(toil_value + inputs.savings + (downtime or 0.0), 2)
    programme = round(programme_cost_per_month * inputs.days / DAYS_PER_MONTH, 2) if inputs.programme else None
    roi = None if not programme else round((delivered - programme) / programme, 6)
    return RoiFigures(toil_value, downtime, delivered, programme, roi)


def roi_at_base(inputs: RoiInputs, settings: ValueConfig) -> RoiFigures:
    """:func:`roi_at` with every assumption at its base figure: the ROI a report states."""
    return roi_at(
        inputs,
        settings.hourly_rate.base,
        settings.downtime_cost_per_minute.base,
        settings.programme_cost_per_month.base,
    )


DOWNTIME_INTERVAL = "downtime_avoided_minutes"  # the statistical range, beside the assumptions


def roi_range(
    inputs: RoiInputs, settings: ValueConfig, interval: tuple[float, float] | None, base: RoiFigures
) -> RoiRange:
    """The ROI and value delivered over the assumptions' ranges and the downtime interval."""
    ends: dict[str, tuple[float, float, float]] = {
        name: (a.low, a.base, a.high)
        for name, a in (
            ("hourly_rate", settings.hourly_rate),
            ("downtime_cost_per_minute", settings.downtime_cost_per_minute),
            ("programme_cost_per_month", settings.programme_cost_per_month),
        )
    }
    minutes = inputs.downtime_avoided_minutes
    if minutes is not None and interval is not None:
        ends[DOWNTIME_INTERVAL] = (interval[0], minutes, interval[1])

    def at(chosen: dict[str, float]) -> RoiFigures:
        figures = {name: chosen.get(name, middle) for name, (_, middle, _) in ends.items()}
        return roi_at(
            inputs,
            figures["hourly_rate"],
            figures["downtime_cost_per_minute"],
            figures["programme_cost_per_month"],
            figures.get(DOWNTIME_INTERVAL),
        )

    corners = [
        at(dict(zip(ends, choice, strict=True)))
        for choice in itertools.product(*({low, high} for low, _, high in ends.values()))
    ]
    rois = [c.roi for c in corners if c.roi is not None]
    sensitivity = []
    for name, (low, _, high) in ends.items():
        if low == high:
            continue
        down, up = at({name: low}), at({name: high})
        sensitivity.append(
            Sensitivity(name, round(low, 4), round(high, 4), down.delivered, up.delivered, down.roi, up.roi)
        )
    sensitivity.sort(
        key=lambda s: (
            -abs((s.roi_high or 0.0) - (s.roi_low or 0.0)) if base.roi is not None else -abs(s.value_high - s.value_low)
        )
    )
    components = {"toil": base.toil_value, "initiatives": inputs.savings, "downtime": base.downtime_value or 0.0}
    positive = base.delivered > 0
    shares = {k: round(v / base.delivered, 6) for k, v in components.items()} if positive else {}
    initiative_shares = {k: round(v / base.delivered, 6) for k, v in inputs.by_initiative.items()} if positive else {}
    return RoiRange(
        low=min(rois) if rois else None,
        high=max(rois) if rois else None,
        value_low=min(c.delivered for c in corners),
        value_high=max(c.delivered for c in corners),
        downtime_avoided_low=None if interval is None else round(interval[0], 2),
        downtime_avoided_high=None if interval is None else round(interval[1], 2),
        positive=None if not rois else min(rois) > 0,
        sensitivity=sensitivity,
        shares=shares,
        initiative_shares=initiative_shares,
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


def _toil(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, rate: float) -> tuple[Toil, float]:
    """The period's toil removed, and its hours unrounded (what the ROI multiplies)."""
    rows = con.execute(
        f"""SELECT automation, count(*), {toil_hours_sql()} FROM automation_runs
            WHERE ran_at >= ? AND ran_at < ? AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)
            GROUP BY automation ORDER BY automation""",
        [period.start_utc, period.end_utc, scope.team, scope.team],
    ).fetchall()
    hours = sum(float(r[2]) for r in rows)
    toil = Toil(
        runs=sum(int(r[1]) for r in rows),
        hours_saved=round(hours, 4),
        value=round(hours * rate, 2),
        by_automation={r[0]: round(float(r[2]), 4) for r in rows},
    )
    return toil, hours


def _cost_between(
    con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, services: list[str], scope: Scope
) -> tuple[float, float, dict[str, float]]:
    """EffectiveCost and BilledCost allocated to [start, end) (by overlap), total and per service.

    A team's costs are the rows tagged ``team: <team>``, else those of the team's services.
    """
    return _costs_per_span(con, [("span", start, end)], services, scope).get("span", (0.0, 0.0, {}, {}))[:3]


def _costs_per_span(
    con: duckdb.DuckDBPyConnection, spans: list[tuple[str, datetime, datetime]], services: list[str], scope: Scope
) -> dict[str, tuple[float, float, dict[str, float], dict[str, float]]]:
    """:func:`_cost_between` for each (label, start, end) of ``spans``, in one query, and the
    effective cost per team: each FOCUS row is allocated to every span by the overlap of its
    charge period with it."""
    owned, owners = scope.catalogue_sql()[1]
    rows = con.execute(
        f"""
        WITH spans AS (
            SELECT unnest($labels::VARCHAR[]) AS label, unnest($starts::TIMESTAMP[]) AS lo,
                   unnest($ends::TIMESTAMP[]) AS hi
        ), rows AS (
            SELECT s.label, "ServiceName" AS service, "EffectiveCost" AS effective, "BilledCost" AS billed,
                   coalesce(nullif(trim(json_extract_string("Tags", '$.team')), ''),
                            $owners[list_position($owned, "ServiceName")]) AS owner,
                   CASE WHEN "ChargePeriodEnd" IS NULL OR "ChargePeriodEnd" <= "ChargePeriodStart"
                        THEN CAST("ChargePeriodStart" >= s.lo AND "ChargePeriodStart" < s.hi AS DOUBLE)
                        ELSE greatest(0, epoch(least("ChargePeriodEnd", s.hi) - greatest("ChargePeriodStart", s.lo)))
                             / epoch("ChargePeriodEnd" - "ChargePeriodStart")
                   END AS share
            FROM costs JOIN spans s
              ON "ChargePeriodStart" < s.hi AND coalesce("ChargePeriodEnd", "ChargePeriodStart") >= s.lo
        )
        SELECT label, service, owner, {exact_sum_sql("effective * share")}, {exact_sum_sql("billed * share")}
        FROM rows
        WHERE share > 0
          AND (len($services) = 0 OR list_contains($services, service))
          AND ($team IS NULL OR owner = $team)
        GROUP BY ALL""",
        {
            "labels": [s[0] for s in spans],
            "starts": [s[1] for s in spans],
            "ends": [s[2] for s in spans],
            "services": services,
            "team": scope.team,
            "owned": owned,
            "owners": owners,
        },
    ).fetchall()
    sums: dict[str, tuple[float, float, dict[str, float], dict[str, float]]] = {}
    for label, service, owner, effective, billed in rows:
        total, billed_total, by_service, by_team = sums.get(label, (0.0, 0.0, {}, {}))
        amount = float(effective or 0)
        by_service[service or "(no service)"] = by_service.get(service or "(no service)", 0.0) + amount
        by_team[owner or "(no team)"] = by_team.get(owner or "(no team)", 0.0) + amount
        sums[label] = (total + amount, billed_total + float(billed or 0), by_service, by_team)
    return {
        label: (total, billed, _cents(by_service), _cents(by_team))
        for label, (total, billed, by_service, by_team) in sums.items()
    }


def _cents(amounts: dict[str, float]) -> dict[str, float]:
    return {name: round(amount, 2) for name, amount in amounts.items()}


@dataclass(frozen=True)
class SpendPoint:
    """One trend period's cloud spend: EffectiveCost allocated to it, total, per service and per
    team (the row's ``team`` tag, else its service's team; "(no team)" when neither is known)."""

    period: str
    effective_cost: float
    by_service: dict[str, float] = field(default_factory=dict)
    by_team: dict[str, float] = field(default_factory=dict)


def spend_trend(con: duckdb.DuckDBPyConnection, periods: list[Period], scope: Scope) -> list[SpendPoint]:
    """The scope's cloud spend in each of ``periods`` (the summary's trend), as ``costs`` counts it."""
    if not periods:
        return []
    spans = [(p.label, p.start_utc, p.end_utc) for p in periods]
    found = _costs_per_span(con, spans, [], scope)
    points = []
    for p in periods:
        effective, _, by_service, by_team = found.get(p.label, (0.0, 0.0, {}, {}))
        points.append(
            SpendPoint(p.label, round(effective, 2), dict(sorted(by_service.items())), dict(sorted(by_team.items())))
        )
    return points


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
    effect_from, until = max(start_utc, period.start_utc), period.so_far().end_utc  # a period still going: so far
    days = max(0.0, (until - effect_from).total_seconds() / 86400)
    actual, _, _ = _cost_between(con, effect_from, until, initiative.services, scope) if days else (0.0, 0, {})
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
    con: duckdb.DuckDBPyConnection, period: Period | Window, scope: Scope, baseline: Window | None
) -> tuple[float | None, tuple[float, float] | None]:
    """The minutes avoided against the baseline rate, and their 95 % interval: the baseline's
    minutes per day from a percentile bootstrap over its days (each resample draws as many days
    as the baseline has, with replacement), times the period's days, less the period's minutes."""
    if baseline is None:
        return None, None
    actual = impact_minutes(con, period, scope)
    daily = daily_impact_minutes(con, baseline, scope)
    avoided = float(daily.sum()) / baseline.days * period.days - actual
    rng = np.random.default_rng(SEED)
    per_day = daily[rng.integers(0, daily.size, size=(RESAMPLES, daily.size), dtype=np.int32)].sum(axis=1)
    low, high = np.percentile(per_day / baseline.days, [2.5, 97.5])
    return avoided, (float(low) * period.days - actual, float(high) * period.days - actual)


def daily_impact_minutes(con: duckdb.DuckDBPyConnection, span: Window | Period, scope: Scope) -> np.ndarray:
    """:func:`impact_minutes` of ``span`` per day of it (24 h from its start; the last may be shorter),
    days without any included: what the downtime interval resamples."""
    from srelib.metrics.incidents import scoped_incidents

    days = max(1, math.ceil(span.days))
    scoped, params = scoped_incidents(scope, [span])
    impacted = "epoch(least(coalesce(resolved_at, ?::TIMESTAMP), ?::TIMESTAMP) - started_at) / 60.0"
    rows = con.execute(
        f"""SELECT floor(epoch(started_at - ?::TIMESTAMP) / 86400)::BIGINT AS day, {exact_sum_sql(impacted)}
            FROM ({scoped}) WHERE customer_impact GROUP BY day""",
        [span.start_utc, span.end_utc, span.end_utc, *params],
    ).fetchall()
    daily = np.zeros(days)
    for day, minutes in rows:
        daily[min(int(day), days - 1)] += float(minutes)
    return daily
