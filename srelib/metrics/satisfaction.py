"""Satisfaction: CSAT, NPS and developer experience, per period, over the trend and against the
baseline (docs/metrics.md, "Satisfaction").

From the ``surveys`` rows whose ``submitted_at`` lies in a period (rows without a team are the
organisation's: they count for it, not for a team):

- **CSAT** = mean ``score`` of the ``csat`` survey (1–5), and the share of 4s and 5s;
- **NPS** = % promoters (9–10) − % detractors (0–6) of the ``nps`` survey (0–10), −100 to 100,
  with its 95 % interval by the adjusted Wald method (Rocks 2016);
- **developer experience** = mean ``score`` of the ``devex`` survey (1–5).

Against the baseline (the months before the programme), each is an honest comparison: CSAT and
developer experience by Welch's interval of the difference of means
(:func:`~srelib.metrics.compare.compare_means`), NPS by the adjusted Wald interval of the
difference of two independent NPS (:func:`compare_nps`). A gain is claimed only when the interval
excludes no change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from srelib.metrics.compare import MIN_SAMPLE, Z95, MeanComparison, Verdict, compare_means, verdict_of
from srelib.metrics.scope import Scope, periods_sql
from srelib.period import Period, Window

SURVEYS = ("csat", "nps", "devex")
PROMOTER = 9  # and above, on the NPS's 0–10
DETRACTOR = 6  # and below
SATISFIED = 4  # and above, on CSAT's 1–5


@dataclass(frozen=True)
class Survey:
    n: int
    mean: float | None


@dataclass(frozen=True)
class Satisfaction:
    csat: Survey
    csat_satisfied_ratio: float | None  # share of 4 and 5
    nps: float | None
    nps_responses: int
    promoters: int
    detractors: int
    devex: Survey
    nps_low: float | None = None  # the NPS's 95 % interval (adjusted Wald, Rocks 2016), −100 to 100
    nps_high: float | None = None


@dataclass(frozen=True)
class SatisfactionPoint(Satisfaction):
    """One trend period's satisfaction, as :func:`satisfaction` gives it for that period alone."""

    period: str = ""


def _counts_sql(periods: str) -> str:
    """SQL: per period and survey, responses, mean score, satisfied, promoters and detractors."""
    return f"""SELECT p.period, s.survey, count(*), avg(s.score),
                      count(*) FILTER (WHERE s.score >= {SATISFIED}), count(*) FILTER (WHERE s.score >= {PROMOTER}),
                      count(*) FILTER (WHERE s.score <= {DETRACTOR})
               FROM surveys s JOIN {periods} p ON s.submitted_at >= p.start_at AND s.submitted_at < p.end_at
               WHERE s.survey IN ('csat', 'nps', 'devex') AND (?::VARCHAR IS NULL OR s.team = ?::VARCHAR)
               GROUP BY ALL"""


def satisfaction_trend(
    con: duckdb.DuckDBPyConnection, periods: Sequence[Period | Window], scope: Scope
) -> list[SatisfactionPoint]:
    """CSAT, NPS (with its interval) and developer experience for each of ``periods``, in one query."""
    spans, params = periods_sql(periods)
    by: dict[str, dict[str, tuple]] = {}
    for label, survey, *counts in con.execute(_counts_sql(spans), [*params, scope.team, scope.team]).fetchall():
        by.setdefault(label, {})[survey] = tuple(counts)
    return [SatisfactionPoint(**vars(_of(by.get(p.label, {}))), period=p.label) for p in periods]


