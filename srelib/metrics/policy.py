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
from srelib.ingest.specs import parse_duration
from srelib.metrics.scope import Scope
from srelib.metrics.slo import SloDefinition, error_budget, sli_source, slo_definitions, slo_results
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
    shares = _incident_shares(con, definitions, window)
    services: dict[str, PolicyState] = {}
    for service in sorted({d.service for d in definitions}):
        slos = [d for d in definitions if d.service == service]
        remaining = {d.name: results[d.name].error_budget_remaining for d in slos}
        spent = {
            n: round(1 - r, 6)
            for n, r in remaining.items()
            if r is not None and r <= policy.freeze_when_remaining_below
        }
        required = sorted(
            (s for s in shares if s.slo in remaining and s.budget_share > policy.single_incident_budget_share),
            key=lambda s: (-s.budget_share, s.incident_id),
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
    events = dict(
        con.execute(
            f"""SELECT slo, sum(total) FROM {source} AS sli
               WHERE slo IN (SELECT unnest(?::VARCHAR[])) AND "timestamp" >= ? AND "timestamp" < ?
               GROUP BY slo""",
            [names, window.start_utc, window.end_utc],
        ).fetchall()
    )
    rows = con.execute(
        f"""
        SELECT i.incident_id, s.slo, sum(s.total - s.good) AS bad
        FROM incidents i
        JOIN slos d ON d.service = i.service AND d.name IN (SELECT unnest(?::VARCHAR[]))
        JOIN {source} AS s ON s.slo = d.name
                  AND s."timestamp" >= i.started_at
                  AND s."timestamp" < least(coalesce(i.resolved_at, ?::TIMESTAMP), ?::TIMESTAMP)
        WHERE i.started_at >= ? AND i.started_at < ?
        GROUP BY ALL
        ORDER BY ALL""",
        [names, window.end_utc, window.end_utc, window.start_utc, window.end_utc],
    ).fetchall()
    shares = []
    for incident_id, slo, bad in rows:
        allowed = error_budget(budgeted[slo].target, float(events.get(slo) or 0))
        if allowed > 0:
            shares.append(IncidentBudgetShare(incident_id, slo, round(float(bad) / allowed, 6)))
    return shares
