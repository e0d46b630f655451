"""Charts (Altair) over a PeriodSummary's aggregated trend, drawn without any network.

Altair's default renderers load Vega from a CDN, and its ``mimetype`` renderer writes
output that fails nbformat validation. :func:`enable` registers the ``srelib`` renderer:
each chart becomes a ``<div>`` plus a ``vegaEmbed(...)`` call, and the Vega, Vega-Lite
and Vega-Embed libraries (vl-convert's offline bundle) are emitted once per kernel as an
HTML output. The result draws in nbconvert HTML, voila and JupyterLab alike, offline.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

from srelib import present
from srelib.summary import PeriodSummary

RENDERER = "srelib"
SEVERITY_COLOURS = {"SEV1": "#7f0000", "SEV2": "#c62828", "SEV3": "#ef6c00", "SEV4": "#f9a825", "SEV5": "#9e9e9e"}
STATUS_COLOURS = {"Met": "#2e7d32", "At risk": "#f9a825", "Breached": "#c62828", "No data": "#e0e0e0"}


def _script_safe(text: str) -> str:
    """JSON placed inside <script> must not be able to close it or open a comment."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def javascript_bundle() -> str:
    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    known = vl_convert.get_vegalite_versions()
    # The stub says snippet is required; the docs say None gives the default (window globals).
    return vl_convert.javascript_bundle(None, vl_version=version if version in known else None)  # type: ignore[arg-type]


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


def _renderer(spec: dict[str, Any], **_options: Any) -> dict[str, str]:
    return {"text/html": chart_html(spec), "text/plain": "<chart>"}


alt.renderers.register(RENDERER, _renderer)


def enable() -> Any:
    """Use the offline renderer; returns the libraries' HTML to display once (IPython HTML)."""
    from IPython.display import HTML

    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()
    return HTML(bundle_html())


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
            tooltip=["period:O", "severity:N", "incidents:Q"],
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
                        "shown": present.minutes(value),
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
            tooltip=["period:O", "statistic:N", alt.Tooltip("shown:N", title="time"), "resolved:Q"],
        )
        .properties(width=560, height=220)
    )


def slo_status_grid(summary: PeriodSummary) -> alt.Chart | None:
    """One cell per SLO and period, coloured by status, attainment in the tooltip."""
    rows = [
        {
            "period": p.period,
            "slo": name,
            "status": present.STATUS_LABELS[r.status],
            "attainment": present.attainment(r.attainment, r.target),
            "target": present.target(r.target),
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
            tooltip=["slo:N", "period:O", "status:N", "attainment:N", "target:N"],
        )
        .properties(width=560, height=alt.Step(18))
    )


def burn_down(summary: PeriodSummary, limit: int = 8, only: list[str] | None = None) -> alt.Chart | None:
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
            "left": present.budget(p.remaining),
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
            tooltip=["slo:N", alt.Tooltip("day:T", format="%Y-%m-%d"), alt.Tooltip("left:N", title="budget left")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"percent": [0]})).mark_rule(color="#c62828", strokeDash=[4, 4]).encode(y="percent:Q")
    return (lines + zero).properties(width=560, height=240)


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
            tooltip=["period:O", "practice:N", "percent:Q"],
        )
        .properties(width=560, height=220)
    )
