"""The notebook API (``from srelib.present import charts, report``): load the PeriodSummary, show its parts.

Notebooks stay thin (docs/architecture.md): parameters, then calls into this module. Each function
returns an IPython display object built from the summary; every value is formatted by
:mod:`srelib.present.format` and escaped by the Jinja templates under ``templates/report/``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from srelib.config import Workbench
from srelib.ingest.warehouse import connect
from srelib.period import Period
from srelib.present import annual, charts, narrative
from srelib.present import programme as programme
from srelib.present.activities import activity_rows, activity_team_rows, lapse_texts, survey_rows
from srelib.present.annual import year_end_view  # the year's activities and surveys month by month
from srelib.present.catalogue import title
from srelib.present.digest import display as weekly_digest
from srelib.present.follow_up import (  # post-incident follow-up and launch readiness
    follow_up_rows,
    launch_rows,
    overdue_action_rows,
    postmortem_policy_rows,
    readiness_rows,
    repeat_rows,
)
from srelib.present.narrative import escape_markdown
from srelib.present.newsletter import display as newsletter
from srelib.present.rows import (  # the notebook API shows the view models' rows too
    SCORECARD,
    VERDICTS,
    adoption_rows,
    alert_rows,
    budget_rows,
    case_columns,
    case_delivery_columns,
    case_rows,
    comparison_rows,
    correction_rows,
    data_quality_rows,
    decision_rows,
    delivery_comparison_rows,
    delivery_rows,
    engagement_rows,
    four_keys_rows,
    incident_rows,
    kpi_rows,
    kpi_tiles,
    ledger_rows,
    mtbf_rows,
    policy_rows,
    prevention_rows,
    rollup_rows,
    satisfaction_rows,
    scorecard_rows,
    sensitivity_rows,
    slo_document_fields,
    slo_rows,
    spend_rows,
    tool_rows,
    value_rows,
    worst_incidents,
)
from srelib.resources import templates_dir
from srelib.summary import PeriodSummary, build_summary

__all__ = [
    "SCORECARD",
    "VERDICTS",
    "activity_rows",
    "activity_table",
    "activity_team_rows",
    "activity_team_table",
    "adoption_rows",
    "adoption_table",
    "alert_rows",
    "alert_table",
    "budget_burner_table",
    "budget_rows",
    "budget_table",
    "case_header",
    "case_messages",
    "case_rows",
    "case_table",
    "chart",
    "comparison_rows",
    "comparison_table",
    "criteria_table",
    "definitions",
    "delivery_comparison_rows",
    "delivery_comparison_table",
    "delivery_rows",
    "delivery_table",
    "engagement_rows",
    "engagement_table",
    "follow_up_rows",
    "follow_up_table",
    "four_keys_rows",
    "header",
    "highlight_list",
    "incident_rows",
    "incident_table",
    "initiative_outcome_table",
    "key_messages",
    "kpi_rows",
    "kpi_table",
    "kpi_tiles",
    "lapsed_list",
    "launch_rows",
    "launch_table",
    "load",
    "milestone_table",
    "mtbf_rows",
    "mtbf_table",
    "newsletter",
    "overdue_action_rows",
    "overdue_action_table",
    "phase_table",
    "plan_inputs",
    "policy_rows",
    "policy_table",
    "postmortem_policy_rows",
    "postmortem_policy_table",
    "prevention_rows",
    "prevention_table",
    "programme_line",
    "programme_risks",
    "readiness_rows",
    "readiness_table",
    "repeat_rows",
    "repeat_service_table",
    "repeat_table",
    "satisfaction_rows",
    "satisfaction_table",
    "scorecard_rows",
    "scorecard_table",
    "sensitivity_rows",
    "sensitivity_table",
    "setup",
    "slo_document",
    "slo_document_fields",
    "slo_messages",
    "slo_rows",
    "slo_table",
    "spend_rows",
    "spend_table",
    "survey_rows",
    "survey_table",
    "table",
    "tiles",
    "title",
    "tool_rows",
    "tool_table",
    "value_rows",
    "value_table",
    "weekly_digest",
    "worst_incidents",
    "year_activity_table",
    "year_coverage",
    "year_end_view",
    "year_messages",
    "year_month_table",
    "year_rate_table",
    "year_resolve_table",
    "year_survey_table",
    "year_value_table",
]


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
    (month, quarter, week or year).
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


def style() -> str:
    """The reports' style sheet (CSS)."""
    return (templates_dir() / "report" / "style.css").read_text(encoding="utf-8")


