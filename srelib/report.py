"""What a report notebook calls: load the PeriodSummary, show its parts.

Notebooks stay thin (DESIGN.md): parameters, then calls into this module. Each function
returns an IPython display object built from the summary; every value is formatted by
:mod:`srelib.present` and escaped by the Jinja templates under ``templates/report/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from srelib import charts, narrative, present
from srelib.config import Workbench
from srelib.period import Period
from srelib.resources import templates_dir
from srelib.summary import NotableIncident, PeriodSummary, build_summary
from srelib.warehouse import connect


def load(
    period: str | None = None,
    team: str | None = None,
    warehouse: str | None = None,
    summary_path: str | None = None,
    kind: str = "month",
) -> PeriodSummary:
    """The summary a run prepared (``summary_path``), or one computed from the warehouse.

    Defaults suit an analyst opening the notebook in JupyterLab after ``srelib demo``: the
    workbench is found from the current folder, the period is the latest complete ``kind``
    (month, quarter or week).
    """
    if summary_path:
        return PeriodSummary.read(Path(summary_path))
    workbench = Workbench.find()
    tz = workbench.org.timezone
    chosen = Period.parse(period, tz) if period else Period.latest_complete(kind, tz)
    with connect(Path(warehouse) if warehouse else workbench.warehouse_path) as con:
        return build_summary(con, workbench, chosen, team)


@cache
def _env(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _html(template: str, **values: Any) -> Any:
    from IPython.display import HTML

    return HTML(_env(templates_dir() / "report").get_template(template).render(**values))


def setup() -> Any:
    """Enable offline charts and the report styles; display the result once, before the first chart."""
    from IPython.display import HTML

    style = (templates_dir() / "report" / "style.css").read_text(encoding="utf-8")
    return HTML(f"<style>{style}</style>{charts.enable().data}")


def header(summary: PeriodSummary, report_title: str) -> Any:
    scope = f"Team {summary.team}" if summary.team else "Whole organisation"
    return _html(
        "header.html.j2",
        title=report_title,
        scope=scope,
        period=summary.title,
        start=summary.start[:10],
        end=summary.end[:10],
        timezone=summary.timezone,
        generated=summary.generated_at,
    )


def key_messages(summary: PeriodSummary, report: str = "monthly_reliability") -> Any:
    from IPython.display import Markdown

    return Markdown(narrative.render(summary, report))


def kpi_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The headline figures, this period against the previous one, as shown in the KPI table."""
    now, before = summary.incidents, summary.previous.incidents if summary.previous else None

    def pair(label: str, fmt: Any, get: Any) -> dict[str, str]:
        return {"label": label, "now": fmt(get(now)), "before": fmt(get(before)) if before else present.MISSING}

    def statuses(slos: dict[str, Any]) -> str:
        counts = {s: sum(1 for r in slos.values() if r.status == s) for s in present.STATUS_LABELS}
        return f"{counts['met']} / {counts['at_risk']} / {counts['breached']} / {counts['no_data']}"

    rows = [
        pair("Incidents", str, lambda s: s.count),
        pair("SEV1 and SEV2 incidents", str, lambda s: s.by_severity["SEV1"] + s.by_severity["SEV2"]),
        pair("Customer-impacting incidents", str, lambda s: s.customer_impacting),
        pair("Still open", str, lambda s: s.open),
        pair("Median time to detect", present.minutes, lambda s: s.mttd_minutes.median),
        pair("Median time to acknowledge", present.minutes, lambda s: s.mtta_minutes.median),
        pair("Median time to mitigate", present.minutes, lambda s: s.mttm_minutes.median),
        pair("Median time to resolve", present.minutes, lambda s: s.mttr_minutes.median),
        pair("90th percentile time to resolve", present.minutes, lambda s: s.mttr_minutes.p90),
    ]
    rows.append(
        {
            "label": "SLOs met / at risk / breached / no data",
            "now": statuses(summary.slos),
            "before": statuses(summary.previous.slos) if summary.previous else present.MISSING,
        }
    )
    return rows


def kpi_table(summary: PeriodSummary) -> Any:
    previous = summary.previous.title if summary.previous else "Previous period"
    return _html("kpis.html.j2", rows=kpi_rows(summary), now=summary.title, before=previous)


