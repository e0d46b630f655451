"""View models: the summary's parts as rows of formatted text, for tables, tiles and documents.

Each function reads a PeriodSummary and returns plain rows (dicts of strings) formatted by
:mod:`srelib.present.format`; the notebook API (:mod:`srelib.present.report`) and the dashboards
turn them into HTML. No HTML here, and no number that the summary does not hold.
"""

from __future__ import annotations

from typing import Any

from srelib.metrics.compare import MeanComparison
from srelib.metrics.delivery import DeliveryComparison
from srelib.metrics.value import SpendPoint
from srelib.present import format as show
from srelib.present.narrative import LEDGER_EVENTS, thin_data
from srelib.present.policy import reason as policy_reason
from srelib.present.programme import programme_tile
from srelib.summary import NotableIncident, PeriodSummary

__all__ = [
    "SCORECARD",
    "VERDICTS",
    "adoption_rows",
    "alert_rows",
    "budget_rows",
    "case_columns",
    "case_delivery_columns",
    "case_rows",
    "comparison_rows",
    "delivery_rows",
    "engagement_rows",
    "incident_rows",
    "kpi_rows",
    "kpi_tiles",
    "mtbf_rows",
    "policy_rows",
    "prevention_rows",
    "satisfaction_rows",
    "scorecard_rows",
    "slo_document_fields",
    "slo_rows",
    "tool_rows",
    "value_rows",
    "worst_incidents",
]


def kpi_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The headline figures, this period against the previous one, as shown in the KPI table."""
    now, before = summary.incidents, summary.previous.incidents if summary.previous else None

    def pair(label: str, fmt: Any, get: Any) -> dict[str, str]:
        return {"label": label, "now": fmt(get(now)), "before": fmt(get(before)) if before else show.MISSING}

    def statuses(slos: dict[str, Any]) -> str:
        counts = {s: sum(1 for r in slos.values() if r.status == s) for s in show.STATUS_LABELS}
        return f"{counts['met']} / {counts['at_risk']} / {counts['breached']} / {counts['no_data']}"

    rows = [
        pair("Incidents", str, lambda s: s.count),
        pair("SEV1 and SEV2 incidents", str, lambda s: s.by_severity["SEV1"] + s.by_severity["SEV2"]),
        pair("Customer-impacting incidents", str, lambda s: s.customer_impacting),
        pair("Still open", str, lambda s: s.open),
        pair("Median time to detect", show.minutes, lambda s: s.mttd_minutes.median),
        pair("Median time to acknowledge", show.minutes, lambda s: s.mtta_minutes.median),
        pair("Median time to mitigate", show.minutes, lambda s: s.mttm_minutes.median),
        pair("Median time to resolve", show.minutes, lambda s: s.mttr_minutes.median),
        pair("90th percentile time to resolve", show.minutes, lambda s: s.mttr_minutes.p90),
    ]
    rows.append(
        {
            "label": "SLOs met / at risk / breached / no data",
            "now": statuses(summary.slos),
            "before": statuses(summary.previous.slos) if summary.previous else show.MISSING,
        }
    )
    return rows


def slo_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    order = {"breached": 0, "at_risk": 1, "no_data": 2, "met": 3}
    rows = []
    for name, r in sorted(summary.slos.items(), key=lambda item: (order[item[1].status], item[0])):
        rows.append(
            {
                "name": name,
                "service": r.service,
                "team": r.team or show.MISSING,
                "method": r.budgeting_method,
                "target": show.target(r.target),
                "attainment": show.attainment(r.attainment, r.target),
                "remaining": show.budget(r.error_budget_remaining),
                "status": show.STATUS_LABELS[r.status],
                "status_key": r.status,
                "thin": "thin" if name in summary.data_quality and summary.data_quality[name].flags else "",
            }
        )
    return rows


def correction_rows(summary: PeriodSummary, slo: str | None = None) -> list[dict[str, str]]:
    """What each correction took out of each SLO in the period (docs/metrics.md, "Corrections")."""
    return [
        {
            "slo": c.slo,
            "kind": c.kind.replace("_", " "),
            "reason": c.reason or show.MISSING,
            "when": _local_time(c.start[:16] + "+00:00") + (f", repeating ({c.rrule})" if c.rrule else ""),
            "windows": show.count(c.windows),
            "minutes": show.minutes(c.minutes),
            "events": show.count(c.events),
            "bad": show.count(c.bad_events),
        }
        for c in summary.corrections
        if c.slo in summary.slos and (slo is None or c.slo == slo)
    ]


def ledger_rows(summary: PeriodSummary, slo: str | None = None) -> list[dict[str, str]]:
    """The policy ledger's events in order of day, each with the decision that followed when it
    asked for one (exhausted, incident)."""
    ledger = summary.policy_ledger
    if ledger is None:
        return []
    gaps = {(g.day, g.slo, g.kind, g.incident_id): g for g in ledger.gaps}
    decisions: dict[tuple[str, str], Any] = {}
    for d in ledger.decisions:
        decisions.setdefault((d.day, d.service), d)  # the first of the day
    rows = []
    for e in ledger.events:
        if e.slo not in summary.slos or (slo is not None and e.slo != slo):
            continue
        what = LEDGER_EVENTS[e.kind] + (" (already when the period began)" if e.before else "")
        if e.incident_id:
            what = f"{e.incident_id}: {what}"
        gap = gaps.get((e.day, e.slo, e.kind, e.incident_id))
        decision, wait = "", ""
        if gap is not None:
            if gap.decided is None:
                decision = "none recorded"
            else:  # a decision follows its event, so it is among the period's
                taken = decisions[(gap.decided, gap.service)]
                decision = taken.decision + (f" ({taken.by})" if taken.by else "")
            wait = show.days(gap.days) + (" (late)" if gap.late else "")
        rows.append(
            {
                "day": e.day,
                "slo": e.slo,
                "event": what,
                "remaining": show.budget(e.remaining) if e.kind != "incident" else show.ratio(e.remaining),
                "decision": decision,
                "wait": wait,
            }
        )
    return rows


def decision_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    ledger = summary.policy_ledger
    if ledger is None:
        return []
    services = {s.service for s in summary.slos.values()}
    return [
        {"day": d.day, "service": d.service, "decision": d.decision, "by": d.by or show.MISSING, "note": d.note or ""}
        for d in ledger.decisions
        if d.service in services
    ]


def _data_behind(summary: PeriodSummary, slo: str) -> dict[str, str] | None:
    """The SLO document's line on the data behind its figures, and why they are thin if so."""
    q = summary.data_quality.get(slo)
    if q is None:
        return None
    result = summary.slos.get(slo)
    if q.bucket_seconds is None:
        said = "No SLI bucket in the period."
    else:
        said = (
            f"{show.count(q.buckets_with_data)} of {show.count(q.buckets_expected)} buckets of "
            f"{show.minutes(q.bucket_seconds / 60)} have data ({show.ratio(q.coverage, 1)} coverage); "
            + (
                "no gaps"
                if not q.gap_count
                else f"{q.gap_count} gap{'s' if q.gap_count != 1 else ''}, {show.minutes(q.gap_minutes)} in all"
            )
            + f"; {show.count(q.measured)} {'events' if q.measured == q.events else 'slices with traffic'} measured."
        )
    thin = thin_data(q, result.target if result else None) if q.flags else ""
    return {"said": said, "thin": thin}


