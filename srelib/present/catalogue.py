"""The reports the workbench publishes: each one's name, title, periods and fan-out, declared once.

A :class:`ReportSpec` says what a report is; :data:`REPORTS` holds the packaged ones (one
:func:`register` line each). Notebooks take their header's title from here (``report.title``);
:mod:`srelib.run.catalogue` expands a report into its runs. See ``docs/architecture.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FanOut = Literal["team", "slo", "initiative"]
FAN_OUTS: tuple[FanOut, ...] = ("team", "slo", "initiative")


@dataclass(frozen=True)
class ReportSpec:
    name: str  # the notebook is NAME.ipynb; the published page NAME.html
    title: str  # the page's title and header
    period_kinds: tuple[str, ...] = ("month", "quarter", "week", "year")
    email: bool = False  # published as the e-mail parts the notebook displays, not as nbconvert HTML
    fan_out: FanOut | None = None  # one report per team, SLO or initiative, each in its own folder
    deck: bool = False  # also publishes as a slide deck (srelib.present.deck), when asked to
    markdown: bool = False  # also publishes as Markdown with its charts as PNG (srelib.present.markdown)

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    def offers(self, fmt: str) -> bool:
        """Whether the report can publish ``fmt``: every one its page and PDF, some a deck or Markdown."""
        return {"slides": self.deck, "markdown": self.markdown}.get(fmt, fmt in FORMATS)

    def files(self, formats: tuple[str, ...]) -> dict[str, str]:
        """The published files of ``formats`` (see :data:`FORMATS`), by the manifest's keys: ``html``
        always; ``slides``; ``pdf`` (the report's page printed) and ``slides_pdf``; ``markdown`` (its
        chart images, ``NAME-1.png``..., are listed in the manifest's ``images``)."""
        found = {"html": f"{self.name}.html"}
        if "slides" in formats:
            found["slides"] = f"{self.name}.slides.html"
        if "pdf" in formats:
            found["pdf"] = f"{self.name}.pdf"
            if "slides" in formats:
                found["slides_pdf"] = f"{self.name}.slides.pdf"
        if "markdown" in formats:
            found["markdown"] = f"{self.name}.md"
        return found


# What a run may publish: the page (always), a slide deck, PDFs, Markdown for the wiki and the blog.
FORMATS = ("html", "slides", "pdf", "markdown")


def offering(fmt: str) -> list[str]:
    """The packaged reports that can publish ``fmt``, for messages that say which to ask for."""
    return [name for name, spec in REPORTS.items() if spec.offers(fmt)]


REPORTS: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    REPORTS[spec.name] = spec
    return spec


# In the order the portal, the schedule and the demo list them.
register(ReportSpec("monthly_reliability", "Monthly reliability report", markdown=True))
register(ReportSpec("newsletter", "SRE newsletter", ("month",), email=True))
register(ReportSpec("engagement", "Engagement and adoption"))
register(ReportSpec("executive_summary", "Executive summary", deck=True))
register(ReportSpec("team_scorecard", "Team scorecard", fan_out="team"))
register(ReportSpec("slo_document", "SLO document", fan_out="slo"))
register(ReportSpec("case_study", "Case study", ("month", "quarter", "year"), fan_out="initiative", markdown=True))
register(ReportSpec("quarterly_business_impact", "Quarterly business impact", ("quarter",), deck=True))
register(ReportSpec("weekly_digest", "SRE weekly digest", ("week",), email=True))
register(ReportSpec("programme_scorecard", "SRE programme scorecard", ("month", "quarter", "year")))
register(ReportSpec("annual_review", "Annual review", ("year",), deck=True))


def title(name: str) -> str:
    """A packaged report's title, for its notebook's header: ``report.header(summary, title("engagement"))``."""
    return REPORTS[name].title