def slo_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    order = {"breached": 0, "at_risk": 1, "no_data": 2, "met": 3}
    rows = []
    for name, r in sorted(summary.slos.items(), key=lambda item: (order[item[1].status], item[0])):
        rows.append(
            {
                "name": name,
                "service": r.service,
                "team": r.team or present.MISSING,
                "method": r.budgeting_method,
                "target": present.target(r.target),
                "attainment": present.attainment(r.attainment, r.target),
                "remaining": present.budget(r.error_budget_remaining),
                "status": present.STATUS_LABELS[r.status],
                "status_key": r.status,
            }
        )
    return rows


def slo_table(summary: PeriodSummary) -> Any:
    return _html("slos.html.j2", rows=slo_rows(summary), period=summary.title)


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
            "title": i.title or present.MISSING,
            "service": i.service,
            "team": i.team or present.MISSING,
            "severity": i.severity,
            "started": _local_time(i.started_at),
            "resolve": "still open" if i.open else present.minutes(i.minutes_to_resolve),
            "impact": "yes" if i.customer_impact else "no" if i.customer_impact is False else present.MISSING,
            "postmortem": present.safe_link(i.postmortem_url),
        }
        for i in chosen
    ]


def incident_table(summary: PeriodSummary, limit: int | None = None) -> Any:
    """The period's SEV1 and SEV2 incidents in order of start; with ``limit``, only the worst
    that many (see :func:`worst_incidents`), saying how many there are in all."""
    total = len(summary.notable_incidents)
    rows = incident_rows(summary, limit if limit is not None and total > limit else None)
    return _html("incidents.html.j2", rows=rows, period=summary.title, total=total)


def table(rows: list[dict[str, str]], columns: list[tuple[str, str, bool]], empty: str, css: str = "") -> Any:
    """A table of formatted cells (``columns``: key, heading, numeric), or ``empty`` in words."""
    return _html("table.html.j2", rows=rows, columns=columns, empty=empty, css=css, caption=None)


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
            else present.span_title(c.start, c.end, summary.timezone)
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
                "incidents": f"{present.count(c.incidents.other_scaled)} → {summary.incidents.count}",
                "impacting": f"{present.count(c.customer_impacting.other_scaled)} → "
                f"{summary.incidents.customer_impacting}",
                "mttr": f"{present.minutes(c.mttr.median_before)} → {present.minutes(c.mttr.median_after)}",
                "verdict": VERDICTS[c.mttr.verdict],
                "n": f"{c.mttr.n_before} / {c.mttr.n_after}",
            }
        )
    return rows


def comparison_table(summary: PeriodSummary) -> Any:
    columns = [
        ("span", "Compared with", False),
        ("incidents", "Incidents (scaled to this period)", True),
        ("impacting", "Customer-impacting", True),
        ("mttr", "Median time to resolve", True),
        ("verdict", "Change in time to resolve", False),
        ("n", "Resolved incidents", True),
    ]
    return table(comparison_rows(summary), columns, "No earlier data to compare with.")


