"""The annual review made readable: the year's coverage, value, rates, months, initiatives and the
inputs for next year's plan, as table rows and sentences.

Every value comes from a year's PeriodSummary (its ``year`` section, ``srelib.metrics.year``, and the
usual sections over the whole year); this module formats and words them and computes nothing.
"""

from __future__ import annotations

from datetime import date

from srelib.metrics.year import YearReview
from srelib.present import format as show
from srelib.present.activities import FAMILY_TITLES, UNIT_WORDS
from srelib.present.programme import criterion_rows
from srelib.present.rows import VERDICTS, roi_span
from srelib.summary import PeriodSummary

__all__ = [
    "PLAN_LIMIT",
    "burner_rows",
    "coverage_text",
    "initiative_rows",
    "key_messages",
    "month_rows",
    "plan_inputs",
    "rate_rows",
    "repeat_service_rows",
    "resolve_rows",
    "year_activity_rows",
    "year_end_view",
    "year_value_rows",
]

PLAN_LIMIT = 3  # how many budget burners and repeat services the plan's inputs name


def _year(summary: PeriodSummary) -> YearReview | None:
    return summary.year


def _month_title(label: str | None) -> str:
    if label is None:
        return show.MISSING
    return f"{date.fromisoformat(label + '-01'):%B %Y}"


def _date(iso: str) -> str:
    """ "2026-03-01" → "1 March 2026"."""
    day = date.fromisoformat(iso[:10])
    return f"{day.day} {day:%B %Y}"


def _month_name(label: str) -> str:
    return f"{date.fromisoformat(label + '-01'):%B}"


def coverage_text(summary: PeriodSummary) -> str:
    """Which months of the year the figures cover, in a sentence: a year to date or one whose data
    begin in the middle says so before any number is read."""
    y = _year(summary)
    if y is None:
        return f"{summary.title} is not a year: the annual review needs a year period (e.g. 2026)."
    if y.covered_months == 0:
        return f"No incidents or SLI data fall in {summary.title}: there is nothing to review yet."
    span = f"{_month_name(y.first_covered or '')}–{_month_title(y.last_covered)}"
    if y.first_covered == y.last_covered:
        span = _month_title(y.first_covered)
    if y.complete:
        return f"The data cover all of {summary.title}, January to December."
    return (
        f"Partial year: the data cover {y.covered_months} of the 12 months of {summary.title} ({span}). "
        "Every figure of this review is for those months only; rates are per covered day, so years "
        "covered differently compare fairly."
    )


def year_value_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The value delivered and the ROI over the year's covered programme months, every component shown."""
    y = _year(summary)
    if y is None or y.value is None:
        return []
    v = y.value
    cur = v.currency
    counted = f"{len(v.months)} months" if len(v.months) != 1 else "1 month"
    rows = [
        {
            "component": "Toil removed by automation",
            "measure": f"{v.toil_hours:,.0f} hours",
            "value": show.money(v.toil_value, cur),
        },
        {"component": "Cost initiative savings", "measure": "", "value": show.money(v.initiative_savings, cur)},
    ]
    if v.downtime_avoided_minutes is not None:
        rows.append(
            {
                "component": "Customer-impacting downtime avoided",
                "measure": f"{show.minutes(v.downtime_avoided_minutes)} fewer than at the baseline rate",
                "value": show.money(v.downtime_avoided_value, cur),
            }
        )
    rows += [
        {"component": "Value delivered", "measure": counted, "value": show.money(v.value_delivered, cur)},
        {"component": "Programme cost", "measure": counted, "value": show.money(v.programme_cost, cur)},
        {
            "component": "Return on investment",
            "measure": "(value delivered − programme cost) ÷ programme cost",
            "value": show.ratio(v.roi),
        },
    ]
    if v.range is not None and v.roi is not None and v.range.low != v.range.high:
        rows.append(
            {
                "component": "Return on investment, range",
                "measure": "lowest to highest over the assumptions' ranges and the downtime interval",
                "value": roi_span(v.range.low, v.range.high),
            }
        )
    return rows


