"""Charts (Altair) over a PeriodSummary's aggregated trend, drawn without any network.

Altair's default renderers load Vega from a CDN, and its ``mimetype`` renderer writes
output that fails nbformat validation. :func:`enable` registers the ``srelib`` renderer:
each chart becomes a ``<div>`` plus a ``vegaEmbed(...)`` call, and the Vega, Vega-Lite
and Vega-Embed libraries (vl-convert's offline bundle) are emitted once per kernel as an
HTML output. The result draws in nbconvert HTML, voila and JupyterLab alike, offline.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from functools import cache
from importlib.metadata import version as version_of
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

from srelib.files import atomic_write
from srelib.present import format as show
from srelib.summary import PeriodSummary

__all__ = [
    "RENDERER",
    "SEVERITY_COLOURS",
    "STATUS_COLOURS",
    "activities_by_family",
    "adoption_trend",
    "budget_burners",
    "bundle_html",
    "burn_down",
    "chart_html",
    "delivery_trend",
    "drawn",
    "enable",
    "incidents_by_severity",
    "javascript_bundle",
    "programme_timeline",
    "roi_tornado",
    "slo_status_grid",
    "spend_trend",
    "survey_trend",
    "time_to_resolve",
    "year_engagement",
    "year_incidents",
    "year_value",
]

RENDERER = "srelib"
BUNDLE_END = "\n// srelib: the bundle ends here\n"
SEVERITY_COLOURS = {"SEV1": "#7f0000", "SEV2": "#c62828", "SEV3": "#ef6c00", "SEV4": "#f9a825", "SEV5": "#9e9e9e"}
STATUS_COLOURS = {"Met": "#2e7d32", "At risk": "#f9a825", "Breached": "#c62828", "No data": "#e0e0e0"}


def _script_safe(text: str) -> str:
    """JSON placed inside <script> must not be able to close it or open a comment."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def bundle_cache() -> Path:
    """Where the chart libraries' bundle is kept between processes (``$XDG_CACHE_HOME/srelib``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "srelib"


@cache
def javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script, from vl-convert. Building it takes vl-convert
    about 1.5 s, in every kernel and process that draws: it is kept in :func:`bundle_cache`, one
    file per vl-convert and Vega-Lite version (a cache that cannot be read or written is skipped)."""
    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    chosen = version if version in vl_convert.get_vegalite_versions() else None
    release = version_of("vl-convert-python")
    path = bundle_cache() / f"vega-bundle-vl-convert-{release}-vega-lite-{chosen or 'default'}.js"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        kept = path.read_text(encoding="utf-8")
        if kept.endswith(BUNDLE_END):  # whole (files are written in one rename anyway)
            return kept[: -len(BUNDLE_END)]
    # The stub says snippet is required; the docs say None gives the default (window globals).
    bundle: str = vl_convert.javascript_bundle(None, vl_version=chosen)  # type: ignore[arg-type]
    with contextlib.suppress(OSError):
        atomic_write(path, bundle + BUNDLE_END)
    return bundle


def bundle_html() -> str:
    """The chart libraries as one inline script (about 0.9 MB), to emit once per page."""
    return f'<script type="text/javascript">{javascript_bundle()}</script>'


def chart_html(spec: dict[str, Any]) -> str:
    element = f"srelib-chart-{uuid.uuid4().hex[:12]}"
    payload = _script_safe(json.dumps(spec, sort_keys=True))
    return (
        f'<div id="{element}" class="srelib-chart"></div>\n'
        '<script type="text/javascript">(function () {\n'
        f"  var el = document.getElementById('{element}');\n"
        f"  var spec = {payload};\n"
        "  function draw() {\n"
        "    window.vegaEmbed(el, spec, {actions: false, renderer: 'svg'}).catch(function (err) {\n"
        "      el.textContent = 'This chart could not be drawn: ' + err; });\n"
        "  }\n"
        "  if (window.vegaEmbed) { draw(); } else { window.addEventListener('load', draw); }\n"
        "})();</script>"
    )