def budget_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each SLO over its own window at the period end, with the alerts that fired in the period."""
    rows = []
    order = {"breached": 0, "at_risk": 1, "no_data": 2, "met": 3}
    for name, b in sorted(summary.slo_budgets.items(), key=lambda kv: (order[kv[1].rolling.status], kv[0])):
        r = b.rolling
        fired = [
            f"{a.severity} {a.long_window}/{a.short_window}: {present.minutes(a.fired_minutes)}"
            for a in b.alerts
            if a.fired_minutes
        ]
        rows.append(
            {
                "name": name,
                "window": b.window,
                "attainment": present.attainment(r.attainment, r.target),
                "remaining": present.budget(r.error_budget_remaining),
                "burn": present.rate(b.burn_rates.get("1h")),
                "alerts": "; ".join(fired) if fired else "none",
                "status": present.STATUS_LABELS[r.status],
                "status_key": r.status,
            }
        )
    return rows


def budget_table(summary: PeriodSummary) -> Any:
    columns = [
        ("name", "SLO", False),
        ("window", "Window", False),
        ("attainment", "Attainment over the window", True),
        ("remaining", "Error budget left", True),
        ("burn", "Burn rate, last hour", True),
        ("alerts", "Alerts that would have fired", False),
        ("status", "Status", False),
    ]
    return table(budget_rows(summary), columns, "No SLOs are defined for this scope.")


def alert_table(summary: PeriodSummary) -> Any:
    """Each SLO's multiwindow burn-rate alerts: the burn rates at the period end and whether,
    when and for how long each alert would have fired in the period."""
    rows = []
    for name, budget in sorted(summary.slo_budgets.items()):
        for a in budget.alerts:
            rows.append(
                {
                    "slo": name,
                    "alert": f"{a.severity}: {a.long_window} and {a.short_window} above {a.factor:g}×",
                    "long": present.rate(a.burn_rate_long),
                    "short": present.rate(a.burn_rate_short),
                    "fired": present.minutes(a.fired_minutes) if a.fired_minutes else "never",
                    "first": _local_time(a.first_fired) if a.first_fired else present.MISSING,
                    "now": "firing" if a.firing_at_end else "quiet",
                }
            )
    columns = [
        ("slo", "SLO", False),
        ("alert", "Alert (long and short window)", False),
        ("long", "Burn rate, long window", True),
        ("short", "Burn rate, short window", True),
        ("fired", "Would have fired for", True),
        ("first", "First fired", False),
        ("now", "At the period end", False),
    ]
    return table(rows, columns, "No SLO with data in this period.")


def policy_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    return [
        {
            "service": service,
            "state": "Releases frozen" if p.state == "release_freeze" else "Normal",
            "status_key": "breached" if p.state == "release_freeze" else "met",
            "status": "Releases frozen" if p.state == "release_freeze" else "Normal",
            "reason": p.reason,
        }
        for service, p in sorted(summary.error_budget_policy.items(), key=lambda kv: (kv[1].state == "normal", kv[0]))
    ]


def policy_table(summary: PeriodSummary) -> Any:
    columns = [("service", "Service", False), ("status", "Error budget policy", False), ("reason", "Why", False)]
    return table(policy_rows(summary), columns, "No SLOs, so no error budget policy applies.")


def mtbf_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.reliability is None:
        return []
    return [
        {
            "service": service,
            "failures": str(m.failures),
            "downtime": present.minutes(m.downtime_minutes),
            "mtbf": present.minutes(m.mtbf_minutes),
        }
        for service, m in sorted(summary.reliability.mtbf.items(), key=lambda kv: (kv[1].mtbf_minutes or 0, kv[0]))
    ]


def mtbf_table(summary: PeriodSummary) -> Any:
    columns = [
        ("service", "Service", False),
        ("failures", "Incidents", True),
        ("downtime", "Time with an incident open", True),
        ("mtbf", "Mean time between failures", True),
    ]
    return table(mtbf_rows(summary), columns, "No service had an incident.")


def prevention_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    r = summary.reliability
    if r is None or r.prevention is None:
        return []
    p = r.prevention
    return [
        {
            "label": "Incidents caught before customers were affected",
            "value": f"{p.caught_before_customer_impact} of {p.incidents - p.impact_unknown} "
            f"({present.ratio(p.caught_before_customer_impact_ratio)})",
        },
        {
            "label": "Incidents that stayed minor (SEV4–SEV5)",
            "value": f"{p.low_severity} ({present.ratio(p.low_severity_ratio)})",
        },
        {
            "label": "Failed deployments stopped before an incident",
            "value": f"{p.failed_deployments_without_incident} of {p.failed_deployments}",
        },
        {
            "label": "Repeat incidents (same service and cause within 30 days)",
            "value": f"{len(r.repeat_incidents)} ({present.ratio(r.repeat_ratio)})",
        },
    ]


def prevention_table(summary: PeriodSummary) -> Any:
    return table(
        prevention_rows(summary), [("label", "Prevention", False), ("value", summary.title, True)], "No incidents."
    )


def value_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The value delivered and ROI, every component shown (docs/metrics.md, "Value")."""
    v = summary.value
    if v is None:
        return []
    cur = v.roi.currency
    rows = [
        {
            "component": "Toil removed by automation",
            "measure": f"{v.toil.hours_saved:,.0f} hours in {v.toil.runs:,} runs",
            "value": present.money(v.toil.value, cur),
        }
    ]
    for saving in v.costs.initiatives:
        measure = (
            f"{present.money(saving.expected_cost, cur)} expected at the baseline rate, "
            f"{present.money(saving.actual_cost, cur)} spent, over {saving.days_in_effect:.0f} days"
            if saving.savings is not None
            else "no cost data before the initiative started"
        )
        rows.append(
            {
                "component": f"Cost savings: {saving.title}",
                "measure": measure,
                "value": present.money(saving.savings, cur),
            }
        )
    if v.roi.downtime_avoided_minutes is not None:
        rows.append(
            {
                "component": "Customer-impacting downtime avoided",
                "measure": f"{present.minutes(v.roi.downtime_avoided_minutes)} fewer than at the baseline rate",
                "value": present.money(v.roi.downtime_avoided_value, cur),
            }
        )
    rows.append({"component": "Value delivered", "measure": "", "value": present.money(v.roi.value_delivered, cur)})
    rows.append({"component": "Programme cost", "measure": "", "value": present.money(v.roi.programme_cost, cur)})
    rows.append(
        {
            "component": "Return on investment",
            "measure": "(value delivered − programme cost) ÷ programme cost",
            "value": present.ratio(v.roi.roi),
        }
    )
    return rows


