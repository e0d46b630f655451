"""The monthly SRE newsletter: an e-mail-safe HTML part and a plain-text part, from the summary.

E-mail clients ignore ``<style>`` blocks, scripts and most layout CSS, so the HTML part is a
single 600-pixel table with inline styles only, no script, no external resource, and charts
as PNG images (drawn offline by vl-convert) embedded in the page; :func:`mime_message`
turns those into inline (``cid:``) attachments for sending. Wins come from
:mod:`srelib.highlights` (changes the data can stand behind), the tip from
``params/tips.yaml`` (in turn, by the period), and "coming up" from the engagement data.
Every data value is escaped by the templates' autoescaping.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import vl_convert

from srelib import charts, highlights, present
from srelib.config import Tip, Workbench
from srelib.resources import templates_dir
from srelib.summary import PeriodSummary

WIDTH = 600  # pixels: the width every e-mail client shows without scrolling


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Image:
    cid: str
    png: bytes
    alt: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


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
        Figure("Median time to resolve", present.minutes(summary.incidents.mttr_minutes.median)),
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
    tips = workbench.tips.tips
    tip = tips[_period_index(summary.period) % len(tips)] if tips else None
    letter = Newsletter(
        org=workbench.org.name,
        subject=f"SRE newsletter · {summary.title}",
        period=summary.title,
        intro=f"What reliability work did for {scope} in {summary.title}.",
        figures=figures,
        wins=[h.text for h in highlights.wins(summary, limit=4)],
        risks=[h.text for h in highlights.risks(summary, limit=2)],
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


def _previous_count(summary: PeriodSummary) -> str:
    if summary.previous is None:
        return ""
    return f"{summary.previous.incidents.count} in {summary.previous.title}"


def _period_index(label: str) -> int:
    """A number that moves on by one each period (for taking tips in turn)."""
    digits = [int(x) for x in re.findall(r"\d+", label)]
    return digits[0] * 60 + (digits[1] if len(digits) > 1 else 0)


@cache
def _env(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(letter: Newsletter, inline_images: bool = True) -> str:
    """The e-mail-safe HTML part: images as ``data:`` URIs (a file to open) or ``cid:`` references (to send)."""
    template = _env(templates_dir() / "newsletter").get_template("newsletter.html.j2")
    sources = {i.cid: (i.data_uri if inline_images else f"cid:{i.cid}") for i in letter.images}
    return template.render(letter=letter, width=WIDTH, sources=sources)


def render_text(letter: Newsletter) -> str:
    """The plain-text part, for clients (and readers) that do not show HTML."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir() / "newsletter"),
        autoescape=False,  # plain text: nothing is interpreted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    text = env.get_template("newsletter.txt.j2").render(letter=letter)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def mime_message(letter: Newsletter, sender: str, recipients: list[str]) -> EmailMessage:
    """A multipart/alternative message: the text part, and the HTML part with its images inline."""
    message = EmailMessage()
    message["Subject"] = letter.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(render_text(letter))
    message.add_alternative(render_html(letter, inline_images=False), subtype="html")
    html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    for image in letter.images:
        html_part.add_related(image.png, maintype="image", subtype="png", cid=f"<{image.cid}>")
    return message


def display(summary: PeriodSummary, workbench: str | None = None) -> Any:
    """For the newsletter notebook: the HTML part to show, with the text part alongside.

    The output carries both MIME types; ``srelib run`` publishes them as ``newsletter.html``
    and ``newsletter.txt``. ``workbench`` is its root (default: found from the current folder).
    """
    from IPython.display import publish_display_data

    letter = build(summary, Workbench.load(Path(workbench)) if workbench else Workbench.find(required=False))
    publish_display_data(
        {"text/html": render_html(letter), "text/plain": render_text(letter)},
        metadata={"srelib": {"newsletter": True, "subject": letter.subject}},
    )
