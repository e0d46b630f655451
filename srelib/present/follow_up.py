"""Post-incident follow-up and production readiness made readable: rows for tables, values for sentences.

View models over ``summary.follow_up`` and ``summary.readiness`` (docs/metrics.md, "Follow-up"
and "Readiness"), formatted by :mod:`srelib.present.format`. No HTML and no number the summary
does not hold; the report tables escape every cell.
"""

from __future__ import annotations

from typing import Any

from srelib.metrics.compare import RateComparison
from srelib.present import format as show
from srelib.summary import PeriodSummary

MATCHED_BY = {"cause": "same cause", "title": "same title", "service": "same service"}


def follow_up_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The follow-up headline: postmortems, action items, repeats."""
    f = summary.follow_up
    if f is None:
        return []
    p, a = f.postmortems, f.actions
    due = p.done + p.missing
    rows = [
        {
            "label": f"Postmortems written, of those due ({', '.join(f.postmortem_severities)} "
            "and incidents over the budget share)",
            "value": f"{p.done} of {due} ({show.ratio(p.completion)})" if due else "none due",
            "note": _postmortem_note(p.missing, p.pending),
        },
        {
            "label": "Action items open at the period end",
            "value": str(a.open),
            "note": f"{a.overdue} overdue"
            + (f", {a.open_without_due} without a due date" if a.open_without_due else ""),
        },
        {
            "label": "Action items closed in the period",
            "value": str(a.closed_in_period),
            "note": f"{a.closed_on_time} on time, {a.closed_late} late ({show.ratio(a.on_time_rate)} on time)"
            if a.closed_on_time + a.closed_late
            else "none had a due date"
            if a.closed_in_period
            else "",
        },
        {
            "label": f"Repeat incidents (same service, within {f.repeat_within_days} days)",
            "value": str(f.repeats),
            "note": f"{len(f.repeats_with_open_actions)} while the earlier incident's actions were still open",
        },
    ]
    if a.unlinked:
        rows.append(
            {
                "label": "Action items of incidents not in the data",
                "value": str(a.unlinked),
                "note": "counted by their own team; check the incident export",
            }
        )
    return rows


def _postmortem_note(missing: int, pending: int) -> str:
    parts = [f"{missing} missing"] if missing else []
    if pending:
        parts.append(f"{pending} not due yet")
    return ", ".join(parts)


def overdue_action_rows(summary: PeriodSummary, limit: int | None = None) -> list[dict[str, str]]:
    """Overdue action items, most overdue first."""
    if summary.follow_up is None:
        return []
    items = summary.follow_up.actions.overdue_items
    return [
        {
            "action": i.action,
            "key": i.action_id or show.MISSING,
            "incident": i.incident_id,
            "service": i.service or "not in the data",
            "owner": i.owner or "nobody",
            "due": i.due or show.MISSING,
            "overdue": _days(i.days_overdue),
        }
        for i in (items if limit is None else items[:limit])
    ]


def _days(days: int | None) -> str:
    if days is None:
        return show.MISSING
    return "since the period end" if days == 0 else f"{days} day{'s' if days != 1 else ''}"


def repeat_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.follow_up is None:
        return []
    return [
        {
            "incident": r.incident_id,
            "service": r.service,
            "severity": r.severity,
            "repeats": r.repeats,
            "matched": MATCHED_BY.get(r.matched_by, r.matched_by),
            "after": f"{r.days_after:.0f} days",
            "open": f"{r.open_actions} ({r.overdue_actions} overdue)",
        }
        for r in summary.follow_up.repeats_with_open_actions
    ]


def postmortem_policy_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Per service, what the error budget policy asks and is not done: postmortems missing, overdue
    actions of incidents of the policy's severities."""
    if summary.follow_up is None:
        return []
    return [
        {
            "service": service,
            "missing": ", ".join(s.postmortems_missing) or "none",
            "overdue": str(s.actions_overdue),
            "oldest": _days(s.oldest_overdue_days) if s.actions_overdue else show.MISSING,
            "status": "Actions overdue" if s.actions_overdue else "Postmortem missing",
            "status_key": "breached" if s.actions_overdue else "at_risk",
        }
        for service, s in sorted(summary.follow_up.by_service.items(), key=lambda kv: (-kv[1].actions_overdue, kv[0]))
    ]


