"""Post-incident follow-up: postmortems, their action items, and incidents that came back (docs/metrics.md).

After the SRE book (Beyer et al., *Site Reliability Engineering*, 2016, ch. 15 "Postmortem
Culture"): a postmortem is written for every incident that meets the triggers, and its action
items are owned, dated and tracked to closure; an incident that recurs while the earlier one's
actions are still open is the cost of follow-up left undone.

- **Postmortems required**: the period's incidents whose severity is one of the error budget
  policy's ``postmortem_severities`` (SEV1, SEV2), and those that alone consumed more than the
  policy's ``single_incident_budget_share`` of a budget (``srelib.metrics.policy``). A postmortem
  is *done* when the incident has a ``postmortem_url``; without one it is *due* from
  ``postmortem_due_days`` after the incident was resolved (an open incident's is not due yet):
  *missing* when that moment is at or before the period end, else *pending*. Completion =
  done ÷ (done + missing): a postmortem not due yet counts neither way. The data has no date for
  a postmortem, so a past period's completion is as the latest export says.
- **Action items** as of the period end (``E``): those that exist by then (``created_at``, else
  their incident's start, before ``E``). An action is *due* until the end of its ``due`` day in
  the org time zone (midnight starting the next day, ``deadline``). *Open*: not closed before
  ``E``; *overdue*: open with ``deadline`` ≤ ``E``. Of those closed in the period: *on time* when
  ``closed_at`` < ``deadline``, else *late*; without a due date, neither. The on-time rate =
  on time ÷ (on time + late).
- **Repeat incidents**: a period incident repeats an earlier incident of the same service that
  started in the ``repeat_within_days`` before it and matches it by one of ``repeat_match``: the
  same cause (case and surrounding blanks ignored), the same title fingerprint (lower case,
  letters only: digits, punctuation and spacing ignored) or, with ``service``, any incident of
  the service. It repeats *with open actions* when such an earlier incident had action items
  open when it started (created before and not closed by then).

A team's scope: incidents whose team is the team (the catalogue fills in an empty team); action
items whose own ``team`` is the team, else whose incident's is. An action whose incident is not
in the warehouse counts with its own team only, and is counted as ``unlinked``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from heapq import merge
from itertools import islice
from zoneinfo import ZoneInfo

import duckdb

from srelib.config import ErrorBudgetPolicy, FollowUp
from srelib.metrics.incidents import scoped_incidents
from srelib.metrics.scope import Scope
from srelib.period import Period


@dataclass(frozen=True)
class RequiredPostmortem:
    incident_id: str
    service: str
    team: str | None
    severity: str
    reason: str  # severity | budget: why the policy requires it
    status: str  # done | pending | missing
    due_at: str | None  # when it is (or was) due, ISO 8601 UTC; None while the incident is open
    postmortem_url: str | None


@dataclass(frozen=True)
class Postmortems:
    required: int = 0
    done: int = 0
    pending: int = 0  # not due yet at the period end
    missing: int = 0  # due and not written
    completion: float | None = None  # done ÷ (done + missing)
    incidents: list[RequiredPostmortem] = field(default_factory=list)  # in order of start


@dataclass(frozen=True)
class ActionItem:
    incident_id: str
    action: str
    action_id: str | None
    owner: str | None
    team: str | None
    service: str | None  # the incident's service (None: the incident is not in the warehouse)
    severity: str | None
    due: str | None  # YYYY-MM-DD
    days_overdue: int | None  # whole days since the due day ended, at the period end
    url: str | None


@dataclass(frozen=True)
class Actions:
    total: int = 0  # action items that exist by the period end
    open: int = 0  # open at the period end, overdue ones included
    overdue: int = 0
    open_without_due: int = 0
    closed_in_period: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    on_time_rate: float | None = None  # on time ÷ (on time + late)
    unlinked: int = 0  # action items whose incident is not in the warehouse
    overdue_items: list[ActionItem] = field(default_factory=list)  # most overdue first


@dataclass(frozen=True)
class RepeatWithOpenActions:
    incident_id: str
    service: str
    severity: str
    repeats: str  # the earlier incident whose actions were open
    matched_by: str  # cause | title | service
    days_after: float
    open_actions: int  # the earlier incident's actions open when this one started
    overdue_actions: int  # ... of which past their due day by then


@dataclass(frozen=True)
class ServiceFollowUp:
    """What the error budget policy asks of a service and is not done: postmortems missing for the
    period's required incidents, and overdue action items of incidents of the policy's severities."""

    postmortems_missing: list[str] = field(default_factory=list)
    actions_overdue: int = 0
    oldest_overdue_days: int | None = None


@dataclass(frozen=True)
class FollowUpFigures:
    postmortems: Postmortems = field(default_factory=Postmortems)
    actions: Actions = field(default_factory=Actions)
    repeats: int = 0  # the period's incidents that repeat an earlier one (this module's definition)
    repeat_within_days: int = 90
    repeats_with_open_actions: list[RepeatWithOpenActions] = field(default_factory=list)
    by_service: dict[str, ServiceFollowUp] = field(default_factory=dict)
    repeats_by_service: dict[str, int] = field(default_factory=dict)  # service → its repeats, as ``repeats``
    postmortem_severities: list[str] = field(default_factory=lambda: ["SEV1", "SEV2"])  # the policy's


_NOT_LETTERS = re.compile(r"[^a-z]+")


def title_fingerprint(title: str | None) -> str | None:
    """A title with what varies between recurrences taken out: lower case, letters only
    ("Checkout 502s after deploy #41" and "checkout 503s after deploy #57" are alike)."""
    if title is None:
        return None
    text = _NOT_LETTERS.sub(" ", title.lower()).strip()
    return " ".join(text.split()) or None


def deadline(due: date, tz: ZoneInfo | None) -> datetime:
    """The moment (naive UTC) an action due on ``due`` becomes overdue: midnight starting the next
    day in the org time zone."""
    local = datetime.combine(due + timedelta(days=1), datetime.min.time(), tz or UTC)
    return local.astimezone(UTC).replace(tzinfo=None)


def days_overdue(due: date, period: Period) -> int:
    """Whole local days an action due on ``due`` is overdue at ``period``'s end: its last day
    minus the due day (calendar days in the org time zone, so a DST change costs none)."""
    return (period.shift(1).first_day - due).days - 1


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the warehouse has table ``name`` (one made by an earlier srelib may lack the newer ones
    until its next ingest)."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name])
    return bool(found.fetchall()[0][0])


def follow_up(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    policy: ErrorBudgetPolicy,
    settings: FollowUp,
    budget_incidents: Iterable[str] = (),
) -> FollowUpFigures:
    """:class:`FollowUpFigures` for ``period``; ``budget_incidents``: the incidents the error budget
    policy requires a postmortem for by their budget share (``PolicyState.postmortems_required``)."""
    tz = period.start.tzinfo if isinstance(period.start.tzinfo, ZoneInfo) else None
    actions = _action_rows(con, period, scope)
    postmortems = _postmortems(con, period, scope, policy, set(budget_incidents))
    repeats, with_open, per_service = _repeats(con, period, scope, settings, actions, tz)
    return FollowUpFigures(
        postmortems=postmortems,
        actions=_actions(actions, period, scope, tz),
        repeats=repeats,
        repeat_within_days=settings.repeat_within_days,
        repeats_with_open_actions=with_open,
        by_service=_by_service(postmortems, actions, period, scope, policy, tz),
        repeats_by_service=per_service,
        postmortem_severities=list(policy.postmortem_severities),
    )


def _postmortems(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, policy: ErrorBudgetPolicy, budget: set[str]
) -> Postmortems:
    scoped, params = scoped_incidents(scope, [period])
    rows = con.execute(
        f"""SELECT incident_id, service, owner, severity, resolved_at, nullif(trim(postmortem_url), '')
            FROM ({scoped})
            WHERE severity IN (SELECT unnest(?::VARCHAR[])) OR incident_id IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY started_at, incident_id""",
        [*params, list(policy.postmortem_severities), sorted(budget)],
    ).fetchall()
    grace = timedelta(days=policy.postmortem_due_days or 0)
    incidents = []
    for incident_id, service, team, severity, resolved_at, url in rows:
        due_at = None if resolved_at is None else resolved_at + grace
        if url:
            status = "done"
        elif due_at is not None and due_at <= period.end_utc:
            status = "missing"
        else:
            status = "pending"
        reason = "severity" if severity in policy.postmortem_severities else "budget"
        iso = None if due_at is None else due_at.isoformat() + "Z"
        incidents.append(RequiredPostmortem(incident_id, service, team, severity, reason, status, iso, url))
    done = sum(1 for i in incidents if i.status == "done")
    missing = sum(1 for i in incidents if i.status == "missing")
    return Postmortems(
        required=len(incidents),
        done=done,
        pending=sum(1 for i in incidents if i.status == "pending"),
        missing=missing,
        completion=None if done + missing == 0 else round(done / (done + missing), 6),
        incidents=incidents,
    )


@dataclass(frozen=True)
class _ActionRow:
    incident_id: str
    action: str
    action_id: str | None
    owner: str | None
    team: str | None  # the action's team, else its incident's
    service: str | None
    severity: str | None
    due: date | None
    exists_from: datetime | None  # created_at, else the incident's start (naive UTC)
    closed_at: datetime | None
    url: str | None
    linked: bool


def _action_rows(con: duckdb.DuckDBPyConnection, period: Period, scope: Scope) -> list[_ActionRow]:
    """Every action item with its incident's service, severity and team (the catalogue's when the
    incident has none), existing by the period end."""
    if not has_table(con, "actions"):
        return []
    catalogue, catalogue_params = scope.catalogue_sql()
    rows = con.execute(
        f"""SELECT a.incident_id, a.action, a.action_id, a.owner,
                  coalesce(nullif(trim(a.team), ''), i.team, c.team), i.service, i.severity, a.due,
                  coalesce(a.created_at, i.started_at), a.closed_at, a.url, i.incident_id IS NOT NULL
           FROM actions a
           LEFT JOIN incidents i ON i.incident_id = a.incident_id
           LEFT JOIN {catalogue} c ON c.service = i.service
           WHERE coalesce(a.created_at, i.started_at) IS NULL OR coalesce(a.created_at, i.started_at) < ?
           ORDER BY a.incident_id, a.action""",
        [*catalogue_params, period.end_utc],
    ).fetchall()
    return [_ActionRow(*r) for r in rows]


def _in_scope(row: _ActionRow, scope: Scope) -> bool:
    return scope.team is None or row.team == scope.team


def _open_at(row: _ActionRow, moment: datetime) -> bool:
    existed = row.exists_from is None or row.exists_from < moment
    return existed and (row.closed_at is None or row.closed_at >= moment)


def _actions(rows: list[_ActionRow], period: Period, scope: Scope, tz: ZoneInfo | None) -> Actions:
    end = period.end_utc
    mine = [r for r in rows if _in_scope(r, scope)]
    open_rows = [r for r in mine if _open_at(r, end)]
    overdue: list[ActionItem] = []
    for r in open_rows:
        if r.due is not None and deadline(r.due, tz) <= end:
            overdue.append(_item(r, days_overdue(r.due, period)))
    closed = [r for r in mine if r.closed_at is not None and period.start_utc <= r.closed_at < end]
    dated = [(r.closed_at, deadline(r.due, tz)) for r in closed if r.closed_at is not None and r.due is not None]
    on_time = sum(1 for closed_at, due_end in dated if closed_at < due_end)
    late = len(dated) - on_time
    overdue.sort(key=lambda i: (-(i.days_overdue or 0), i.incident_id, i.action))
    return Actions(
        total=len(mine),
        open=len(open_rows),
        overdue=len(overdue),
        open_without_due=sum(1 for r in open_rows if r.due is None),
        closed_in_period=len(closed),
        closed_on_time=on_time,
        closed_late=late,
        on_time_rate=None if on_time + late == 0 else round(on_time / (on_time + late), 6),
        unlinked=sum(1 for r in mine if not r.linked),
        overdue_items=overdue,
    )


def _item(row: _ActionRow, days_overdue: int | None) -> ActionItem:
    return ActionItem(
        row.incident_id,
        row.action,
        row.action_id,
        row.owner,
        row.team,
        row.service,
        row.severity,
        None if row.due is None else row.due.isoformat(),
        days_overdue,
        row.url,
    )


def _repeats(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    scope: Scope,
    settings: FollowUp,
    actions: list[_ActionRow],
    tz: ZoneInfo | None,
) -> tuple[int, list[RepeatWithOpenActions], dict[str, int]]:
    """How many of the period's incidents repeat an earlier one, those whose earlier one had actions
    open, and how many repeat per service."""
    scoped, params = scoped_incidents(scope, [period])
    current = con.execute(
        f"""SELECT incident_id, service, severity, started_at, cause, title FROM ({scoped})
            ORDER BY started_at, incident_id""",
        params,
    ).fetchall()
    window = timedelta(days=settings.repeat_within_days)
    earlier = con.execute(
        """SELECT incident_id, service, started_at, cause, title FROM incidents
           WHERE started_at >= ? AND started_at < ? ORDER BY started_at DESC, incident_id""",
        [period.start_utc - window, period.end_utc],
    ).fetchall()
    by_incident: dict[str, list[_ActionRow]] = {}
    for a in actions:
        by_incident.setdefault(a.incident_id, []).append(a)
    # The earlier incidents, newest first, with their match keys worked out once, filed under
    # what an incident is matched by: its service (``service`` in ``repeat_match``), else each of
    # (service, cause) and (service, title) that ``repeat_match`` names. An incident is compared
    # only with those it can match, from the newest before it (found by bisection) back to the
    # window's start, in that order.
    by = settings.repeat_match
    filed: dict[tuple[str, ...], _Filed] = {}
    for position, (e_id, e_service, e_started, e_cause, e_title) in enumerate(earlier):
        entry = (position, e_id, e_started, _keys(e_cause, e_title))
        for key in _filed_under(by, e_service, entry[3]):
            filed.setdefault(key, _Filed()).add(entry)
    repeats = 0
    with_open: list[RepeatWithOpenActions] = []
    per_service: dict[str, int] = {}
    for incident_id, service, severity, started, cause, title in current:
        keys = _keys(cause, title)
        streams = [filed[key].before(started) for key in _filed_under(by, service, keys) if key in filed]
        candidates = streams[0] if len(streams) == 1 else _merged(streams)
        repeated = False
        for _, e_id, e_started, e_keys in candidates:  # newest first, each before this one
            if e_started < started - window:
                break  # and older ones are all outside the window
            if e_id == incident_id or (how := _match(by, keys, e_keys)) is None:
                continue
            if not repeated:
                repeated = True
                repeats += 1
                per_service[service] = per_service.get(service, 0) + 1
            # the most recent earlier incident with actions still open when this one started
            still_open = [a for a in by_incident.get(e_id, []) if _open_at(a, started)]
            if still_open:
                late = sum(1 for a in still_open if a.due is not None and deadline(a.due, tz) <= started)
                days = round((started - e_started).total_seconds() / 86400, 4)
                with_open.append(
                    RepeatWithOpenActions(incident_id, service, severity, e_id, how, days, len(still_open), late)
                )
                break
            if not by_incident:
                break  # no actions at all: a match is all there is to find
    return repeats, with_open, dict(sorted(per_service.items()))


def _filed_under(by: list[str], service: str, keys: tuple[str | None, str | None]) -> list[tuple[str, ...]]:
    """Where :func:`_repeats` files an incident of ``service`` with match ``keys`` (by
    :func:`_keys`), and so where it looks for the earlier ones it can match."""
    if "service" in by:
        return [(service,)]
    return [(service, k, v) for k, v in zip(("cause", "title"), keys, strict=True) if k in by and v]


_EPOCH = datetime(1970, 1, 1)
_Entry = tuple[int, str, datetime, tuple[str | None, str | None]]  # position, id, started, match keys


class _Filed:
    """Earlier incidents of one service (and cause or title), newest first, as :func:`_repeats`
    files them, with their start times ready for bisection."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.since: list[float] = []  # −seconds since the epoch: ascending as the entries get older

    def add(self, entry: _Entry) -> None:
        self.entries.append(entry)
        self.since.append(-(entry[2] - _EPOCH).total_seconds())

    def before(self, started: datetime) -> Iterator[_Entry]:
        """The entries that started before ``started``, newest first."""
        return islice(self.entries, bisect_right(self.since, -(started - _EPOCH).total_seconds()), None)