def drawn(chart: alt.TopLevelMixin) -> Any:
    """A chart as the renderer draws it, without validating its spec against Vega-Lite's schema
    again (about 7 ms a chart): for a dashboard's redraw, where the same chart functions have
    drawn validated specs in every report and test."""
    from IPython.display import HTML

    return HTML(chart_html(chart.to_dict(validate=False)))


def _renderer(spec: dict[str, Any], **_options: Any) -> dict[str, str]:
    return {"text/html": chart_html(spec), "text/plain": "<chart>"}


alt.renderers.register(RENDERER, _renderer)


def enable() -> Any:
    """Use the offline renderer; returns the libraries' HTML to display once (IPython HTML)."""
    from IPython.display import HTML

    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()
    return HTML(bundle_html())


def _tooltip(*fields: str | alt.Tooltip) -> list[alt.Tooltip]:
    """Tooltip channels; shorthand strings are made channels here, since Altair otherwise wraps
    a list of strings by validating against its whole schema (about 7 ms a chart; a dashboard
    redraws three per filter change)."""
    return [alt.Tooltip(field) if isinstance(field, str) else field for field in fields]


def _covered(summary: PeriodSummary) -> list[Any]:
    return [p for p in summary.trend if p.covered]


def incidents_by_severity(summary: PeriodSummary) -> alt.Chart | None:
    """Stacked bars: incidents started per period, by severity."""
    rows = [
        {"period": p.period, "severity": sev, "incidents": n}
        for p in _covered(summary)
        for sev, n in p.incidents.by_severity.items()
    ]
    if not rows or not any(r["incidents"] for r in rows):
        return None
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, title="Incidents per period, by severity")
        .mark_bar()
        .encode(
            x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(incidents):Q", title="Incidents"),
            color=alt.Color(
                "severity:N",
                scale=alt.Scale(domain=list(SEVERITY_COLOURS), range=list(SEVERITY_COLOURS.values())),
                legend=alt.Legend(title="Severity"),
            ),
            order=alt.Order("severity:N", sort="descending"),
            tooltip=_tooltip("period:O", "severity:N", "incidents:Q"),
        )
        .properties(width=560, height=220)
    )


def time_to_resolve(summary: PeriodSummary) -> alt.Chart | None:
    """Median and p90 time to resolve per period, in hours (medians lead: means mislead)."""
    rows = []
    for p in _covered(summary):
        stats = p.incidents.mttr_minutes
        for label, value in (("median", stats.median), ("p90", stats.p90)):
            if value is not None:
                rows.append(
                    {
                        "period": p.period,
                        "statistic": label,
                        "hours": round(value / 60, 3),
                        "shown": show.minutes(value),
                        "resolved": stats.n,
                    }
                )
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, title="Time to resolve (median and 90th percentile)")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("hours:Q", title="Hours"),
            color=alt.Color(
                "statistic:N",
                scale=alt.Scale(domain=["median", "p90"], range=["#1f4e79", "#9ecae1"]),
                legend=alt.Legend(title=None),
            ),
            tooltip=_tooltip("period:O", "statistic:N", alt.Tooltip("shown:N", title="time"), "resolved:Q"),
        )
        .properties(width=560, height=220)
    )


def slo_status_grid(summary: PeriodSummary) -> alt.Chart | None:
    """One cell per SLO and period, coloured by status, attainment in the tooltip."""
    rows = [
        {
            "period": p.period,
            "slo": name,
            "status": show.STATUS_LABELS[r.status],
            "attainment": show.attainment(r.attainment, r.target),
            "target": show.target(r.target),
        }
        for p in _covered(summary)
        for name, r in p.slos.items()
    ]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, title="SLO status per period")
        .mark_rect(stroke="white")
        .encode(
            x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("slo:N", title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
                legend=alt.Legend(title="Status"),
            ),
            tooltip=_tooltip("slo:N", "period:O", "status:N", "attainment:N", "target:N"),
        )
        .properties(width=560, height=alt.Step(18))
    )