def setup() -> Any:
    """Enable offline charts and the report styles; display the result once, before the first chart."""
    from IPython.display import HTML

    return HTML(f"<style>{style()}</style>{charts.enable().data}")


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
        partial=summary.partial,
        data_as_of=None if summary.data_as_of is None else summary.data_as_of.replace("T", " "),
    )


def key_messages(summary: PeriodSummary, report: str = "monthly_reliability") -> Any:
    from IPython.display import Markdown

    return Markdown(narrative.render(summary, report))


def kpi_table(summary: PeriodSummary) -> Any:
    previous = summary.previous.title if summary.previous else "Previous period"
    return _html("kpis.html.j2", rows=kpi_rows(summary), now=summary.title, before=previous)


def slo_table(summary: PeriodSummary, link: Callable[[str], str | None] | None = None) -> Any:
    """The period's SLOs, worst first; an SLO whose figures rest on too little data is marked,
    and a footnote under the table says why (docs/metrics.md, "Data quality"). ``link``: the
    address of an SLO's own view (the dashboards link each SLO to the SLO explorer)."""
    rows = [{**row, "link": link(row["name"]) if link else None} for row in slo_rows(summary)]
    return _html("slos.html.j2", rows=rows, period=summary.title, thin=narrative.data_quality(summary))


def incident_table(summary: PeriodSummary, limit: int | None = None) -> Any:
    """The period's SEV1 and SEV2 incidents in order of start; with ``limit``, only the worst
    that many (see :func:`worst_incidents`), saying how many there are in all."""
    total = len(summary.notable_incidents)
    rows = incident_rows(summary, limit if limit is not None and total > limit else None)
    return _html("incidents.html.j2", rows=rows, period=summary.title, total=total)


def table(rows: list[dict[str, str]], columns: list[tuple[str, str, bool]], empty: str, css: str = "") -> Any:
    """A table of formatted cells (``columns``: key, heading, numeric), or ``empty`` in words."""
    return _html("table.html.j2", rows=rows, columns=columns, empty=empty, css=css, caption=None)


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
    rows = alert_rows(summary)
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


def rollup_table(summary: PeriodSummary) -> Any:
    """The SLOs rolled up: the organisation, each team and its services, with the breakdown
    beside the composite attainment (docs/metrics.md, "Roll-ups")."""
    columns = [
        ("scope", "Organisation, team, service", False),
        ("level", "Level", False),
        ("slos", "SLOs", True),
        ("breakdown", "Met / at risk / breached / no data", True),
        ("lowest", "Least error budget left", True),
        ("composite", "Composite: attainment ÷ target, weighted", True),
    ]
    return table(rollup_rows(summary), columns, "No SLOs are defined for this scope.")


def corrections_table(summary: PeriodSummary, slo: str | None = None) -> Any:
    """Each SLO correction applied in the period: what it took out of which SLO."""
    columns = [
        ("slo", "SLO", False),
        ("kind", "Kind", False),
        ("reason", "Reason", False),
        ("when", "First window", False),
        ("windows", "Windows in the period", True),
        ("minutes", "Minutes", True),
        ("events", "Events left out", True),
        ("bad", "Bad events left out", True),
    ]
    return table(correction_rows(summary, slo), columns, "No correction took anything out of the SLOs in this period.")


