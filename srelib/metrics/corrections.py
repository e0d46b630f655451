"""The SLO corrections applied in a period: what each one took out of which SLO (docs/metrics.md, "Corrections").

The windows are made at ingest (:mod:`srelib.ingest.corrections`); every SLO figure already reads
the SLI without the buckets that start inside them (:func:`srelib.metrics.slo.sli_source`).
This module says, per correction and SLO, how much it took out of the period, so that every
output showing a corrected SLO can disclose it: the windows that overlap the period, their
minutes within it, and the events (and bad events) of the buckets left out. A bucket inside two
windows of one correction counts once for it; a bucket inside windows of two corrections counts
for each (each says what it alone would take out), and once in the SLO's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from srelib.ingest.corrections import WINDOWS_TABLE
from srelib.period import Period, Window

KEY = ("c_slo", "c_service", "c_start", "c_end", "rrule", "reason", "kind", "slo")  # a correction, for one SLO


def _same(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in KEY)


@dataclass(frozen=True)
class CorrectionApplied:
    slo: str
    kind: str  # maintenance | false_positive | dependency | other
    reason: str | None
    start: str  # the correction as given: its first window, ISO 8601 UTC
    end: str
    rrule: str | None
    service: str | None  # given for every SLO of a service instead of one SLO
    windows: int  # windows overlapping the period
    minutes: float  # of those windows, within the period
    events: int  # Σtotal of the buckets left out
    bad_events: int  # Σ(total − good) of the buckets left out


def corrections_applied(
    con: duckdb.DuckDBPyConnection, period: Period | Window, slos: Sequence[str]
) -> list[CorrectionApplied]:
    """Each correction's windows over ``period`` for each of ``slos``, in the order of their start."""
    try:
        con.execute(f"SELECT 1 FROM {WINDOWS_TABLE} LIMIT 0")
    except duckdb.CatalogException:  # a warehouse from before corrections
        return []
    key = ", ".join(f"w.{c}" for c in KEY)
    rows = con.execute(
        f"""
        WITH windows AS (
            SELECT * FROM {WINDOWS_TABLE} w
            WHERE w.end_at > ? AND w.start_at < ? AND list_contains(?::VARCHAR[], w.slo)
        ), spans AS (
            SELECT {key}, count(*) AS windows,
                   sum(epoch(least(w.end_at, ?::TIMESTAMP) - greatest(w.start_at, ?::TIMESTAMP))) / 60 AS minutes
            FROM windows w GROUP BY ALL
        ), removed AS (
            SELECT {", ".join(KEY)}, sum(total) AS events, sum(total - good) AS bad
            FROM (SELECT DISTINCT {key}, s."timestamp", s.good, s.total
                  FROM windows w JOIN sli s ON s.slo = w.slo
                   AND s."timestamp" >= w.start_at AND s."timestamp" < w.end_at
                   AND s."timestamp" >= ? AND s."timestamp" < ?)
            GROUP BY ALL
        )
        SELECT s.slo, s.kind, s.reason, s.c_start, s.c_end, s.rrule, s.c_service, s.windows, s.minutes,
               coalesce(r.events, 0), coalesce(r.bad, 0)
        FROM spans s LEFT JOIN removed r ON {_same("s", "r")}
        ORDER BY s.c_start, s.slo, s.c_service NULLS FIRST, s.rrule NULLS FIRST""",
        [
            period.start_utc,
            period.end_utc,
            list(slos),
            period.end_utc,
            period.start_utc,
            period.start_utc,
            period.end_utc,
        ],
    ).fetchall()
    return [
        CorrectionApplied(
            slo=slo,
            kind=kind,
            reason=reason,
            start=start.isoformat() + "Z",
            end=end.isoformat() + "Z",
            rrule=rule,
            service=service,
            windows=int(windows),
            minutes=round(float(minutes), 4),
            events=int(events),
            bad_events=int(bad),
        )
        for slo, kind, reason, start, end, rule, service, windows, minutes, events, bad in rows
    ]
