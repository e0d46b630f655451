"""Before and after an initiative (``params/initiatives.yaml``): the numbers behind a case study.

For each initiative, two spans (org time zone): *before* is the ``baseline_days`` before its
``start``; *after* is the ``baseline_days`` that end at the period end, or from the start when
the initiative is younger than that (the effect as it stands now, not while it ramped up).
Over the initiative's services (all when it names none) and the summary's team:

- time to resolve: :func:`~srelib.metrics.compare.compare` of the incidents' durations;
- incident rate and customer-impacting incident rate: :func:`~srelib.metrics.compare.compare_rates`;
- daily cloud cost (FOCUS ``EffectiveCost`` allocated to days): compare of the days' costs;
- toil hours saved per day by automation runs (automation initiatives);
- the DORA four keys over the initiative's services: :func:`~srelib.metrics.delivery.compare_delivery`
  (deployments a day, lead time, failed deployment recovery time, change failure rate).

An initiative that starts after the period end has no *after* yet (``started`` false).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from srelib.config import Initiative
from srelib.ingest.sql import exact_sum_sql
from srelib.metrics.compare import Comparison, RateComparison, compare, compare_rates
from srelib.metrics.delivery import DeliveryComparison, compare_delivery
from srelib.metrics.incidents import minutes_to_resolve_sql
from srelib.metrics.scope import Scope
from srelib.metrics.value import toil_hours
from srelib.period import Period, Window


@dataclass(frozen=True)
class InitiativeEffect:
    name: str
    title: str
    kind: str
    start: str
    services: list[str]
    description: str | None
    owner: str | None
    started: bool
    before_start: str
    after_start: str
    after_end: str
    days_before: float
    days_after: float
    mttr: Comparison | None = None
    incident_rate: RateComparison | None = None
    impact_rate: RateComparison | None = None
    daily_cost: Comparison | None = None
    toil_hours_per_day_before: float | None = None
    toil_hours_per_day_after: float | None = None
    delivery: DeliveryComparison | None = None  # the four keys, before against after


def initiative_effects(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, initiatives: list[Initiative]
) -> dict[str, InitiativeEffect]:
    return {i.name: _effect(con, period, scope, i) for i in initiatives}


def _effect(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, initiative: Initiative) -> InitiativeEffect:
    tz = period.start.tzinfo
    start = datetime.combine(initiative.start, datetime.min.time(), tz).astimezone(UTC).replace(tzinfo=None)
    before = start - timedelta(days=initiative.baseline_days)
    after_end = period.end_utc
    after_start = max(start, after_end - timedelta(days=initiative.baseline_days))
    started = after_end > start
    days_before = (start - before).total_seconds() / 86400
    days_after = max(0.0, (after_end - after_start).total_seconds() / 86400)
    effect = InitiativeEffect(
        name=initiative.name,
        title=initiative.title or initiative.name,
        kind=initiative.kind,
        start=initiative.start.isoformat(),
        services=list(initiative.services),
        description=initiative.description,
        owner=initiative.owner,
        started=started,
        before_start=before.isoformat() + "Z",
        after_start=after_start.isoformat() + "Z",
        after_end=after_end.isoformat() + "Z",
        days_before=round(days_before, 4),
        days_after=round(days_after, 4),
    )
    if not started:
        return effect
    services = list(initiative.services)
    spans = {"before": (before, start), "after": (after_start, after_end)}
    durations: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    impacting: dict[str, int] = {}
    catalogue, catalogue_params = scope.catalogue_sql()
    for key, (lo, hi) in spans.items():
        rows = con.execute(
            f"""SELECT {minutes_to_resolve_sql("i")}, i.customer_impact
                FROM incidents i LEFT JOIN {catalogue} c ON c.service = i.service
                WHERE i.started_at >= ? AND i.started_at < ?
                  AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], i.service))
                  AND (?::VARCHAR IS NULL OR coalesce(i.team, c.team) = ?::VARCHAR)""",
            [*catalogue_params, lo, hi, services, services, scope.team, scope.team],
        ).fetchall()
        durations[key] = [r[0] for r in rows if r[0] is not None]
        counts[key] = len(rows)
        impacting[key] = sum(1 for r in rows if r[1])
    costs = {key: _daily_costs(con, lo, hi, services) for key, (lo, hi) in spans.items()}
    toil = {key: toil_hours(con, lo, hi, scope) for key, (lo, hi) in spans.items()}
    return dataclasses.replace(
        effect,
        mttr=compare(durations["before"], durations["after"]),
        incident_rate=compare_rates(counts["before"], days_before, counts["after"], days_after),
        impact_rate=compare_rates(impacting["before"], days_before, impacting["after"], days_after),
        daily_cost=compare(costs["before"], costs["after"]) if costs["before"] and costs["after"] else None,
        toil_hours_per_day_before=round(toil["before"] / days_before, 4),
        toil_hours_per_day_after=round(toil["after"] / days_after, 4),
        delivery=compare_delivery(
            con,
            Window(f"{initiative.baseline_days} days before {effect.start}", before, start),
            Window(f"latest {days_after:g} days", after_start, after_end),
            scope,
            services,
        ),
    )


def _daily_costs(con: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime, services: list[str]) -> list[float]:
    """EffectiveCost per UTC day of [lo, hi) over ``services`` (rows allocated to their start day)."""
    rows = con.execute(
        f"""SELECT CAST("ChargePeriodStart" AS DATE) AS day, {exact_sum_sql('"EffectiveCost"')} FROM costs
           WHERE "ChargePeriodStart" >= ? AND "ChargePeriodStart" < ?
             AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], "ServiceName"))
           GROUP BY day ORDER BY day""",
        [lo, hi, services, services],
    ).fetchall()
    return [float(r[1]) for r in rows]
