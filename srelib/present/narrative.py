"""Key messages from a PeriodSummary, in plain language (Jinja2 → Markdown).

The template (``templates/narrative/<report>.md.j2``) holds the wording; this module hands
it values already computed and formatted, every data value escaped for the output format.
Empty periods and missing values read naturally ("no incidents this month").
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from srelib.metrics.compare import Comparison
from srelib.metrics.data_quality import SloDataQuality, low_traffic_threshold
from srelib.present import activities as activity_words
from srelib.present import format as show
from srelib.present import highlights
from srelib.present.follow_up import follow_up_sentence_values, readiness_sentence_values
from srelib.resources import templates_dir
from srelib.summary import PeriodSummary

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value: Any) -> str:
    """Data as one line of text: line breaks and control characters (a terminal's escape sequences
    among them) become spaces, so a value can neither start a Markdown block nor drive a terminal."""
    return _CONTROLS.sub(" ", str(value))


def escape_markdown(value: Any) -> str:
    """Data shown literally in Markdown: no emphasis, links, HTML, maths or new blocks from its characters."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(one_line(value), quote=False))


@cache
def _environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=False,  # Markdown, not HTML: values are escaped by the `v` filter
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["join_and"] = show.join
    return env


def context(summary: PeriodSummary) -> dict[str, Any]:
    """Everything the narrative template may say, computed and formatted."""
    incidents = summary.incidents
    previous = summary.previous
    prev_count = previous.incidents.count if previous else None
    change = None
    comparisons = summary.reliability.comparisons if summary.reliability else {}
    if previous is not None:
        diff = incidents.count - prev_count  # type: ignore[operator]
        change = {
            "diff": abs(diff),
            "direction": "more" if diff > 0 else "fewer" if diff < 0 else "same",
            "title": previous.title,
            "count": prev_count,
            "pace": None,
        }
        if summary.partial and "previous" in comparisons:  # a count so far against a whole period's
            change["pace"] = f"{comparisons['previous'].incidents.other_scaled:.1f}"
    severities = [f"{n} {sev}" for sev, n in incidents.by_severity.items() if n and sev in ("SEV1", "SEV2")]
    mttr_now = incidents.mttr_minutes.median
    mttr = None
    if mttr_now is not None:
        mttr = {"median": show.minutes(mttr_now), "n": incidents.mttr_minutes.n, "against": None}
        versus = comparisons.get("previous")
        if versus is not None and versus.covered and versus.mttr.n_before:
            mttr["against"] = _comparison(versus.mttr, versus.title)
    baseline = comparisons.get("baseline")
    since = None
    if baseline is not None and baseline.covered and baseline.mttr.verdict in ("improved", "worsened"):
        since = {
            "label": show.span_title(baseline.start, baseline.end, summary.timezone),
            "mttr": _comparison(baseline.mttr, baseline.title),
            "rate": None  # a count is called fewer or more only when the rate test is clear
            if baseline.incidents.change_ratio is None
            or baseline.incident_rate is None
            or baseline.incident_rate.verdict not in ("improved", "worsened")
            else {
                "percent": f"{abs(100 * baseline.incidents.change_ratio):.0f} %",
                "direction": "fewer" if baseline.incidents.change < 0 else "more",
                "expected": f"{baseline.incidents.other_scaled:.0f}",
            },
        }
    by_status: dict[str, list[dict[str, str]]] = {s: [] for s in show.STATUS_LABELS}
    for name, slo in summary.slos.items():
        by_status[slo.status].append(
            {
                "name": name,
                "attainment": show.attainment(slo.attainment, slo.target),
                "target": show.target(slo.target),
                "remaining": show.budget(slo.error_budget_remaining),
            }
        )
    return {
        "period": summary.title,
        "period_kind": summary.kind,
        "scope": f"team {summary.team}" if summary.team else summary.org,
        "team": summary.team,
        "incidents": {
            "count": incidents.count,
            "open": incidents.open,
            "customer_impacting": incidents.customer_impacting,
            "serious": severities,
            "change": change,
        },
        "mttd": show.minutes(incidents.mttd_minutes.median) if incidents.mttd_minutes.n else None,
        "mtta": show.minutes(incidents.mtta_minutes.median) if incidents.mtta_minutes.n else None,
        "mttr": mttr,
        "since_programme": since,
        "slos": {"total": len(summary.slos), **by_status},
        "overdue_reviews": overdue_reviews(summary),
        "corrections": corrections(summary),
        "data_quality": data_quality(summary),
        "policy_gaps": policy_gaps(summary),
        "decision_due": show.days(summary.policy_ledger.decision_due_days) if summary.policy_ledger else None,
        "value": _value(summary),
        "delivery": _delivery(summary),
        "satisfaction": _satisfaction(summary),
        "engagement": _engagement(summary),
        "activities": _activities(summary),
        "follow_up": follow_up_sentence_values(summary),
        "readiness": readiness_sentence_values(summary),
        "wins": [h.text for h in highlights.wins(summary, limit=3)],
        "risks": [h.text for h in highlights.risks(summary, limit=3)],
    }


