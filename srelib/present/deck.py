"""The slide deck executives present: one message per slide, the report's own tables and charts,
speaker notes with the definitions behind the figures.

A deck is built from the same :class:`~srelib.summary.PeriodSummary` as its report (so every
number on a slide is in ``summary.json``), with the report's own table and chart functions. Each
slide's message is what the report's key messages say on that topic
(:func:`srelib.present.narrative.topic`), never new wording of the same figures. The page
(``templates/deck/deck.html.j2``) is one self-contained file: the chart libraries inline, no
request to the network, arrow keys and Page Up/Down to move, ``N`` for the notes, and one slide
per printed page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import altair as alt
import jinja2
from markupsafe import Markup

from srelib import __version__
from srelib.config import OrgConfig
from srelib.present import annual, charts, highlights, narrative, programme
from srelib.present import format as show
from srelib.present import report as pages
from srelib.resources import templates_dir
from srelib.summary import PeriodSummary

# Speaker notes: how the figures on a slide are defined (docs/metrics.md says it in full).
NOTES = {
    "source": "Every number in this deck comes from summary.json published beside the report; "
    "docs/metrics.md defines each one.",
    "value": "Value delivered = toil removed by automation (hours saved × the hourly rate) + the cost "
    "initiatives' savings (expected cost from the baseline's daily cost − actual cost) + downtime avoided "
    "(the baseline's customer-impacting minutes per day × the period's days − the period's minutes, × the "
    "cost of a minute of downtime). ROI = (value delivered − programme cost) ÷ programme cost.",
    "range": "The range takes every combination of each assumption at its low and high figure "
    "(params/value.yaml) and the downtime avoided at the ends of its 95 % interval (a bootstrap over the "
    "baseline's days). The ROI is linear in each, so its extremes are at these corners. The tornado shows "
    "the ROI with one assumption at its low and high, the others at base.",
    "wins": "A comparison counts as a win only when its 95 % confidence interval excludes no change "
    "(bootstrap of the difference of medians for durations, an exact test for rates).",
    "risks": "Risks: SLOs breached or with little budget left, the error budget policy's release freezes, "
    "overdue postmortem actions and clear changes for the worse.",
    "reliability": "An incident belongs to the period its impact started. Time to resolve = resolved − "
    "started, median over resolved incidents; open incidents are counted but never in a time to resolve. "
    "The baseline is the months before the programme started; a change is called only when the 95 % "
    "interval excludes no change.",
    "delivery": "The DORA four keys as dora-team/fourkeys computes them: deployments per day, lead time "
    "(deployed − committed, median), change failure rate (deployments that caused an incident ÷ "
    "deployments) and failed deployment recovery time (median time to resolve of the incidents they caused).",
    "satisfaction": "CSAT: mean score of the csat survey (1–5). NPS: % promoters (9–10) − % detractors "
    "(0–6), −100 to 100, with its 95 % interval (adjusted Wald). Developer experience: mean score of the "
    "devex survey. Against the baseline: CSAT and developer experience by Welch's interval of the "
    "difference of means, NPS by the adjusted Wald interval of the difference; a gain only when the "
    "interval excludes no change.",
    "spend": "Cloud spend: FOCUS EffectiveCost, each row allocated to the period by the overlap of its "
    "charge period with it, per service of the export.",
    "slos": "SLO attainment = good ÷ all events (Occurrences), good slices ÷ slices with traffic "
    "(Timeslices) or the mean of the slices' ratios (RatioTimeslices). Error budget left = 1 − (1 − "
    "attainment) ÷ (1 − target). At risk: less budget left than params/org.yaml's threshold.",
    "incidents": "Incidents counted by severity in each period of the trend; an incident belongs to the "
    "period its impact started.",
    "programme": "The programme against params/programme.yaml: milestones on plan, late or done, and "
    "each success criterion met or not as of the period's end.",
    "year": "The year's figures cover the months the data cover; incidents are compared per day covered, "
    "so a year covered in part compares fairly.",
}


@dataclass(frozen=True)
class Slide:
    topic: str  # the small heading above the message
    message: str  # the one thing the slide says (plain text)
    parts: tuple[str, ...] = ()  # HTML: the report's tables and charts, as the report draws them
    notes: str = ""  # speaker notes (plain text)


@dataclass(frozen=True)
class Deck:
    title: str
    subtitle: str
    slides: tuple[Slide, ...]


SlideMaker = Callable[[PeriodSummary], "Slide | None"]


def html_of(part: Any) -> str:
    """A report part as HTML: a chart (Altair) as the report draws it, a table (IPython HTML) as is."""
    if part is None:
        return ""
    if isinstance(part, alt.TopLevelMixin):
        return charts.chart_html(part.to_dict())
    return str(part.data)


def _slide(topic: str, message: str | None, parts: list[Any], notes: str) -> Slide | None:
    drawn = tuple(h for h in (html_of(p) for p in parts) if h)
    if message is None and not drawn:
        return None
    return Slide(topic, message or topic, drawn, notes)


def _first(items: list[highlights.Highlight], none: str) -> str:
    return items[0].text if items else none


# ---- the quarterly business impact report (QBR) ----


def _qbr_value(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "quarterly_business_impact", "value")
    return _slide("Value delivered", message, [pages.value_table(s)], f"{NOTES['value']} {NOTES['range']}")


def _qbr_sensitivity(s: PeriodSummary) -> Slide | None:
    spread = s.value.roi.range if s.value else None
    if spread is None or not spread.sensitivity or spread.sensitivity[0].roi_low is None:
        return None
    widest = spread.sensitivity[0]
    low, high = sorted((widest.roi_low or 0.0, widest.roi_high or 0.0))
    name = narrative.ASSUMPTION_WORDS.get(widest.name, widest.name)
    stays = "stays positive across all of them" if spread.positive else "is not positive at every end of them"
    message = (
        f"{name[:1].upper()}{name[1:]} moves the return most, from {show.ratio(low)} to {show.ratio(high)}; "
        f"over the ranges of the assumptions the return {stays}."
    )
    return _slide(
        "What moves the return",
        message,
        [charts.roi_tornado(s), pages.sensitivity_table(s)],
        NOTES["range"],
    )


def _qbr_wins(s: PeriodSummary) -> Slide | None:
    found = highlights.wins(s)
    return _slide(
        "Top wins",
        _first(found, "Nothing stood out clearly enough to call a win."),
        [pages.highlight_list(s, "wins")],
        NOTES["wins"],
    )


def _qbr_reliability(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "quarterly_business_impact", "reliability")
    return _slide("Reliability", message, [charts.time_to_resolve(s), pages.comparison_table(s)], NOTES["reliability"])


def _qbr_delivery(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "quarterly_business_impact", "delivery")
    if message is None:
        return None
    return _slide(
        "Delivery (DORA four keys)",
        message,
        [charts.delivery_trend(s), pages.delivery_comparison_table(s)],
        NOTES["delivery"],
    )


def _qbr_satisfaction(s: PeriodSummary) -> Slide | None:
    sat = s.value.satisfaction if s.value else None
    if sat is None or (sat.csat.n == 0 and sat.nps_responses == 0 and sat.devex.n == 0):
        return None
    said = []
    if sat.csat.mean is not None:
        said.append(f"CSAT {sat.csat.mean:.2f} of 5")
    if sat.nps is not None:
        interval = (
            f" (95 % interval {show.signed(sat.nps_low)} to {show.signed(sat.nps_high)})"
            if sat.nps_low is not None and sat.nps_high is not None
            else ""
        )
        said.append(f"NPS {show.signed(sat.nps)}{interval}")
    if sat.devex.mean is not None:
        said.append(f"developer experience {sat.devex.mean:.2f} of 5")
    level = f"In {s.title}: {show.join(said)}." if said else None
    against = narrative.topic(s, "quarterly_business_impact", "satisfaction")  # gains only where clear
    return _slide(
        "Customers and developers",
        " ".join(m for m in (level, against) if m) or None,
        [pages.satisfaction_table(s), charts.satisfaction_trend(s)],
        NOTES["satisfaction"],
    )


def _qbr_spend(s: PeriodSummary) -> Slide | None:
    if not s.spend or not any(p.effective_cost for p in s.spend):
        return None
    now = s.spend[-1]
    cur = s.value.roi.currency if s.value else ""
    message = f"Cloud spend in {s.title}: {show.money(now.effective_cost, cur)}"
    if len(s.spend) > 1 and s.spend[-2].effective_cost:
        before = s.spend[-2]
        titles = {t.period: t.title for t in s.trend}
        shown = show.money(before.effective_cost, cur)
        message += f", against {shown} in {titles.get(before.period, before.period)}"  # both in summary.spend
    return _slide("Cloud spend", f"{message}.", [pages.spend_table(s), charts.spend_trend(s)], NOTES["spend"])


def _qbr_slos(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "quarterly_business_impact", "slos")
    return _slide("Service level objectives", message, [charts.slo_status_grid(s)], NOTES["slos"])


def _risks(s: PeriodSummary) -> Slide | None:
    found = highlights.risks(s)
    return _slide(
        "Risks", f"The main risk: {_first(found, 'none is open.')}", [pages.highlight_list(s, "risks")], NOTES["risks"]
    )


# ---- the executive summary ----


def _exec_overview(s: PeriodSummary) -> Slide | None:
    return _slide("At a glance", f"{s.title} at a glance", [pages.tiles(s)], NOTES["source"])


def _exec_incidents(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "monthly_reliability", "since_programme") or narrative.topic(
        s, "monthly_reliability", "mttr"
    )
    return _slide("Time to resolve", message, [charts.time_to_resolve(s)], NOTES["reliability"])


def _exec_severity(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "monthly_reliability", "incidents")
    return _slide("Incidents by severity", message, [charts.incidents_by_severity(s)], NOTES["incidents"])


def _exec_slos(s: PeriodSummary) -> Slide | None:
    message = narrative.topic(s, "monthly_reliability", "slos")
    return _slide("Service level objectives", message, [charts.slo_status_grid(s)], NOTES["slos"])


def _exec_programme(s: PeriodSummary) -> Slide | None:
    if s.programme is None:
        return None
    risks = programme.at_risk_texts(s)
    message = f"SRE programme: {programme.headline(s.programme)}." + (f" Watch: {risks[0]}" if risks else "")
    return _slide("The SRE programme", message, [charts.programme_timeline(s)], NOTES["programme"])


# ---- the annual review ----


def _year_value(s: PeriodSummary) -> Slide | None:
    return _slide(
        "Value over the year",
        annual.value_message(s),
        [charts.year_value(s), pages.year_value_table(s)],
        f"{NOTES['year']} {NOTES['value']}",
    )


def _year_reliability(s: PeriodSummary) -> Slide | None:
    said = annual.rate_messages(s) + [m for m in [annual.resolve_message(s)] if m]
    return _slide(
        "Reliability, year over year",
        " ".join(said) or None,
        [charts.year_incidents(s), pages.year_rate_table(s)],
        f"{NOTES['year']} {NOTES['reliability']}",
    )


def _year_slos(s: PeriodSummary) -> Slide | None:
    return _slide(
        "Error budgets over the year",
        annual.burner_message(s),
        [charts.budget_burners(s)],
        NOTES["slos"],
    )


def _year_programme(s: PeriodSummary) -> Slide | None:
    if s.programme is None:
        return None
    message = f"At the year's end, the SRE programme: {programme.headline(s.programme)}."
    return _slide(
        "The SRE programme", message, [charts.programme_timeline(s), pages.criteria_table(s)], NOTES["programme"]
    )


def _year_plan(s: PeriodSummary) -> Slide | None:
    items = annual.plan_inputs(s)
    if not items:
        return None
    return _slide("Inputs for next year's plan", items[0], [pages.plan_inputs(s)], NOTES["year"])


DECKS: dict[str, tuple[SlideMaker, ...]] = {
    "quarterly_business_impact": (
        _qbr_value,
        _qbr_sensitivity,
        _qbr_wins,
        _qbr_reliability,
        _qbr_delivery,
        _qbr_satisfaction,
        _qbr_spend,
        _qbr_slos,
        _risks,
    ),
    "executive_summary": (_exec_overview, _exec_incidents, _exec_severity, _exec_slos, _exec_programme, _risks),
    "annual_review": (_year_value, _year_reliability, _year_slos, _year_programme, _year_plan, _risks),
}


def has_deck(report: str) -> bool:
    return report in DECKS


def deck(summary: PeriodSummary, report: str, title: str) -> Deck:
    """The deck of ``report`` for ``summary``: a title slide's words and one slide per topic that
    has something to say."""
    scope = f"Team {summary.team}" if summary.team else "Whole organisation"
    first = annual.coverage_text(summary) if report == "annual_review" else None
    slides = tuple(s for s in (make(summary) for make in DECKS[report]) if s is not None)
    subtitle = f"{summary.title} · {scope}" + (f" · {first}" if first else "")
    return Deck(title, subtitle, slides)


def to_html(summary: PeriodSummary, report: str, title: str, org: OrgConfig) -> str:
    """The deck as one self-contained HTML page (works offline; prints one slide per page)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    built = deck(summary, report, title)
    return env.get_template("deck/deck.html.j2").render(
        deck=built,
        org=org.name,
        colours=org.colours.model_dump(),
        style=pages.style(),
        libraries=charts.bundle_html(),
        version=__version__,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        notes_source=NOTES["source"],
        parts=[[Markup(p) for p in s.parts] for s in built.slides],  # our templates escaped the data in them
    )