def ledger_table(summary: PeriodSummary, slo: str | None = None) -> Any:
    """The error budget policy ledger: each line the SLOs (or ``slo``) crossed in the period, the
    decision that followed and how long it took (docs/metrics.md, "Policy ledger")."""
    columns = [
        ("day", "Day", False),
        ("slo", "SLO", False),
        ("event", "What happened", False),
        ("remaining", "Budget left (incident: share consumed)", True),
        ("decision", "Decision that followed", False),
        ("wait", "After", True),
    ]
    return table(ledger_rows(summary, slo), columns, "No SLO crossed a line of the error budget policy in this period.")


def decision_table(summary: PeriodSummary) -> Any:
    """The decisions recorded in the period (the decisions file) for the services in scope."""
    columns = [
        ("day", "Day", False),
        ("service", "Service", False),
        ("decision", "Decision", False),
        ("by", "By", False),
        ("note", "Note", False),
    ]
    return table(decision_rows(summary), columns, "No decision was recorded in this period (the decisions file).")


def data_quality_table(summary: PeriodSummary) -> Any:
    """How much data each SLO's figures rest on: bucket, coverage, gaps, events against the
    low-traffic threshold, corrections, flags (docs/metrics.md, "Data quality")."""
    columns = [
        ("name", "SLO", False),
        ("bucket", "Bucket", True),
        ("coverage", "Coverage", True),
        ("buckets", "Buckets with data", True),
        ("gaps", "Gaps", False),
        ("events", "Events (or slices) measured", True),
        ("threshold", "Low traffic below", True),
        ("corrections", "Corrections", False),
        ("flags", "Flags", False),
    ]
    return table(data_quality_rows(summary), columns, "No SLOs are defined for this scope.")


def policy_table(summary: PeriodSummary) -> Any:
    columns = [("service", "Service", False), ("status", "Error budget policy", False), ("reason", "Why", False)]
    return table(policy_rows(summary), columns, "No SLOs, so no error budget policy applies.")


def mtbf_table(summary: PeriodSummary) -> Any:
    columns = [
        ("service", "Service", False),
        ("failures", "Incidents", True),
        ("downtime", "Time with an incident open", True),
        ("mtbf", "Mean time between failures", True),
    ]
    return table(mtbf_rows(summary), columns, "No service had an incident.")


def prevention_table(summary: PeriodSummary) -> Any:
    return table(
        prevention_rows(summary), [("label", "Prevention", False), ("value", summary.title, True)], "No incidents."
    )


def value_table(summary: PeriodSummary) -> Any:
    columns = [
        ("component", "Component", False),
        ("measure", "Measured as", False),
        ("value", "Value", True),
        ("share", "Share of the value", True),
    ]
    return table(value_rows(summary), columns, "No value data for this period.", css="srelib-value")


def sensitivity_table(summary: PeriodSummary) -> Any:
    """What moves the return most: each assumption at its low and high, the others at base."""
    v = summary.value
    at = "ROI" if v is not None and v.roi.roi is not None else "Value delivered"
    columns = [
        ("assumption", "Assumption", False),
        ("low", "Low", True),
        ("high", "High", True),
        ("at_low", f"{at} at low", True),
        ("at_high", f"{at} at high", True),
    ]
    return table(sensitivity_rows(summary), columns, "Every assumption is a single figure: no range to show.")


def delivery_comparison_table(summary: PeriodSummary) -> Any:
    """Deployments, lead time and recovery time against the baseline, with intervals and verdicts."""
    baseline = summary.delivery_compared.baseline if summary.delivery_compared else "baseline"
    columns = [
        ("key", "Against the baseline", False),
        ("before", baseline[:1].upper() + baseline[1:], True),
        ("after", summary.title, True),
        ("change", "Change", True),
        ("verdict", "Verdict", False),
    ]
    empty = "No baseline to compare with: params/org.yaml sets no programme_start."
    return table(delivery_comparison_rows(summary), columns, empty)


