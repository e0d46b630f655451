"""Reports as Markdown for the wiki and the blog: the text, its tables and its charts as images.

Seed §2 asks for "internal blog posts" and a "documentation hub". A report with a Markdown
edition (``ReportSpec.markdown``: each case study, the monthly reliability report) publishes
``NAME.md`` beside its page, with its charts as ``NAME-1.png``, ``NAME-2.png``, ... beside it,
each named in the text with alt text saying what it shows. The text is CommonMark with GitHub's
pipe tables, which Confluence, GitLab, GitHub and most blog engines take as pasted or imported.

Everything comes from the PeriodSummary, as the HTML report shows it: the key messages are the
narrative template's (:func:`srelib.present.narrative.render`), the tables the view models'
rows (:mod:`srelib.present.rows`), the charts :mod:`srelib.present.charts`' drawn as PNG by
vl-convert (offline). Data is untrusted: every value from it is escaped (:func:`inline`), so a
service called ``*bold* | [x](http://evil)`` reads as those characters, never as emphasis, a
table cell, a link or HTML; control characters and line breaks in it become spaces. (A bare web
address in a name may still be shown as a link by renderers that autolink, GitHub's among them: the
link is the visible text itself, so a reader sees exactly where it goes.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt

from srelib.present import charts, narrative
from srelib.present.rows import (
    Column,
    case_columns,
    case_delivery_columns,
    case_rows,
    four_keys_rows,
    kpi_rows,
)
from srelib.summary import PeriodSummary

WIDTH = 640  # a chart image's width in CSS pixels (drawn at twice that, for sharp screens)
HEIGHT = 240


def inline(value: Any) -> str:
    """``value`` as literal text inside a Markdown line or table cell: the narrative's own escaping
    (:func:`srelib.present.narrative.escape_markdown`) of the value on one line, runs of blanks as one."""
    return narrative.escape_markdown(" ".join(narrative.one_line(value).split()))


@dataclass(frozen=True)
class Figure:
    name: str  # the image's file name, beside the Markdown file
    alt: str  # what the chart shows, for readers who cannot see it
    png: bytes


@dataclass(frozen=True)
class Post:
    """A report's Markdown edition: the text and the chart images it names."""

    text: str
    figures: tuple[Figure, ...] = ()


