"""The monthly SRE newsletter: an e-mail-safe HTML part and a plain-text part, from the summary.

An e-mail report (:mod:`srelib.present.mail`): one 600-pixel table with inline styles only, no
script, no external resource, and charts as PNG images (drawn offline by vl-convert) embedded in
the page. Wins come from :mod:`srelib.present.highlights` (changes the data can stand behind),
the tip of the month from ``params/tips.yaml`` (in turn, month by month:
:func:`srelib.present.tips.of_the_month`), and "coming up" from the engagement data. Every data
value is escaped by the templates' autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import vl_convert

from srelib.config import Tip, Workbench
from srelib.present import charts, highlights, mail, tips
from srelib.present import format as show
from srelib.present.activities import lapse_highlight
from srelib.present.mail import WIDTH, Image
from srelib.summary import PeriodSummary

__all__ = ["WIDTH", "Figure", "Image", "Newsletter", "build", "display", "mime_message", "render_html", "render_text"]


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass
class Newsletter:
    org: str
    subject: str
    period: str
    intro: str
    figures: list[Figure]
    wins: list[str]
    risks: list[str]
    tip: Tip | None
    events: list[dict[str, str]]
    colours: dict[str, str]
    images: list[Image] = field(default_factory=list)


def build(summary: PeriodSummary, workbench: Workbench) -> Newsletter:
    """The newsletter's content: every value formatted, nothing computed that the summary lacks."""
    scope = f"team {summary.team}" if summary.team else summary.org
    figures = [
        Figure("Incidents", str(summary.incidents.count), _previous_count(summary)),
        Figure("Median time to resolve", show.minutes(summary.incidents.mttr_minutes.median)),
        Figure(
            "SLOs met",
            f"{sum(1 for s in summary.slos.values() if s.status in ('met', 'at_risk'))} of "
            f"{sum(1 for s in summary.slos.values() if s.status != 'no_data')}",
        ),
    ]
    if summary.value is not None and summary.value.toil.hours_saved:
        figures.append(Figure("Toil automated away", f"{summary.value.toil.hours_saved:,.0f} h"))
    events = []
    if summary.engagement is not None:
        events = [
            {"date": e.date, "title": e.title or e.kind.replace("_", " "), "kind": e.kind.replace("_", " ")}
            for e in summary.engagement.upcoming[:5]
        ]
    tip = tips.of_the_month(workbench.tips.tips, date.fromisoformat(summary.start[:10]))
    letter = Newsletter(
        org=workbench.org.name,
        subject=f"SRE newsletter · {summary.title}",
        period=summary.title,
        intro=f"What reliability work did for {scope} in {summary.title}.",
        figures=figures,
        wins=[h.text for h in highlights.wins(summary, limit=4)],
        risks=_watching(summary),
        tip=tip,
        events=events,
        colours=workbench.org.colours.model_dump(),
    )
    chart = charts.incidents_by_severity(summary)
    if chart is not None:
        spec = chart.properties(width=WIDTH - 140, height=160).to_dict()
        png = vl_convert.vegalite_to_png(spec, scale=1)
        letter.images.append(Image(make_msgid(domain="srelib")[1:-1], png, "Incidents per period, by severity"))
    return letter


def _watching(summary: PeriodSummary) -> list[str]:
    """What we are watching: the two gravest risks, and the programme's lapsed activities whatever
    outranks them (the newsletter is where the programme's own momentum is seen)."""
    watching = [h.text for h in highlights.risks(summary, limit=2)]
    lapse = lapse_highlight(summary)
    if lapse and lapse not in watching:
        watching.append(lapse)
    return watching


def _previous_count(summary: PeriodSummary) -> str:
    if summary.previous is None:
        return ""
    return f"{summary.previous.incidents.count} in {summary.previous.title}"


def render_html(letter: Newsletter, inline_images: bool = True) -> str:
    """The e-mail-safe HTML part: images as ``data:`` URIs (a file to open) or ``cid:`` references (to send)."""
    template = mail.environment("newsletter").get_template("newsletter.html.j2")
    sources = {i.cid: (i.data_uri if inline_images else f"cid:{i.cid}") for i in letter.images}
    return template.render(letter=letter, width=WIDTH, sources=sources)


def render_text(letter: Newsletter) -> str:
    """The plain-text part, for clients (and readers) that do not show HTML."""
    return mail.render_text("newsletter", "newsletter.txt.j2", letter=letter)


def mime_message(letter: Newsletter, sender: str, recipients: list[str]) -> EmailMessage:
    """A multipart/alternative message: the text part, and the HTML part with its images inline."""
    return mail.message(render_html(letter), render_text(letter), sender, recipients)


def display(summary: PeriodSummary, workbench: str | None = None) -> Any:
    """For the newsletter notebook: the HTML part to show, with the text part alongside.

    ``srelib run`` publishes them as ``newsletter.html`` and ``newsletter.txt``. ``workbench`` is
    its root (default: found from the current folder).
    """
    letter = build(summary, Workbench.load(Path(workbench)) if workbench else Workbench.find(required=False))
    mail.display("newsletter", render_html(letter), render_text(letter))