def value_table(summary: PeriodSummary) -> Any:
    columns = [("component", "Component", False), ("measure", "Measured as", False), ("value", "Value", True)]
    return table(value_rows(summary), columns, "No value data for this period.", css="srelib-value")


def delivery_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    d = summary.delivery
    if d is None:
        return []
    return [
        {
            "key": "Deployment frequency",
            "value": f"{d.deployments:,} ({d.deployments_per_day:.1f} a day)",
            "band": d.deployment_frequency_band or present.MISSING,
        },
        {
            "key": "Lead time for changes (median)",
            "value": present.minutes(d.lead_time_minutes.median),
            "band": d.lead_time_band or present.MISSING,
        },
        {
            "key": "Change failure rate",
            "value": present.ratio(d.change_failure_rate, 1),
            "band": d.change_failure_band or present.MISSING,
        },
        {
            "key": "Failed deployment recovery time (median)",
            "value": present.minutes(d.failed_deployment_recovery_minutes.median),
            "band": d.recovery_band or present.MISSING,
        },
    ]


def delivery_table(summary: PeriodSummary) -> Any:
    band = summary.delivery.band_window if summary.delivery else ""
    columns = [("key", "DORA key", False), ("value", summary.title, True), ("band", f"Band ({band})", False)]
    return table(delivery_rows(summary), columns, "No deployments recorded.")


def satisfaction_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    v = summary.value
    if v is None:
        return []
    s = v.satisfaction
    return [
        {
            "label": "Customer satisfaction (CSAT, 1–5)",
            "value": present.MISSING
            if s.csat.mean is None
            else f"{s.csat.mean:.2f} ({present.ratio(s.csat_satisfied_ratio)} satisfied)",
            "n": str(s.csat.n),
        },
        {
            "label": "Net Promoter Score (−100 to 100)",
            "value": present.MISSING if s.nps is None else f"{s.nps:+.0f}",
            "n": str(s.nps_responses),
        },
        {
            "label": "Developer experience (1–5)",
            "value": present.MISSING if s.devex.mean is None else f"{s.devex.mean:.2f}",
            "n": str(s.devex.n),
        },
    ]


def satisfaction_table(summary: PeriodSummary) -> Any:
    columns = [("label", "Survey", False), ("value", summary.title, True), ("n", "Responses", True)]
    return table(satisfaction_rows(summary), columns, "No survey responses.")


def highlight_list(summary: PeriodSummary, which: str) -> Any:
    """The period's wins or risks as a list (``which``: "wins" or "risks")."""
    from srelib import highlights

    items = highlights.wins(summary) if which == "wins" else highlights.risks(summary)
    empty = "Nothing stood out clearly enough to call a win." if which == "wins" else "No open risks."
    return _html("highlights.html.j2", items=[h.text for h in items], css=which, empty=empty)