def table(rows: list[dict[str, str]], columns: list[Column], empty: str) -> str:
    """A GitHub pipe table of formatted cells (numeric columns aligned right), or ``empty``."""
    if not rows:
        return f"_{inline(empty)}_"
    head = "| " + " | ".join(inline(heading) for _, heading, _ in columns) + " |"
    rule = "|" + "|".join("---:" if numeric else "---" for _, _, numeric in columns) + "|"
    body = ["| " + " | ".join(inline(row.get(key, "")) for key, _, _ in columns) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else "Chart"


class _Figures:
    """The post's charts, numbered in the order the text names them."""

    def __init__(self, stem: str) -> None:
        self.stem = stem
        self.drawn: list[Figure] = []

    def __call__(self, chart: alt.TopLevelMixin | None, describe: str, empty: str) -> str:
        """The Markdown image of ``chart`` (drawn now), or ``empty`` in words when there is none."""
        if chart is None:
            return f"_{inline(empty)}_"
        import vl_convert

        spec = chart.properties(width=WIDTH, height=HEIGHT).to_dict()
        name = f"{self.stem}-{len(self.drawn) + 1}.png"
        alt_text = f"{_title(spec)}: {describe}"
        self.drawn.append(Figure(name, alt_text, vl_convert.vegalite_to_png(spec, scale=2)))
        return f"![{inline(alt_text)}]({name})"


def _span(summary: PeriodSummary) -> str:
    periods = [p.title for p in summary.trend if p.covered]
    if not periods:
        return "no periods"
    return f"{periods[0]} to {periods[-1]}" if len(periods) > 1 else periods[0]


def _trend_charts(summary: PeriodSummary, image: _Figures) -> list[str]:
    span = _span(summary)
    return [
        image(
            charts.incidents_by_severity(summary),
            f"the incidents that started in each period from {span}, stacked by severity.",
            "No incidents in the last twelve periods.",
        ),
        image(
            charts.time_to_resolve(summary),
            f"the median and 90th percentile time to resolve in each period from {span}, in hours.",
            "No resolved incidents in the last twelve periods.",
        ),
    ]


def _heading(summary: PeriodSummary, title: str, org: str) -> list[str]:
    scope = f"team {summary.team}" if summary.team else org
    return [
        f"# {inline(title)}: {inline(summary.title)}",
        "",
        f"_{inline(scope)}, {inline(summary.start[:10])} to {inline(summary.end[:10])} "
        f"(end exclusive, {inline(summary.timezone)}); figures computed {inline(summary.generated_at)}._",
    ]


def _footer(page: str) -> list[str]:
    return [
        "---",
        "",
        f"_Every figure here is in the summary.json published beside the full report ({inline(page)}), "
        "which has the definitions._",
    ]


def monthly_reliability(summary: PeriodSummary, title: str, org: str, stem: str, **_: Any) -> Post:
    """The monthly reliability report's key messages, headline figures and trends."""
    image = _Figures(stem)
    before = summary.previous.title if summary.previous else "Previous period"
    kpis = table(
        kpi_rows(summary),
        [("label", "Figure", False), ("now", summary.title, True), ("before", before, True)],
        "No figures.",
    )
    parts = [
        *_heading(summary, title, org),
        "## Key messages",
        narrative.render(summary, "monthly_reliability"),
        "## Headline figures",
        kpis,
        "## Trends",
        *_trend_charts(summary, image),
        *_footer(f"{stem}.html"),
    ]
    return Post(_joined(parts), tuple(image.drawn))


def case_study(summary: PeriodSummary, title: str, org: str, stem: str, **params: Any) -> Post:
    """A case study: what the initiative changed, before and after (each change tested), the trend."""
    name = str(params.get("initiative") or "")
    effect = summary.initiatives.get(name)
    image = _Figures(stem)
    if effect is None:
        return Post(_joined([*_heading(summary, title, org), f"_No initiative {inline(name)} in the summary._"]))
    scope = ", ".join(effect.services) if effect.services else "every service"
    about = [
        f"**{inline(effect.title)}**, a {inline(effect.kind)} initiative, started {inline(effect.start)}"
        + (f"; owner {inline(effect.owner)}" if effect.owner else "")
        + ".",
        *([inline(effect.description)] if effect.description else []),
        f"Scope: {inline(scope)}. Before: the {effect.days_before:.0f} days up to the start; "
        f"after: the latest {effect.days_after:.0f} days.",
    ]
    empty = "The initiative has not started yet."
    parts = [
        f"# {inline(title)}: {inline(effect.title)}",
        "",
        f"_{inline(summary.team or org)}, up to {inline(summary.title)} ({inline(summary.timezone)}); "
        f"figures computed {inline(summary.generated_at)}._",
        "\n\n".join(about),
        "## What changed",
        narrative.render(summary, "case_study", **narrative.case_context(summary, name)),
        "## Before and after",
        "A change is called one only when its 95 % confidence interval excludes no change: a bootstrap "
        "interval of the difference of medians for durations and costs, an exact rate-ratio interval for "
        "incident counts, Welch's and Newcombe's intervals for the DORA four keys. Other changes made over "
        "the same months also count in these numbers: the comparison shows what changed, not what caused it.",
        table(case_rows(summary, name), case_columns(summary, name), empty),
        table(four_keys_rows(effect.delivery) if effect.delivery else [], case_delivery_columns(summary, name), empty),
        "## The trend",
        *_trend_charts(summary, image),
        *_footer(f"{stem}.html"),
    ]
    return Post(_joined(parts), tuple(image.drawn))


def _joined(parts: list[str]) -> str:
    text = "\n\n".join(part.strip("\n") for part in parts if part is not None)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


EDITIONS: dict[str, Callable[..., Post]] = {
    "monthly_reliability": monthly_reliability,
    "case_study": case_study,
}


def post(summary: PeriodSummary, report: str, title: str, org: str, stem: str | None = None, **params: Any) -> Post:
    """The Markdown edition of ``report`` (see :data:`EDITIONS`), its images named ``STEM-N.png``
    (``stem``: the report's name); ``params`` the report's own (``initiative`` for a case study)."""
    if report not in EDITIONS:
        raise KeyError(f"{report} has no Markdown edition: the reports with one are {', '.join(EDITIONS)}")
    return EDITIONS[report](summary, title, org, stem or report, **params)