def burn_down(summary: PeriodSummary, limit: int = 8, only: list[str] | None = None) -> alt.LayerChart | None:
    """Error budget left over each SLO's window, day by day through the period.

    The ``limit`` SLOs with the least budget left at the period end are drawn (all of them when
    fewer), so the chart stays readable; the rest are in the budget table.
    """
    series = {
        name: [p for p in b.burn_down if p.remaining is not None]
        for name, b in summary.slo_budgets.items()
        if any(p.remaining is not None for p in b.burn_down) and (only is None or name in only)
    }
    if not series:
        return None
    worst = sorted(series, key=lambda n: (series[n][-1].remaining or 0.0, n))[:limit]
    rows = [
        {
            "day": p.day,
            "slo": name,
            "percent": round(100 * max(p.remaining or 0.0, -1.0), 2),  # clipped at −100 %
            "left": show.budget(p.remaining),
        }
        for name in worst
        for p in series[name]
    ]
    frame = pd.DataFrame(rows)
    title = "Error budget left over each SLO's window" + (f" (the {limit} lowest)" if len(series) > limit else "")
    lines = (
        alt.Chart(frame, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("percent:Q", title="Budget left (%)", scale=alt.Scale(domainMax=100)),
            color=alt.Color("slo:N", legend=alt.Legend(title="SLO")),
            tooltip=_tooltip(
                "slo:N", alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("left:N", title="budget left")
            ),
        )
    )
    zero = alt.Chart(pd.DataFrame({"percent": [0]})).mark_rule(color="#c62828", strokeDash=[4, 4]).encode(y="percent:Q")
    layers = [
        lines,
        zero,
        *_annotation_layers(summary, worst, deployments=only is not None, bottom=frame.percent.min()),
    ]
    # the SLOs' colours and the annotations' are two scales, each with its legend
    return alt.LayerChart(layer=layers).resolve_scale(color="independent").properties(width=560, height=240)


ANNOTATION_COLOURS = {"incident": "#c62828", "note": "#1f4e79", "deployments": "#757575"}


def _annotation_layers(summary: PeriodSummary, slos: list[str], deployments: bool, bottom: float) -> list[Any]:
    """What happened to the drawn SLOs' services (summary ``annotations``): a rule on the day of each
    SEV1/SEV2 incident and note, with a tooltip; with ``deployments`` (one SLO's chart), a marker
    at the foot of the chart on each day with deployments. Several SLOs' charts leave the
    deployments out: dozens of marks a month would hide the lines."""
    services = {name: summary.slos[name].service for name in slos if name in summary.slos}
    seen: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for a in summary.annotations:
        if a.kind == "deployments" and not deployments:
            continue
        if any(a.service == service and a.slo in (None, name) for name, service in services.items()):
            label = {"incident": "incident", "note": "note", "deployments": "deployments"}[a.kind]
            seen.setdefault(
                (a.at, a.kind, a.service, a.text),
                {"day": a.day, "kind": label, "when": a.at.replace("T", " "), "service": a.service, "text": a.text},
            )
    if not seen:
        return []
    rows = list(seen.values())
    kinds = [k for k in ANNOTATION_COLOURS if any(r["kind"] == k for r in rows)]
    scale = alt.Scale(domain=kinds, range=[ANNOTATION_COLOURS[k] for k in kinds])
    colour = alt.Color(
        "kind:N",
        scale=scale,
        legend=alt.Legend(title="What happened"),
    )
    tooltip = _tooltip(alt.Tooltip("when:N", title="when"), "kind:N", "service:N", alt.Tooltip("text:N", title="what"))
    marks = []
    ruled = pd.DataFrame([r for r in rows if r["kind"] != "deployments"])
    if not ruled.empty:
        marks.append(
            alt.Chart(ruled).mark_rule(strokeWidth=2, opacity=0.7).encode(x="day:T", color=colour, tooltip=tooltip)
        )
    deployed = pd.DataFrame([{**r, "percent": min(bottom, 0.0)} for r in rows if r["kind"] == "deployments"])
    if not deployed.empty:
        marks.append(
            alt.Chart(deployed)
            .mark_point(shape="triangle-up", filled=True, size=60)
            .encode(x="day:T", y="percent:Q", color=alt.Color("kind:N", scale=scale, legend=None), tooltip=tooltip)
        )
    return marks


