"""The error budget policy in words: one sentence per service, from the facts in the summary.

Used by the policy table, the highlights, the SLO document and the dashboards, and written into
``summary.json`` as ``error_budget_policy.<service>.reason`` (:func:`with_reasons`), so every
reader sees the same sentence, e.g. "releases frozen except P0, security: over the last 28d,
checkout-availability has 202 % of its budget spent; postmortem with a P0 action required for
INC-1494 (consumed 177 % of checkout-availability budget)".
"""

from __future__ import annotations

import dataclasses

from srelib.metrics.policy import PolicyState
from srelib.present import format as show
from srelib.summary import PeriodSummary


def reason(policy: PolicyState) -> str:
    """Why the service's releases are frozen or not, and which incidents need a postmortem."""
    if policy.state == "release_freeze":
        details = ", ".join(
            f"{slo} has {show.budget(spent)} of its budget spent" for slo, spent in policy.budgets_spent.items()
        )
        text = (
            f"releases frozen except {', '.join(policy.exceptions) or 'nothing'}: over the last "
            f"{policy.window}, {details}"
        )
    else:
        text = f"every SLO has error budget left over the last {policy.window}"
    if policy.postmortems_required:
        by_incident: dict[str, list[str]] = {}
        for share in policy.postmortems_required:
            by_incident.setdefault(share.incident_id, []).append(f"{show.budget(share.budget_share)} of {share.slo}")
        text += "; postmortem with a P0 action required for " + "; ".join(
            f"{incident} (consumed {', '.join(parts)} budget)" for incident, parts in by_incident.items()
        )
    return text


def with_reasons(summary: PeriodSummary) -> PeriodSummary:
    """``summary`` with each service's policy ``reason`` filled in, as ``summary.json`` publishes it."""
    worded = {s: dataclasses.replace(p, reason=reason(p)) for s, p in summary.error_budget_policy.items()}
    return summary.model_copy(update={"error_budget_policy": worded})