def spend_table(summary: PeriodSummary, by: str = "service") -> Any:
    """The period's cloud spend per service (``by="team"``: per team) beside the period before."""
    before = summary.trend[-2].title if len(summary.trend) > 1 else "Period before"
    columns = [(by, by.capitalize(), False), ("now", summary.title, True), ("before", before, True)]
    return table(spend_rows(summary, by), columns, "No cloud cost data in this period or the one before.")


def delivery_table(summary: PeriodSummary) -> Any:
    band = summary.delivery.band_window if summary.delivery else ""
    columns = [("key", "DORA key", False), ("value", summary.title, True), ("band", f"Band ({band})", False)]
    return table(delivery_rows(summary), columns, "No deployments recorded.")


def satisfaction_table(summary: PeriodSummary) -> Any:
    """CSAT, NPS and developer experience in the period, and against the baseline when there is one."""
    columns = [("label", "Survey", False), ("value", summary.title, True), ("n", "Responses", True)]
    if summary.satisfaction_compared is not None:
        columns += [
            ("baseline", f"Baseline ({summary.satisfaction_compared.baseline.removeprefix('baseline ')})", True),
            ("change", "Change", True),
            ("verdict", "Verdict", False),
        ]
    return table(satisfaction_rows(summary), columns, "No survey responses.")


def highlight_list(summary: PeriodSummary, which: str) -> Any:
    """The period's wins or risks as a list (``which``: "wins" or "risks")."""
    from srelib.present import highlights

    items = highlights.wins(summary) if which == "wins" else highlights.risks(summary)
    empty = "Nothing stood out clearly enough to call a win." if which == "wins" else "No open risks."
    return _html("highlights.html.j2", items=[h.text for h in items], css=which, empty=empty)


def engagement_table(summary: PeriodSummary) -> Any:
    columns = [
        ("kpi", "Indicator", False),
        ("value", summary.title, True),
        ("target", "Target", True),
        ("status", "", False),
    ]
    return table(engagement_rows(summary), columns, "No engagement data for this period.")


def activity_table(summary: PeriodSummary) -> Any:
    """Each activity kind in the period against its target (in its unit), with its momentum."""
    columns = [
        ("activity", "Activity", False),
        ("family", "Family", False),
        ("held", "Held", True),
        ("reach", "Reached", True),
        ("value", "Measured", True),
        ("target", "Target", True),
        ("status", "", False),
        ("periods_held", "Periods with one", True),
        ("last_held", "Last held", False),
    ]
    return table(activity_rows(summary), columns, "No activities recorded in the last twelve periods.")


def activity_team_table(summary: PeriodSummary) -> Any:
    columns = [
        ("team", "Team", False),
        ("held", f"Activities in {summary.title}", True),
        ("reach", "Reached", True),
        ("kinds", "Which", False),
        ("trend", f"In the last {len(summary.trend) or 1} periods", True),
        ("last_held", "Last activity", False),
    ]
    return table(activity_team_rows(summary), columns, "No team is named on an activity.")


def lapsed_list(summary: PeriodSummary) -> Any:
    """The activities that lost their momentum, each in a sentence."""
    return _html(
        "highlights.html.j2", items=lapse_texts(summary), css="risks", empty="No activity has lapsed: all keep running."
    )


def survey_table(summary: PeriodSummary) -> Any:
    """Each survey and its questions: the latest wave's mean score against the target."""
    columns = [
        ("survey", "Survey (scale)", False),
        ("question", "Question", False),
        ("mean", "Mean score", True),
        ("wave", "Latest responses", False),
        ("n", "Responses", True),
        ("target", "Target", True),
        ("change", "Change over the trend", True),
        ("status", "", False),
    ]
    return table(survey_rows(summary), columns, "No survey responses in the last twelve periods.")


def adoption_table(summary: PeriodSummary) -> Any:
    columns = [("practice", "Practice", False), ("rate", f"Teams that adopted it by the end of {summary.title}", True)]
    return table(adoption_rows(summary), columns, "No adoption data.")


