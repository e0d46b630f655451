"""Awareness and impact KPIs, each against its target in ``params/targets.yaml`` (docs/metrics.md).

From the ``engagement`` table (rows whose ``date`` falls in the period, org time zone):

- ``training_participation_rate`` = Σreached ÷ Σaudience over ``training`` rows with an audience.
- ``newsletter_open_rate`` = Σreached (opens) ÷ Σaudience (recipients) over ``newsletter`` rows.
- ``documentation_views`` = Σreached over ``doc_page`` and ``blog`` rows.
- ``event_attendance`` = Σreached over events: ``lunch_and_learn``, ``deep_dive``,
  ``office_hours``, ``workshop``, ``drill`` and ``training``.
- ``collaboration_events`` = events (as above) held with a named team;
  ``teams_engaged`` = distinct teams named on any engagement row.

``upcoming``: events dated in the 31 days after the period (the newsletter's "coming up").

From ``adoption``: ``practice_adoption_rate`` = teams that adopted a practice by the period
end ÷ (teams × practices), with each practice's rate and its trend. From ``automation_runs``
(tool usage): ``automation_runs`` = runs in the period, with runs per automation and the
teams using them.

Count targets are the whole org's, per month (``teams_engaged``: per period); for weeks and
quarters they scale with the period's length (target × days ÷ 30.44). A team's counts are
shown without a target; its rates are held to the org's. A KPI meets its target when value ≥ target (or ≤ for
``higher_is_better: false``); without a target, ``met`` is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from srelib.config import Targets
from srelib.metrics.scope import Scope
from srelib.period import Period

EVENTS = ("lunch_and_learn", "deep_dive", "office_hours", "workshop", "drill", "training")
RATES = {"training_participation_rate", "newsletter_open_rate", "practice_adoption_rate"}
PER_MONTH = {"documentation_views", "event_attendance", "collaboration_events", "automation_runs"}
DAYS_PER_MONTH = 365.25 / 12


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
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, targets: Targets, trend: list[Period]
) -> Engagement:
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
    events = list(EVENTS)
    collaboration, teams_engaged = con.execute(
        f"""SELECT count(*) FILTER (WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND trim(coalesce(team, '')) <> ''),
                   count(DISTINCT nullif(trim(team), ''))
            FROM engagement WHERE {where}""",
        [events, *params],
    ).fetchall()[0]

    def rate(kind: str) -> float | None:
        _, _, audience, reached = kinds.get(kind, (0, 0, None, None))
        return None if not audience else round(float(reached) / float(audience), 6)

    adoption, adoption_rate = _adoption(con, period, scope)
    trend_rates = {p.label: _adoption(con, p, scope)[0] for p in trend}
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
        "training_participation_rate": rate("training"),
        "newsletter_open_rate": rate("newsletter"),
        "documentation_views": float(sum(int(kinds.get(k, (0, 0))[1] or 0) for k in ("doc_page", "blog"))),
        "event_attendance": float(sum(int(kinds.get(k, (0, 0))[1] or 0) for k in EVENTS)),
        "collaboration_events": float(collaboration or 0),
        "teams_engaged": float(teams_engaged or 0),
        "practice_adoption_rate": adoption_rate,
        "automation_runs": float(sum(int(r[1]) for r in tools)),
    }
    return Engagement(
        kpis={name: _kpi(name, value, targets, period, scope) for name, value in values.items()},
        events={k: int(kinds[k][0]) for k in EVENTS if k in kinds},
        adoption=adoption,
        adoption_trend=trend_rates,
        tool_usage={r[0]: int(r[1]) for r in tools},
        tool_teams=int(tool_teams or 0),
        upcoming=_upcoming(con, period, scope),
    )


def _upcoming(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, days: int = 31) -> list[UpcomingEvent]:
    """Events planned in the ``days`` after the period (a team also sees the org-wide ones)."""
    first = period.shift(1).first_day
    rows = con.execute(
        """SELECT strftime(date, '%Y-%m-%d'), kind, title, nullif(trim(team), '') FROM engagement
           WHERE date >= ? AND date < ?::DATE + to_days(?) AND list_contains(?::VARCHAR[], kind)
             AND (?::VARCHAR IS NULL OR team = ?::VARCHAR OR trim(coalesce(team, '')) = '')
           ORDER BY date, kind, title""",
        [first, first, days, list(EVENTS), scope.team, scope.team],
    ).fetchall()
    return [UpcomingEvent(*r) for r in rows]


def _kpi(name: str, value: float | None, targets: Targets, period: Period, scope: Scope) -> Kpi:
    unit = "ratio" if name in RATES else "count"
    configured = targets.targets.get(name)
    if configured is None or (scope.team and unit == "count"):  # count targets are the whole org's
        return Kpi(value, None, None, unit)
    scale = period.days / DAYS_PER_MONTH if name in PER_MONTH else 1.0
    target = round(configured.target * scale, 4)
    if value is None:
        return Kpi(None, target, None, unit)
    met = value >= target if configured.higher_is_better else value <= target
    return Kpi(value, target, met, unit)


def _adoption(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope
) -> tuple[dict[str, float | None], float | None]:
    """Each practice's adoption rate at the period end (teams that adopted it ÷ teams), and overall."""
    teams = [scope.team] if scope.team else _teams(con, scope)
    practices = [r[0] for r in con.execute("SELECT DISTINCT practice FROM adoption ORDER BY practice").fetchall()]
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
