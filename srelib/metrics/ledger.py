"""The error budget policy ledger: what the policy asked for in a period, and what followed
(docs/metrics.md, "Policy ledger").

From the data, per SLO, day by day (each SLO's daily burn-down: its budget left over its own
window at the end of each day in the org's time zone):

- ``at_risk``: the budget left fell below ``slo_at_risk_below`` (params/org.yaml, 25 %);
- ``exhausted``: it fell to ``freeze_when_remaining_below`` or under (params/error_budget_policy.yaml,
  0): the policy freezes releases;
- ``replenished``: an exhausted budget rose above the exhausted line (the freeze lifts);
- ``recovered``: it rose back above the at-risk line;
- ``incident``: one incident started in the period consumed more than
  ``single_incident_budget_share`` of a budget (the policy asks for a postmortem with a P0 action).

A state already crossed on the period's first day is recorded on that day with ``before``: it
began earlier. The decisions that followed come from the optional ``decisions`` file (date,
service, decision, by, note). An ``exhausted`` or ``incident`` event asks for a decision about its
service: the first one recorded on or after its day, up to the period end. A gap is such an event
without one within ``decision_due_days`` (params/error_budget_policy.yaml, 2): "budget exhausted
on 12 Nov; no decision recorded in 19 days".

Source: Google SRE Workbook, appendix B, "Example Error Budget Policy" (the policy and its
escalation); Nobl9 and Datadog SLO alerting history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from srelib.metrics.budget import SloBudget
from srelib.metrics.follow_up import has_table
from srelib.metrics.policy import PolicyState
from srelib.metrics.slo import SloResult
from srelib.period import Period

DECISION_KINDS = ("exhausted", "incident")  # the events that ask for a decision


@dataclass(frozen=True)
class PolicyEvent:
    day: str  # YYYY-MM-DD in the org time zone
    slo: str
    service: str
    kind: str  # at_risk | exhausted | replenished | recovered | incident
    remaining: float | None  # the budget left at the end of the day (incident: the share it consumed)
    before: bool = False  # the state held already when the period began
    incident_id: str | None = None


@dataclass(frozen=True)
class PolicyDecision:
    day: str
    service: str
    decision: str
    by: str | None
    note: str | None


@dataclass(frozen=True)
class PolicyGap:
    """An event that asked for a decision, and how long it waited for one."""

    day: str
    slo: str
    service: str
    kind: str  # exhausted | incident
    decided: str | None  # the day of the first decision for the service on or after ``day``
    days: int  # to the decision, or to the period end without one
    late: bool  # no decision within decision_due_days
    incident_id: str | None = None


@dataclass(frozen=True)
class PolicyLedger:
    events: list[PolicyEvent] = field(default_factory=list)
    decisions: list[PolicyDecision] = field(default_factory=list)  # the in-scope services' decisions in the period
    gaps: list[PolicyGap] = field(default_factory=list)  # every event that asked for a decision
    decision_due_days: int = 2


def crossings(
    slo: str, service: str, burn_down: Sequence[tuple[str, float | None]], at_risk_below: float, exhausted_at: float
) -> list[PolicyEvent]:
    """The days ``slo``'s budget left crossed the at-risk and exhausted lines (``burn_down``: day,
    remaining, in order); the first day's state counts as a crossing that began earlier (``before``)."""
    events = []
    level, first = 0, True  # level 0: healthy, 1: at risk, 2: exhausted
    for day, remaining in burn_down:
        if remaining is None:
            continue
        now = 2 if remaining <= exhausted_at else 1 if remaining < at_risk_below else 0
        kinds: list[str] = []
        if level == 0 and now >= 1:
            kinds.append("at_risk")
        if level < 2 == now:
            kinds.append("exhausted")
        if level == 2 and now == 1:
            kinds.append("replenished")
        if level >= 1 and now == 0:
            kinds.append("recovered")
        events += [PolicyEvent(day, slo, service, kind, remaining, before=first) for kind in kinds]
        level, first = now, False
    return events


def policy_ledger(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    slos: Mapping[str, SloResult],
    budgets: Mapping[str, SloBudget],
    policy: Mapping[str, PolicyState],
    *,
    at_risk_below: float,
    exhausted_at: float,
    decision_due_days: int,
) -> PolicyLedger:
    """The ledger of ``period`` for ``slos`` (in scope), from their burn-downs, the incidents that
    consumed more than the policy's share (``policy``: each service's state at the period end) and
    the ``decisions`` table."""
    events: list[PolicyEvent] = []
    for name in sorted(slos):
        budget = budgets.get(name)
        if budget is None:
            continue
        points = [(p.day, p.remaining) for p in budget.burn_down]
        events += crossings(name, slos[name].service, points, at_risk_below, exhausted_at)
    days = _incident_days(con, period, [s.incident_id for p in policy.values() for s in p.postmortems_required])
    for service, state in sorted(policy.items()):
        for share in state.postmortems_required:
            if share.slo in slos and share.incident_id in days:
                day = days[share.incident_id]
                events.append(
                    PolicyEvent(day, share.slo, service, "incident", share.budget_share, incident_id=share.incident_id)
                )
    events.sort(key=lambda e: (e.day, e.slo, e.kind))
    services = sorted({s.service for s in slos.values()})
    decisions = _decisions(con, period, services)
    end = period.local_days()[-1] + timedelta(days=1)
    gaps = []
    for e in events:
        if e.kind not in DECISION_KINDS:
            continue
        later = [d for d in decisions if d.service == e.service and d.day >= e.day]
        decided = later[0].day if later else None
        waited = (date.fromisoformat(decided or end.isoformat()) - date.fromisoformat(e.day)).days
        gaps.append(
            PolicyGap(
                day=e.day,
                slo=e.slo,
                service=e.service,
                kind=e.kind,
                decided=decided,
                days=waited,
                late=waited > decision_due_days,
                incident_id=e.incident_id,
            )
        )
    first = period.local_days()[0].isoformat()
    return PolicyLedger(
        events=events,
        decisions=[d for d in decisions if d.day >= first],
        gaps=gaps,
        decision_due_days=decision_due_days,
    )


def _incident_days(con: duckdb.DuckDBPyConnection, period: Period, incidents: list[str]) -> dict[str, str]:
    """The local start day of each of ``incidents`` that started in ``period``."""
    if not incidents:
        return {}
    rows = con.execute(
        """SELECT incident_id, CAST(timezone(?, timezone('UTC', started_at)) AS DATE) FROM incidents
           WHERE list_contains(?::VARCHAR[], incident_id) AND started_at >= ? AND started_at < ?""",
        [period.timezone, incidents, period.start_utc, period.end_utc],
    ).fetchall()
    return {incident: day.isoformat() for incident, day in rows}


def _decisions(con: duckdb.DuckDBPyConnection, period: Period, services: list[str]) -> list[PolicyDecision]:
    """The decisions of ``services`` recorded up to the period's last day, in order of day."""
    if not services or not has_table(con, "decisions"):
        return []
    rows = con.execute(
        """SELECT "date", service, decision, "by", note FROM decisions
           WHERE list_contains(?::VARCHAR[], service) AND "date" <= ?
           ORDER BY "date", service, decision""",
        [services, period.local_days()[-1]],
    ).fetchall()
    return [PolicyDecision(day.isoformat(), service, decision, by, note) for day, service, decision, by, note in rows]