def tool_table(summary: PeriodSummary) -> Any:
    columns = [("automation", "Automation", False), ("runs", "Runs", True), ("hours", "Hours of toil saved", True)]
    return table(tool_rows(summary), columns, "No automation ran in this period.")


def tiles(summary: PeriodSummary) -> Any:
    return _html("tiles.html.j2", tiles=kpi_tiles(summary))


def scorecard_table(summary: PeriodSummary) -> Any:
    columns = [
        ("figure", "Figure", False),
        ("team", f"Team {summary.team}", True),
        ("median", f"Median of {len(summary.team_figures)} teams", True),
        ("position", "", False),
    ]
    return table(scorecard_rows(summary), columns, "Give a team: the scorecard compares one team with the others.")


def case_table(summary: PeriodSummary, initiative: str) -> Any:
    effect = summary.initiatives.get(initiative)
    empty = (
        "The initiative has not started yet." if effect else f"No initiative {initiative!r} in params/initiatives.yaml."
    )
    return table(case_rows(summary, initiative), case_columns(summary, initiative), empty)


def case_delivery_table(summary: PeriodSummary, initiative: str) -> Any:
    """The DORA four keys of the initiative's services before and after it, each with its verdict."""
    effect = summary.initiatives.get(initiative)
    d = effect.delivery if effect else None
    empty = (
        "The initiative has not started yet." if effect else f"No initiative {initiative!r} in params/initiatives.yaml."
    )
    return table(four_keys_rows(d) if d else [], case_delivery_columns(summary, initiative), empty)


def case_header(summary: PeriodSummary, initiative: str) -> Any:
    effect = summary.initiatives.get(initiative)
    if effect is None:
        return _html("empty.html.j2", message=f"No initiative {initiative!r} in params/initiatives.yaml.")
    return _html("case.html.j2", effect=effect)


def case_messages(summary: PeriodSummary, initiative: str) -> Any:
    from IPython.display import Markdown

    return Markdown(narrative.render(summary, "case_study", **narrative.case_context(summary, initiative)))


def slo_messages(summary: PeriodSummary, slo: str) -> Any:
    """The SLO document's key messages (templates/narrative/slo_document.md.j2)."""
    from IPython.display import Markdown

    fields = slo_document_fields(summary, slo)
    if fields is None:
        return _html("empty.html.j2", message=f"No SLO {slo!r} in this scope.")
    return Markdown(
        narrative.render(
            summary,
            "slo_document",
            slo=fields,
            slo_corrections=narrative.corrections(summary, slo),
            slo_data_quality=narrative.data_quality(summary, slo),
            slo_policy_gaps=narrative.policy_gaps(summary, slo),
        )
    )


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


# ---- post-incident follow-up and launch readiness (docs/metrics.md, "Follow-up", "Readiness") ----


def follow_up_table(summary: PeriodSummary) -> Any:
    columns = [("label", "Follow-up", False), ("value", summary.title, True), ("note", "", False)]
    return table(follow_up_rows(summary), columns, "No follow-up data for this period.")


def overdue_action_table(summary: PeriodSummary, limit: int | None = 15) -> Any:
    """The overdue action items, most overdue first (the first ``limit``; None: all)."""
    total = summary.follow_up.actions.overdue if summary.follow_up else 0
    columns = [
        ("action", "Overdue action item", False),
        ("key", "Key", False),
        ("incident", "Incident", False),
        ("service", "Service", False),
        ("owner", "Owner", False),
        ("due", "Due", False),
        ("overdue", "Overdue", True),
    ]
    shown = table(overdue_action_rows(summary, limit), columns, "No action item was overdue at the period end.")
    if limit is None or total <= limit:
        return shown
    from IPython.display import HTML

    return HTML(shown.data + f'<p class="srelib-empty">The {limit} most overdue of {total}.</p>')