def readiness_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """PRR coverage and launches with and without a review."""
    r = summary.readiness
    if r is None:
        return []
    rows = [
        {
            "label": f"Tier-{r.prr_tier} services with a production readiness review on record",
            "value": f"{r.prr_services} of {r.tier_services} ({show.ratio(r.prr_coverage)})"
            if r.tier_services
            else "no services of this tier",
            "note": ("without one: " + ", ".join(r.without_prr)) if r.without_prr else "",
        }
    ]
    for label, group in (("with a review before", r.reviewed), ("without a review", r.not_reviewed)):
        rows.append(
            {
                "label": f"Launches {label} (windows closed in the last {r.lookback_days} days)",
                "value": str(group.launches),
                "note": f"{group.incidents} incidents in their first {r.window_days} days: "
                f"{_per_launch(group.per_launch)} per launch"
                if group.launches
                else "",
            }
        )
    return rows


def _per_launch(value: float | None) -> str:
    return show.MISSING if value is None else f"{value:.2f}"


def launch_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The period's launches, with their reviews and incidents so far."""
    r = summary.readiness
    if r is None:
        return []
    return [
        {
            "launch": launch.title or launch.launch_id,
            "service": launch.service,
            "launched": launch.launched_at[:16].replace("T", " "),
            "review": ", ".join(k.replace("_", " ") for k in launch.reviews) or "none",
            "incidents": f"{launch.incidents}" + ("" if launch.window_closed else " so far"),
            "status": "Reviewed" if launch.reviewed else "Not reviewed",
            "status_key": "met" if launch.reviewed else "at_risk",
        }
        for launch in r.launches
    ]


def readiness_sentence_values(summary: PeriodSummary) -> dict[str, Any] | None:
    """What the narrative may say about readiness: PRR coverage and the launch comparison."""
    r = summary.readiness
    if r is None or (not r.tier_services and not (r.reviewed.launches or r.not_reviewed.launches)):
        return None
    return {
        "tier": r.prr_tier,
        "coverage": show.ratio(r.prr_coverage) if r.tier_services else None,
        "covered": r.prr_services,
        "services": r.tier_services,
        "without": r.without_prr,
        "window": r.window_days,
        "launches": _comparison(r.comparison, r.reviewed.per_launch, r.not_reviewed.per_launch)
        if r.comparison is not None and r.reviewed.launches and r.not_reviewed.launches
        else None,
        "reviewed": r.reviewed.launches,
        "not_reviewed": r.not_reviewed.launches,
    }


def _comparison(c: RateComparison, reviewed: float | None, not_reviewed: float | None) -> dict[str, Any]:
    interval = f"{c.ci_low:.2f}–{c.ci_high:.2f}" if c.ci_low is not None and c.ci_high is not None else None
    return {
        "verdict": c.verdict,  # improved: reviewed launches had clearly fewer incidents
        "reviewed": _per_launch(reviewed),
        "not_reviewed": _per_launch(not_reviewed),
        "ratio": None if c.rate_ratio is None else f"{c.rate_ratio:.2f}",
        "interval": interval,
        "incidents": c.count_before + c.count_after,
    }


def follow_up_sentence_values(summary: PeriodSummary) -> dict[str, Any] | None:
    """What the narrative may say about follow-up (None: nothing recorded for the scope)."""
    f = summary.follow_up
    if f is None or not (f.postmortems.required or f.actions.total or f.repeats_with_open_actions):
        return None
    p, a = f.postmortems, f.actions
    return {
        "due": p.done + p.missing,
        "done": p.done,
        "completion": show.ratio(p.completion),
        "missing": [i.incident_id for i in p.incidents if i.status == "missing"],
        "open": a.open,
        "overdue": a.overdue,
        "oldest": _oldest(a.overdue_items[0].days_overdue) if a.overdue_items else None,
        "closed": a.closed_in_period,
        "on_time": a.closed_on_time,
        "late": a.closed_late,
        "repeats": [
            {"incident": r.incident_id, "service": r.service, "after": r.repeats} for r in f.repeats_with_open_actions
        ],
    }


def _oldest(days: int | None) -> str:
    """The most overdue action's lateness, as a clause: "the oldest by 30 days"."""
    if not days:
        return "each due on the period's last day"
    return f"the oldest by {days} day{'s' if days != 1 else ''}"