def satisfaction(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> Satisfaction:
    """The period's CSAT, NPS and developer experience."""
    point = satisfaction_trend(con, [period], scope)[0]
    return Satisfaction(**{k: v for k, v in vars(point).items() if k != "period"})


def _of(by: dict[str, tuple]) -> Satisfaction:
    none = (0, None, 0, 0, 0)
    csat, nps, devex = (by.get(name, none) for name in SURVEYS)
    interval = nps_interval(int(nps[3]), int(nps[4]), int(nps[0]))
    return Satisfaction(
        csat=Survey(int(csat[0]), None if csat[1] is None else round(float(csat[1]), 4)),
        csat_satisfied_ratio=None if not csat[0] else round(csat[2] / csat[0], 6),
        nps=nps_score(int(nps[3]), int(nps[4]), int(nps[0])),
        nps_responses=int(nps[0]),
        promoters=int(nps[3]),
        detractors=int(nps[4]),
        devex=Survey(int(devex[0]), None if devex[1] is None else round(float(devex[1]), 4)),
        nps_low=None if interval is None else interval[0],
        nps_high=None if interval is None else interval[1],
    )


def nps_score(promoters: int, detractors: int, responses: int) -> float | None:
    """Net Promoter Score: % promoters (9–10) − % detractors (0–6); None without responses."""
    if responses == 0:
        return None
    return round(100 * (promoters - detractors) / responses, 4)


def _adjusted(promoters: int, detractors: int, responses: int) -> tuple[float, float]:
    """The adjusted Wald NPS (as a −1…1 proportion) and its variance: ¾ added to the promoters and
    to the detractors and 3 to the responses (Rocks 2016)."""
    n = responses + 3
    p, d = (promoters + 0.75) / n, (detractors + 0.75) / n
    return p - d, (p + d - (p - d) ** 2) / n


def nps_interval(promoters: int, detractors: int, responses: int) -> tuple[float, float] | None:
    """The NPS's 95 % interval by the adjusted Wald method (B. Rocks, "Interval Estimation for the
    'Net Promoter Score'", The American Statistician 70(4), 2016; the best of the methods it
    compares): the variance of a difference of two proportions of one multinomial sample, clipped
    to −100…100."""
    if responses == 0:
        return None
    centre, variance = _adjusted(promoters, detractors, responses)
    half = Z95 * math.sqrt(variance)
    return round(100 * max(-1.0, centre - half), 2), round(100 * min(1.0, centre + half), 2)


@dataclass(frozen=True)
class NpsComparison:
    """Two NPS compared: after − before in points, with the adjusted Wald 95 % interval."""

    responses_before: int
    responses_after: int
    nps_before: float | None
    nps_after: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: Verdict


def compare_nps(before: tuple[int, int, int], after: tuple[int, int, int]) -> NpsComparison:
    """``before`` and ``after`` as (promoters, detractors, responses) of two independent samples:
    the difference of their NPS with the adjusted Wald interval of a difference (each sample
    adjusted as in :func:`nps_interval`, the variances added; J. Sauro, "Comparing Net Promoter
    Scores", MeasuringU, 2019, after Rocks 2016). A verdict needs the interval to exclude zero and
    ``MIN_SAMPLE`` responses on each side."""
    a, b = nps_score(*before), nps_score(*after)
    difference = None if a is None or b is None else round(b - a, 4)
    if before[2] < MIN_SAMPLE or after[2] < MIN_SAMPLE or difference is None:
        return NpsComparison(before[2], after[2], a, b, difference, None, None, "too_few")
    centre_a, variance_a = _adjusted(*before)
    centre_b, variance_b = _adjusted(*after)
    half = Z95 * math.sqrt(variance_a + variance_b)
    low, high = 100 * (centre_b - centre_a - half), 100 * (centre_b - centre_a + half)
    return NpsComparison(
        before[2], after[2], a, b, difference, round(low, 2), round(high, 2), verdict_of(low, high, 0.0, False)
    )


@dataclass(frozen=True)
class SatisfactionComparison:
    """The period's CSAT, NPS and developer experience against the baseline; higher is better."""

    baseline: str
    csat: MeanComparison
    nps: NpsComparison
    devex: MeanComparison


def satisfaction_against(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, baseline: Window | None
) -> SatisfactionComparison | None:
    """:class:`SatisfactionComparison` of ``period`` with ``baseline``; None without a baseline."""
    if baseline is None:
        return None
    scores = {
        (row[0], row[1]): row[2]
        for row in con.execute(
            """SELECT CASE WHEN submitted_at < ? THEN 'before' ELSE 'after' END, survey, list(score)
               FROM surveys
               WHERE survey IN ('csat', 'nps', 'devex') AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)
                 AND ((submitted_at >= ? AND submitted_at < ?) OR (submitted_at >= ? AND submitted_at < ?))
               GROUP BY ALL""",
            [
                baseline.end_utc,
                scope.team,
                scope.team,
                baseline.start_utc,
                baseline.end_utc,
                period.start_utc,
                period.end_utc,
            ],
        ).fetchall()
    }

    def nps_counts(side: str) -> tuple[int, int, int]:
        values = scores.get((side, "nps"), [])
        return sum(v >= PROMOTER for v in values), sum(v <= DETRACTOR for v in values), len(values)

    return SatisfactionComparison(
        baseline=baseline.label,
        csat=compare_means(scores.get(("before", "csat"), []), scores.get(("after", "csat"), [])),
        nps=compare_nps(nps_counts("before"), nps_counts("after")),
        devex=compare_means(scores.get(("before", "devex"), []), scores.get(("after", "devex"), [])),
    )