RATE_NAMES = {"year": "This year", "previous": "The year before", "baseline": "Baseline, before the programme"}


def rate_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Incidents per 30 covered days this year, the year before and at the baseline, each compared."""
    y = _year(summary)
    if y is None:
        return []
    rows = []
    for key, r in y.incident_rates.items():
        c = r.comparison
        rows.append(
            {
                "span": f"{RATE_NAMES.get(key, key)} ({r.title})",
                "months": f"{r.covered_months} ({r.covered_days:,.0f} days)",
                "incidents": show.count(r.incidents),
                "rate": show.MISSING if r.per_30_days is None else f"{r.per_30_days:.1f}",
                "ratio": show.MISSING if c is None or c.rate_ratio is None else f"{c.rate_ratio:.2f}×",
                "verdict": "" if c is None else VERDICTS.get(c.verdict, c.verdict),
            }
        )
    return rows


def resolve_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The median time to resolve this year against the year before and the baseline, each tested
    (durations need no scaling to the months covered)."""
    comparisons = summary.reliability.comparisons if summary.reliability else {}
    rows = []
    for key in ("previous", "baseline"):
        c = comparisons.get(key)
        if c is None or not c.covered:
            continue
        rows.append(
            {
                "span": f"{RATE_NAMES[key]} ({c.title})",
                "before": show.minutes(c.mttr.median_before),
                "now": show.minutes(c.mttr.median_after),
                "n": f"{c.mttr.n_before} / {c.mttr.n_after}",
                "verdict": VERDICTS.get(c.mttr.verdict, c.mttr.verdict),
            }
        )
    return rows


def month_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """The year month by month; months the data do not cover say so."""
    y = _year(summary)
    if y is None:
        return []
    cur = y.value.currency if y.value else ""
    rows = []
    for m in y.months:
        if not m.covered:
            rows.append({"month": m.title, "incidents": "no data", **dict.fromkeys(_MONTH_KEYS, "")})
            continue
        rows.append(
            {
                "month": m.title,
                "incidents": show.count(m.incidents),
                "high": show.count(m.high_severity),
                "mttr": show.minutes(m.mttr_median_minutes),
                "slos": f"{m.slos_met} / {m.slos_at_risk} / {m.slos_breached}",
                "activities": show.count(m.activities),
                "teams": show.count(m.teams_engaged),
                "adoption": show.ratio(m.practice_adoption_rate),
                "value": show.money(m.cumulative_value, cur),
                "cost": show.money(m.cumulative_cost, cur),
            }
        )
    return rows


_MONTH_KEYS = ("high", "mttr", "slos", "activities", "teams", "adoption", "value", "cost")


def burner_rows(summary: PeriodSummary, limit: int | None = None) -> list[dict[str, str]]:
    """The SLOs, most error budget consumed over the year first (the first ``limit``; None: all)."""
    y = _year(summary)
    if y is None:
        return []
    rows = []
    for b in y.budget_burners[:limit]:
        rows.append(
            {
                "slo": b.display_name or b.slo,
                "service": b.service,
                "team": b.team or show.MISSING,
                "target": show.target(b.target),
                "attainment": show.attainment(b.attainment, b.target),
                "consumed": show.ratio(b.budget_consumed),
                "breached": f"{b.months_breached} of {b.months_with_data}",
                "at_risk": show.count(b.months_at_risk),
            }
        )
    return rows


def repeat_service_rows(summary: PeriodSummary, limit: int | None = None) -> list[dict[str, str]]:
    """The services whose incidents repeated an earlier one, most repeats first."""
    y = _year(summary)
    if y is None:
        return []
    return [
        {
            "service": r.service,
            "team": r.team or show.MISSING,
            "repeats": show.count(r.repeats),
            "open": show.count(r.with_open_actions),
            "incidents": show.count(r.incidents),
        }
        for r in y.repeat_services[:limit]
    ]