def repeat_table(summary: PeriodSummary) -> Any:
    columns = [
        ("incident", "Incident", False),
        ("service", "Service", False),
        ("severity", "Severity", False),
        ("repeats", "Repeats", False),
        ("matched", "Matched by", False),
        ("after", "After", True),
        ("open", "Its actions still open", True),
    ]
    return table(repeat_rows(summary), columns, "No incident repeated one whose actions were still open.")


def postmortem_policy_table(summary: PeriodSummary) -> Any:
    severities = "/".join(summary.follow_up.postmortem_severities) if summary.follow_up else ""
    columns = [
        ("service", "Service", False),
        ("status", "Postmortem follow-up", False),
        ("missing", "Postmortems missing", False),
        ("overdue", f"Overdue {severities} actions", True),
        ("oldest", "Oldest overdue", True),
    ]
    return table(postmortem_policy_rows(summary), columns, "Every required postmortem and its actions are on time.")


def readiness_table(summary: PeriodSummary) -> Any:
    columns = [("label", "Readiness", False), ("value", summary.title, True), ("note", "", False)]
    return table(readiness_rows(summary), columns, "No readiness data for this period.")


def launch_table(summary: PeriodSummary) -> Any:
    columns = [
        ("launch", "Launch", False),
        ("service", "Service", False),
        ("launched", "Launched", False),
        ("status", "Review before launch", False),
        ("review", "Reviews", False),
        ("incidents", "Incidents since", True),
    ]
    return table(launch_rows(summary), columns, "No launches in this period.")


# ---- the annual review (docs/metrics.md, "Year") ----


def year_coverage(summary: PeriodSummary) -> Any:
    """Which months of the year the review's figures cover: said first, before any number."""
    return _html("empty.html.j2", message=annual.coverage_text(summary))


def year_messages(summary: PeriodSummary) -> Any:
    return _html(  # neutral bullets: a message may be good or bad news
        "highlights.html.j2", items=annual.key_messages(summary), css="messages", empty="No year to review."
    )


def year_value_table(summary: PeriodSummary) -> Any:
    columns = [("component", "Component", False), ("measure", "Measured as", False), ("value", "Value", True)]
    return table(annual.year_value_rows(summary), columns, "No value data for the year.", css="srelib-value")


def year_rate_table(summary: PeriodSummary) -> Any:
    columns = [
        ("span", "Span", False),
        ("months", "Months with data", True),
        ("incidents", "Incidents", True),
        ("rate", "Incidents per 30 days", True),
        ("ratio", "This year's rate ÷ that", True),
        ("verdict", "Change", False),
    ]
    return table(annual.rate_rows(summary), columns, "No incidents data for the year.")


def year_resolve_table(summary: PeriodSummary) -> Any:
    columns = [
        ("span", "Compared with", False),
        ("before", "Median time to resolve then", True),
        ("now", f"In {summary.title}", True),
        ("n", "Resolved incidents", True),
        ("verdict", "Change", False),
    ]
    return table(annual.resolve_rows(summary), columns, "No earlier incidents to compare with.")


def year_month_table(summary: PeriodSummary) -> Any:
    cur = summary.year.value.currency if summary.year and summary.year.value else ""
    columns = [
        ("month", "Month", False),
        ("incidents", "Incidents", True),
        ("high", "SEV1–SEV2", True),
        ("mttr", "Median time to resolve", True),
        ("slos", "SLOs met / at risk / breached", True),
        ("activities", "Activities held", True),
        ("teams", "Teams engaged", True),
        ("adoption", "Practice adoption", True),
        ("value", f"Value so far ({cur})", True),
        ("cost", f"Cost so far ({cur})", True),
    ]
    return table(annual.month_rows(summary), columns, "No year to review.")


def year_activity_table(summary: PeriodSummary) -> Any:
    columns = [
        ("activity", "Activity", False),
        ("family", "Family", False),
        ("held", "Held in the year", True),
        ("value", "Measured", True),
        ("target", "Target for the year", True),
        ("months", "Months with one", True),
        ("last_held", "Last held", False),
        ("status", "", False),
    ]
    return table(annual.year_activity_rows(summary), columns, "No activities recorded in the year.")


