"""SLOs rolled up from SLO to service, team and organisation (docs/metrics.md, "Roll-ups").

Each level has: how many of its SLOs are met, at risk, breached or without data; the SLO with
the least error budget left; and a composite attainment, never shown alone (the breakdown
stands beside it):

    composite = Σ wᵢ · (attainmentᵢ ÷ targetᵢ) ÷ Σ wᵢ

over the level's SLOs with data, where wᵢ is the SLO's ``weight`` (params/slo_documents.yaml,
default 1). 1.0 means every SLO exactly on its target; above 1 they beat it on the whole, below
1 at least one falls short. Normalising by the target lets a 99 % SLO and a 99.95 % SLO sit in
one figure; the weights say which matter more. Without an SLO with data there is none.

Sources: Nobl9 composite SLOs (weighted objectives); Google SRE Workbook, "Implementing SLOs"
(dependencies and aggregating SLOs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from srelib.metrics.slo import SloResult

LEVELS = ("organisation", "team", "service")


def composite_attainment(slos: Iterable[tuple[float | None, float, float]]) -> float | None:
    """Σ w · (attainment ÷ target) ÷ Σ w over ``(attainment, target, weight)`` with an attainment;
    None when none has one."""
    measured = [(a, t, w) for a, t, w in slos if a is not None and t > 0]
    weights = sum(w for _, _, w in measured)
    if not measured or weights <= 0:
        return None
    return sum(w * a / t for a, t, w in measured) / weights


@dataclass(frozen=True)
class Rollup:
    level: str  # organisation | team | service
    name: str
    parent: str | None  # the team of a service, the organisation of a team
    slos: list[str]
    met: int
    at_risk: int
    breached: int
    no_data: int
    composite: float | None  # see the module: shown with the breakdown beside it, never alone
    weight: float  # Σ weights of the SLOs with data
    lowest_budget_slo: str | None  # the SLO with the least error budget left (ties: by name)
    lowest_budget: float | None
    children: list[str] = field(default_factory=list)  # the teams of the organisation, the services of a team


def rollups(
    results: Mapping[str, SloResult], weights: Mapping[str, float], organisation: str, team: str | None = None
) -> list[Rollup]:
    """The roll-ups of ``results`` (one period's SLOs in scope): the organisation (unless a
    ``team``'s scope), each team, each service, in that order and by name within a level. An SLO
    whose service has no team counts for its service and the organisation only; a team's scope
    has its own roll-up and its services'."""
    by_team: dict[str, list[str]] = {}
    by_service: dict[str, list[str]] = {}
    services_of: dict[str, set[str]] = {}
    for name, r in sorted(results.items()):
        if team is not None and r.team != team:
            continue
        by_service.setdefault(r.service, []).append(name)
        if r.team is not None:
            by_team.setdefault(r.team, []).append(name)
            services_of.setdefault(r.team, set()).add(r.service)
    teams = sorted(by_team)
    levels: list[Rollup] = []
    if team is None:
        levels.append(_rollup("organisation", organisation, None, sorted(results), results, weights, teams))
    for t in teams:
        levels.append(_rollup("team", t, organisation, by_team[t], results, weights, sorted(services_of[t])))
    for service, names in sorted(by_service.items()):
        levels.append(_rollup("service", service, results[names[0]].team, names, results, weights, names))
    return levels


def _rollup(
    level: str,
    name: str,
    parent: str | None,
    names: Sequence[str],
    results: Mapping[str, SloResult],
    weights: Mapping[str, float],
    children: list[str],
) -> Rollup:
    chosen = [(n, results[n]) for n in names]
    statuses = [r.status for _, r in chosen]
    budgets = sorted((r.error_budget_remaining, n) for n, r in chosen if r.error_budget_remaining is not None)
    composite = composite_attainment((r.attainment, r.target, weights.get(n, 1.0)) for n, r in chosen)
    return Rollup(
        level=level,
        name=name,
        parent=parent,
        slos=list(names),
        met=statuses.count("met"),
        at_risk=statuses.count("at_risk"),
        breached=statuses.count("breached"),
        no_data=statuses.count("no_data"),
        composite=None if composite is None else round(composite, 6),
        weight=round(sum(weights.get(n, 1.0) for n, r in chosen if r.attainment is not None), 6),
        lowest_budget_slo=budgets[0][1] if budgets else None,
        lowest_budget=budgets[0][0] if budgets else None,
        children=children,
    )