def adoption_trend(summary: PeriodSummary) -> alt.Chart | None:
    """Share of teams that have adopted each SRE practice, at the end of each period."""
    if summary.engagement is None:
        return None
    covered = {p.period for p in _covered(summary)}
    rows = [
        {"period": period, "practice": practice.replace("_", " "), "percent": round(100 * rate, 1)}
        for period, rates in summary.engagement.adoption_trend.items()
        if period in covered
        for practice, rate in rates.items()
        if rate is not None
    ]
    if not rows:
        return None
    return (
        alt.Chart(pd.DataFrame(rows), title="SRE practice adoption (share of teams)")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("percent:Q", title="Teams (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("practice:N", legend=alt.Legend(title="Practice")),
            tooltip=_tooltip("period:O", "practice:N", "percent:Q"),
        )
        .properties(width=560, height=220)
    )


def activities_by_family(summary: PeriodSummary) -> alt.VConcatChart | None:
    """One chart per activity family: how many of each kind were held in each trend period."""
    from srelib.present.activities import FAMILY_TITLES

    a = summary.activities
    if a is None:
        return None
    panels = []
    for family, title in FAMILY_TITLES.items():
        rows = [
            {"period": period, "activity": activity.title, "held": n}
            for activity in a.kinds.values()
            if activity.family == family and any(activity.counts.values())
            for period, n in activity.counts.items()
        ]
        if not rows:
            continue
        panels.append(
            alt.Chart(pd.DataFrame(rows), title=f"{title}: activities held per period")
            .mark_bar()
            .encode(
                x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
                y=alt.Y("sum(held):Q", title="Held"),
                color=alt.Color("activity:N", legend=alt.Legend(title=title)),
                tooltip=_tooltip("period:O", "activity:N", alt.Tooltip("sum(held):Q", title="held")),
            )
            .properties(width=520, height=140)
        )
    if not panels:
        return None
    return alt.vconcat(*panels).resolve_scale(color="independent")


def survey_trend(summary: PeriodSummary, only: tuple[str, ...] | None = None) -> alt.VConcatChart | None:
    """Each survey's mean score per question over the trend periods, with its target as a line
    (``only``: those surveys, in that order)."""
    panels = []
    chosen = summary.surveys if only is None else {k: summary.surveys[k] for k in only if k in summary.surveys}
    for survey in chosen.values():
        rows = [
            {"period": period, "question": q.question or "(no question given)", "mean": mean}
            for q in survey.questions
            for period, mean in q.trend.items()
            if mean is not None
        ]
        if not rows:
            continue
        low, high = survey.scale
        lines = (
            alt.Chart(pd.DataFrame(rows))
            .mark_line(point=True)
            .encode(
                x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
                y=alt.Y("mean:Q", title="Mean score", scale=alt.Scale(domain=[low, high])),
                color=alt.Color("question:N", legend=alt.Legend(title="Question", labelLimit=360)),
                tooltip=_tooltip("period:O", "question:N", alt.Tooltip("mean:Q", format=".2f")),
            )
        )
        layers: alt.Chart | alt.LayerChart = lines
        if survey.target is not None:
            rule = (
                alt.Chart(pd.DataFrame({"target": [survey.target]}))
                .mark_rule(color="#c62828", strokeDash=[4, 4])
                .encode(y="target:Q")
            )
            layers = lines + rule
        panels.append(layers.properties(title=f"{survey.title}: mean score per question", width=520, height=160))
    if not panels:
        return None
    return alt.vconcat(*panels).resolve_scale(color="independent")


