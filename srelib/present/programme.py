"""The SRE programme against its plan, made readable: phases, milestones, success criteria, what is
at risk next, the headline ("8 of 9 criteria met") and the executive tile.

Every value comes from the summary's ``programme`` section (:mod:`srelib.metrics.programme`); this
module formats and words it and computes nothing. Titles come from ``params/programme.yaml``:
they are text, escaped where they are shown (HTML tables, Markdown via ``escape_markdown``).
"""

from __future__ import annotations

from typing import Any

from srelib.metrics.programme import CriterionStatus, MilestoneStatus, ProgrammeStatus
from srelib.metrics.value import RoiRange
from srelib.present import format as show
from srelib.summary import PeriodSummary

__all__ = [
    "COMPARISON_WORDS",
    "MILESTONE_STATUS",
    "PHASE_STATUS",
    "at_risk_texts",
    "criterion_rows",
    "headline",
    "milestone_rows",
    "phase_rows",
    "programme_tile",
    "timeline_rows",
]

PHASE_STATUS = {  # status: (css status, words)
    "done": ("met", "Done"),
    "in_progress": ("at_risk", "In progress"),
    "upcoming": ("no_data", "Upcoming"),
    "late": ("breached", "Late"),
}
MILESTONE_STATUS = {
    "done": ("met", "Done"),
    "done_late": ("at_risk", "Done late"),
    "on_plan": ("no_data", "On plan"),
    "late": ("breached", "Late"),
}
COMPARISON_WORDS = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<", "equals": "="}
EVIDENCE_WORDS = {  # what the figure counts: how it reads
    "rows": "{n} so far",
    "teams": "{n} teams so far",
    "periods": "{n} periods published",
    "responses": "{n} responses",
}
DIRECTION_WORDS = {"toward": "improving", "away": "worsening", "flat": "unchanged", None: show.MISSING}


def figure(path: str, value: Any) -> str:
    """A criterion's or metric's figure as it reads: shares and rates as percentages, durations in
    minutes, true/false as yes/no, other numbers to two decimals."""
    if value is None:
        return show.MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    last = path.split(".")[-1]
    parts = path.split(".")
    if last in ("attainment", "target"):  # as every report writes them: truncated, never rounded up to a target
        return show.attainment(value)
    if last in ("error_budget_remaining", "budget_remaining", "budget_consumed", "completion", "coverage"):
        return show.ratio(value)
    if last in ("on_time_share", "roi") or "rate" in path or "ratio" in last or "adoption" in path:
        return show.ratio(value)
    if "mttr" in parts or "mtta" in parts or "mttd" in parts or "minutes" in path:
        sign = "+" if value > 0 else ""
        return f"{sign}{show.minutes(value)}" if last.startswith("ci_") else show.minutes(value)
    return show.count(value) if float(value).is_integer() else f"{value:,.2f}"


def _evidence(m: MilestoneStatus) -> str:
    if m.figure is None:
        return show.MISSING
    if m.figure_of == "value":
        return figure(m.evidence_name or "", m.figure)
    return EVIDENCE_WORDS.get(m.figure_of, "{n}").format(n=show.count(m.figure))


def _where(m: MilestoneStatus) -> str:
    """What the evidence is: "activity lunch_and_learn", "report newsletter"."""
    return m.evidence if m.evidence_name is None else f"{m.evidence} {m.evidence_name}"


def phase_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    p = summary.programme
    if p is None:
        return []
    return [
        {
            "phase": phase.title,
            "dates": f"{show.day(phase.start)} – {show.day(phase.end)}",
            "milestones": f"{phase.milestones_met} of {phase.milestones}",
            "status": PHASE_STATUS[phase.status][1],
            "status_key": PHASE_STATUS[phase.status][0],
        }
        for phase in p.phases.values()
    ]


