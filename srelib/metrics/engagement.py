"""Awareness and impact KPIs, each against its target in ``params/targets.yaml`` (docs/metrics.md).

From the ``engagement`` table (rows whose ``date`` falls in the period, org time zone), over the
activity kinds of ``params/activities.yaml`` (their family and unit say which KPI a row feeds):

- ``training_participation_rate`` = Σreached ÷ Σaudience over rows of the education family
  (training, courses, drills, hands-on learning) with an audience.
- ``newsletter_open_rate`` = Σreached (opens) ÷ Σaudience (recipients) over ``newsletter`` rows.
- ``documentation_views`` = Σreached over the other kinds measured in views (docs, wiki, blog,
  podcast and video).
- ``event_attendance`` = Σreached over events: the kinds measured in sessions, attendees or
  completions (what people take part in).
- ``collaboration_events`` = events (as above) held with a named team;
  ``teams_engaged`` = distinct teams named on any engagement row.

``upcoming``: events dated in the 31 days after the period (the newsletter's "coming up").

From ``adoption``: ``practice_adoption_rate`` = teams that adopted a practice by the period
end ÷ (teams × practices), with each practice's rate and its trend. From ``automation_runs``
(tool usage): ``automation_runs`` = runs in the period, with runs per automation and the
teams using them.

Count targets are the whole org's, per calendar month (``teams_engaged``: per period, whatever
its kind); a week, quarter or year is held to its own kind's target
(:func:`srelib.metrics.targets.period_target`: a month is a month whatever its days). A team's
counts are shown without a target; its rates are held to the org's. A KPI meets its target when
value ≥ target (or ≤ for ``higher_is_better: false``); without a target, ``met`` is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from srelib.config import Activities, Targets
from srelib.metrics.scope import Scope
from srelib.metrics.targets import meets, period_target
from srelib.period import Period

RATES = {"training_participation_rate", "newsletter_open_rate", "practice_adoption_rate"}
PER_MONTH = {"documentation_views", "event_attendance", "collaboration_events", "automation_runs"}


def event_kinds(activities: Activities) -> list[str]:
    """The kinds people take part in (measured in sessions, attendees or completions), not content read."""
    return [key for key, kind in activities.kinds.items() if kind.unit != "views"]


def content_kinds(activities: Activities) -> list[str]:
    """The kinds read or watched (measured in views), other than the newsletter, which has its own rate."""
    return [key for key, kind in activities.kinds.items() if kind.unit == "views" and key != "newsletter"]


def training_kinds(activities: Activities) -> list[str]:
    return [key for key, kind in activities.kinds.items() if kind.family == "education"]


@dataclass(frozen=True)
class Kpi:
    value: float | None
    target: float | None
    met: bool | None
    unit: str  # "ratio" or "count"


@dataclass(frozen=True)
class UpcomingEvent:
    date: str  # YYYY-MM-DD
    kind: str
    title: str | None
    team: str | None


@dataclass(frozen=True)
class Engagement:
    kpis: dict[str, Kpi]
    events: dict[str, int] = field(default_factory=dict)  # events held per kind
    adoption: dict[str, float | None] = field(default_factory=dict)  # practice → adoption rate at period end
    adoption_trend: dict[str, dict[str, float | None]] = field(default_factory=dict)  # period → practice → rate
    tool_usage: dict[str, int] = field(default_factory=dict)  # automation → runs
    tool_teams: int = 0
    upcoming: list[UpcomingEvent] = field(default_factory=list)  # events in the 31 days after the period


def engagement(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    targets: Targets,
    trend: list[Period],
    activities: Activities | None = None,
) -> Engagement:
    activities = activities or Activities()
    team = scope.team
    params = [period.first_day, period.shift(1).first_day, team, team]
    where = "date >= ? AND date < ? AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)"
    kinds = dict(
        (r[0], r[1:])
        for r in con.execute(
            f"""SELECT kind, count(*), sum(reached), sum(audience) FILTER (WHERE audience > 0),
                       sum(reached) FILTER (WHERE audience > 0)
                FROM engagement WHERE {where} GROUP BY kind""",
            params,
        ).fetchall()
    )
    events = event_kinds(activities)
    collaboration, teams_engaged = con.execute(
        f"""SELECT count(*) FILTER (WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND trim(coalesce(team, '')) <> ''),
                   count(DISTINCT nullif(trim(team), ''))
            FROM engagement WHERE {where}""",
        [events, *params],
    ).fetchall()[0]

    def rate(*of: str) -> float | None:
        audience = sum(float(kinds[k][2] or 0) for k in of if k in kinds)
        reached = sum(float(kinds[k][3] or 0) for k in of if k in kinds)
        return None if not audience else round(reached / audience, 6)

    def reach(of: list[str]) -> float:
        return float(sum(int(kinds.get(k, (0, 0))[1] or 0) for k in of))

    practices = [r[0] for r in con.execute("SELECT DISTINCT practice FROM adoption ORDER BY practice").fetchall()]
    teams_of_scope = [scope.team] if scope.team else _teams(con, scope)  # read once for every trend period
    adoption, adoption_rate = _adoption(con, period, teams_of_scope, practices)
    trend_rates = {p.label: _adoption(con, p, teams_of_scope, practices)[0] for p in trend}
    tools = con.execute(
        """SELECT automation, count(*) FROM automation_runs
           WHERE ran_at >= ? AND ran_at < ? AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)
           GROUP BY automation ORDER BY automation""",
        [period.start_utc, period.end_utc, team, team],
    ).fetchall()
    tool_teams = con.execute(
        "SELECT count(DISTINCT team) FROM automation_runs WHERE ran_at >= ? AND ran_at < ? "
        "AND (?::VARCHAR IS NULL OR team = ?::VARCHAR)",
        [period.start_utc, period.end_utc, team, team],
    ).fetchall()[0][0]
    values: dict[str, float | None] = {
        "training_participation_rate": rate(*training_kinds(activities)),
        "newsletter_open_rate": rate("newsletter"),
        "documentation_views": reach(content_kinds(activities)),
        "event_attendance": reach(events),
        "collaboration_events": float(collaboration or 0),
        "teams_engaged": float(teams_engaged or 0),
        "practice_adoption_rate": adoption_rate,
        "automation_runs": float(sum(int(r[1]) for r in tools)),
    }
    return Engagement(
        kpis={name: _kpi(name, value, targets, period, scope) for name, value in values.items()},
        events={k: int(kinds[k][0]) for k in events if k in kinds},
        adoption=adoption,
        adoption_trend=trend_rates,
        tool_usage={r[0]: int(r[1]) for r in tools},
        tool_teams=int(tool_teams or 0),
        upcoming=_upcoming(con, period, scope, events),
    )


def _upcoming(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, events: list[str], days: int = 31
) -> list[UpcomingEvent]:
    """Events planned in the ``days`` after the period (a team also sees the org-wide ones)."""
    first = period.shift(1).first_day
    rows = con.execute(
        """SELECT strftime(date, '%Y-%m-%d'), kind, title, nullif(trim(team), '') FROM engagement
           WHERE date >= ? AND date < ?::DATE + to_days(?) AND list_contains(?::VARCHAR[], kind)
             AND (?::VARCHAR IS NULL OR team = ?::VARCHAR OR trim(coalesce(team, '')) = '')
           ORDER BY date, kind, title""",
        [first, first, days, events, scope.team, scope.team],
    ).fetchall()
    return [UpcomingEvent(*r) for r in rows]


def _kpi(name: str, value: float | None, targets: Targets, period: Period, scope: Scope) -> Kpi:
    unit = "ratio" if name in RATES else "count"
    configured = targets.targets.get(name)
    if configured is None or (scope.team and unit == "count"):  # count targets are the whole org's
        return Kpi(value, None, None, unit)
    if name in PER_MONTH:  # per calendar period: a month is a month whatever its days
        c = configured
        target = period_target(period.kind, c.target, c.per_week, c.per_quarter, c.per_year)
    else:
        target = configured.target
    return Kpi(value, target, meets(value, target, configured.higher_is_better), unit)


def _adoption(
    con: duckdb.DuckDBPyConnection, period: Period, teams: list[str], practices: list[str]
) -> tuple[dict[str, float | None], float | None]:
    """Each practice's adoption rate at the period end (``teams`` that adopted it ÷ ``teams``), and overall."""
    if not teams or not practices:
        return {}, None
    rows = dict(
        con.execute(
            """SELECT practice, count(DISTINCT team) FROM adoption
               WHERE adopted_at < ? AND team IN (SELECT unnest(?::VARCHAR[])) GROUP BY practice""",
            [period.end_utc, teams],
        ).fetchall()
    )
    per_practice: dict[str, float | None] = {p: round(int(rows.get(p, 0)) / len(teams), 6) for p in practices}
    overall = round(sum(int(rows.get(p, 0)) for p in practices) / (len(teams) * len(practices)), 6)
    return per_practice, overall


def _teams(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[str]:
    """Every team the org has: the catalogue's and those named in adoption."""
    named = {r[0] for r in con.execute("SELECT DISTINCT team FROM adoption").fetchall()}
    return sorted(named | set(scope.catalogue.teams))
