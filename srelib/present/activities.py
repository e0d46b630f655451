"""The programme's activities and surveys, made readable: table rows and the words for a lapse.

Every value comes from the summary's ``activities`` and ``surveys`` sections
(:mod:`srelib.metrics.activities`, :mod:`srelib.metrics.surveys`); this module formats and words
them and computes nothing.
"""

from __future__ import annotations

from srelib.metrics.activities import KindActivity
from srelib.present import format as show
from srelib.summary import PeriodSummary

__all__ = [
    "FAMILY_TITLES",
    "UNIT_WORDS",
    "activity_rows",
    "activity_team_rows",
    "lapse_highlight",
    "lapse_text",
    "lapse_texts",
    "survey_rows",
]

FAMILY_TITLES = {
    "awareness": "Awareness",
    "education": "Education",
    "engagement": "Stakeholder engagement",
    "integration": "Integration",
    None: "No longer configured",
}
UNIT_WORDS = {  # unit: (one, many)
    "sessions": ("session", "sessions"),
    "attendees": ("attendee", "attendees"),
    "completions": ("completion", "completions"),
    "views": ("view", "views"),
}
PERIOD_WORDS = {"week": ("week", "weeks"), "month": ("month", "months"), "quarter": ("quarter", "quarters")}
STATUS = {True: ("met", "Met"), False: ("breached", "Below target"), None: ("no_data", "No target")}


def _periods(n: int, kind: str) -> str:
    one, many = PERIOD_WORDS.get(kind, (kind, f"{kind}s"))
    return f"{n} {one if n == 1 else many}"


def _measured(value: int, unit: str) -> str:
    """7 attendees, 1 session."""
    one, many = UNIT_WORDS.get(unit, (unit, unit))
    return f"{show.count(value)} {one if value == 1 else many}"


def _status(activity: KindActivity) -> tuple[str, str]:
    if activity.lapsed:
        return ("breached", "Lapsed")
    return STATUS[activity.met]


def activity_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each activity kind in the period: held, reach, measured in its unit against its target, and
    its momentum; grouped by family, in the order of ``params/activities.yaml``."""
    a = summary.activities
    if a is None:
        return []
    order = list(FAMILY_TITLES)
    kinds = sorted(a.kinds.items(), key=lambda kv: order.index(kv[1].family))
    rows = []
    for _, activity in kinds:
        key, word = _status(activity)
        held = sum(1 for n in activity.counts.values() if n)
        rows.append(
            {
                "activity": activity.title,
                "family": FAMILY_TITLES[activity.family],
                "held": show.count(activity.count),
                "reach": show.count(activity.reach),
                "value": _measured(activity.value, activity.unit),
                "target": show.MISSING if activity.target is None else show.count(activity.target),
                "status": word,
                "status_key": key,
                "periods_held": f"{held} of {len(activity.counts)}",
                "last_held": show.day(activity.last_held),
            }
        )
    return rows


def activity_team_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each team's activities: held in the period (and of which kinds), reach, over the trend, last held."""
    a = summary.activities
    if a is None:
        return []
    titles = {k: v.title for k, v in a.kinds.items()}
    rows = []
    for team, activity in a.teams.items():
        kinds = [
            f"{titles.get(k, k.replace('_', ' '))} ×{n}" if n > 1 else titles.get(k, k)
            for k, n in activity.kinds.items()
        ]
        rows.append(
            {
                "team": team,
                "held": show.count(activity.count),
                "reach": show.count(activity.reach),
                "kinds": ", ".join(kinds) or show.MISSING,
                "trend": show.count(sum(activity.counts.values())),
                "last_held": show.day(activity.last_held),
            }
        )
    return rows


def lapse_text(summary: PeriodSummary, key: str) -> str:
    """One lapsed activity in a sentence: what, since when, and how often it used to run."""
    assert summary.activities is not None
    activity = summary.activities.kinds[key]
    held = sum(1 for n in activity.counts.values() if n)
    quiet = activity.periods_since or 0
    trend = len(activity.counts)
    _, many = PERIOD_WORDS.get(summary.kind, (summary.kind, f"{summary.kind}s"))
    return (
        f"{activity.title} has lapsed: none in the last {_periods(quiet, summary.kind)} "
        f"(last held {show.day(activity.last_held)}), though it ran in {held} of the last {trend} {many}."
    )


def lapse_texts(summary: PeriodSummary) -> list[str]:
    """Every lapsed activity in a sentence, longest silent first."""
    if summary.activities is None:
        return []
    return [lapse_text(summary, key) for key in summary.activities.lapsed]


def lapse_highlight(summary: PeriodSummary) -> str | None:
    """The lapsed activities as one risk: the sentence of the one, or the several named together."""
    if summary.activities is None or not summary.activities.lapsed:
        return None
    lapsed = summary.activities.lapsed
    if len(lapsed) == 1:
        return lapse_text(summary, lapsed[0])
    titles = [summary.activities.kinds[k].title for k in lapsed]
    n = summary.activities.lapse_after
    return (
        f"{len(lapsed)} programme activities have lapsed (none in the last {_periods(n, summary.kind)} or more, "
        f"though they ran before): {show.join(titles)}."
    )


def survey_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each survey, then each of its questions: the latest wave's mean against the target, its
    responses, and the change since the earliest wave of the trend."""
    rows = []
    for name, survey in summary.surveys.items():
        scale = f"{survey.scale[0]:g}–{survey.scale[1]:g}"
        for question, scores in [(None, survey), *((q.question, q) for q in survey.questions)]:
            waves = [m for m in scores.trend.values() if m is not None]
            change = show.MISSING if len(waves) < 2 else f"{waves[-1] - waves[0]:+.2f}"
            key, word = STATUS[scores.met]
            if scores.latest_mean is None:
                key, word = ("no_data", "No responses")
            whole = question is None
            rows.append(
                {
                    "survey": f"{survey.title} ({scale})" if whole else "",
                    "question": "All questions" if whole else (question or "(no question given)"),
                    "mean": show.MISSING if scores.latest_mean is None else f"{scores.latest_mean:.2f}",
                    "wave": scores.latest_period or show.MISSING,
                    "n": show.count(scores.latest_n),
                    "target": show.MISSING if survey.target is None else f"{survey.target:.2f}",
                    "change": change,
                    "status": word,
                    "status_key": key,
                    "name": name,
                }
            )
    return rows