def milestone_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each milestone: due, first met, the evidence and its figure, on plan / late / done / done late."""
    p = summary.programme
    if p is None:
        return []
    rows = []
    for m in p.milestones.values():
        phase = p.phases.get(m.phase or "")
        late = f" ({m.days_late} days late)" if m.days_late else ""
        rows.append(
            {
                "milestone": m.title,
                "phase": phase.title if phase else show.MISSING,
                "due": show.day(m.due),
                "first_met": show.day(m.first_met),
                "evidence": _where(m),
                "figure": _evidence(m),
                "status": MILESTONE_STATUS[m.status][1] + late,
                "status_key": MILESTONE_STATUS[m.status][0],
            }
        )
    return rows


def _threshold(c: CriterionStatus) -> str:
    return f"{COMPARISON_WORDS[c.comparison]} {figure(c.metric, c.threshold)}"


def criterion_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each success criterion: its figure against the threshold, met or not, and its trend."""
    p = summary.programme
    if p is None:
        return []
    rows = []
    for c in sorted(p.criteria.values(), key=lambda c: c.term != "short"):
        first = next((t for t in c.trend if t.value is not None), None)
        spread = _roi_range(summary) if c.metric == "value.roi.roi" else None
        status = {True: "Met", False: "Not met", None: "No data"}[c.met]
        if spread is not None and c.met and spread.positive is False:
            status = "Met at base, not at every end of the range"
        rows.append(
            {
                "criterion": c.title,
                "term": "Short term (3–6 months)" if c.term == "short" else "Long term (12+ months)",
                "value": figure(c.metric, c.value)
                + ("" if spread is None else f" (range {show.ratio(spread.low)} to {show.ratio(spread.high)})"),
                "threshold": _threshold(c),
                "trend": show.MISSING
                if first is None
                else f"{figure(c.metric, first.value)} in {first.period} → {figure(c.metric, c.value)}",
                "direction": DIRECTION_WORDS[c.direction],
                "status": status,
                "status_key": {True: "met", False: "breached", None: "no_data"}[c.met],
            }
        )
    return rows


def _roi_range(summary: PeriodSummary) -> RoiRange | None:
    """The range of the ROI a criterion judges (a year's: its covered months'), when it has one:
    a point ROI is never shown without it."""
    year = summary.year.value if summary.year is not None else None
    spread = year.range if year is not None else summary.value.roi.range if summary.value else None
    if spread is None or spread.low is None or spread.high is None or spread.low == spread.high:
        return None
    return spread


def headline(programme: ProgrammeStatus) -> str:
    """ "8 of 9 success criteria met; 11 of 12 milestones done (1 late)"."""
    late = f" ({programme.milestones_late} late)" if programme.milestones_late else ""
    return (
        f"{programme.criteria_met} of {programme.criteria_count} success criteria met; "
        f"{programme.milestones_done} of {len(programme.milestones)} milestones done{late}"
    )


def at_risk_texts(summary: PeriodSummary) -> list[str]:
    """What is at risk next, in sentences: milestones due by the end of the next period and not
    met, milestones already late, criteria moving away from their threshold."""
    p = summary.programme
    if p is None:
        return []
    texts = []
    for key in p.at_risk.milestones:
        m = p.milestones[key]
        texts.append(f"{m.title} is due by {show.day(m.due)} and not met yet ({_where(m)}: {_evidence(m)}).")
    for m in p.milestones.values():
        if m.status == "late":
            texts.append(f"{m.title} was due by {show.day(m.due)} and is {m.days_late} days late ({_where(m)}).")
    for key in p.at_risk.criteria:
        c = p.criteria[key]
        state = "met" if c.met else "not met"
        texts.append(
            f"{c.title}: {figure(c.metric, c.value)} ({state}, threshold {_threshold(c)}) is moving away from it."
        )
    return texts


def programme_tile(summary: PeriodSummary) -> dict[str, str] | None:
    """The executive tile: "Programme: 8 of 9 criteria met"."""
    p = summary.programme
    if p is None:
        return None
    missed = p.criteria_count - p.criteria_met
    return {
        "label": "Programme: success criteria met",
        "value": f"{p.criteria_met} of {p.criteria_count}",
        "note": f"month {p.month} of the programme; {p.milestones_done} of {len(p.milestones)} milestones done"
        if p.month
        else f"{p.milestones_done} of {len(p.milestones)} milestones done",
        "status": "met" if missed == 0 else "at_risk" if p.criteria_met >= missed else "breached",
    }


def timeline_rows(summary: PeriodSummary) -> list[dict[str, Any]]:
    """The timeline chart's marks: each phase as a bar from its first to its last day, each milestone
    as a point at its due day (and where first met), coloured by status. Dates as ISO days."""
    p = summary.programme
    if p is None:
        return []
    rows: list[dict[str, Any]] = [
        {
            "row": f"Phase: {phase.title}",
            "start": phase.start,
            "end": phase.end,
            "status": PHASE_STATUS[phase.status][1],
            "kind": "phase",
            "detail": f"{phase.milestones_met} of {phase.milestones} milestones met",
        }
        for phase in p.phases.values()
    ]
    for m in p.milestones.values():
        met = m.first_met or m.due
        rows.append(
            {
                "row": m.title,
                "start": min(met, m.due),
                "end": max(met, m.due),
                "status": MILESTONE_STATUS[m.status][1],
                "kind": "milestone",
                "detail": f"due {show.day(m.due)}; first met {show.day(m.first_met)}; {_where(m)}",
                "due": m.due,
                "first_met": m.first_met,
            }
        )
    return rows
