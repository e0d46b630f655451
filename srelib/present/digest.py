"""The weekly digest for development teams (seed §2, "Weekly tips for development teams").

An e-mail report (:mod:`srelib.present.mail`) for an ISO week, built from the week's
PeriodSummary: the tip of the week (``params/tips.yaml`` in turn, week by week, never the
newsletter's tip of the moment: :func:`srelib.present.tips.of_the_week`), the sessions planned in
the week after, the week's wins and the SLOs at risk. It chooses and words what the summary
holds; it computes no figure of its own.

- **Wins**: the highlights the data can stand behind (:func:`srelib.present.highlights.wins`),
  and the week's own: no SEV1 or SEV2 incident, every postmortem the error budget policy
  requires written (the summary's ``follow_up``), every incident resolved, incidents resolved
  faster than in the pre-programme baseline (with the honest test's caveat when it cannot tell a change from chance).
- **SLOs at risk**: an SLO whose error budget over its own window is spent (``breached``) or
  low (``at_risk``: under ``slo_at_risk_below``), one whose multiwindow burn-rate alert is
  firing at the week's end, or one that missed its objective over the week.
- **Upcoming sessions**: the engagement events dated in the seven days after the week (a team's
  digest also lists the organisation-wide ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from srelib.config import Tip, Workbench
from srelib.present import format as show
from srelib.present import highlights, mail, tips
from srelib.present.highlights import Highlight
from srelib.present.mail import WIDTH
from srelib.present.newsletter import Figure
from srelib.summary import PeriodSummary

SESSION_DAYS = 7  # the sessions of the week after the digest's week
WINS = 5


@dataclass(frozen=True)
class Session:
    day: str  # "Tuesday 3 November"
    date: str  # YYYY-MM-DD
    title: str
    kind: str
    audience: str  # "team payments", or "everyone"


@dataclass(frozen=True)
class SloAtRisk:
    name: str
    service: str
    team: str
    status: str  # "breached", "at_risk" or "burning": how bad, for the colour
    budget_left: str  # of the SLO's window budget, at the week's end
    window: str
    why: str


@dataclass
class Digest:
    org: str
    subject: str
    period: str  # "week 44 of 2026"
    days: str  # "26 October – 1 November 2026"
    intro: str
    figures: list[Figure]
    wins: list[str]
    at_risk: list[SloAtRisk]
    tip: Tip | None
    sessions: list[Session]
    colours: dict[str, str]


def build(summary: PeriodSummary, workbench: Workbench) -> Digest:
    """The digest's content: every value formatted, nothing computed that the summary lacks."""
    scope = f"team {summary.team}" if summary.team else summary.org
    at_risk = slos_at_risk(summary)
    measured = sum(1 for s in summary.slos.values() if s.status != "no_data")
    figures = [
        Figure(
            "Incidents",
            str(summary.incidents.count),
            f"{summary.incidents.open} still open" if summary.incidents.open else "",
        ),
        Figure("Median time to resolve", show.minutes(summary.incidents.mttr_minutes.median)),
        Figure("SLOs at risk", str(len(at_risk)), f"of {measured} with data this week" if measured else ""),
    ]
    days = show.days_span(summary.start, summary.end)
    return Digest(
        org=workbench.org.name,
        subject=f"SRE weekly digest · {summary.title}",
        period=summary.title,
        days=days,
        intro=f"Reliability for {scope} in {summary.title} ({days}): the week's wins, the SLOs that need "
        "care, a tip to try, and the sessions coming up.",
        figures=figures,
        wins=[h.text for h in wins(summary)],
        at_risk=at_risk,
        tip=tips.of_the_week(workbench.tips.tips, date.fromisoformat(summary.start[:10])),
        sessions=sessions(summary),
        colours=workbench.org.colours.model_dump(),
    )


def wins(summary: PeriodSummary, limit: int = WINS) -> list[Highlight]:
    """The week's wins, most important first: the highlights, and the week's own."""
    found = highlights.wins(summary, limit=limit)
    covered = bool(summary.trend) and summary.trend[-1].covered  # False: no data reaches this week
    incidents = summary.incidents
    if covered and not incidents.by_severity.get("SEV1") and not incidents.by_severity.get("SEV2"):
        found.append(Highlight("no_major_incident", "No SEV1 or SEV2 incident this week.", 2.6))
    required = summary.follow_up.postmortems if summary.follow_up else None  # as the error budget policy asks
    if required and required.required and required.done == required.required:
        text = (
            "The postmortem the error budget policy requires this week is written."
            if required.required == 1
            else f"All {required.required} postmortems the error budget policy requires this week are written."
        )
        found.append(Highlight("postmortems", text, 2.4))
    if incidents.count and not incidents.open:
        every = (
            "The one incident of the week is"
            if incidents.count == 1
            else f"All {incidents.count} incidents of the week are"
        )
        found.append(Highlight("all_resolved", f"{every} resolved.", 1.2))
    faster = _faster_than_baseline(summary)
    if faster is not None and not any(h.kind == "time_to_resolve" for h in found):
        found.append(faster)
    return sorted(found, key=lambda h: -h.weight)[:limit]


