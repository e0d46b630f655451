"""The programme's activities per kind and per team, against their targets, and their momentum
(docs/metrics.md, "Activities").

Each row of ``engagement`` is one occurrence of an activity kind of ``params/activities.yaml``
(a session held, a course run, a post published), on its ``date`` (a calendar day: the period
holds it when ``first day ≤ date < next period's first day``), with its ``reached``. Over the
summary's trend periods (the last ``trend_periods``, this one last):

- ``count`` = rows of the kind in the period; ``reach`` = Σ ``reached``;
- ``value`` = the kind measured in its unit: ``count`` for ``sessions``, ``reach`` for
  ``attendees``, ``completions`` and ``views``;
- ``target`` = the kind's target for the period's kind (:func:`srelib.metrics.targets.period_target`:
  a month is a month whatever its days); ``met`` = value ≥ target; a team's activities are shown
  without targets (they are the whole programme's);
- **momentum**: a kind has **lapsed** when none was held in the last N periods or more (this
  one included; N = ``lapse_after`` for the period's kind, default 2 months, 6 weeks, 1
  quarter), although one was held in an earlier trend period, and this silence is longer than
  any gap between its earlier occurrences in the trend (its own rhythm: a course held each
  quarter lapses after three quiet months, not two). ``periods_since`` counts the periods since
  the latest one (0: held in this period; None: not in the trend). Kinds held on demand
  (``lapses: false``: launch support, reviews) never lapse.

Per team: the rows naming the team (rows without a team are the organisation's), in the period
and per trend period. Kinds without data in the trend and without a target are left out; a kind
found in the warehouse but no longer configured is shown by its key, without family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import duckdb

from srelib.config import Activities, ActivityKind
from srelib.metrics.scope import Scope
from srelib.metrics.targets import meets, period_target
from srelib.period import Period


@dataclass(frozen=True)
class KindActivity:
    title: str
    family: str | None  # awareness | education | engagement | integration; None: no longer configured
    unit: str  # sessions | attendees | completions | views: what ``value`` and ``target`` count
    count: int  # occurrences in the period
    reach: int  # Σ reached in the period
    value: int  # count (sessions) or reach (the other units)
    target: float | None
    met: bool | None
    counts: dict[str, int] = field(default_factory=dict)  # trend period → occurrences
    reaches: dict[str, int] = field(default_factory=dict)  # trend period → Σ reached
    teams: int = 0  # distinct teams named in the period
    lapses: bool = True  # False: held on demand, never lapsed
    lapsed: bool = False
    periods_since: int | None = None  # periods since the latest occurrence in the trend (0: this one)
    last_held: str | None = None  # YYYY-MM-DD of the latest occurrence up to the period's end


@dataclass(frozen=True)
class TeamActivity:
    count: int  # occurrences naming the team in the period
    reach: int
    kinds: dict[str, int] = field(default_factory=dict)  # kind → occurrences in the period
    counts: dict[str, int] = field(default_factory=dict)  # trend period → occurrences
    last_held: str | None = None


@dataclass(frozen=True)
class ActivitySummary:
    kinds: dict[str, KindActivity]  # in the order of params/activities.yaml
    teams: dict[str, TeamActivity]
    lapsed: list[str]  # kinds that lapsed, longest silent first
    lapse_after: int  # N, in periods of the summary's kind
    count: int = 0  # every occurrence in the period
    reach: int = 0
    targeted: int = 0  # kinds with a target for this period
    met: int = 0  # of which met


def activities(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, config: Activities, trend: list[Period]
) -> ActivitySummary:
    """Every configured kind's occurrences and reach per trend period, its target and momentum,
    and each team's occurrences. ``trend`` ends with ``period``."""
    labels = [p.label for p in trend]
    rows = con.execute(
        """WITH periods AS (SELECT unnest(?::VARCHAR[]) AS label, unnest(?::DATE[]) AS first,
                                   unnest(?::DATE[]) AS stop)
           SELECT p.label, e.kind, nullif(trim(e.team), '') AS team, count(*), coalesce(sum(e.reached), 0)
           FROM engagement e JOIN periods p ON e.date >= p.first AND e.date < p.stop
           WHERE ?::VARCHAR IS NULL OR e.team = ?::VARCHAR
           GROUP BY ALL""",
        [labels, [p.first_day for p in trend], [p.shift(1).first_day for p in trend], scope.team, scope.team],
    ).fetchall()
    last = dict(
        con.execute(
            """SELECT kind, strftime(max(date), '%Y-%m-%d') FROM engagement
               WHERE date < ? AND (?::VARCHAR IS NULL OR team = ?::VARCHAR) GROUP BY kind""",
            [period.shift(1).first_day, scope.team, scope.team],
        ).fetchall()
    )
    counts: dict[str, dict[str, int]] = {}
    reaches: dict[str, dict[str, int]] = {}
    teams_now: dict[str, set[str]] = {}
    for label, kind, team, n, reached in rows:
        counts.setdefault(kind, dict.fromkeys(labels, 0))[label] += int(n)
        reaches.setdefault(kind, dict.fromkeys(labels, 0))[label] += int(reached)
        if label == period.label and team:
            teams_now.setdefault(kind, set()).add(team)
    lapse_after = config.lapse_after.of(period.kind)
    kinds: dict[str, KindActivity] = {}
    known = list(config.kinds) + sorted(set(counts) - set(config.kinds))
    for key in known:
        kind = config.kinds.get(key)
        target = None if scope.team or kind is None else _target(kind, period)
        if key not in counts and target is None:
            continue
        kinds[key] = _kind_activity(
            key,
            kind,
            counts.get(key, dict.fromkeys(labels, 0)),
            reaches.get(key, dict.fromkeys(labels, 0)),
            target,
            lapse_after,
            len(teams_now.get(key, ())),
            last.get(key),
        )
    lapsed = sorted((k for k, a in kinds.items() if a.lapsed), key=lambda k: (-(kinds[k].periods_since or 0), k))
    targeted = [a for a in kinds.values() if a.met is not None]
    return ActivitySummary(
        kinds=kinds,
        teams=_teams(con, period, scope, trend, rows),
        lapsed=lapsed,
        lapse_after=lapse_after,
        count=sum(a.count for a in kinds.values()),
        reach=sum(a.reach for a in kinds.values()),
        targeted=len(targeted),
        met=sum(1 for a in targeted if a.met),
    )