# ---- the annual review: a year month by month (PeriodSummary.year) ----


def _year_months(summary: PeriodSummary) -> list[Any]:
    return [m for m in summary.year.months if m.covered] if summary.year else []


def year_incidents(summary: PeriodSummary) -> alt.VConcatChart | None:
    """The year's covered months: incidents started (SEV1 and SEV2 apart) and the median time to resolve."""
    months = _year_months(summary)
    if not any(m.incidents for m in months):
        return None
    counts = pd.DataFrame(
        [
            {"month": m.period, "which": which, "incidents": n}
            for m in months
            for which, n in (("All incidents", m.incidents), ("SEV1 and SEV2", m.high_severity))
        ]
    )
    bars = (  # the SEV1 and SEV2 bar drawn over the month's whole bar, never stacked on it
        alt.Chart(counts, title="Incidents per month")
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("incidents:Q", title="Incidents", stack=None),
            color=alt.Color(
                "which:N",
                scale=alt.Scale(domain=["All incidents", "SEV1 and SEV2"], range=["#9e9e9e", "#c62828"]),
                legend=alt.Legend(title=None),
            ),
            order=alt.Order("which:N"),
            tooltip=_tooltip("month:O", "which:N", "incidents:Q"),
        )
        .properties(width=560, height=160)
    )
    resolve = pd.DataFrame(
        [{"month": m.period, "minutes": m.mttr_median_minutes} for m in months if m.mttr_median_minutes is not None]
    )
    if resolve.empty:
        return alt.vconcat(bars)
    line = (
        alt.Chart(resolve, title="Median time to resolve per month")
        .mark_line(point=True, color="#1f4e79")
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("minutes:Q", title="Minutes"),
            tooltip=_tooltip("month:O", alt.Tooltip("minutes:Q", format=".0f")),
        )
        .properties(width=560, height=140)
    )
    return alt.vconcat(bars, line)


def year_value(summary: PeriodSummary) -> alt.Chart | None:
    """Value delivered and programme cost, accumulated over the year's covered programme months."""
    y = summary.year
    if y is None or y.value is None:
        return None
    rows = [
        {"month": m.period, "what": what, "amount": amount}
        for m in y.months
        for what, amount in (("Value delivered", m.cumulative_value), ("Programme cost", m.cumulative_cost))
        if amount is not None
    ]
    if not rows:
        return None
    return (
        alt.Chart(pd.DataFrame(rows), title=f"Value and cost accumulated through the year ({y.value.currency})")
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("amount:Q", title=y.value.currency),
            color=alt.Color(
                "what:N",
                scale=alt.Scale(domain=["Value delivered", "Programme cost"], range=["#2e7d32", "#c62828"]),
                legend=alt.Legend(title=None),
            ),
            tooltip=_tooltip("month:O", "what:N", alt.Tooltip("amount:Q", format=",.0f")),
        )
        .properties(width=560, height=200)
    )


def year_engagement(summary: PeriodSummary) -> alt.VConcatChart | None:
    """The programme's reach month by month: activities held, teams engaged and collaboration events;
    practice adoption and training participation as shares."""
    months = [m for m in (summary.year.months if summary.year else []) if m.teams_engaged is not None]
    if not months:
        return None
    counts = pd.DataFrame(
        [
            {"month": m.period, "figure": figure, "value": value}
            for m in months
            for figure, value in (
                ("Activities held", m.activities),
                ("Teams engaged", m.teams_engaged),
                ("Collaboration events", m.collaboration_events),
            )
            if value is not None
        ]
    )
    shares = pd.DataFrame(
        [
            {"month": m.period, "figure": figure, "percent": round(100 * value, 1)}
            for m in months
            for figure, value in (
                ("Practice adoption", m.practice_adoption_rate),
                ("Training participation", m.training_participation_rate),
            )
            if value is not None
        ]
    )
    panels = [
        alt.Chart(counts, title="Engagement per month")
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("value:Q", title="Count"),
            color=alt.Color("figure:N", legend=alt.Legend(title=None)),
            tooltip=_tooltip("month:O", "figure:N", "value:Q"),
        )
        .properties(width=560, height=160)
    ]
    if not shares.empty:
        panels.append(
            alt.Chart(shares, title="Adoption and participation (%)")
            .mark_line(point=True)
            .encode(
                x=alt.X("month:O", title=None),
                y=alt.Y("percent:Q", title="%", scale=alt.Scale(domain=[0, 100])),
                color=alt.Color("figure:N", legend=alt.Legend(title=None)),
                tooltip=_tooltip("month:O", "figure:N", "percent:Q"),
            )
            .properties(width=560, height=160)
        )
    return alt.vconcat(*panels).resolve_scale(color="independent")