def rollup_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The SLO roll-ups as a tree read top down: the organisation, each team followed by its
    services (docs/metrics.md, "Roll-ups"); the composite always beside its breakdown."""
    by_key = {(r.level, r.name): r for r in summary.rollups}
    ordered = [r for r in summary.rollups if r.level == "organisation"]
    for team in (r for r in summary.rollups if r.level == "team"):
        ordered += [team, *(by_key[("service", s)] for s in team.children if ("service", s) in by_key)]
    # services of no team, or shown without their team (a dashboard narrowed to one service)
    ordered += [r for r in summary.rollups if r.level == "service" and ("team", r.parent) not in by_key]
    levels = ["organisation", "team", "service"]
    top = min((levels.index(r.level) for r in ordered), default=0)  # the tree is indented from its root
    rows = []
    for r in ordered:
        rows.append(
            {
                "scope": "\u2003" * (levels.index(r.level) - top) + r.name,
                "level": r.level,
                "slos": str(len(r.slos)),
                "breakdown": f"{r.met} / {r.at_risk} / {r.breached} / {r.no_data}",
                "lowest": show.MISSING
                if r.lowest_budget_slo is None
                else f"{show.budget(r.lowest_budget)} ({r.lowest_budget_slo})",
                "composite": show.ratio(r.composite, 2),
            }
        )
    return rows


FLAG_LABELS = {"no_data": "no data", "low_coverage": "low coverage", "gaps": "gaps", "low_traffic": "low traffic"}


def data_quality_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each SLO's data behind its figures (docs/metrics.md, "Data quality"), flagged ones first."""
    rows = []
    for name, q in sorted(summary.data_quality.items(), key=lambda item: (not item[1].flags, item[0])):
        longest = max(q.gaps, key=lambda g: g.minutes, default=None)
        rows.append(
            {
                "name": name,
                "bucket": show.MISSING if q.bucket_seconds is None else show.minutes(q.bucket_seconds / 60),
                "coverage": show.ratio(q.coverage, 1),
                "buckets": f"{show.count(q.buckets_with_data)} of {show.count(q.buckets_expected)}",
                "gaps": "none"
                if not q.gap_count
                else f"{q.gap_count}, {show.minutes(q.gap_minutes)} in all"
                + ("" if longest is None else f" (longest from {_local_time(longest.start)})"),
                "events": show.count(q.measured),
                "threshold": show.MISSING if q.low_traffic_below is None else show.count(q.low_traffic_below),
                "corrections": "none" if not q.corrections else f"{q.corrections}, {show.minutes(q.corrected_minutes)}",
                "flags": ", ".join(FLAG_LABELS[f] for f in q.flags) or "none",
            }
        )
    return rows