def corrections(summary: PeriodSummary, slo: str | None = None) -> dict[str, Any] | None:
    """What the SLO corrections took out of the period (of ``slo``, or of every SLO in scope), or None."""
    applied = [c for c in summary.corrections if slo is None or c.slo == slo]
    if not applied:
        return None
    kinds = sorted({c.kind.replace("_", " ") for c in applied})
    # A correction of a service has the same windows for each of its SLOs: its minutes count once.
    minutes = {(c.start, c.end, c.rrule, c.service, c.reason, c.kind): c.minutes for c in applied}
    return {
        "count": len(minutes),
        "slos": sorted({c.slo for c in applied}),
        "minutes": show.minutes(sum(minutes.values())),
        "events": show.count(sum(c.events for c in applied)),
        "no_events": not any(c.events for c in applied),  # a window when nothing was measured (a paused pipeline)
        "kinds": kinds,
        "reasons": sorted({c.reason for c in applied if c.reason}),
    }


def data_quality(summary: PeriodSummary, slo: str | None = None) -> list[dict[str, Any]]:
    """The SLOs in scope (or ``slo``) whose figures rest on too little data, each with why in
    words (docs/metrics.md, "Data quality"); ``met``: its status says met or at risk, so a sentence
    saying so must say this too."""
    flagged = []
    for name, q in sorted(summary.data_quality.items()):
        if q.flags and name in summary.slos and (slo is None or name == slo):
            result = summary.slos.get(name)
            flagged.append(
                {
                    "name": name,
                    "why": thin_data(q, result.target if result else None),
                    "met": result is not None and result.status in ("met", "at_risk"),
                }
            )
    return flagged


LEDGER_EVENTS = {
    "at_risk": "budget fell below the at-risk line",
    "exhausted": "budget exhausted: the policy freezes releases",
    "replenished": "budget no longer exhausted: the freeze lifts",
    "recovered": "budget back above the at-risk line",
    "incident": "one incident consumed more than the policy's share of the budget",
}


def policy_gaps(summary: PeriodSummary, slo: str | None = None) -> list[dict[str, Any]]:
    """The events of the policy ledger (of ``slo``, or every SLO in scope) whose decision came
    late or not at all (docs/metrics.md, "Policy ledger"), in words and formatted figures."""
    ledger = summary.policy_ledger
    if ledger is None:
        return []
    return [
        {
            "slo": g.slo,
            "service": g.service,
            "kind": g.kind,
            "incident": g.incident_id,
            "day": show.day(g.day),
            "decided": None if g.decided is None else show.day(g.decided),
            "days": show.days(g.days),
        }
        for g in ledger.gaps
        if g.late and g.slo in summary.slos and (slo is None or g.slo == slo)
    ]


def thin_data(q: SloDataQuality, target: float | None) -> str:
    """Why an SLO's figure rests on too little data, in words: "data in 42 % of its buckets; 312
    events, fewer than the 1,000 at which one bad event spends the whole budget"."""
    if "no_data" in q.flags:
        return "no SLI data in the period"
    said = []
    if "low_coverage" in q.flags:
        said.append(f"data in {show.ratio(q.coverage, 1)} of its buckets")
    if "gaps" in q.flags:
        gaps = f"{q.gap_count} gap{'s' if q.gap_count != 1 else ''}"
        said.append(f"{gaps} in its data, {show.minutes(q.gap_minutes)} in all")
    if "low_traffic" in q.flags and q.low_traffic_below is not None:
        unit, one = ("events", "event") if q.measured == q.events else ("slices with traffic", "slice")
        natural = target is not None and q.low_traffic_below == low_traffic_threshold(target)
        why = f"at which one bad {one} spends the whole budget" if natural else "the organisation counts as enough"
        said.append(f"{show.count(q.measured)} {unit}, fewer than the {show.count(q.low_traffic_below)} {why}")
    return "; ".join(said)