def _merged(streams: list[Iterator[_Entry]]) -> Iterator[_Entry]:
    """Entries of several newest-first streams in their one order (their position), each once."""
    last = None
    for entry in merge(*streams):
        if entry[0] != last:
            last = entry[0]
            yield entry


def _keys(cause: str | None, title: str | None) -> tuple[str | None, str | None]:
    """What an incident is matched by: its cause (case and surrounding blanks ignored) and its
    title's fingerprint (:func:`title_fingerprint`)."""
    return (cause.strip().lower() or None if cause else None), title_fingerprint(title)


def _match(by: list[str], this: tuple[str | None, str | None], other: tuple[str | None, str | None]) -> str | None:
    """How an incident matches an earlier one of its service (each given by :func:`_keys`): the
    first of ``by`` that does."""
    for key in by:
        if key == "service":
            return key
        a, b = (this[0], other[0]) if key == "cause" else (this[1], other[1])
        if a and a == b:
            return key
    return None


def _by_service(
    postmortems: Postmortems,
    actions: list[_ActionRow],
    period: Period,
    scope: Scope,
    policy: ErrorBudgetPolicy,
    tz: ZoneInfo | None,
) -> dict[str, ServiceFollowUp]:
    end = period.end_utc
    missing: dict[str, list[str]] = {}
    for p in postmortems.incidents:
        if p.status == "missing":
            missing.setdefault(p.service, []).append(p.incident_id)
    overdue: dict[str, list[int]] = {}
    for a in actions:
        if (
            a.service is not None
            and a.severity in policy.postmortem_severities
            and _in_scope(a, scope)
            and _open_at(a, end)
            and a.due is not None
            and deadline(a.due, tz) <= end
        ):
            overdue.setdefault(a.service, []).append(days_overdue(a.due, period))
    return {
        s: ServiceFollowUp(
            postmortems_missing=missing.get(s, []),
            actions_overdue=len(overdue.get(s, [])),
            oldest_overdue_days=max(overdue[s]) if s in overdue else None,
        )
        for s in sorted(set(missing) | set(overdue))
    }