def worst_incidents(summary: PeriodSummary, limit: int) -> list[NotableIncident]:
    """The ``limit`` worst notable incidents: SEV1 before SEV2, open ones first, then the
    longest to resolve (ties: in order of start)."""
    ranked = sorted(
        summary.notable_incidents,
        key=lambda i: (i.severity, not i.open, -(i.minutes_to_resolve or 0), i.started_at, i.incident_id),
    )
    return ranked[:limit]


def incident_rows(summary: PeriodSummary, limit: int | None = None) -> list[dict[str, str]]:
    chosen = summary.notable_incidents if limit is None else worst_incidents(summary, limit)
    return [
        {
            "id": i.incident_id,
            "title": i.title or show.MISSING,
            "service": i.service,
            "team": i.team or show.MISSING,
            "severity": i.severity,
            "started": _local_time(i.started_at),
            "resolve": "still open" if i.open else show.minutes(i.minutes_to_resolve),
            "impact": "yes" if i.customer_impact else "no" if i.customer_impact is False else show.MISSING,
            "postmortem": show.safe_link(i.postmortem_url),
        }
        for i in chosen
    ]


VERDICTS = {
    "improved": "improved",
    "worsened": "worsened",
    "no_clear_change": "no clear change",
    "too_few": "too few to compare",
}


def comparison_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """This period against the previous one, a year earlier and the baseline."""
    if summary.reliability is None:
        return []
    names = {"previous": "Previous period", "year_ago": "A year earlier", "baseline": "Baseline, before the programme"}
    rows = []
    for key, c in summary.reliability.comparisons.items():
        span = (
            c.title
            if key != "baseline" or summary.baseline is None
            else show.span_title(c.start, c.end, summary.timezone)
        )
        if not c.covered:
            rows.append(
                {
                    "span": f"{names[key]} ({span})",
                    "incidents": "no data",
                    "impacting": "",
                    "mttr": "",
                    "verdict": "",
                    "n": "",
                }
            )
            continue
        rows.append(
            {
                "span": f"{names[key]} ({span})",
                "incidents": f"{show.count(c.incidents.other_scaled)} → {summary.incidents.count}",
                "impacting": f"{show.count(c.customer_impacting.other_scaled)} → "
                f"{summary.incidents.customer_impacting}",
                "mttr": f"{show.minutes(c.mttr.median_before)} → {show.minutes(c.mttr.median_after)}",
                "verdict": VERDICTS[c.mttr.verdict],
                "n": f"{c.mttr.n_before} / {c.mttr.n_after}",
            }
        )
    return rows


