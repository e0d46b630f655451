"""Wins and risks, selected from a PeriodSummary by fixed rules (no number of their own).

A **win** is a change the summary can stand behind: a comparison whose verdict is
``improved`` (its confidence interval excludes no change: time to resolve, incidents, the DORA
keys, CSAT, NPS, developer experience against the baseline), an SLO back within budget after a breach
in the previous period, automation that saved time, an initiative that saved money, SLOs all
met. A **risk** is a frozen release policy, a breached or at-risk SLO, a page that would have
fired, a ``worsened`` comparison, a programme activity that lapsed, or incidents still open.
Each comes as plain text built from :mod:`srelib.present.format` values; templates escape it
like any data.

Order: the most important first (a win's weight is its kind's rank, then its size).
"""

from __future__ import annotations

from dataclasses import dataclass

from srelib.metrics.delivery import DeliveryComparison
from srelib.present import format as show
from srelib.present.activities import lapse_highlight
from srelib.present.policy import reason as policy_reason
from srelib.summary import PeriodSummary

NAMES = {"previous": "the previous period", "year_ago": "a year earlier", "baseline": "the pre-programme baseline"}


@dataclass(frozen=True)
class Highlight:
    kind: str  # e.g. "time_to_resolve", "slo_recovered", "automation", "savings", "policy"
    text: str
    weight: float


def wins(summary: PeriodSummary, limit: int = 5) -> list[Highlight]:
    found: list[Highlight] = []
    reliability = summary.reliability
    if reliability is not None:
        for key in ("baseline", "year_ago", "previous"):
            c = reliability.comparisons.get(key)
            if c is None or not c.covered or c.mttr.verdict != "improved":
                continue
            found.append(
                Highlight(
                    "time_to_resolve",
                    f"Median time to resolve improved from {show.minutes(c.mttr.median_before)} "
                    f"({NAMES[key]}) to {show.minutes(c.mttr.median_after)}.",
                    3.0 + (1.0 if key == "baseline" else 0.0),
                )
            )
            break  # the strongest comparison is enough
        baseline = reliability.comparisons.get("baseline")
        rate = baseline.incident_rate if baseline is not None else None
        if baseline is not None and rate is not None and rate.verdict == "improved":
            found.append(
                Highlight(
                    "fewer_incidents",
                    f"{summary.incidents.count} incidents against {show.count(baseline.incidents.other_scaled)} "
                    f"at the pre-programme rate ({show.ratio(-(baseline.incidents.change_ratio or 0))} fewer).",
                    2.5,
                )
            )
    previous = summary.previous.slos if summary.previous else {}
    for name, slo in sorted(summary.slos.items()):
        before = previous.get(name)
        if before is not None and before.status == "breached" and slo.status in ("met", "at_risk"):
            found.append(
                Highlight(
                    "slo_recovered",
                    f"{name} is back within its objective: {show.attainment(slo.attainment, slo.target)} "
                    f"against {show.target(slo.target)}.",
                    2.8,
                )
            )
    measured = [s for s in summary.slos.values() if s.status != "no_data"]
    if measured and all(s.status == "met" for s in measured):
        found.append(Highlight("slos_met", f"All {len(measured)} measured SLOs met their objectives.", 2.0))
    if summary.value is not None:
        toil = summary.value.toil
        if toil.hours_saved >= 1:
            money = f", worth {show.money(toil.value, summary.value.roi.currency)}" if toil.value else ""
            found.append(
                Highlight(
                    "automation",
                    f"Automation saved {toil.hours_saved:,.0f} hours of toil in {toil.runs:,} runs{money}.",
                    1.5 + min(toil.hours_saved / 100, 1.0),
                )
            )
        for saving in summary.value.costs.initiatives:
            if saving.savings and saving.savings > 0:
                found.append(
                    Highlight(
                        "savings",
                        f"{saving.title} saved {show.money(saving.savings, summary.value.costs.currency)} "
                        "against its baseline.",
                        1.8,
                    )
                )
    found += [Highlight(kind, text, 2.2) for kind, text in _against_baseline(summary, "improved")]
    return sorted(found, key=lambda h: -h.weight)[:limit]


