"""Production readiness: PRR coverage of the critical services, and how launches fared (docs/metrics.md).

After the SRE book (Beyer et al., *Site Reliability Engineering*, 2016, ch. 32 "The Evolving SRE
Engagement Model"): a Production Readiness Review checks a service against production standards
before SRE supports it, and launches go better with SRE's launch coordination (ch. 27,
"Reliable Product Launches at Scale").

Reviews are ``engagement`` rows of the ``review_kinds`` (production readiness review,
architecture review, feature launch support) that name a ``service``; launches are the
``launches`` file.

- **PRR coverage** at the period end = services of tier ``prr_tier`` (``params/services.yaml``)
  with a ``prr_kind`` row dated before the period end (and, with ``prr_valid_days``, within that
  many days of it) ÷ services of that tier. A team sees its own services.
- **Launch incident rates**: a launch is *reviewed* when a review of its service is dated in
  the ``review_before_launch_days`` up to its launch day (org time zone). Its incidents are the
  service's incidents that started in the ``launch_window_days`` from the launch (an incident in
  the windows of two launches counts for both). Compared: the launches whose window closed in the
  ``launch_lookback_days`` up to the period end, reviewed against not, as incidents per launch
  (:func:`srelib.metrics.compare.compare_rates`, exposure = launches × window days: the rate
  ratio reviewed ÷ not reviewed with its exact 95 % interval; ``too_few`` under 5 incidents in
  all). An association, not a cause: teams choose which launches to review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from srelib.config import FollowUp
from srelib.metrics.compare import RateComparison, compare_rates
from srelib.metrics.follow_up import has_table
from srelib.metrics.scope import Scope
from srelib.period import Period


@dataclass(frozen=True)
class Launch:
    launch_id: str
    service: str
    team: str | None
    title: str | None
    launched_at: str  # ISO 8601 in the org time zone
    reviewed: bool
    reviews: list[str]  # the kinds of review before it
    incidents: int  # the service's incidents in the window so far (up to the period end)
    window_closed: bool  # the whole window lies before the period end


@dataclass(frozen=True)
class LaunchGroup:
    launches: int = 0
    incidents: int = 0
    per_launch: float | None = None


@dataclass(frozen=True)
class Readiness:
    prr_tier: int = 1
    tier_services: int = 0
    prr_services: int = 0  # of those, with a PRR on record at the period end
    prr_coverage: float | None = None
    without_prr: list[str] = field(default_factory=list)
    last_prr: dict[str, str] = field(default_factory=dict)  # service → the latest PRR's date
    launches: list[Launch] = field(default_factory=list)  # launched in the period
    window_days: int = 30
    lookback_days: int = 365
    reviewed: LaunchGroup = field(default_factory=LaunchGroup)  # compared launches with a review
    not_reviewed: LaunchGroup = field(default_factory=LaunchGroup)
    comparison: RateComparison | None = None  # reviewed against not reviewed, per launch


def readiness(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, settings: FollowUp) -> Readiness:
    tz = period.start.tzinfo if isinstance(period.start.tzinfo, ZoneInfo) else ZoneInfo("UTC")
    reviews = _reviews(con, settings)
    tier = sorted(
        s
        for s, entry in scope.catalogue.services.items()
        if entry.tier == settings.prr_tier and (scope.team is None or entry.team == scope.team)
    )
    end_day = period.shift(1).first_day  # the first day after the period
    valid_from = None if settings.prr_valid_days is None else end_day - timedelta(days=settings.prr_valid_days)
    last_prr: dict[str, str] = {}
    for day, kind, service in reviews:
        valid = day < end_day and (valid_from is None or day >= valid_from)
        if kind == settings.prr_kind and service in tier and valid:
            last_prr[service] = max(last_prr.get(service, ""), day.isoformat())
    launches = _launches(con, period, scope, settings, reviews, tz)
    start, end = period.start_utc, period.end_utc
    window = timedelta(days=settings.launch_window_days)
    oldest = end - timedelta(days=settings.launch_lookback_days)
    compared = [(at, launch) for at, launch in launches if oldest <= at + window <= end]
    groups = {flag: _group([launch for _, launch in compared if launch.reviewed == flag]) for flag in (True, False)}
    reviewed, not_reviewed = groups[True], groups[False]
    days = float(settings.launch_window_days)
    return Readiness(
        prr_tier=settings.prr_tier,
        tier_services=len(tier),
        prr_services=len(last_prr),
        prr_coverage=None if not tier else round(len(last_prr) / len(tier), 6),
        without_prr=[s for s in tier if s not in last_prr],
        last_prr=dict(sorted(last_prr.items())),
        launches=[launch for at, launch in launches if start <= at < end],
        window_days=settings.launch_window_days,
        lookback_days=settings.launch_lookback_days,
        reviewed=reviewed,
        not_reviewed=not_reviewed,
        comparison=None
        if not compared
        else compare_rates(
            not_reviewed.incidents,
            not_reviewed.launches * days,
            reviewed.incidents,
            reviewed.launches * days,
        ),
    )


def _group(launches: list[Launch]) -> LaunchGroup:
    incidents = sum(launch.incidents for launch in launches)
    return LaunchGroup(len(launches), incidents, None if not launches else round(incidents / len(launches), 6))


def _reviews(con: duckdb.DuckDBPyConnection, settings: FollowUp) -> list[tuple[date, str, str]]:
    """(date, kind, service) of every review row that names a service."""
    columns = {r[0] for r in con.execute("DESCRIBE engagement").fetchall()}
    if "service" not in columns:  # a warehouse made before engagement rows named services
        return []
    rows = con.execute(
        """SELECT date, kind, trim(service) FROM engagement
           WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND trim(coalesce(service, '')) <> ''
           ORDER BY date, kind, service""",
        [sorted(set(settings.review_kinds) | {settings.prr_kind})],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def _launches(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    settings: FollowUp,
    reviews: list[tuple[date, str, str]],
    tz: ZoneInfo,
) -> list[tuple[datetime, Launch]]:
    """The scope's launches up to the period end (naive UTC start, :class:`Launch`), with their
    incidents counted up to the period end."""
    if not has_table(con, "launches"):
        return []
    catalogue, catalogue_params = scope.catalogue_sql()
    rows = con.execute(
        f"""SELECT l.launch_id, l.service, coalesce(nullif(trim(l.team), ''), c.team) AS owner, l.title, l.launched_at,
                   count(i.incident_id)
            FROM launches l
            LEFT JOIN {catalogue} c ON c.service = l.service
            LEFT JOIN incidents i ON i.service = l.service AND i.started_at >= l.launched_at
                 AND i.started_at < least(l.launched_at + to_days(?), ?::TIMESTAMP)
            WHERE l.launched_at < ?
              AND (?::VARCHAR IS NULL OR coalesce(nullif(trim(l.team), ''), c.team) = ?::VARCHAR)
            GROUP BY ALL ORDER BY l.launched_at, l.launch_id""",
        [*catalogue_params, settings.launch_window_days, period.end_utc, period.end_utc, scope.team, scope.team],
    ).fetchall()
    kinds = set(settings.review_kinds)
    before = timedelta(days=settings.review_before_launch_days)
    window = timedelta(days=settings.launch_window_days)
    launches = []
    for launch_id, service, team, title, launched_at, incidents in rows:
        local = launched_at.replace(tzinfo=UTC).astimezone(tz)
        day = local.date()
        found = sorted({k for d, k, s in reviews if s == service and k in kinds and day - before <= d <= day})
        launches.append(
            (
                launched_at,
                Launch(
                    launch_id,
                    service,
                    team,
                    title,
                    local.isoformat(timespec="minutes"),
                    bool(found),
                    found,
                    int(incidents),
                    launched_at + window <= period.end_utc,
                ),
            )
        )
    return launches