def _target(kind: ActivityKind, period: Period) -> float | None:
    t = kind.targets
    return period_target(period.kind, t.per_month, t.per_week, t.per_quarter, t.per_year)


def _kind_activity(
    key: str,
    kind: ActivityKind | None,
    counts: dict[str, int],
    reaches: dict[str, int],
    target: float | None,
    lapse_after: int,
    teams: int,
    last_held: str | None,
) -> KindActivity:
    label = list(counts)[-1]
    unit = kind.unit if kind else "sessions"
    value = counts[label] if unit == "sessions" else reaches[label]
    lapses = kind.lapses if kind else True
    since = periods_since(list(counts.values()))
    return KindActivity(
        title=kind.title if kind else key.replace("_", " "),
        family=kind.family if kind else None,
        unit=unit,
        count=counts[label],
        reach=reaches[label],
        value=value,
        target=target,
        met=meets(value, target),
        counts=counts,
        reaches=reaches,
        teams=teams,
        lapses=lapses,
        lapsed=lapses and lapsed(list(counts.values()), lapse_after),
        periods_since=since,
        last_held=last_held,
    )


def periods_since(counts: list[int]) -> int | None:
    """Periods since the latest one with an occurrence (0: the last period has one); None: none."""
    for back, n in enumerate(reversed(counts)):
        if n:
            return back
    return None


def lapsed(counts: list[int], lapse_after: int) -> bool:
    """Momentum lost: the kind ran earlier in the trend, but none in the last ``lapse_after``
    periods or more, and this silence is longer than any gap between its earlier occurrences (a
    course held each quarter is not lapsed after two quiet months, but is after three)."""
    silence = periods_since(counts)
    if silence is None or silence == len(counts) or silence < lapse_after:
        return False
    held = [i for i, n in enumerate(counts) if n]
    longest_gap = max((later - earlier - 1 for earlier, later in pairwise(held)), default=0)
    return silence > longest_gap


def _teams(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    trend: list[Period],
    rows: list[tuple[str, str, str | None, int, int]],
) -> dict[str, TeamActivity]:
    """Each team's occurrences: the catalogue's teams (with none, too: a team not reached yet is
    news) and any other team the rows name; for a team's summary, that team."""
    labels = [p.label for p in trend]
    named = {team for _, _, team, _, _ in rows if team}
    teams = [scope.team] if scope.team else sorted(named | set(scope.catalogue.teams))
    last = dict(
        con.execute(
            """SELECT nullif(trim(team), ''), strftime(max(date), '%Y-%m-%d') FROM engagement
               WHERE date < ? AND nullif(trim(team), '') IS NOT NULL GROUP BY ALL""",
            [period.shift(1).first_day],
        ).fetchall()
    )
    result = {}
    for team in teams:
        mine = [r for r in rows if r[2] == team]
        now = [r for r in mine if r[0] == period.label]
        by_kind: dict[str, int] = {}
        for r in now:
            by_kind[r[1]] = by_kind.get(r[1], 0) + int(r[3])
        per_period = dict.fromkeys(labels, 0)
        for r in mine:
            per_period[r[0]] += int(r[3])
        result[team] = TeamActivity(
            count=sum(int(r[3]) for r in now),
            reach=sum(int(r[4]) for r in now),
            kinds=dict(sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))),
            counts=per_period,
            last_held=last.get(team),
        )
    return result