def year_survey_table(summary: PeriodSummary) -> Any:
    """Each survey per question, its latest wave in the year against the target."""
    return survey_table(annual.year_end_view(summary))


def initiative_outcome_table(summary: PeriodSummary) -> Any:
    columns = [
        ("initiative", "Initiative", False),
        ("started", "Started", False),
        ("mttr", "Time to resolve", False),
        ("rate", "Incident rate", False),
        ("cost", "Daily cloud cost", False),
    ]
    return table(annual.initiative_rows(summary), columns, "No initiatives in params/initiatives.yaml.")


def budget_burner_table(summary: PeriodSummary, limit: int | None = 10) -> Any:
    columns = [
        ("slo", "SLO", False),
        ("service", "Service", False),
        ("team", "Team", False),
        ("target", "Target", True),
        ("attainment", "Attainment over the year", True),
        ("consumed", "Error budget consumed", True),
        ("breached", "Months breached", True),
        ("at_risk", "Months at risk", True),
    ]
    return table(annual.burner_rows(summary, limit), columns, "No SLO had data in the year.")


def repeat_service_table(summary: PeriodSummary, limit: int | None = 10) -> Any:
    columns = [
        ("service", "Service", False),
        ("team", "Team", False),
        ("repeats", "Repeat incidents", True),
        ("open", "While earlier actions were open", True),
        ("incidents", "Incidents in the year", True),
    ]
    return table(annual.repeat_service_rows(summary, limit), columns, "No incident repeated an earlier one.")


def plan_inputs(summary: PeriodSummary) -> Any:
    return _html(
        "highlights.html.j2",
        items=annual.plan_inputs(summary),
        css="risks",
        empty="Nothing in the year's data calls for a change of plan.",
    )


# ---- the SRE programme against its plan (docs/metrics.md, "Programme") ----


def phase_table(summary: PeriodSummary) -> Any:
    columns = [("phase", "Phase", False), ("dates", "Dates", False), ("milestones", "Milestones met", True)]
    columns.append(("status", "", False))
    return table(programme.phase_rows(summary), columns, "No plan: params/org.yaml sets no programme_start.")


def milestone_table(summary: PeriodSummary) -> Any:
    columns = [
        ("milestone", "Milestone", False),
        ("phase", "Phase", False),
        ("due", "Due", False),
        ("first_met", "First met", False),
        ("evidence", "Evidence", False),
        ("figure", "So far", True),
        ("status", "", False),
    ]
    return table(programme.milestone_rows(summary), columns, "No milestones in params/programme.yaml.")


def criteria_table(summary: PeriodSummary) -> Any:
    columns = [
        ("criterion", "Success criterion", False),
        ("term", "Term", False),
        ("value", summary.title, True),
        ("threshold", "Threshold", True),
        ("trend", "Trend", False),
        ("direction", "Direction", False),
        ("status", "", False),
    ]
    return table(programme.criterion_rows(summary), columns, "No success criteria in params/programme.yaml.")


def programme_risks(summary: PeriodSummary) -> Any:
    """What is at risk next: milestones due soon or late, criteria moving away from their threshold."""
    return _html(
        "highlights.html.j2",
        items=programme.at_risk_texts(summary),
        css="risks",
        empty="Nothing at risk: no milestone is due next period unmet, and no criterion is moving away.",
    )


def programme_line(summary: PeriodSummary) -> Any:
    """One line on the programme for the executive summary (nothing without a plan)."""
    from IPython.display import Markdown

    if summary.programme is None:
        return None
    risks = programme.at_risk_texts(summary)
    more = f" Watch: {risks[0]}" if risks else ""
    return Markdown(escape_markdown(f"SRE programme: {programme.headline(summary.programme)}.{more}"))
