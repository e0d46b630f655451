"""Every survey, per question, against its target and over the trend periods (docs/metrics.md, "Surveys").

From ``surveys`` (rows whose ``submitted_at`` lies in a period; rows without a team are the
organisation's and count for it, not for a team), per survey and per ``question`` (the text as
written; rows without one are the question ``None``):

- ``n`` and ``mean`` = responses and mean ``score`` in the period; ``trend`` = the mean per
  trend period (None without responses);
- ``latest_*`` = the latest trend period with responses (this one, or an earlier wave: a survey
  run each quarter has no responses in most months) and its ``n`` and mean;
- ``target`` = the survey's in ``params/activities.yaml`` (``surveys: {stakeholder: {target: 4.0}}``,
  a mean score on the survey's ``scale``, 1 to 5 unless configured); ``met`` = latest mean ≥
  target, for the survey as a whole and for each question.

Every survey in the data is read, configured or not (CSAT and NPS keep their own figures in
``value.satisfaction``); a configured survey without responses in the trend is listed empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from srelib.config import Activities
from srelib.metrics.scope import Scope
from srelib.metrics.targets import meets
from srelib.period import Period


@dataclass(frozen=True)
class Scores:
    n: int  # responses in the period
    mean: float | None
    trend: dict[str, float | None] = field(default_factory=dict)  # trend period → mean score
    responses: dict[str, int] = field(default_factory=dict)  # trend period → responses
    latest_period: str | None = None  # the latest trend period with responses
    latest_n: int = 0
    latest_mean: float | None = None
    met: bool | None = None  # latest mean ≥ the survey's target


@dataclass(frozen=True)
class QuestionScores(Scores):
    question: str | None = None


@dataclass(frozen=True)
class SurveyResult(Scores):
    title: str = ""
    scale: tuple[float, float] = (1, 5)
    target: float | None = None
    configured: bool = True
    questions: list[QuestionScores] = field(default_factory=list)


def surveys(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, config: Activities, trend: list[Period]
) -> dict[str, SurveyResult]:
    """Each survey's scores, as a whole and per question, for ``period`` and each trend period."""
    labels = [p.label for p in trend]
    rows = con.execute(
        """WITH periods AS (SELECT unnest(?::VARCHAR[]) AS label, unnest(?::TIMESTAMP[]) AS first,
                                   unnest(?::TIMESTAMP[]) AS stop)
           SELECT s.survey, nullif(trim(s.question), '') AS question, p.label, count(*), sum(s.score)
           FROM surveys s JOIN periods p ON s.submitted_at >= p.first AND s.submitted_at < p.stop
           WHERE ?::VARCHAR IS NULL OR s.team = ?::VARCHAR
           GROUP BY ALL""",
        [labels, [p.start_utc for p in trend], [p.end_utc for p in trend], scope.team, scope.team],
    ).fetchall()
    sums: dict[str, dict[str | None, dict[str, tuple[int, float]]]] = {}
    for survey, question, label, n, total in rows:
        sums.setdefault(survey, {}).setdefault(question, {})[label] = (int(n), float(total))
    names = list(config.surveys) + sorted(set(sums) - set(config.surveys))
    result = {}
    for name in names:
        setting = config.surveys.get(name)
        questions = sums.get(name, {})
        if setting is None and not questions:
            continue
        target = setting.target if setting else None
        whole: dict[str, tuple[int, float]] = {}
        for per_period in questions.values():
            for label, (n, total) in per_period.items():
                before = whole.get(label, (0, 0.0))
                whole[label] = (before[0] + n, before[1] + total)
        result[name] = SurveyResult(
            **vars(_scores(whole, labels, target)),
            title=setting.title if setting else name.replace("_", " "),
            scale=setting.scale if setting else (1, 5),
            target=target,
            configured=setting is not None,
            questions=[
                QuestionScores(**vars(_scores(questions[q], labels, target)), question=q)
                for q in sorted(questions, key=lambda q: (q is None, q or ""))
            ],
        )
    return result


def _scores(per_period: dict[str, tuple[int, float]], labels: list[str], target: float | None) -> Scores:
    """Responses and mean per trend period (the last is the summary's), the latest wave, and the verdict."""
    responses = {label: per_period.get(label, (0, 0.0))[0] for label in labels}
    trend = {label: mean_score(*per_period.get(label, (0, 0.0))) for label in labels}
    latest = next((label for label in reversed(labels) if responses[label]), None)
    latest_mean = trend[latest] if latest else None
    return Scores(
        n=responses[labels[-1]],
        mean=trend[labels[-1]],
        trend=trend,
        responses=responses,
        latest_period=latest,
        latest_n=responses[latest] if latest else 0,
        latest_mean=latest_mean,
        met=meets(latest_mean, target),
    )


def mean_score(responses: int, total: float) -> float | None:
    """The mean score of ``responses`` adding up to ``total``; None without responses."""
    return None if responses == 0 else round(total / responses, 4)
