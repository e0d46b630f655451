"""How much data each SLO's figures rest on in a period (docs/metrics.md, "Data quality").

A figure computed from a fraction of the period, or from a handful of events, says less than it
seems; every output that shows such an SLO discloses it. Per SLO and period:

- **Bucket**: the SLI's bucket width, the most common step between consecutive buckets of the
  SLO in the period (sources write one bucket per step: 1 minute, 5 minutes...).
- **Coverage** = buckets with data ÷ buckets expected. Expected: the bucket starts of the SLO's
  grid (its buckets' phase) from the period start to the end of the data, which is the period
  end, or, while the period is still going, the end of the newest bucket of any SLO. A bucket
  with zero traffic is data (the source said "no events"); a missing bucket is not. Coverage
  counts the raw buckets: a correction takes buckets out of the figures, not out of the data.
- **Gaps**: runs of missing buckets at least ``sli_gap_minutes`` long (params/org.yaml,
  default 30), at the period start, between buckets, or before the end of the data; a gap runs
  from the first missing bucket's start to the next bucket's start (or the end of the last
  missing bucket).
- **Low traffic**: fewer events (time-slice methods: slices with traffic) than
  ``low_traffic_events`` (params/org.yaml) or, by default, than 1 ÷ (1 − target): below it the
  period's error budget is less than one event, so a single bad event moves the attainment by
  more than the budget allows (99.9 %: 1,000 events). A 100 % target has no budget: only the
  configured threshold applies.
- **Corrections**: how many corrections took buckets out, and their minutes in the period.

Flags: ``no_data`` (no bucket in the period), ``low_coverage`` (coverage below
``sli_min_coverage``, default 90 %), ``gaps``, ``low_traffic``.

Sources: Google SRE Workbook, "Implementing SLOs" (SLI coverage and low-traffic services);
Nobl9 and Datadog SLO documentation (data gaps and low-traffic warnings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from srelib.metrics.corrections import CorrectionApplied
from srelib.metrics.slo import SloDefinition, SloResult
from srelib.period import Period

MAX_GAPS = 10  # the longest gaps listed per SLO; gap_count and gap_minutes count them all
ASSUMED_BUCKET_SECONDS = 60  # an SLO with a single bucket ever: the canonical minute


@dataclass(frozen=True)
class DataGap:
    start: str  # ISO 8601 in the org time zone
    end: str  # exclusive
    minutes: float


@dataclass(frozen=True)
class SloDataQuality:
    service: str
    team: str | None
    bucket_seconds: int | None  # None: no bucket in the period
    through: str  # the end of the data in the period (ISO 8601, org time zone): the period end once it is over
    buckets_expected: int
    buckets_with_data: int
    coverage: float | None  # None: no bucket was expected (the period had not started)
    gap_count: int
    gap_minutes: float
    events: int  # Σtotal of the period's buckets (after corrections, as the attainment counts them)
    measured: int  # what the attainment counts: events (Occurrences) or slices with traffic
    low_traffic_below: int | None  # the threshold: fewer measured than this is low traffic
    corrections: int
    corrected_minutes: float
    flags: list[str] = field(default_factory=list)
    gaps: list[DataGap] = field(default_factory=list)  # the longest MAX_GAPS, in order of start


def low_traffic_threshold(target: float, configured: int | None = None) -> int | None:
    """The events (or slices) below which a period's figure rests on low traffic: ``configured``
    (params/org.yaml ``low_traffic_events``) or the smallest count whose error budget is at least
    one event, ⌈1 ÷ (1 − target)⌉ (99.9 %: 1,000; 97 %: 34); None at a 100 % target unless configured."""
    if configured is not None:
        return configured
    if target >= 1:
        return None
    return math.ceil(round(1 / (1 - target), 9))


def expected_buckets(start_us: int, end_us: int, phase_us: int, bucket_us: int) -> int:
    """How many bucket starts ``phase + k × bucket`` (k any integer) lie in [start, end)."""
    if end_us <= start_us:
        return 0
    return _ceil_div(end_us - phase_us, bucket_us) - _ceil_div(start_us - phase_us, bucket_us)


def _grid_at_or_after(moment_us: int, phase_us: int, bucket_us: int) -> int:
    """The first bucket start of the grid ``phase + k × bucket`` at or after ``moment``."""
    return phase_us + _ceil_div(moment_us - phase_us, bucket_us) * bucket_us


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def data_quality(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    definitions: Sequence[SloDefinition],
    results: dict[str, SloResult],
    corrections: Sequence[CorrectionApplied],
    *,
    min_coverage: float = 0.9,
    gap_minutes: float = 30,
    low_traffic_events: int | None = None,
) -> dict[str, SloDataQuality]:
    """Each of ``definitions``' data quality in ``period`` (``results``: their figures of the period)."""
    if not definitions:
        return {}
    start, end = period.start_utc, period.end_utc
    gap_seconds = gap_minutes * 60
    rows = con.execute(
        """
        WITH b AS (
            SELECT slo, "timestamp" AS ts, epoch_us(lead("timestamp") OVER w) - epoch_us("timestamp") AS step
            FROM sli WHERE "timestamp" >= ? AND "timestamp" < ?
            WINDOW w AS (PARTITION BY slo ORDER BY "timestamp")
        )
        SELECT slo, count(*), epoch_us(min(ts)), epoch_us(max(ts)), mode(step),
               list([epoch_us(ts), step] ORDER BY ts) FILTER (WHERE step > ?)
        FROM b GROUP BY slo""",
        [start, end, int(gap_seconds * 1_000_000)],
    ).fetchall()
    found = {r[0]: r[1:] for r in rows}
    buckets = {slo: _bucket_us(con, slo, first, step) for slo, (_, first, _, step, _) in found.items()}
    later = con.execute('SELECT EXISTS (SELECT 1 FROM sli WHERE "timestamp" >= ?)', [end]).fetchall()[0][0]
    start_us, end_us = _us(start), _us(end)
    if later or not found:
        through_us = end_us
    else:  # the period is still going: the data end at the newest bucket's end
        through_us = min(end_us, max(last + buckets[slo] for slo, (_, _, last, _, _) in found.items()))
    corrected: dict[str, list[CorrectionApplied]] = {}
    for c in corrections:
        corrected.setdefault(c.slo, []).append(c)
    tz = period.start.tzinfo
    quality = {}
    for d in definitions:
        count, first, last, _, long_steps = found.get(d.name, (0, None, None, None, None))
        bucket_us = buckets.get(d.name)
        gaps: list[tuple[int, int]] = []
        expected = 0
        if bucket_us is not None and first is not None and last is not None:
            phase = first % bucket_us
            expected = expected_buckets(start_us, through_us, phase, bucket_us)
            # missing buckets of the grid: before the first, between two, after the last
            spans = [(_grid_at_or_after(start_us, phase, bucket_us), first)]
            spans += [(at + bucket_us, at + step) for at, step in long_steps or []]
            spans.append((last + bucket_us, _grid_at_or_after(through_us, phase, bucket_us)))
            gaps = [(a, b) for a, b in spans if b - a >= gap_seconds * 1_000_000]
        elif through_us > start_us:
            gaps = [(start_us, through_us)] if through_us - start_us >= gap_seconds * 1_000_000 else []
        result = results.get(d.name)
        events = result.total if result else 0
        measured = events if d.budgeting_method == "Occurrences" or result is None else int(result.slices or 0)
        threshold = low_traffic_threshold(d.target, low_traffic_events)
        coverage = None if expected == 0 else round(count / expected, 6)
        if count == 0:
            coverage = 0.0 if through_us > start_us else None
        flags = []
        if count == 0:
            flags.append("no_data")
        elif coverage is not None and coverage < min_coverage:
            flags.append("low_coverage")
        if gaps:
            flags.append("gaps")
        if threshold is not None and measured < threshold:
            flags.append("low_traffic")
        applied = corrected.get(d.name, [])
        longest = sorted(sorted(gaps, key=lambda g: (g[0] - g[1], g[0]))[:MAX_GAPS])
        quality[d.name] = SloDataQuality(
            service=d.service,
            team=d.team,
            bucket_seconds=None if bucket_us is None else bucket_us // 1_000_000,
            through=_local(through_us, tz),
            buckets_expected=expected,
            buckets_with_data=int(count),
            coverage=coverage,
            gap_count=len(gaps),
            gap_minutes=round(sum(b - a for a, b in gaps) / 60_000_000, 4),
            events=int(events),
            measured=int(measured),
            low_traffic_below=threshold,
            corrections=len(applied),
            corrected_minutes=round(sum(c.minutes for c in applied), 4),
            flags=flags,
            gaps=[DataGap(_local(a, tz), _local(b, tz), round((b - a) / 60_000_000, 4)) for a, b in longest],
        )
    return quality


def _bucket_us(con: duckdb.DuckDBPyConnection, slo: str, first_us: int, step: int | None) -> int:
    """The SLO's bucket width: the period's most common step, else (a single bucket in the period)
    the step to its neighbour in the whole table, else :data:`ASSUMED_BUCKET_SECONDS`."""
    if step:
        return int(step)
    at = datetime(1970, 1, 1) + timedelta(microseconds=first_us)
    row = con.execute(
        """SELECT least((SELECT min("timestamp") FROM sli WHERE slo = ? AND "timestamp" > ?) - ?::TIMESTAMP,
                        ?::TIMESTAMP - (SELECT max("timestamp") FROM sli WHERE slo = ? AND "timestamp" < ?))""",
        [slo, at, at, at, slo, at],
    ).fetchall()
    near: Any = row[0][0] if row else None
    return int(near.total_seconds() * 1_000_000) if near else ASSUMED_BUCKET_SECONDS * 1_000_000


def _us(moment: datetime) -> int:
    """Microseconds since the epoch of a naive UTC datetime (the warehouse's timestamps)."""
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _local(us: int, tz: Any) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(tz).isoformat(timespec="minutes")