def initiative_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Every initiative of params/initiatives.yaml and its outcome at the year's end, each change tested."""
    rows = []
    for effect in summary.initiatives.values():
        if not effect.started:
            rows.append(
                {
                    "initiative": effect.title,
                    "started": _date(effect.start[:10]),
                    "mttr": "not started by the year's end",
                    "rate": "",
                    "cost": "",
                }
            )
            continue
        rows.append(
            {
                "initiative": effect.title,
                "started": _date(effect.start[:10]),
                "mttr": _verdict(effect.mttr),
                "rate": _verdict(effect.incident_rate),
                "cost": _verdict(effect.daily_cost),
            }
        )
    return rows


def _verdict(comparison: object) -> str:
    verdict = getattr(comparison, "verdict", None)
    return show.MISSING if verdict is None else VERDICTS.get(verdict, verdict)


def year_end_view(summary: PeriodSummary) -> PeriodSummary:
    """The summary with its activities and surveys month by month through the year (as of the last
    covered month), for the tables and charts that show a summary's activities and surveys."""
    y = _year(summary)
    if y is None:
        return summary
    return summary.model_copy(
        update={"activities": y.activities, "surveys": y.surveys, "kind": "month", "title": _month_title(y.as_of)}
    )


def year_activity_rows(summary: PeriodSummary) -> list[dict[str, str]]:
    """Each activity kind over the year: held, reached, against the year's target, the months with
    one and whether it had lapsed at the year's end."""
    y = _year(summary)
    whole = summary.activities
    if y is None or y.activities is None or whole is None:
        return []
    order = list(FAMILY_TITLES)
    rows = []
    for key, monthly in sorted(y.activities.kinds.items(), key=lambda kv: order.index(kv[1].family)):
        year = whole.kinds.get(key)
        held = sum(1 for n in monthly.counts.values() if n)
        one, many = UNIT_WORDS.get(monthly.unit, (monthly.unit, monthly.unit))
        value = year.value if year else 0
        if monthly.lapsed:
            status, word = "breached", "Lapsed at the year's end"
        elif not y.complete and year is not None and year.target is not None:
            status, word = "no_data", "Year not over: no verdict"  # a year's target, a part of its months
        elif year is None or year.met is None:
            status, word = "no_data", "No target for the year"
        else:
            status, word = ("met", "Met") if year.met else ("breached", "Below target")
        rows.append(
            {
                "activity": monthly.title,
                "family": FAMILY_TITLES[monthly.family],
                "held": show.count(year.count if year else 0),
                "value": f"{show.count(value)} {one if value == 1 else many}",
                "target": show.MISSING if year is None or year.target is None else show.count(year.target),
                "months": f"{held} of {len(monthly.counts)}",
                "last_held": show.MISSING if monthly.last_held is None else _date(monthly.last_held),
                "status": word,
                "status_key": status,
            }
        )
    return rows


def key_messages(summary: PeriodSummary) -> list[str]:
    """The year in a few sentences (after :func:`coverage_text`): value, incident rate and time to resolve against the
    year before and the baseline, and the SLO that burned most budget."""
    if _year(summary) is None:
        return [coverage_text(summary)]
    said = [value_message(summary), *rate_messages(summary), resolve_message(summary), burner_message(summary)]
    return [m for m in said if m]


def value_message(summary: PeriodSummary) -> str | None:
    """The value delivered over the programme's covered months, with the ROI and its range."""
    y = _year(summary)
    if y is None or y.value is None or not y.value.months:
        return None
    v = y.value
    roi = "" if v.roi is None else f", a return on investment of {show.ratio(v.roi)}"
    if v.roi is not None and v.range is not None and v.range.low != v.range.high:
        roi += f" ({roi_span(v.range.low, v.range.high)} over the ranges of the value assumptions)"
    cost = "" if v.programme_cost is None else f" for a programme cost of {show.money(v.programme_cost, v.currency)}"
    return (
        f"Over the programme's {len(v.months)} covered months, it delivered "
        f"{show.money(v.value_delivered, v.currency)} of value{cost}{roi}."
    )