def overdue_reviews(summary: PeriodSummary) -> list[dict[str, str]]:
    """The SLOs in scope whose review is overdue at the period's end, longest overdue first."""
    late = sorted(
        (
            (spec.review_overdue_days, name, str(spec.next_review))
            for name, spec in summary.slo_specs.items()
            if spec.review_overdue_days is not None
        ),
        key=lambda t: (-t[0], t[1]),
    )
    return [{"name": name, "due": due, "days": show.days(days)} for days, name, due in late]


ASSUMPTION_WORDS = {
    "hourly_rate": "the cost of an engineer hour",
    "downtime_cost_per_minute": "the cost of a minute of downtime",
    "programme_cost_per_month": "the programme's cost",
    "downtime_avoided_minutes": "the downtime avoided",
}


def _value(summary: PeriodSummary) -> dict[str, Any] | None:
    """The value figures to tell, or None; ``{"measured": False}`` when there is nothing to measure
    value with yet (no automation runs, cost initiatives, downtime cost or programme cost): a team
    that starts small is told what to add, not that it delivered nothing."""
    v = summary.value
    if v is None:
        return None
    if not (v.toil.runs or v.costs.initiatives or v.roi.downtime_avoided_value or v.roi.programme_cost):
        return {"measured": False}
    cur = v.roi.currency
    spread = v.roi.range if v.roi.roi is not None else None
    return {
        "measured": True,
        "delivered": show.money(v.roi.value_delivered, cur),
        "cost": show.money(v.roi.programme_cost, cur) if v.roi.programme_cost else None,
        "roi": show.ratio(v.roi.roi) if v.roi.roi is not None else None,
        # a point ROI is never said without its range (docs/metrics.md, "roi.range")
        "roi_range": f"{show.ratio(spread.low)} to {show.ratio(spread.high)}"
        if spread is not None and spread.low is not None and spread.low != spread.high
        else None,
        "positive": spread.positive if spread is not None else None,
        "widest": ASSUMPTION_WORDS.get(spread.sensitivity[0].name)
        if spread is not None and spread.sensitivity
        else None,
        "toil_hours": f"{v.toil.hours_saved:,.0f}",
        "toil_value": show.money(v.toil.value, cur),
        "savings": show.money(v.costs.savings, cur) if v.costs.savings else None,
        "downtime": show.money(v.roi.downtime_avoided_value, cur) if v.roi.downtime_avoided_value else None,
    }


def _engagement(summary: PeriodSummary) -> dict[str, Any] | None:
    e = summary.engagement
    if e is None or not any(k.value for k in e.kpis.values()):
        return None
    targeted = {n: k for n, k in e.kpis.items() if k.met is not None}
    overall = e.kpis.get("practice_adoption_rate")
    return {
        "targeted": len(targeted),
        "met": [_in_sentence(show.KPI_LABELS.get(n, n)) for n, k in targeted.items() if k.met],
        "missed": [_in_sentence(show.KPI_LABELS.get(n, n)) for n, k in targeted.items() if not k.met],
        "adoption": show.ratio(overall.value) if overall and overall.value is not None else None,
        "upcoming": [f"{u.title or u.kind.replace('_', ' ')} on {u.date}" for u in e.upcoming],
    }


def _activities(summary: PeriodSummary) -> dict[str, Any] | None:
    """The activities to tell: the kinds with a target that met it or not, those that lapsed."""
    a = summary.activities
    if a is None or not a.kinds:
        return None
    targeted = [k for k in a.kinds.values() if k.met is not None]
    return {
        "held": f"{a.count:,}",
        "reach": f"{a.reach:,}",
        "targeted": len(targeted),
        "met": len([k for k in targeted if k.met]),
        "missed": [k.title for k in targeted if not k.met],
        "lapsed": activity_words.lapse_texts(summary),
    }


def _in_sentence(label: str) -> str:
    """ "Newsletter open rate (...)" → "newsletter open rate"; acronyms ("SRE ...") stay as they are."""
    short = label.split(" (")[0]
    return short if short[:2].isupper() else short[0].lower() + short[1:]


def _delivery(summary: PeriodSummary) -> dict[str, Any] | None:
    d = summary.delivery
    if d is None or not d.deployments:
        return None
    return {
        "deployments": f"{d.deployments:,}",
        "frequency": d.deployment_frequency_band,
        "lead_time": show.minutes(d.lead_time_minutes.median),
        "failure_rate": show.ratio(d.change_failure_rate, 1),
        "against": _delivery_changes(summary),
    }