def _faster_than_baseline(summary: PeriodSummary) -> Highlight | None:
    """Incidents resolved faster than before the programme, said with the test's caveat."""
    baseline = summary.reliability.comparisons.get("baseline") if summary.reliability else None
    if baseline is None or not baseline.covered:
        return None
    mttr = baseline.mttr
    if mttr.median_difference is None or mttr.median_difference >= 0 or mttr.verdict == "worsened":
        return None
    text = (
        f"Incidents were resolved faster than before the programme: a median of {show.minutes(mttr.median_after)} "
        f"this week against {show.minutes(mttr.median_before)} in the baseline"
    )
    noun = "incident" if mttr.n_after == 1 else "incidents"
    if mttr.verdict == "too_few":
        text += f" ({mttr.n_after} resolved {noun}: too few to call it a trend)"
    elif mttr.verdict != "improved":  # enough incidents, but the test cannot tell the change from chance
        text += f" ({mttr.n_after} resolved {noun}: no clear change from the baseline yet)"
    return Highlight("faster_than_baseline", text + ".", 1.6)


def slos_at_risk(summary: PeriodSummary) -> list[SloAtRisk]:
    """The SLOs that need care at the week's end, the worst first (see the module's docstring)."""
    found = []
    for name, budget in summary.slo_budgets.items():
        rolling = budget.rolling
        week = summary.slos.get(name)
        reasons = []
        status = "at_risk"
        if rolling.status == "breached":
            status = "breached"
            reasons.append(f"its {budget.window} error budget is spent")
        elif rolling.status == "at_risk":
            reasons.append(f"its {budget.window} error budget is running low")
        # Firing at the week's end, with burn rates at the end to show (an SLO whose traffic
        # stopped days before has none, whatever its last evaluation said).
        firing = [
            a
            for a in budget.alerts
            if a.firing_at_end and a.burn_rate_long is not None and a.burn_rate_short is not None
        ]
        if firing:
            alert = min(firing, key=lambda a: (a.severity != "page", -a.factor))
            if status != "breached" and rolling.status != "at_risk":
                status = "burning"
            pace = "fast enough to page" if alert.severity == "page" else "faster than its budget lasts"
            reasons.append(
                f"it is burning its budget {pace} ({show.rate(alert.burn_rate_long)} over {alert.long_window}, "
                f"{show.rate(alert.burn_rate_short)} over {alert.short_window})"
            )
        if week is not None and week.status == "breached":
            reasons.append(
                f"it missed its objective this week: {show.attainment(week.attainment, week.target)} "
                f"against {show.target(week.target)}"
            )
        if not reasons:
            continue
        found.append(
            SloAtRisk(
                name=name,
                service=rolling.service,
                team=rolling.team or "",
                status=status,
                budget_left=show.budget(rolling.error_budget_remaining),
                window=budget.window,
                why=_sentence(reasons),
            )
        )
    order = {"breached": 0, "burning": 1, "at_risk": 2}
    remaining = {name: summary.slo_budgets[name].rolling.error_budget_remaining for name in summary.slo_budgets}
    return sorted(found, key=lambda s: (order[s.status], _or_last(remaining[s.name]), s.name))


def _or_last(value: float | None) -> float:
    return float("inf") if value is None else value


def _sentence(reasons: list[str]) -> str:
    text = "; ".join(reasons)
    return text[0].upper() + text[1:] + "."


def sessions(summary: PeriodSummary, days: int = SESSION_DAYS) -> list[Session]:
    """The events planned in the ``days`` after the week, in order."""
    if summary.engagement is None:
        return []
    first = date.fromisoformat(summary.end[:10])  # the week's end: the Monday after it, local
    until = (first + timedelta(days=days)).isoformat()
    return [
        Session(
            day=show.weekday(event.date),
            date=event.date,
            title=event.title or event.kind.replace("_", " ").capitalize(),
            kind=event.kind.replace("_", " "),
            audience=f"team {event.team}" if event.team else "everyone",
        )
        for event in summary.engagement.upcoming
        if first.isoformat() <= event.date < until
    ]


def render_html(digest: Digest) -> str:
    """The e-mail-safe HTML part."""
    return mail.environment("digest").get_template("digest.html.j2").render(digest=digest, width=WIDTH)


def render_text(digest: Digest) -> str:
    """The plain-text part, for clients (and readers) that do not show HTML."""
    return mail.render_text("digest", "digest.txt.j2", digest=digest)


def mime_message(digest: Digest, sender: str, recipients: list[str]) -> EmailMessage:
    return mail.message(render_html(digest), render_text(digest), sender, recipients)


def display(summary: PeriodSummary, workbench: str | None = None) -> Any:
    """For the weekly digest's notebook: the HTML part to show, with the text part alongside.

    ``srelib run weekly_digest --period 2026-W43`` publishes them as ``weekly_digest.html`` and
    ``weekly_digest.txt``. ``workbench`` is its root (default: found from the current folder).
    """
    digest = build(summary, Workbench.load(Path(workbench)) if workbench else Workbench.find(required=False))
    mail.display("weekly_digest", render_html(digest), render_text(digest))