def engagement_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each awareness and impact KPI against its target."""
    if summary.engagement is None:
        return []
    rows = []
    for name, kpi in summary.engagement.kpis.items():
        shown = present.ratio if kpi.unit == "ratio" else present.count
        met = {True: ("met", "Met"), False: ("breached", "Below target"), None: ("no_data", "No target")}[kpi.met]
        if kpi.value is None:
            met = ("no_data", "No data")
        rows.append(
            {
                "kpi": present.KPI_LABELS.get(name, name),
                "value": shown(kpi.value),
                "target": shown(kpi.target),
                "status": met[1],
                "status_key": met[0],
            }
        )
    return rows


def engagement_table(summary: PeriodSummary) -> Any:
    columns = [
        ("kpi", "Indicator", False),
        ("value", summary.title, True),
        ("target", "Target", True),
        ("status", "", False),
    ]
    return table(engagement_rows(summary), columns, "No engagement data for this period.")


def adoption_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.engagement is None:
        return []
    return [
        {"practice": practice.replace("_", " "), "rate": present.ratio(rate)}
        for practice, rate in sorted(summary.engagement.adoption.items())
    ]


def adoption_table(summary: PeriodSummary) -> Any:
    columns = [("practice", "Practice", False), ("rate", f"Teams that adopted it by the end of {summary.title}", True)]
    return table(adoption_rows(summary), columns, "No adoption data.")


def tool_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    if summary.engagement is None or summary.value is None:
        return []
    hours = summary.value.toil.by_automation
    return [
        {"automation": name, "runs": f"{runs:,}", "hours": f"{hours.get(name, 0):,.1f}"}
        for name, runs in sorted(summary.engagement.tool_usage.items(), key=lambda kv: -kv[1])
    ]


def tool_table(summary: PeriodSummary) -> Any:
    columns = [("automation", "Automation", False), ("runs", "Runs", True), ("hours", "Hours of toil saved", True)]
    return table(tool_rows(summary), columns, "No automation ran in this period.")


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
            "value": present.minutes(inc.mttr_minutes.median),
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
            "value": present.budget(lowest.error_budget_remaining) if lowest else present.MISSING,
            "note": next((n for n, s in summary.slos.items() if s is lowest), ""),
            "status": lowest.status if lowest else "",
        },
    ]
    if summary.value is not None:
        v = summary.value
        tiles.append(
            {
                "label": "Saved: toil and cloud cost",
                "value": present.money(v.toil.value + v.costs.savings, v.roi.currency),
                "note": f"{v.toil.hours_saved:,.0f} h of toil automated",
                "status": "",
            }
        )
        if summary.team is None:  # the programme's cost is not split across teams
            tiles.append(
                {
                    "label": "Return on investment",
                    "value": present.ratio(v.roi.roi),
                    "note": f"value {present.money(v.roi.value_delivered, v.roi.currency)}",
                    "status": "",
                }
            )
    if summary.delivery is not None and summary.delivery.deployments:
        tiles.append(
            {
                "label": "Deployments",
                "value": f"{summary.delivery.deployments:,}",
                "note": f"DORA band: {summary.delivery.deployment_frequency_band or present.MISSING}",
                "status": "",
            }
        )
    return tiles


def tiles(summary: PeriodSummary) -> Any:
    return _html("tiles.html.j2", tiles=kpi_tiles(summary))


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
    from srelib.metrics.peers import org_median

    if summary.team is None or summary.team not in summary.team_figures:
        return []
    mine = summary.team_figures[summary.team]
    median = org_median(summary.team_figures)
    formats = {
        "count": present.count,
        "minutes": present.minutes,
        "ratio": present.ratio,
        "ratio1": lambda v: present.ratio(v, 1),
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


def scorecard_table(summary: PeriodSummary) -> Any:
    columns = [
        ("figure", "Figure", False),
        ("team", f"Team {summary.team}", True),
        ("median", f"Median of {len(summary.team_figures)} teams", True),
        ("position", "", False),
    ]
    return table(scorecard_rows(summary), columns, "Give a team: the scorecard compares one team with the others.")


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
                "before": present.minutes(c.median_before),
                "after": present.minutes(c.median_after),
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
                    "after": f"{r.count_after / r.days_after:.2f}" if r.days_after else present.MISSING,
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
                "before": present.money(c.median_before, cur),
                "after": present.money(c.median_after, cur),
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


def case_table(summary: PeriodSummary, initiative: str) -> Any:
    effect = summary.initiatives.get(initiative)
    columns = [
        ("measure", "Measure", False),
        ("before", f"{effect.days_before:.0f} days before" if effect else "Before", True),
        ("after", f"Latest {effect.days_after:.0f} days" if effect else "After", True),
        ("n", "Sample sizes", True),
        ("verdict", "Change", False),
    ]
    empty = (
        "The initiative has not started yet." if effect else f"No initiative {initiative!r} in params/initiatives.yaml."
    )
    return table(case_rows(summary, initiative), columns, empty)


def case_header(summary: PeriodSummary, initiative: str) -> Any:
    effect = summary.initiatives.get(initiative)
    if effect is None:
        return _html("empty.html.j2", message=f"No initiative {initiative!r} in params/initiatives.yaml.")
    return _html("case.html.j2", effect=effect)


def case_messages(summary: PeriodSummary, initiative: str) -> Any:
    from IPython.display import Markdown

    return Markdown(narrative.render(summary, "case_study", **narrative.case_context(summary, initiative)))


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
        f"{present.target(spec.time_slice_target or 0)} good events ÷ slices with traffic",
        "RatioTimeslices": f"the mean of the {spec.time_slice_window} slices' good ÷ all events",
    }[spec.budgeting_method]
    window = f"{'rolling' if spec.rolling else 'calendar'} {spec.window}"
    budget_minutes = result.window_budget_minutes
    policy = summary.error_budget_policy.get(spec.service)
    rolling = budget.rolling if budget else None
    return {
        "name": slo,
        "display_name": spec.display_name,
        "description": spec.description,
        "status": spec.status,
        "owner": spec.owner or present.MISSING,
        "approvers": ", ".join(spec.approvers) or "not recorded in params/slo_documents.yaml",
        "reviewed": spec.reviewed or present.MISSING,
        "next_review": spec.next_review or present.MISSING,
        "source": spec.source,
        "service": spec.service,
        "service_description": spec.service_description or "",
        "tier": spec.tier,
        "team": spec.team or present.MISSING,
        "sli": f"{spec.indicator_kind} indicator, {method}",
        "queries": queries,
        "objective": f"{present.target(spec.target)} over a {window} window",
        "rationale": spec.rationale or "Not recorded yet: add it to params/slo_documents.yaml.",
        "budget": (
            f"{present.target(1 - spec.target)} of events may fail over the {window} window"
            + (f": {present.minutes(budget_minutes)} of full outage." if budget_minutes else ".")
            if spec.target < 1
            else "A 100 % objective leaves no error budget: any failure breaches it."
        ),
        "period": summary.title,
        "window": spec.window,
        "attainment": present.attainment(result.attainment, result.target),
        "remaining": present.budget(result.error_budget_remaining),
        "status_key": result.status,
        "status_label": present.STATUS_LABELS[result.status],
        "window_attainment": present.attainment(rolling.attainment, rolling.target) if rolling else present.MISSING,
        "window_remaining": present.budget(rolling.error_budget_remaining) if rolling else present.MISSING,
        "window_status_key": rolling.status if rolling else "no_data",
        "window_status_label": present.STATUS_LABELS[rolling.status if rolling else "no_data"],
        "policy": policy.reason if policy else "no policy applies.",
        "caveats": spec.caveats,
    }


def slo_messages(summary: PeriodSummary, slo: str) -> Any:
    """The SLO document's key messages (templates/narrative/slo_document.md.j2)."""
    from IPython.display import Markdown

    fields = slo_document_fields(summary, slo)
    if fields is None:
        return _html("empty.html.j2", message=f"No SLO {slo!r} in this scope.")
    return Markdown(narrative.render(summary, "slo_document", slo=fields))


def slo_document(summary: PeriodSummary, slo: str) -> Any:
    fields = slo_document_fields(summary, slo)
    if fields is None:
        known = ", ".join(sorted(summary.slos)) or "none"
        return _html("empty.html.j2", message=f"No SLO {slo!r} in this scope (known: {known}).")
    return _html("slo_document.html.j2", d=fields)


def chart(built: Any, empty: str | None = None) -> Any:
    """A chart, or a sentence saying why there is none (never an empty chart); nothing at all when
    ``empty`` is None because what stands above already says so."""
    if built is None:
        return None if empty is None else _html("empty.html.j2", message=empty)
    return built


def definitions() -> Any:
    return _html("definitions.html.j2")


def _local_time(iso: str) -> str:
    """ "2026-10-06T23:14+00:00" → "2026-10-06 23:14 UTC" (other offsets stay as written)."""
    text = iso.replace("T", " ")
    return text[:-6] + " UTC" if text.endswith("+00:00") else text
