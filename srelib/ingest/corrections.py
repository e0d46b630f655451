"""SLO corrections: the windows whose SLI buckets count for no SLO figure.

A row of the canonical ``corrections`` file (:data:`srelib.ingest.schemas.CORRECTIONS`) names an
SLO, or a service for every SLO of it, and a half-open window ``[start, end)``; with an
``rrule`` (RFC 5545, read by dateutil) the window repeats from ``start`` on. Repeats are
made in the org's time zone on the wall clock: a window from Saturday 22:00 to 23:00 in
Europe/Berlin stays at 22:00 local time when summer time starts, and moves in UTC. The
correction's own window is always the first; the rule's occurrences follow, up to the day after
the newest SLI bucket.

At ingest (:func:`expand`, in the ingest's transaction) every correction becomes one row per
window and SLO in ``correction_windows``, and the buckets that *start* inside a window of their
SLO are listed once in ``corrected_buckets``; the metrics read the SLI through
:func:`srelib.metrics.slo.sli_source`, which leaves those buckets out (a hash anti-join on
equal keys, far cheaper per query than comparing every bucket with every window). So attainment,
budgets, burn rates, alerts, the burn-down and the policy all see the corrected data, and the
raw ``sli`` table stays as delivered, for audit and re-ingest. When the time zone of
``params/org.yaml`` changes, ingest again (any data directory) to repeat the windows in the new one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import duckdb

from srelib.errors import Problem
from srelib.ingest.specs import SloCatalogue

if TYPE_CHECKING:
    import pandas as pd

WINDOWS_TABLE = "correction_windows"
BUCKETS_TABLE = "corrected_buckets"  # (slo, timestamp) of every bucket a window takes out: an equality anti-join
# The correction's own columns (as given, for the summary's list), then the window of one SLO.
WINDOW_COLUMNS = (
    ("c_slo", "VARCHAR"),
    ("c_service", "VARCHAR"),
    ("c_start", "TIMESTAMP"),
    ("c_end", "TIMESTAMP"),
    ("rrule", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("slo", "VARCHAR"),
    ("start_at", "TIMESTAMP"),
    ("end_at", "TIMESTAMP"),
)


def occurrences(
    start: datetime, end: datetime, rule: str | None, timezone: str, until: datetime | None
) -> list[tuple[datetime, datetime]]:
    """The windows of one correction, as naive UTC ``(start, end)`` pairs: its own, then each
    occurrence of ``rule`` after it whose start is before ``until`` (naive UTC), repeated on the
    wall clock of ``timezone``. ``start`` and ``end`` are naive UTC, as the warehouse keeps them."""
    windows = [(start, end)]
    if not rule or until is None:
        return windows
    from dateutil.rrule import rrulestr

    zone = ZoneInfo(timezone)

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)

    def utc(wall: datetime) -> datetime:
        return wall.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    first, length = local(start), local(end) - local(start)
    last = local(until)
    for wall in rrulestr(rule.strip(), dtstart=first):
        if wall > last:
            break
        if wall != first:
            windows.append((utc(wall), utc(wall + length)))
    return windows


def expand(con: duckdb.DuckDBPyConnection, catalog: str, timezone: str) -> int:
    """Rebuild ``{catalog}.correction_windows`` from every correction in the warehouse, and
    ``corrected_buckets`` from those windows, in the ingest's transaction; the number of windows
    (one per SLO a window applies to)."""
    table, buckets = f"{catalog}.{WINDOWS_TABLE}", f"{catalog}.{BUCKETS_TABLE}"
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{n} {t}' for n, t in WINDOW_COLUMNS)})")
    con.execute(f'CREATE TABLE IF NOT EXISTS {buckets} (slo VARCHAR, "timestamp" TIMESTAMP)')
    con.execute(f"DELETE FROM {table}")
    con.execute(f"DELETE FROM {buckets}")
    rows = con.execute(
        f'SELECT slo, service, "start", "end", rrule, reason, coalesce(kind, \'other\') FROM {catalog}.corrections'
    ).fetchall()
    if not rows:
        return 0
    newest = con.execute(f'SELECT max("timestamp") FROM {catalog}.sli').fetchall()[0][0]
    until = None if newest is None else newest + timedelta(days=1)
    of_service: dict[str, list[str]] = {}
    for name, service in con.execute(f"SELECT name, service FROM {catalog}.slos ORDER BY name").fetchall():
        of_service.setdefault(service, []).append(name)
    columns: list[list[object]] = [[] for _ in WINDOW_COLUMNS]
    for slo, service, start, end, rule, reason, kind in rows:
        for window_start, window_end in occurrences(start, end, rule, timezone, until):
            for name in [slo] if slo else of_service.get(service, []):
                values = (slo, service, start, end, rule, reason, kind, name, window_start, window_end)
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
    unnested = ", ".join(f"unnest(?::{t}[])" for _, t in WINDOW_COLUMNS)
    con.execute(f"INSERT INTO {table} SELECT {unnested}", columns)
    con.execute(f"""
        INSERT INTO {buckets}
        SELECT DISTINCT s.slo, s."timestamp" FROM {catalog}.sli s JOIN {table} w
            ON s.slo = w.slo AND s."timestamp" >= w.start_at AND s."timestamp" < w.end_at""")
    return len(columns[0])


def unknown_services(frame: pd.DataFrame, slos: SloCatalogue) -> list[Problem]:
    """Rows of a ``corrections`` (or ``annotations``) text frame (with ``_file`` and ``_row``) whose
    ``service`` has no SLO in the specs, or that name an SLO of another service: they would correct
    (or annotate) nothing."""
    services = {s.name: s.service for s in slos.slos}
    known = set(services.values())
    problems = []
    for file, row, slo, service in zip(frame["_file"], frame["_row"], frame["slo"], frame["service"], strict=True):
        slo = slo.strip() if isinstance(slo, str) and slo.strip() else None
        service = service.strip() if isinstance(service, str) and service.strip() else None
        if service is None:
            continue
        if slo is None and service not in known:
            message = f"unknown service: no SLO in the specs is of service {service!r}"
        elif slo is not None and slo in services and services[slo] != service:
            message = f"{slo!r} is an SLO of service {services[slo]!r}, not {service!r}: leave service empty"
        else:
            continue
        problems.append(Problem(str(file), int(row), "service", message))
    return problems