def baseline_changes(summary: PeriodSummary, verdict: str) -> dict[str, list[str]]:
    """The DORA keys (``delivery``) and CSAT, NPS and developer experience (``satisfaction``) whose
    comparison with the pre-programme baseline has ``verdict`` (``improved`` and ``worsened``: the
    95 % interval excludes no change), each as a phrase ("CSAT 3.62 → 4.03 of 5")."""
    d = summary.delivery_compared
    delivery = [] if d is None else delivery_changes(d, verdict)
    satisfaction = []
    c = summary.satisfaction_compared
    if c is not None:
        if c.csat.verdict == verdict and c.csat.mean_before is not None and c.csat.mean_after is not None:
            satisfaction.append(f"CSAT {c.csat.mean_before:.2f} → {c.csat.mean_after:.2f} of 5")
        if c.nps.verdict == verdict and c.nps.nps_before is not None and c.nps.nps_after is not None:
            interval = (
                ""
                if c.nps.ci_low is None
                else f" (change {show.signed(c.nps.ci_low)} to {show.signed(c.nps.ci_high)} points, 95 % interval)"
            )
            satisfaction.append(f"NPS {show.signed(c.nps.nps_before)} → {show.signed(c.nps.nps_after)}{interval}")
        if c.devex.verdict == verdict and c.devex.mean_before is not None and c.devex.mean_after is not None:
            satisfaction.append(f"developer experience {c.devex.mean_before:.2f} → {c.devex.mean_after:.2f} of 5")
    return {"delivery": delivery, "satisfaction": satisfaction}


def delivery_changes(d: DeliveryComparison, verdict: str) -> list[str]:
    """The DORA keys whose comparison has ``verdict``, each as a phrase ("deployments a day ×3.6",
    "median lead time 1 d 5 h → 8 h 5 m")."""
    found = []
    if d.deployment_rate.verdict == verdict and d.deployment_rate.rate_ratio is not None:
        found.append(f"deployments a day ×{d.deployment_rate.rate_ratio:.1f}")
    for label, m in (("median lead time", d.lead_time), ("median failed deployment recovery time", d.recovery)):
        if m.verdict == verdict:
            found.append(f"{label} {show.minutes(m.median_before)} → {show.minutes(m.median_after)}")
    cfr = d.change_failure_rate
    if cfr is not None and cfr.verdict == verdict:
        found.append(f"change failure rate {show.ratio(cfr.rate_before, 1)} → {show.ratio(cfr.rate_after, 1)}")
    return found


def _against_baseline(summary: PeriodSummary, verdict: str) -> list[tuple[str, str]]:
    """One sentence for delivery and one for satisfaction from :func:`baseline_changes`."""
    said = "better" if verdict == "improved" else "worse"
    return [
        (kind, f"{kind.capitalize()} clearly {said} than the pre-programme baseline: {'; '.join(parts)}.")
        for kind, parts in baseline_changes(summary, verdict).items()
        if parts
    ]


def risks(summary: PeriodSummary, limit: int = 5) -> list[Highlight]:
    found: list[Highlight] = []
    for service, policy in sorted(summary.error_budget_policy.items()):
        if policy.state == "release_freeze":
            found.append(Highlight("policy", f"{service}: {policy_reason(policy)}.", 4.0))
    for name, slo in sorted(summary.slos.items()):
        if slo.status == "breached":
            found.append(
                Highlight(
                    "breached",
                    f"{name} missed its objective: {show.attainment(slo.attainment, slo.target)} "
                    f"against {show.target(slo.target)}.",
                    3.5,
                )
            )
        elif slo.status == "at_risk":
            found.append(
                Highlight("at_risk", f"{name} has {show.budget(slo.error_budget_remaining)} of its budget left.", 2.5)
            )
    for name, budget in sorted(summary.slo_budgets.items()):
        pages = [a for a in budget.alerts if a.severity == "page" and a.firing_at_end]
        if pages:
            found.append(Highlight("burning", f"{name} is burning its budget fast enough to page right now.", 3.8))
    if summary.reliability is not None:
        previous = summary.reliability.comparisons.get("previous")
        if previous is not None and previous.covered and previous.mttr.verdict == "worsened":
            found.append(
                Highlight(
                    "time_to_resolve",
                    f"Median time to resolve worsened from {show.minutes(previous.mttr.median_before)} "
                    f"to {show.minutes(previous.mttr.median_after)}.",
                    3.0,
                )
            )
    found += [Highlight(kind, text, 2.4) for kind, text in _against_baseline(summary, "worsened")]
    lapse = lapse_highlight(summary)
    if lapse:  # the programme losing momentum (strategy §9): an activity that ran has stopped
        found.append(Highlight("lapsed", lapse, 2.6))
    if summary.incidents.open:
        found.append(
            Highlight(
                "open",
                f"{summary.incidents.open} incident{'s' if summary.incidents.open != 1 else ''} "
                f"{'are' if summary.incidents.open != 1 else 'is'} still open.",
                1.0,
            )
        )
    ranked = sorted(found, key=lambda h: -h.weight)
    shown = ranked[:limit]
    lapsed = next((h for h in ranked if h.kind == "lapsed"), None)
    if lapsed is not None and lapsed not in shown and limit >= 3:
        # The programme's own momentum is never crowded out of a list of three or more by its
        # SLOs (strategy §9, "maintaining momentum"): it takes the last place.
        shown[-1] = lapsed
    return shown