def budget_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each SLO over its own window at the period end, with the alerts that fired in the period."""
    rows = []
    order = {"breached": 0, "at_risk": 1, "no_data": 2, "met": 3}
    for name, b in sorted(summary.slo_budgets.items(), key=lambda kv: (order[kv[1].rolling.status], kv[0])):
        r = b.rolling
        fired = [
            f"{a.severity} {a.long_window}/{a.short_window}: {show.minutes(a.fired_minutes)}"
            for a in b.alerts
            if a.fired_minutes
        ]
        rows.append(
            {
                "name": name,
                "window": b.window,
                "attainment": show.attainment(r.attainment, r.target),
                "remaining": show.budget(r.error_budget_remaining),
                "burn": show.rate(b.burn_rates.get("1h")),
                "alerts": "; ".join(fired) if fired else "none",
                "status": show.STATUS_LABELS[r.status],
                "status_key": r.status,
            }
        )
    return rows


def policy_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    return [
        {
            "service": service,
            "state": "Releases frozen" if p.state == "release_freeze" else "Normal",
            "status_key": "breached" if p.state == "release_freeze" else "met",
            "status": "Releases frozen" if p.state == "release_freeze" else "Normal",
            "reason": policy_reason(p),
        }
        for service, p in sorted(summary.error_budget_policy.items(), key=lambda kv: (kv[1].state == "normal", kv[0]))
    ]


def mtbf_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.reliability is None:
        return []
    return [
        {
            "service": service,
            "failures": str(m.failures),
            "downtime": show.minutes(m.downtime_minutes),
            "mtbf": show.minutes(m.mtbf_minutes),
        }
        for service, m in sorted(summary.reliability.mtbf.items(), key=lambda kv: (kv[1].mtbf_minutes or 0, kv[0]))
    ]


def prevention_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    r = summary.reliability
    if r is None or r.prevention is None:
        return []
    p = r.prevention
    return [
        {
            "label": "Incidents caught before customers were affected",
            "value": f"{p.caught_before_customer_impact} of {p.incidents - p.impact_unknown} "
            f"({show.ratio(p.caught_before_customer_impact_ratio)})",
        },
        {
            "label": "Incidents that stayed minor (SEV4–SEV5)",
            "value": f"{p.low_severity} ({show.ratio(p.low_severity_ratio)})",
        },
        {
            "label": "Failed deployments stopped before an incident",
            "value": f"{p.failed_deployments_without_incident} of {p.failed_deployments}",
        },
        {
            "label": "Repeat incidents (same service and cause within 30 days)",
            "value": f"{len(r.repeat_incidents)} ({show.ratio(r.repeat_ratio)})",
        },
    ]


def _share(share: float | None) -> str:
    return "" if share is None else show.ratio(share)


def value_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The value delivered and ROI, every component shown (docs/metrics.md, "Value")."""
    v = summary.value
    if v is None:
        return []
    cur = v.roi.currency
    shares = v.roi.range.shares if v.roi.range else {}
    by_initiative = v.roi.range.initiative_shares if v.roi.range else {}
    rows = [
        {
            "component": "Toil removed by automation",
            "measure": f"{v.toil.hours_saved:,.0f} hours in {v.toil.runs:,} run{'' if v.toil.runs == 1 else 's'}",
            "value": show.money(v.toil.value, cur),
            "share": _share(shares.get("toil")),
        }
    ]
    for saving in v.costs.initiatives:
        measure = (
            f"{show.money(saving.expected_cost, cur)} expected at the baseline rate, "
            f"{show.money(saving.actual_cost, cur)} spent, over {saving.days_in_effect:.0f} days"
            if saving.savings is not None
            else "no cost data before the initiative started"
        )
        rows.append(
            {
                "component": f"Cost savings: {saving.title}",
                "measure": measure,
                "value": show.money(saving.savings, cur),
                "share": _share(by_initiative.get(saving.name)),
            }
        )
    if v.roi.downtime_avoided_minutes is not None:
        rows.append(
            {
                "component": "Customer-impacting downtime avoided",
                "measure": f"{show.minutes(v.roi.downtime_avoided_minutes)} fewer than at the baseline rate",
                "value": show.money(v.roi.downtime_avoided_value, cur),
                "share": _share(shares.get("downtime")),
            }
        )
    rows.append({"component": "Value delivered", "measure": "", "value": show.money(v.roi.value_delivered, cur)})
    rows.append({"component": "Programme cost", "measure": "", "value": show.money(v.roi.programme_cost, cur)})
    rows.append(
        {
            "component": "Return on investment",
            "measure": "(value delivered − programme cost) ÷ programme cost",
            "value": show.ratio(v.roi.roi),
        }
    )
    for row in rows:
        row.setdefault("share", "")
    spread = v.roi.range
    if spread is not None and v.roi.roi is not None and spread.low != spread.high:
        rows.append(
            {
                "component": "Return on investment, range",
                "measure": "lowest to highest over the assumptions' ranges and the downtime interval",
                "value": roi_span(spread.low, spread.high),
                "share": "",
            }
        )
    return rows


def _signed_minutes(value: float) -> str:
    """A change of minutes: "−20 h 55 m", "+47 m", "0 s"."""
    if value == 0:
        return show.minutes(0.0)
    return ("−" if value < 0 else "+") + show.minutes(abs(value))