def rate_messages(summary: PeriodSummary) -> list[str]:
    """Incidents per 30 days against the year before and the baseline, each with its verdict."""
    y = _year(summary)
    here = y.incident_rates.get("year") if y else None
    messages = []
    for key in ("previous", "baseline"):
        there = y.incident_rates.get(key) if y else None
        if here is None or there is None or here.per_30_days is None or there.comparison is None:
            continue
        verdict = VERDICTS.get(there.comparison.verdict, there.comparison.verdict)
        messages.append(
            f"Incidents per 30 days: {here.per_30_days:.1f} in {here.title} against {there.per_30_days or 0:.1f} "
            f"in {there.title} ({there.covered_months} months with data): {verdict}."
        )
    return messages


def resolve_message(summary: PeriodSummary) -> str | None:
    """Median time to resolve over the year against the baseline, with its verdict."""
    baseline = summary.reliability.comparisons.get("baseline") if summary.reliability else None
    if baseline is None or not baseline.covered or baseline.mttr.median_after is None:
        return None
    return (
        f"Median time to resolve: {show.minutes(baseline.mttr.median_after)} in {summary.title} against "
        f"{show.minutes(baseline.mttr.median_before)} at the baseline "
        f"({baseline.mttr.n_before} and {baseline.mttr.n_after} incidents): "
        f"{VERDICTS.get(baseline.mttr.verdict, baseline.mttr.verdict)}."
    )


def burner_message(summary: PeriodSummary) -> str | None:
    """The SLO that burned most error budget over the year."""
    y = _year(summary)
    if y is None or not y.budget_burners:
        return None
    b = y.budget_burners[0]
    return (
        f"{b.display_name or b.slo} burned most error budget: {show.ratio(b.budget_consumed)} of the "
        f"year's, breached in {b.months_breached} of {b.months_with_data} months."
    )


def plan_inputs(summary: PeriodSummary) -> list[str]:
    """What next year's plan should take up, each in a sentence: the SLOs that burned most budget, the
    services with the most repeat incidents, the activities that lapsed, the programme's success
    criteria not met at the year's end, the postmortems missing."""
    y = _year(summary)
    if y is None:
        return []
    items = []
    for b in y.budget_burners[:PLAN_LIMIT]:
        if not b.budget_consumed:
            continue
        months = "month" if b.months_breached == 1 else "months"
        breached = f", breached in {b.months_breached} {months}" if b.months_breached else ""
        items.append(
            f"Error budget: {b.display_name or b.slo} ({b.service}) consumed {show.ratio(b.budget_consumed)} "
            f"of its budget over the year{breached}."
        )
    for r in y.repeat_services[:PLAN_LIMIT]:
        still_open = (
            f", {r.with_open_actions} while earlier action items were still open" if r.with_open_actions else ""
        )
        items.append(
            f"Repeat incidents: {r.service} had {r.repeats} of its {r.incidents} incidents repeat an earlier one"
            f"{still_open}."
        )
    if y.activities is not None:
        for key in y.activities.lapsed:
            a = y.activities.kinds[key]
            last = show.MISSING if a.last_held is None else _date(a.last_held)
            items.append(f"Lapsed activity: {a.title}, none in the last {a.periods_since} months (last held {last}).")
    for row in criterion_rows(summary):
        if row["status_key"] == "breached":
            items.append(
                f"Success criterion not met: {row['criterion']}: {row['value']} against a threshold of "
                f"{row['threshold']}."
            )
    fu = summary.follow_up
    if fu is not None and fu.postmortems.missing:
        missing = fu.postmortems.missing
        which = (
            "postmortem the error budget policy required was"
            if missing == 1
            else "postmortems the policy required were"
        )
        items.append(
            f"Postmortems: {missing} {which} not written ({show.ratio(fu.postmortems.completion)} completion)."
        )
    return items