def budget_burners(summary: PeriodSummary, limit: int = 10) -> alt.LayerChart | None:
    """The share of its error budget each SLO consumed over the year, most first, against the whole budget."""
    burners = summary.year.budget_burners[:limit] if summary.year else []
    rows = [
        {"slo": b.display_name or b.slo, "percent": round(100 * b.budget_consumed, 1)}
        for b in burners
        if b.budget_consumed is not None
    ]
    if not rows:
        return None
    order = [str(r["slo"]) for r in rows]
    bars = (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar(color="#e07a1f")
        .encode(
            x=alt.X("percent:Q", title="Error budget consumed over the year (%)"),
            y=alt.Y("slo:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            tooltip=_tooltip("slo:N", "percent:Q"),
        )
    )
    whole = (
        alt.Chart(pd.DataFrame({"percent": [100]})).mark_rule(color="#c62828", strokeDash=[4, 4]).encode(x="percent:Q")
    )
    return (bars + whole).properties(title="Error budget consumed, most first", width=520, height=22 * len(rows))


PROGRAMME_COLOURS = {  # a phase's or milestone's status: its colour
    "Done": "#2e7d32",
    "Done late": "#f9a825",
    "In progress": "#1f4e79",
    "On plan": "#9e9e9e",
    "Upcoming": "#e0e0e0",
    "Late": "#c62828",
}


def programme_timeline(summary: PeriodSummary) -> alt.LayerChart | alt.FacetChart | None:
    """The plan on a time line: each phase a bar over its dates, each milestone a bar from its due
    day to the day it was first met (a point when on the day or without one), coloured by status,
    with a rule at the period's end (the "as of" of every status)."""
    from srelib.present.programme import timeline_rows

    rows = timeline_rows(summary)
    if not rows or summary.programme is None:
        return None
    frame = pd.DataFrame(rows)
    order = list(dict.fromkeys(frame["row"]))
    statuses = [s for s in PROGRAMME_COLOURS if s in set(frame["status"])]
    y = alt.Y("row:N", title=None, sort=order, axis=alt.Axis(labelLimit=320))
    colour = alt.Color(
        "status:N",
        scale=alt.Scale(domain=statuses, range=[PROGRAMME_COLOURS[s] for s in statuses]),
        legend=alt.Legend(title="Status"),
    )
    tooltip = ["row:N", "status:N", "detail:N"]
    bars = (
        alt.Chart(frame)
        .mark_bar(height=10)
        .encode(x=alt.X("start:T", title=None), x2="end:T", y=y, color=colour, tooltip=tooltip)
    )
    points = (
        alt.Chart(frame[frame["kind"] == "milestone"])
        .mark_point(filled=True, size=70, shape="diamond")
        .encode(x="due:T", y=y, color=colour, tooltip=tooltip)
    )
    as_of = (
        alt.Chart(pd.DataFrame({"as_of": [summary.programme.as_of]}))
        .mark_rule(color="#333333", strokeDash=[4, 4])
        .encode(x="as_of:T")
    )
    return alt.layer(bars, points, as_of, title=f"The plan as of {summary.title}").properties(
        width=560, height=max(160, 22 * len(order))
    )


def roi_tornado(summary: PeriodSummary) -> alt.LayerChart | None:
    """What moves the return most: a bar per assumption (and the downtime interval) from the ROI at
    its low figure to the ROI at its high one, the others at base; the base ROI as a rule."""
    v = summary.value
    if v is None or v.roi.range is None or v.roi.roi is None or not v.roi.range.sensitivity:
        return None
    from srelib.present.rows import ASSUMPTION_LABELS

    rows = [
        {
            "assumption": ASSUMPTION_LABELS.get(s.name, s.name),
            "from": round(100 * min(s.roi_low or 0.0, s.roi_high or 0.0), 1),
            "to": round(100 * max(s.roi_low or 0.0, s.roi_high or 0.0), 1),
            "at_low": show.ratio(s.roi_low),
            "at_high": show.ratio(s.roi_high),
        }
        for s in v.roi.range.sensitivity
    ]
    order = [str(r["assumption"]) for r in rows]
    bars = (
        alt.Chart(pd.DataFrame(rows), title="Return on investment at each assumption's low and high (%)")
        .mark_bar(color="#1f4e79")
        .encode(
            x=alt.X("from:Q", title="ROI (%)"),
            x2="to:Q",
            y=alt.Y("assumption:N", sort=order, title=None),
            tooltip=_tooltip(
                "assumption:N",
                alt.Tooltip("at_low:N", title="ROI at low"),
                alt.Tooltip("at_high:N", title="ROI at high"),
            ),
        )
    )
    base = (
        alt.Chart(pd.DataFrame({"roi": [round(100 * v.roi.roi, 1)]}))
        .mark_rule(color="#e07a1f", strokeWidth=2)
        .encode(x="roi:Q")
    )
    zero = alt.Chart(pd.DataFrame({"roi": [0]})).mark_rule(color="#c62828", strokeDash=[4, 4]).encode(x="roi:Q")
    return (bars + base + zero).properties(width=560, height=alt.Step(28))


def spend_trend(summary: PeriodSummary, services: int = 6) -> alt.Chart | None:
    """Cloud spend (EffectiveCost) per period, stacked by service: the ``services`` costliest of the
    latest period apart, the others together."""
    points = [p for p in summary.spend if p.by_service]
    if not points:
        return None
    latest = points[-1].by_service
    top = sorted(latest, key=lambda name: (-latest[name], name))[:services]
    rows = []
    for p in points:
        other = sum(amount for name, amount in p.by_service.items() if name not in top)
        parts = [(name, p.by_service.get(name, 0.0)) for name in top] + [("other services", other)]
        rows += [
            {"period": p.period, "service": name, "cost": round(amount, 2), "rank": rank}
            for rank, (name, amount) in enumerate(parts)
            if amount
        ]
    currency = summary.value.roi.currency if summary.value else ""
    return (
        alt.Chart(pd.DataFrame(rows), title=f"Cloud spend per period, by service ({currency}, EffectiveCost)")
        .mark_bar()
        .encode(
            x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(cost):Q", title=currency),
            color=alt.Color("service:N", sort=[*top, "other services"], legend=alt.Legend(title="Service")),
            order=alt.Order("rank:Q"),  # stacked as the legend reads, the costliest at the bottom
            tooltip=_tooltip("period:O", "service:N", alt.Tooltip("cost:Q", format=",.0f")),
        )
        .properties(width=560, height=220)
    )


def delivery_trend(summary: PeriodSummary) -> alt.VConcatChart | None:
    """The DORA four keys per period over the trend: deployments, median lead time, change failure
    rate and median failed deployment recovery time (the period's own figures, not the bands)."""
    points = [(p.period, p.delivery) for p in _covered(summary) if p.delivery is not None]
    if not any(d.deployments for _, d in points):
        return None
    rows = [
        {"period": period, "key": key, "value": value}
        for period, d in points
        for key, value in (
            ("Deployments", float(d.deployments)),
            ("Median lead time (h)", None if d.lead_time_minutes.median is None else d.lead_time_minutes.median / 60),
            ("Change failure rate (%)", None if d.change_failure_rate is None else 100 * d.change_failure_rate),
            (
                "Median recovery time (h)",
                None
                if d.failed_deployment_recovery_minutes.median is None
                else d.failed_deployment_recovery_minutes.median / 60,
            ),
        )
        if value is not None
    ]
    frame = pd.DataFrame(rows)
    encoded = []
    for key in ("Deployments", "Median lead time (h)", "Change failure rate (%)", "Median recovery time (h)"):
        if not (frame["key"] == key).any():
            continue
        chart = alt.Chart(frame[frame["key"] == key], title=key)
        marked = (
            chart.mark_bar(color="#1f4e79") if key == "Deployments" else chart.mark_line(point=True, color="#1f4e79")
        )
        encoded.append(
            marked.encode(
                x=alt.X("period:O", title=None, axis=alt.Axis(labelAngle=-45)),
                y=alt.Y("value:Q", title=None),
                tooltip=_tooltip("period:O", alt.Tooltip("value:Q", format=",.1f")),
            ).properties(width=260, height=120)
        )
    rows_of_two = [alt.hconcat(*encoded[i : i + 2]) for i in range(0, len(encoded), 2)]
    return alt.vconcat(*rows_of_two)


def satisfaction_trend(summary: PeriodSummary) -> alt.VConcatChart | None:
    """NPS per period with its 95 % interval (a band), and the mean CSAT and developer experience
    per period: each period's own figures (``summary.satisfaction``), periods without responses left
    out, so a survey run each quarter reads as its waves."""
    nps = [
        {"period": p.period, "nps": p.nps, "low": p.nps_low, "high": p.nps_high, "responses": p.nps_responses}
        for p in summary.satisfaction
        if p.nps is not None
    ]
    means = [
        {"period": p.period, "survey": label, "mean": survey.mean, "responses": survey.n}
        for p in summary.satisfaction
        for label, survey in (("CSAT", p.csat), ("Developer experience", p.devex))
        if survey.mean is not None
    ]
    if not nps and not means:
        return None
    periods = [p.period for p in summary.satisfaction]
    x = alt.X("period:O", title=None, sort=periods, axis=alt.Axis(labelAngle=-45))
    panels: list[Any] = []
    if nps:
        base = alt.Chart(pd.DataFrame(nps))
        band = base.mark_errorbar(ticks=True, color="#1565c0").encode(
            x=x, y=alt.Y("low:Q", title="NPS", scale=alt.Scale(domain=[-100, 100])), y2="high:Q"
        )
        line = base.mark_line(point=True, color="#1565c0").encode(
            x=x,
            y="nps:Q",
            tooltip=_tooltip(
                "period:O",
                alt.Tooltip("nps:Q", title="NPS", format="+.0f"),
                alt.Tooltip("low:Q", title="95 % interval from", format="+.0f"),
                alt.Tooltip("high:Q", title="to", format="+.0f"),
                "responses:Q",
            ),
        )
        panels.append(
            (band + line).properties(title="Net Promoter Score with its 95 % interval", width=520, height=170)
        )
    if means:
        panels.append(
            alt.Chart(pd.DataFrame(means), title="Mean score: customer satisfaction and developer experience")
            .mark_line(point=True)
            .encode(
                x=x,
                y=alt.Y("mean:Q", title="Mean score (1–5)", scale=alt.Scale(domain=[1, 5])),
                color=alt.Color("survey:N", legend=alt.Legend(title="Survey")),
                tooltip=_tooltip("period:O", "survey:N", alt.Tooltip("mean:Q", format=".2f"), "responses:Q"),
            )
            .properties(width=520, height=170)
        )
    return alt.vconcat(*panels)