def delivery_comparison_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The period's four keys against the baseline, each with its interval and verdict (a win only
    when the interval excludes no change)."""
    return four_keys_rows(summary.delivery_compared) if summary.delivery_compared else []


def four_keys_rows(d: DeliveryComparison) -> list[dict[str, str]]:
    """The DORA four keys of two spans (``before``, ``after``), the change with its 95 % interval
    and the verdict: the QBR against the baseline, a case study before and after its initiative."""
    rate = d.deployment_rate
    rows = [
        {
            "key": "Deployments",
            "before": f"{rate.count_before:,} in {rate.days_before:g} days",
            "after": f"{rate.count_after:,} in {rate.days_after:g} days",
            "change": ""
            if rate.rate_ratio is None
            else f"×{rate.rate_ratio:.2f} a day"
            + ("" if rate.ci_low is None else f" (95 % interval {rate.ci_low:.2f}–{rate.ci_high:.2f})"),
            "verdict": VERDICTS[rate.verdict],
        }
    ]
    for label, c in (("Median lead time", d.lead_time), ("Median failed deployment recovery time", d.recovery)):
        rows.append(
            {
                "key": label,
                "before": f"{show.minutes(c.median_before)} ({c.n_before:,})",
                "after": f"{show.minutes(c.median_after)} ({c.n_after:,})",
                "change": ""
                if c.median_difference is None
                else _signed_minutes(c.median_difference)
                + (
                    ""
                    if c.ci_low is None or c.ci_high is None
                    else f" (95 % interval {_signed_minutes(c.ci_low)} to {_signed_minutes(c.ci_high)})"
                ),
                "verdict": VERDICTS[c.verdict],
            }
        )
    cfr = d.change_failure_rate
    if cfr is not None:
        rows.append(
            {
                "key": "Change failure rate",
                "before": f"{show.ratio(cfr.rate_before, 1)} ({cfr.events_before:,} of {cfr.n_before:,})",
                "after": f"{show.ratio(cfr.rate_after, 1)} ({cfr.events_after:,} of {cfr.n_after:,})",
                "change": ""
                if cfr.difference is None
                else _points(cfr.difference)
                + ("" if cfr.ci_low is None else f" (95 % interval {_points(cfr.ci_low)} to {_points(cfr.ci_high)})"),
                "verdict": VERDICTS[cfr.verdict],
            }
        )
    return rows


def _points(share: float | None) -> str:
    """A change of a percentage, in percentage points: "−1.8 pts", "+0.4 pts"."""
    return show.MISSING if share is None else f"{show.signed(100 * share, 1)} pts"


def spend_rows(summary: PeriodSummary, by: str = "service") -> list[dict[str, str]]:
    """This period's cloud spend per service (``by="team"``: per team), costliest first, beside the
    period before (the trend's last two points), and the total."""
    if not summary.spend or summary.value is None:
        return []
    cur = summary.value.roi.currency

    def parts(point: SpendPoint) -> dict[str, float]:
        return point.by_team if by == "team" else point.by_service

    now = parts(summary.spend[-1])
    before = parts(summary.spend[-2]) if len(summary.spend) > 1 else {}
    names = sorted(set(now) | set(before), key=lambda name: (-now.get(name, 0.0), -before.get(name, 0.0), name))
    rows = [
        {
            by: name,
            "now": show.money(now[name], cur) if name in now else show.MISSING,
            "before": show.money(before[name], cur) if name in before else show.MISSING,
        }
        for name in names
    ]
    totals = {
        by: "All teams" if by == "team" else "All services",
        "now": show.money(summary.spend[-1].effective_cost, cur),
        "before": show.money(summary.spend[-2].effective_cost, cur) if len(summary.spend) > 1 else show.MISSING,
    }
    return [*rows, totals] if rows else []


def roi_span(low: float | None, high: float | None) -> str:
    """A ROI range in words: 50 % to 402 %."""
    return f"{show.ratio(low)} to {show.ratio(high)}"


ASSUMPTION_LABELS = {
    "hourly_rate": "Cost of an engineer hour",
    "downtime_cost_per_minute": "Cost of a minute of downtime",
    "programme_cost_per_month": "Programme cost per month",
    "downtime_avoided_minutes": "Downtime avoided (95 % interval)",
}


def sensitivity_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each assumption with a range, and the downtime interval: the ROI (else the value delivered)
    at its low and its high figure, the others at base; widest swing first."""
    v = summary.value
    if v is None or v.roi.range is None:
        return []
    cur = v.roi.currency

    def figure(name: str, amount: float) -> str:
        return show.minutes(amount) if name == "downtime_avoided_minutes" else show.money(amount, cur)

    with_roi = v.roi.roi is not None
    return [
        {
            "assumption": ASSUMPTION_LABELS.get(s.name, s.name),
            "low": figure(s.name, s.low),
            "high": figure(s.name, s.high),
            "at_low": show.ratio(s.roi_low) if with_roi else show.money(s.value_low, cur),
            "at_high": show.ratio(s.roi_high) if with_roi else show.money(s.value_high, cur),
        }
        for s in v.roi.range.sensitivity
    ]


def delivery_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    d = summary.delivery
    if d is None:
        return []
    return [
        {
            "key": "Deployment frequency",
            "value": f"{d.deployments:,} ({d.deployments_per_day:.1f} a day)",
            "band": d.deployment_frequency_band or show.MISSING,
        },
        {
            "key": "Lead time for changes (median)",
            "value": show.minutes(d.lead_time_minutes.median),
            "band": d.lead_time_band or show.MISSING,
        },
        {
            "key": "Change failure rate",
            "value": show.ratio(d.change_failure_rate, 1),
            "band": d.change_failure_band or show.MISSING,
        },
        {
            "key": "Failed deployment recovery time (median)",
            "value": show.minutes(d.failed_deployment_recovery_minutes.median),
            "band": d.recovery_band or show.MISSING,
        },
    ]


def satisfaction_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """CSAT, NPS and developer experience in the period, and against the baseline: the baseline's
    figure, the change with its 95 % interval and the verdict (a gain only when it excludes no change)."""
    v = summary.value
    if v is None:
        return []
    s = v.satisfaction
    c = summary.satisfaction_compared
    rows = [
        {
            "label": "Customer satisfaction (CSAT, 1–5)",
            "value": show.MISSING
            if s.csat.mean is None
            else f"{s.csat.mean:.2f} ({show.ratio(s.csat_satisfied_ratio)} satisfied)",
            "n": str(s.csat.n),
            **_mean_change(c.csat if c else None),
        },
        {
            "label": "Net Promoter Score (−100 to 100)",
            "value": show.MISSING
            if s.nps is None
            else show.signed(s.nps)
            + ("" if s.nps_low is None else f" (95 % interval {show.signed(s.nps_low)} to {show.signed(s.nps_high)})"),
            "n": str(s.nps_responses),
            **(
                {}
                if c is None
                else {
                    "baseline": f"{show.signed(c.nps.nps_before)} ({c.nps.responses_before:,})",
                    "change": ""
                    if c.nps.difference is None
                    else show.signed(c.nps.difference)
                    + (
                        ""
                        if c.nps.ci_low is None
                        else f" (95 % interval {show.signed(c.nps.ci_low)} to {show.signed(c.nps.ci_high)})"
                    ),
                    "verdict": VERDICTS[c.nps.verdict],
                }
            ),
        },
        {
            "label": "Developer experience (1–5)",
            "value": show.MISSING if s.devex.mean is None else f"{s.devex.mean:.2f}",
            "n": str(s.devex.n),
            **_mean_change(c.devex if c else None),
        },
    ]
    return [{"baseline": "", "change": "", "verdict": "", **row} for row in rows]


def _mean_change(c: MeanComparison | None) -> dict[str, str]:
    """A mean score's baseline (with its responses), change with its interval, and verdict."""
    if c is None:
        return {}
    return {
        "baseline": show.MISSING if c.mean_before is None else f"{c.mean_before:.2f} ({c.n_before:,})",
        "change": ""
        if c.difference is None
        else show.signed(c.difference, 2)
        + ("" if c.ci_low is None else f" (95 % interval {show.signed(c.ci_low, 2)} to {show.signed(c.ci_high, 2)})"),
        "verdict": VERDICTS[c.verdict],
    }


def engagement_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each awareness and impact KPI against its target."""
    if summary.engagement is None:
        return []
    rows = []
    for name, kpi in summary.engagement.kpis.items():
        shown = show.ratio if kpi.unit == "ratio" else show.count
        met = {True: ("met", "Met"), False: ("breached", "Below target"), None: ("no_data", "No target")}[kpi.met]
        if kpi.value is None:
            met = ("no_data", "No data")
        rows.append(
            {
                "kpi": show.KPI_LABELS.get(name, name),
                "value": shown(kpi.value),
                "target": shown(kpi.target),
                "status": met[1],
                "status_key": met[0],
            }
        )
    return rows


def adoption_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.engagement is None:
        return []
    return [
        {"practice": practice.replace("_", " "), "rate": show.ratio(rate)}
        for practice, rate in sorted(summary.engagement.adoption.items())
    ]


def tool_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.engagement is None or summary.value is None:
        return []
    hours = summary.value.toil.by_automation
    return [
        {"automation": name, "runs": f"{runs:,}", "hours": f"{hours.get(name, 0):,.1f}"}
        for name, runs in sorted(summary.engagement.tool_usage.items(), key=lambda kv: -kv[1])
    ]


def kpi_tiles(summary: PeriodSummary) -> list[dict[str, str]]:
    """The executive summary's tiles: each a value, a label, a note and an optional status colour."""
    inc = summary.incidents
    previous = summary.previous
    statuses = [s.status for s in summary.slos.values()]
    measured = [s for s in summary.slos.values() if s.error_budget_remaining is not None]
    lowest = min(measured, key=lambda s: s.error_budget_remaining or 0.0) if measured else None
    tiles = [
        {
            "label": "Incidents",
            "value": str(inc.count),
            "note": f"{previous.incidents.count} in {previous.title}" if previous else "",
            "status": "",
        },
        {
            "label": "Median time to resolve",
            "value": show.minutes(inc.mttr_minutes.median),
            "note": f"over {inc.mttr_minutes.n} resolved incidents",
            "status": "",
        },
        {
            "label": "SLOs met / at risk / breached",
            "value": f"{statuses.count('met')} / {statuses.count('at_risk')} / {statuses.count('breached')}",
            "note": f"{statuses.count('no_data')} without data" if "no_data" in statuses else "",
            "status": "breached" if "breached" in statuses else "at_risk" if "at_risk" in statuses else "met",
        },
        {
            "label": "Lowest error budget left",
            "value": show.budget(lowest.error_budget_remaining) if lowest else show.MISSING,
            "note": next((n for n, s in summary.slos.items() if s is lowest), ""),
            "status": lowest.status if lowest else "",
        },
    ]
    if summary.value is not None:
        v = summary.value
        tiles.append(
            {
                "label": "Saved: toil and cloud cost",
                "value": show.money(v.saved, v.roi.currency),
                "note": f"{v.toil.hours_saved:,.0f} h of toil automated",
                "status": "",
            }
        )
        if summary.team is None:  # the programme's cost is not split across teams
            tiles.append(
                {
                    "label": "Return on investment",
                    "value": show.ratio(v.roi.roi),
                    "note": f"value {show.money(v.roi.value_delivered, v.roi.currency)}"
                    + (
                        f"; range {roi_span(v.roi.range.low, v.roi.range.high)}"
                        if v.roi.range is not None and v.roi.roi is not None and v.roi.range.low != v.roi.range.high
                        else ""
                    ),
                    "status": "",
                }
            )
    tile = programme_tile(summary)  # the organisation's programme against its plan
    if tile is not None:
        tiles.append(tile)
    if summary.delivery is not None and summary.delivery.deployments:
        tiles.append(
            {
                "label": "Deployments",
                "value": f"{summary.delivery.deployments:,}",
                "note": f"DORA band: {summary.delivery.deployment_frequency_band or show.MISSING}",
                "status": "",
            }
        )
    return tiles


SCORECARD = (  # figure, label, format, whether lower is better
    ("incidents", "Incidents", "count", True),
    ("customer_impacting", "Customer-impacting incidents", "count", True),
    ("median_mttr_minutes", "Median time to resolve", "minutes", True),
    ("slos_met_ratio", "SLOs met (of those with data)", "ratio", False),
    ("deployments", "Deployments", "count", False),
    ("change_failure_rate", "Change failure rate", "ratio1", True),
    ("median_lead_time_minutes", "Median lead time for changes", "minutes", True),
    ("adoption_rate", "SRE practices adopted", "ratio", False),
)


def scorecard_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The team's figures next to the median of all teams."""
    if summary.team is None or summary.team not in summary.team_figures:
        return []
    mine = summary.team_figures[summary.team]
    median = summary.peer_median
    formats = {
        "count": show.count,
        "minutes": show.minutes,
        "ratio": show.ratio,
        "ratio1": lambda v: show.ratio(v, 1),
    }
    rows = []
    for key, label, fmt, lower_is_better in SCORECARD:
        value, middle = getattr(mine, key), median.get(key)
        if value is None or middle is None or value == middle:
            position = "at the median" if value is not None and value == middle else ""
        else:
            better = value < middle if lower_is_better else value > middle
            position = "better than the median" if better else "worse than the median"
        rows.append(
            {"figure": label, "team": formats[fmt](value), "median": formats[fmt](middle), "position": position}
        )
    return rows


Column = tuple[str, str, bool]  # a table's column: the row's key, its heading, whether it is numeric


def case_columns(summary: PeriodSummary, initiative: str) -> list[Column]:
    """The columns of :func:`case_rows`: the measure, before, after, sample sizes, the verdict."""
    effect = summary.initiatives.get(initiative)
    return [
        ("measure", "Measure", False),
        ("before", f"{effect.days_before:.0f} days before" if effect else "Before", True),
        ("after", f"Latest {effect.days_after:.0f} days" if effect else "After", True),
        ("n", "Sample sizes", True),
        ("verdict", "Change", False),
    ]


def case_delivery_columns(summary: PeriodSummary, initiative: str) -> list[Column]:
    """The columns of the initiative's four keys (:func:`four_keys_rows` of its ``delivery``)."""
    effect = summary.initiatives.get(initiative)
    d = effect.delivery if effect else None
    return [
        ("key", "DORA key", False),
        ("before", d.baseline[:1].upper() + d.baseline[1:] if d else "Before", True),
        ("after", f"Latest {effect.days_after:.0f} days" if effect else "After", True),
        ("change", "Change", True),
        ("verdict", "Verdict", False),
    ]


def case_rows(summary: PeriodSummary, initiative: str) -> list[dict[str, str]]:
    """An initiative's before/after figures, each with both sample sizes and its verdict."""
    effect = summary.initiatives.get(initiative)
    if effect is None or not effect.started:
        return []
    cur = summary.value.roi.currency if summary.value else ""
    rows = []
    if effect.mttr is not None:
        c = effect.mttr
        rows.append(
            {
                "measure": "Median time to resolve",
                "before": show.minutes(c.median_before),
                "after": show.minutes(c.median_after),
                "n": f"{c.n_before} / {c.n_after} incidents",
                "verdict": VERDICTS[c.verdict],
            }
        )
    for label, r in (
        ("Incidents a day", effect.incident_rate),
        ("Customer-impacting incidents a day", effect.impact_rate),
    ):
        if r is not None:
            rows.append(
                {
                    "measure": label,
                    "before": f"{r.count_before / r.days_before:.2f}",
                    "after": f"{r.count_after / r.days_after:.2f}" if r.days_after else show.MISSING,
                    "n": f"{r.count_before} / {r.count_after} incidents",
                    "verdict": VERDICTS[r.verdict],
                }
            )
    if effect.daily_cost is not None:
        c = effect.daily_cost
        rows.append(
            {
                "measure": "Cloud cost on the median day"
                + (f" ({', '.join(effect.services)})" if effect.services else ""),
                "before": show.money(c.median_before, cur),
                "after": show.money(c.median_after, cur),
                "n": f"{c.n_before} / {c.n_after} days",
                "verdict": VERDICTS[c.verdict],
            }
        )
    if effect.toil_hours_per_day_after is not None:
        rows.append(
            {
                "measure": "Toil automated away, hours a day",
                "before": f"{effect.toil_hours_per_day_before:.1f}",
                "after": f"{effect.toil_hours_per_day_after:.1f}",
                "n": "",
                "verdict": "",
            }
        )
    return rows


def slo_document_fields(summary: PeriodSummary, slo: str) -> dict[str, Any] | None:
    """Every field of the SLO document, formatted (None when the SLO is not in the summary)."""
    spec, result, budget = summary.slo_specs.get(slo), summary.slos.get(slo), summary.slo_budgets.get(slo)
    if spec is None or result is None:
        return None
    queries = [
        (label, q)
        for label, q in (("good", spec.good_query), ("bad", spec.bad_query), ("total", spec.total_query))
        if q
    ]
    method = {
        "Occurrences": "good events ÷ all events",
        "Timeslices": f"time slices of {spec.time_slice_window} with at least "
        f"{show.target(spec.time_slice_target or 0)} good events ÷ slices with traffic",
        "RatioTimeslices": f"the mean of the {spec.time_slice_window} slices' good ÷ all events",
    }[spec.budgeting_method]
    window = f"{'rolling' if spec.rolling else 'calendar'} {spec.window}"
    budget_minutes = result.window_budget_minutes
    policy = summary.error_budget_policy.get(spec.service)
    rolling = budget.rolling if budget else None
    return {
        "data": _data_behind(summary, slo),
        "name": slo,
        "display_name": spec.display_name,
        "description": spec.description,
        "status": spec.status,
        "owner": spec.owner or show.MISSING,
        "approvers": ", ".join(spec.approvers) or "not recorded in params/slo_documents.yaml",
        "reviewed": spec.reviewed or show.MISSING,
        "next_review": (spec.next_review or show.MISSING)
        + (f" (overdue by {show.days(spec.review_overdue_days)})" if spec.review_overdue_days is not None else ""),
        "review_overdue": None if spec.review_overdue_days is None else show.days(spec.review_overdue_days),
        "review_due": spec.next_review,
        "source": spec.source,
        "service": spec.service,
        "service_description": spec.service_description or "",
        "tier": spec.tier,
        "team": spec.team or show.MISSING,
        "sli": f"{spec.indicator_kind} indicator, {method}",
        "queries": queries,
        "objective": f"{show.target(spec.target)} over a {window} window",
        "rationale": spec.rationale or "Not recorded yet: add it to params/slo_documents.yaml.",
        "budget": (
            f"{show.target(1 - spec.target)} of events may fail over the {window} window"
            + (f": {show.minutes(budget_minutes)} of full outage." if budget_minutes else ".")
            if spec.target < 1
            else "A 100 % objective leaves no error budget: any failure breaches it."
        ),
        "period": summary.title,
        "window": spec.window,
        "attainment": show.attainment(result.attainment, result.target),
        "remaining": show.budget(result.error_budget_remaining),
        "status_key": result.status,
        "status_label": show.STATUS_LABELS[result.status],
        "window_attainment": show.attainment(rolling.attainment, rolling.target) if rolling else show.MISSING,
        "window_remaining": show.budget(rolling.error_budget_remaining) if rolling else show.MISSING,
        "window_status_key": rolling.status if rolling else "no_data",
        "window_status_label": show.STATUS_LABELS[rolling.status if rolling else "no_data"],
        "policy": policy_reason(policy) if policy else "no policy applies.",
        "caveats": spec.caveats,
    }


def _local_time(iso: str) -> str:
    """ "2026-10-06T23:14+00:00" → "2026-10-06 23:14 UTC" (other offsets stay as written)."""
    text = iso.replace("T", " ")
    return text[:-6] + " UTC" if text.endswith("+00:00") else text


def alert_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each SLO's multiwindow burn-rate alerts: the burn rates at the period end and whether,
    when and for how long each alert would have fired in the period."""
    rows = []
    for name, budget in sorted(summary.slo_budgets.items()):
        for a in budget.alerts:
            rows.append(
                {
                    "slo": name,
                    "alert": f"{a.severity}: {a.long_window} and {a.short_window} above {a.factor:g}×",
                    "long": show.rate(a.burn_rate_long),
                    "short": show.rate(a.burn_rate_short),
                    "fired": show.minutes(a.fired_minutes) if a.fired_minutes else "never",
                    "first": _local_time(a.first_fired) if a.first_fired else show.MISSING,
                    "now": "firing" if a.firing_at_end else "quiet",
                }
            )
    return rows