def _delivery_changes(summary: PeriodSummary) -> dict[str, list[str]] | None:
    """The four keys that changed clearly against the baseline (their interval excludes no change),
    gains apart from losses; None without a clear change."""
    found = {v: highlights.baseline_changes(summary, v)["delivery"] for v in ("improved", "worsened")}
    return found if any(found.values()) else None


def _satisfaction(summary: PeriodSummary) -> dict[str, Any] | None:
    """CSAT, NPS and developer experience against the baseline: a gain only where the interval
    excludes no change (:mod:`srelib.metrics.satisfaction`), the others said as unclear."""
    said = {
        v: highlights.baseline_changes(summary, v)["satisfaction"] for v in ("improved", "worsened", "no_clear_change")
    }
    return said if any(said.values()) else None


def _comparison(comparison: Comparison, title: str) -> dict[str, Any]:
    """A before/after comparison as the narrative may state it (see srelib.metrics.compare)."""
    return {
        "verdict": comparison.verdict,
        "before": show.minutes(comparison.median_before),
        "after": show.minutes(comparison.median_after),
        "n_before": comparison.n_before,
        "title": title,
    }


def render(summary: PeriodSummary, report: str = "monthly_reliability", fmt: str = "markdown", **extra: Any) -> str:
    """The report's key messages as Markdown (``fmt="markdown"``) or plain text (``"text"``).

    ``extra`` adds to the template's context (e.g. ``case``: an initiative's comparisons, from
    :func:`case_context`).
    """
    env = _environment(templates_dir() / "narrative")
    template = env.get_template(f"{report}.md.j2")
    escape = escape_markdown if fmt == "markdown" else str
    text = template.render(**context(summary), **extra, v=escape)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def messages(summary: PeriodSummary, report: str = "monthly_reliability", **extra: Any) -> list[str]:
    """The key messages as plain-text sentences (one per bullet)."""
    text = render(summary, report, fmt="text", **extra)
    return [line[2:].strip() for line in text.splitlines() if line.startswith("- ")]


def topic(summary: PeriodSummary, report: str, block: str, **extra: Any) -> str | None:
    """What the report's key messages say on one topic (a ``{% block %}`` of its template), as
    plain text: the slide deck's message for that topic's slide; None when they say nothing."""
    env = _environment(templates_dir() / "narrative")
    template = env.get_template(f"{report}.md.j2")
    values = template.new_context({**context(summary), **extra, "v": str})
    text = "".join(template.blocks[block](values))
    found = [line[2:].strip() for line in text.splitlines() if line.startswith("- ")]
    return " ".join(found) or None


def case_context(summary: PeriodSummary, initiative: str) -> dict[str, Any]:
    """What a case study may say about ``initiative``: each comparison with its verdict."""
    effect = summary.initiatives[initiative]
    cur = summary.value.roi.currency if summary.value else ""

    def durations(c: Comparison | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return {
            "verdict": c.verdict,
            "before": show.minutes(c.median_before),
            "after": show.minutes(c.median_after),
            "n_before": c.n_before,
            "n_after": c.n_after,
        }

    def rates(r: Any) -> dict[str, Any] | None:
        if r is None:
            return None
        return {
            "verdict": r.verdict,
            "before": f"{r.count_before / r.days_before:.2f}",
            "after": f"{r.count_after / r.days_after:.2f}" if r.days_after else show.MISSING,
            "change": show.ratio(None if r.rate_ratio is None else abs(1 - r.rate_ratio)),
        }

    cost = effect.daily_cost
    return {
        "case": {
            "title": effect.title,
            "start": effect.start,
            "started": effect.started,
            "days_before": f"{effect.days_before:.0f}",
            "days_after": f"{effect.days_after:.0f}",
            "mttr": durations(effect.mttr),
            "incidents": rates(effect.incident_rate),
            "impact": rates(effect.impact_rate),
            "cost": None
            if cost is None
            else {
                "verdict": cost.verdict,
                "before": show.money(cost.median_before, cur),
                "after": show.money(cost.median_after, cur),
            },
            "delivery": None
            if effect.delivery is None
            else {v: highlights.delivery_changes(effect.delivery, v) for v in ("improved", "worsened")},
            "toil": None
            if effect.toil_hours_per_day_after is None
            else {
                "before": f"{effect.toil_hours_per_day_before:.1f}",
                "after": f"{effect.toil_hours_per_day_after:.1f}",
            },
        }
    }
