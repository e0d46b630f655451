"""The error budget policy: each service's state at the period end (docs/metrics.md, "SLOs").

After the SRE Workbook's example error budget policy (appendix B): a service whose SLO has spent
its trailing ``window`` budget (four weeks by default; remaining ≤ ``freeze_when_remaining_below``)
has its releases frozen except the listed exceptions; an incident that alone consumed more than
``single_incident_budget_share`` of a budget over that window (bad events while the incident ran ÷
the budget's allowed bad events, (1 − target) × events in the window) requires a postmortem with
a P0 action.

Facts only: the policy in words is the present layer's (``srelib.present.policy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from srelib.config import ErrorBudgetPolicy
from srelib.ingest import rollups
from srelib.ingest.specs import parse_duration
from srelib.metrics.scope import Scope
from srelib.metrics.slo import (
    SloDefinition,
    error_budget,
    grid_or_buckets,
    sli_source,
    slo_definitions,
    slo_results,
)
from srelib.period import Period, Window


@dataclass(frozen=True)
class IncidentBudgetShare:
    incident_id: str
    slo: str
    budget_share: float  # bad events while the incident ran ÷ the SLO's allowed bad events over the window


@dataclass(frozen=True)
class PolicyState:
    """A service's error budget policy state at the period end, and the facts behind it."""

    state: str  # normal | release_freeze
    window: str  # the trailing window the policy looks at, e.g. "28d"
    exceptions: list[str]  # what may still be released while frozen (empty when not frozen)
    slos: dict[str, float | None] = field(default_factory=dict)  # budget remaining over the window, per SLO
    budgets_spent: dict[str, float] = field(default_factory=dict)  # the SLOs that froze releases: 1 − remaining
    postmortems_required: list[IncidentBudgetShare] = field(default_factory=list)  # largest share first


def error_budget_policy(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, policy: ErrorBudgetPolicy
) -> dict[str, PolicyState]:
    """Each in-scope service's :class:`PolicyState` at the period end."""
    definitions = slo_definitions(con, scope)
    if not definitions:
        return {}
    window = Window(policy.window, period.end_utc - parse_duration(policy.window), period.end_utc)
    results = slo_results(con, [window], scope, names=[d.name for d in definitions])[window.label]
    over: dict[str, list[IncidentBudgetShare]] = {}  # per SLO, the incidents over the share
    for share in _incident_shares(con, definitions, window):
        if share.budget_share > policy.single_incident_budget_share:
            over.setdefault(share.slo, []).append(share)
    by_service: dict[str, list[SloDefinition]] = {}
    for d in definitions:
        by_service.setdefault(d.service, []).append(d)
    services: dict[str, PolicyState] = {}
    for service, slos in sorted(by_service.items()):
        remaining = {d.name: results[d.name].error_budget_remaining for d in slos}
        spent = {
            n: round(1 - r, 6)
            for n, r in remaining.items()
            if r is not None and r <= policy.freeze_when_remaining_below
        }
        required = sorted(
            (s for name in remaining for s in over.get(name, [])), key=lambda s: (-s.budget_share, s.incident_id)
        )
        services[service] = PolicyState(
            state="release_freeze" if spent else "normal",
            window=policy.window,
            exceptions=list(policy.freeze_exceptions) if spent else [],
            slos={n: None if r is None else round(r, 6) for n, r in remaining.items()},
            budgets_spent=spent,
            postmortems_required=required,
        )
    return services


def _incident_shares(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[SloDefinition], window: Window
) -> list[IncidentBudgetShare]:
    """For each incident started in the window, the share of each of its service's SLO budgets it consumed."""
    budgeted = {d.name: d for d in definitions if d.target < 1}
    if not budgeted:
        return []
    names = list(budgeted)
    source = sli_source(con)
    grid = rollups.available(con)
    events = dict(
        con.execute(
            f"""SELECT slo, sum(total) FROM {grid_or_buckets(con, window.start_utc, window.end_utc)} AS sli
               WHERE slo IN (SELECT unnest(?::VARCHAR[])) AND "timestamp" >= ? AND "timestamp" < ?
               GROUP BY slo""",
            [names, window.start_utc, window.end_utc],
        ).fetchall()
    )
    spans = """
        SELECT i.incident_id, d.name AS slo, i.started_at AS lo,
               least(coalesce(i.resolved_at, ?::TIMESTAMP), ?::TIMESTAMP) AS hi
        FROM incidents i JOIN slos d ON d.service = i.service AND d.name IN (SELECT unnest(?::VARCHAR[]))
        WHERE i.started_at >= ? AND i.started_at < ?"""
    params = [window.end_utc, window.end_utc, names, window.start_utc, window.end_utc]
    if grid:
        # The whole 5-minute blocks of each span from the grid, the minutes before the first and
        # after the last from the buckets: both found by their block, an equality join (a range
        # join of the spans with the grid compares every block of the window with every span).
        step = f"INTERVAL {rollups.GRID_SECONDS} SECOND"
        bad = f"""
            WITH spans AS ({spans}), cut AS (
                SELECT *, time_bucket({step}, lo) AS first_block, time_bucket({step}, hi) AS last_block,
                       CASE WHEN lo = time_bucket({step}, lo) THEN lo ELSE time_bucket({step}, lo) + {step} END AS whole
                FROM spans WHERE hi > lo
            ), edges AS (
                SELECT incident_id, slo, first_block AS block, lo, least(hi, whole) AS hi FROM cut WHERE lo < whole
                UNION ALL
                SELECT incident_id, slo, last_block, greatest(lo, last_block), hi FROM cut
                WHERE hi > last_block AND last_block >= whole
            )
            SELECT c.incident_id, c.slo, g.total - g.good AS bad
            FROM (SELECT incident_id, slo, unnest(generate_series(whole, last_block - {step}, {step})) AS block
                  FROM cut WHERE whole < last_block) c
            JOIN (SELECT * FROM {rollups.GRID} WHERE "timestamp" >= ? AND "timestamp" < ?) g
              ON g.slo = c.slo AND g."timestamp" = c.block
            UNION ALL
            SELECT e.incident_id, e.slo, b.total - b.good FROM edges e
            JOIN (SELECT *, time_bucket({step}, "timestamp") AS block FROM {source} AS s
                  WHERE "timestamp" >= ? AND "timestamp" < ?) b
              ON b.slo = e.slo AND b.block = e.block AND b."timestamp" >= e.lo AND b."timestamp" < e.hi"""
        params += [window.start_utc, window.end_utc] * 2
    else:
        bad = f"""
            SELECT c.incident_id, c.slo, s.total - s.good AS bad FROM ({spans}) c
            JOIN {source} AS s ON s.slo = c.slo AND s."timestamp" >= c.lo AND s."timestamp" < c.hi"""
    rows = con.execute(f"SELECT incident_id, slo, sum(bad) FROM ({bad}) GROUP BY ALL ORDER BY ALL", params).fetchall()
    shares = []
    for incident_id, slo, bad_events in rows:
        allowed = error_budget(budgeted[slo].target, float(events.get(slo) or 0))
        if allowed > 0:
            shares.append(IncidentBudgetShare(incident_id, slo, round(float(bad_events) / allowed, 6)))
    return shares
