"""Error budgets over time: rolling status, daily burn-down, burn rates, alerts and the policy.

Definitions (docs/metrics.md, "SLOs"):

- **Rolling status at period end**: attainment, budget remaining and status over the SLO's own
  time window ending at the period end: ``[end − window, end)`` for rolling windows; for
  calendar-aligned windows, the calendar month, quarter, year, ISO week or day (by the window's
  unit, in the org time zone) that contains the period's last moment, cut at the period end.
- **Daily burn-down**: for each day *D* of the period (org time zone), the budget remaining over
  the window's whole days ending with *D* (rolling), or from the calendar window's start to *D*.
- **Burn rate** over a window = (bad ÷ total events in the window) ÷ (1 − target) (SRE Workbook,
  "Alerting on SLOs"); 1 spends exactly the budget over the SLO window.
- **Multiwindow, multi-burn-rate alerts** (Workbook table 5-8): page when the burn rate over both
  1 h and 5 m exceeds 14.4, or over both 6 h and 30 m exceeds 6; ticket when over both 1 d and
  2 h exceeds 3, or over both 3 d and 6 h exceeds 1. The factors assume a 30-day budget; other
  windows scale them by window days ÷ 30 (28 days: 13.44, 5.6, 2.8, 0.933). Evaluated every
  5 minutes through the period on 5-minute blocks of the SLI buckets.
- **Error budget policy** (Workbook appendix B): a service whose SLO has spent its trailing
  four-week budget (remaining ≤ ``freeze_when_remaining_below``) has its releases frozen except
  the listed exceptions; an incident that alone consumed more than ``single_incident_budget_share``
  of a four-week budget (bad events during the incident ÷ the budget's allowed bad events)
  requires a postmortem with a P0 action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np

from srelib.config import ErrorBudgetPolicy
from srelib.metrics.scope import Scope
from srelib.metrics.slo import SloDefinition, SloResult, error_budget_remaining, slo_definitions, slo_results
from srelib.period import Period, Window, zone
from srelib.slo_spec import parse_duration

# (severity, long window, short window, factor for a 30-day budget): SRE Workbook, table 5-8.
ALERTS = (
    ("page", "1h", "5m", 14.4),
    ("page", "6h", "30m", 6.0),
    ("ticket", "1d", "2h", 3.0),
    ("ticket", "3d", "6h", 1.0),
)
BURN_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
EVALUATION_STEP_MINUTES = 5


@dataclass(frozen=True)
class BurnDownPoint:
    day: str  # YYYY-MM-DD in the org time zone
    attainment: float | None
    remaining: float | None


@dataclass(frozen=True)
class AlertEvaluation:
    severity: str
    long_window: str
    short_window: str
    factor: float  # scaled to the SLO's window
    burn_rate_long: float | None  # at the period end
    burn_rate_short: float | None
    firing_at_end: bool
    fired_minutes: int  # minutes of the period during which the alert condition held
    first_fired: str | None  # ISO 8601 UTC


@dataclass(frozen=True)
class SloBudget:
    window: str
    window_start: str
    rolling: SloResult
    burn_rates: dict[str, float | None]
    alerts: list[AlertEvaluation]
    burn_down: list[BurnDownPoint]


@dataclass(frozen=True)
class IncidentBudgetShare:
    incident_id: str
    slo: str
    budget_share: float


@dataclass(frozen=True)
class ServicePolicy:
    state: str  # normal | release_freeze
    reason: str
    exceptions: list[str]
    slos: dict[str, float | None] = field(default_factory=dict)  # four-week budget remaining per SLO
    postmortems_required: list[IncidentBudgetShare] = field(default_factory=list)


def scaled_factor(factor: float, window_minutes: float) -> float:
    """A Workbook burn-rate factor (for a 30-day budget) scaled to another SLO window."""
    return round(factor * window_minutes / (30 * 1440), 4)


def _minutes(text: str) -> float:
    return parse_duration(text).total_seconds() / 60


def window_for(definition: SloDefinition, rolling: bool, end: datetime, timezone: str) -> Window:
    """The SLO's time window ending at ``end`` (naive UTC)."""
    if rolling:
        return Window(definition.window_duration, end - timedelta(minutes=definition.window_minutes), end)
    unit = definition.window_duration[-1]
    local_last = (end - timedelta(microseconds=1)).replace(tzinfo=zone("UTC")).astimezone(zone(timezone))
    day = local_last.date()
    if unit in ("M", "Q", "Y"):
        first = Period.containing("month" if unit == "M" else "quarter", day, timezone).first_day
        if unit == "Y":
            first = date(day.year, 1, 1)
    elif unit == "w":
        first = day - timedelta(days=day.weekday())
    else:
        first = day
    start = datetime.combine(first, datetime.min.time(), zone(timezone)).astimezone(zone("UTC")).replace(tzinfo=None)
    return Window(definition.window_duration, start, end)


def slo_budgets(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, at_risk_below: float = 0.25
) -> dict[str, SloBudget]:
    definitions = slo_definitions(con, scope)
    if not definitions:
        return {}
    rolling_flags = dict(con.execute("SELECT name, window_rolling FROM slos").fetchall())
    end = period.end_utc
    windows = {d.name: window_for(d, rolling_flags.get(d.name, True), end, period.timezone) for d in definitions}
    rolling = _results_by_window(con, definitions, windows, scope, at_risk_below)
    rates = burn_rates(con, definitions, end)
    alerts = alert_evaluations(con, definitions, period, rates)
    burn_down = burn_downs(con, definitions, rolling_flags, period)
    return {
        d.name: SloBudget(
            window=d.window_duration,
            window_start=windows[d.name].start_utc.isoformat() + "Z",
            rolling=rolling[d.name],
            burn_rates=rates[d.name],
            alerts=alerts[d.name],
            burn_down=burn_down[d.name],
        )
        for d in definitions
    }


def _results_by_window(
    con: duckdb.DuckDBPyConnection,
    definitions: Sequence[SloDefinition],
    windows: dict[str, Window],
    scope: Scope,
    at_risk_below: float,
) -> dict[str, SloResult]:
    """Each SLO's result over its own window (SLOs sharing a window share one query)."""
    result: dict[str, SloResult] = {}
    for window in {(w.label, w.start_utc, w.end_utc) for w in windows.values()}:
        span = Window(*window)
        names = [d.name for d in definitions if windows[d.name] == span]
        computed = slo_results(con, [span], scope, at_risk_below, names=names)[span.label]
        result.update({n: computed[n] for n in names})
    return result


def burn_rates(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[SloDefinition], end: datetime
) -> dict[str, dict[str, float | None]]:
    """Burn rate of each SLO over each of :data:`BURN_WINDOWS` ending at ``end``."""
    longest = max(_minutes(w) for w in BURN_WINDOWS)
    sums = ", ".join(
        f'sum(total - good) FILTER (WHERE "timestamp" >= ?::TIMESTAMP - INTERVAL {_minutes(w):g} MINUTE), '
        f'sum(total) FILTER (WHERE "timestamp" >= ?::TIMESTAMP - INTERVAL {_minutes(w):g} MINUTE)'
        for w in BURN_WINDOWS
    )
    rows = con.execute(
        f"""SELECT slo, {sums} FROM sli
            WHERE slo IN (SELECT unnest(?::VARCHAR[])) AND "timestamp" >= ? AND "timestamp" < ?
            GROUP BY slo""",
        [end] * (2 * len(BURN_WINDOWS)) + [[d.name for d in definitions], end - timedelta(minutes=longest), end],
    ).fetchall()
    measured = {r[0]: r[1:] for r in rows}
    result = {}
    for d in definitions:
        values = measured.get(d.name, (None,) * (2 * len(BURN_WINDOWS)))
        result[d.name] = {w: _burn(values[2 * i], values[2 * i + 1], d.target) for i, w in enumerate(BURN_WINDOWS)}
    return result


def _burn(bad: float | None, total: float | None, target: float) -> float | None:
    if not total or target >= 1:
        return None
    return round((float(bad or 0) / float(total)) / (1 - target), 6)


def alert_evaluations(
    con: duckdb.DuckDBPyConnection,
    definitions: Sequence[SloDefinition],
    period: Period,
    rates: dict[str, dict[str, float | None]] | None = None,
) -> dict[str, list[AlertEvaluation]]:
    """Evaluate the multiwindow alerts every 5 minutes through the period (``rates``: the burn
    rates at the period end, when already computed by :func:`burn_rates`)."""
    result: dict[str, list[AlertEvaluation]] = {d.name: [] for d in definitions}
    budgeted = [d for d in definitions if d.target < 1]
    if not budgeted:
        return result
    step = EVALUATION_STEP_MINUTES
    longest = max(_minutes(long) for _, long, _, _ in ALERTS)
    # 5-minute blocks in DuckDB (the heavy part); the rolling window sums over those few rows
    # with cumulative sums in numpy, exact whatever gaps the data has.
    blocks = con.execute(
        f"""
        WITH blocks AS (
            SELECT slo, epoch_us(time_bucket(INTERVAL {step} MINUTE, "timestamp")) // 60000000 AS minute,
                   sum(total - good)::DOUBLE AS bad, sum(total)::DOUBLE AS total
            FROM sli WHERE "timestamp" >= ? AND "timestamp" < ?
            GROUP BY ALL
        ), wanted AS (
            SELECT unnest(?::VARCHAR[]) AS slo, generate_subscripts(?::VARCHAR[], 1) - 1 AS slo_index
        )
        SELECT w.slo_index, b.minute, b.bad, b.total FROM blocks b JOIN wanted w USING (slo)""",
        [
            period.start_utc - timedelta(minutes=longest),
            period.end_utc,
            [d.name for d in budgeted],
            [d.name for d in budgeted],
        ],
    ).fetchnumpy()
    measured = _evaluate_alerts(
        budgeted,
        np.asarray(blocks["slo_index"], dtype=np.int64),
        np.asarray(blocks["minute"], dtype=np.int64),
        np.asarray(blocks["bad"], dtype=np.float64),
        np.asarray(blocks["total"], dtype=np.float64),
        int(period.start_utc.replace(tzinfo=UTC).timestamp() // 60),
    )
    rates = rates if rates is not None else burn_rates(con, budgeted, period.end_utc)
    for d in budgeted:
        values = measured.get(d.name)
        evaluations = []
        for i, (severity, long, short, factor) in enumerate(ALERTS):
            count, first, at_end = values[i] if values else (0, None, False)
            first_fired = None if first is None else _iso_minute(first + step)
            evaluations.append(
                AlertEvaluation(
                    severity=severity,
                    long_window=long,
                    short_window=short,
                    factor=scaled_factor(factor, d.window_minutes),
                    burn_rate_long=rates[d.name][long],
                    burn_rate_short=rates[d.name][short],
                    firing_at_end=bool(at_end),
                    fired_minutes=int(count),
                    first_fired=first_fired,
                )
            )
        result[d.name] = evaluations
    return result


GRID_CELLS = 2_000_000  # 5-minute blocks held at once (SLOs × blocks): ~16 MB per array


def _evaluate_alerts(
    definitions: Sequence[SloDefinition],
    slo_index: np.ndarray,
    minute: np.ndarray,
    bad: np.ndarray,
    total: np.ndarray,
    first_minute: int,
) -> dict[str, list[tuple[int, int | None, bool]]]:
    """Per SLO and alert: evaluations that fired, the first block that fired, and whether the last did.

    Rows are 5-minute blocks, in any order, of the SLO at ``slo_index`` in ``definitions``. A
    window of W minutes evaluated at the end of block *t* holds the blocks from t − W + 5 to t;
    an evaluation happens at each block with data. The blocks are laid out on a grid (SLOs ×
    every 5 minutes), a few SLOs at a time, so each window's sums are differences of running
    sums along the grid's rows.
    """
    result: dict[str, list[tuple[int, int | None, bool]]] = {d.name: [] for d in definitions}
    if slo_index.size == 0:
        return result
    step = EVALUATION_STEP_MINUTES
    first_block = int(minute.min())
    columns = (int(minute.max()) - first_block) // step + 1
    per_chunk = max(1, GRID_CELLS // columns)
    for low in range(0, len(definitions), per_chunk):
        chunk = definitions[low : low + per_chunk]
        rows = (slo_index >= low) & (slo_index < low + len(chunk))
        at = (slo_index[rows] - low, (minute[rows] - first_block) // step)
        present = np.zeros((len(chunk), columns), dtype=bool)
        present[at] = True
        running = {}
        for name, values in (("bad", bad[rows]), ("total", total[rows])):
            grid = np.zeros((len(chunk), columns + 1))
            grid[at[0], at[1] + 1] = values
            running[name] = np.cumsum(grid, axis=1)  # running[:, j]: the blocks before column j
        windows = {w for _, long, short, _ in ALERTS for w in (long, short)}
        sums = {w: _window_sums(running["bad"], running["total"], int(_minutes(w)) // step) for w in windows}
        target = np.array([d.target for d in chunk])[:, None]
        scale = np.array([d.window_minutes / (30 * 1440) for d in chunk])[:, None]
        evaluated = present & (first_block + step * np.arange(columns) >= first_minute)
        last = columns - 1 - np.argmax(present[:, ::-1], axis=1)  # each SLO's last block with data
        has_data = present.any(axis=1)
        rows_of_chunk = np.arange(len(chunk))
        for _severity, long, short, factor in ALERTS:
            (bad_long, total_long), (bad_short, total_short) = sums[long], sums[short]
            with np.errstate(divide="ignore", invalid="ignore"):
                burn_long = bad_long / total_long / (1 - target)
                burn_short = bad_short / total_short / (1 - target)
            fired = (
                evaluated
                & (total_long > 0)
                & (total_short > 0)
                & (burn_long > factor * scale)
                & (burn_short > factor * scale)
            )
            counts = fired.sum(axis=1)
            firsts = np.argmax(fired, axis=1)
            at_end = has_data & fired[rows_of_chunk, last]
            for i, d in enumerate(chunk):
                result[d.name].append(
                    (
                        int(counts[i]) * step,
                        first_block + step * int(firsts[i]) if counts[i] else None,
                        bool(at_end[i]),
                    )
                )
    return result


def _window_sums(bad: np.ndarray, total: np.ndarray, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """From running sums along each row (a leading zero column), the sums over each column's
    block and the ``blocks`` − 1 blocks before it."""
    columns = bad.shape[1] - 1
    sums = []
    for running in (bad, total):
        window = running[:, 1:].copy()  # up to column j: running[:, j + 1]
        if blocks <= columns:
            window[:, blocks - 1 :] -= running[:, : columns - blocks + 1]  # ... minus before column j − blocks + 1
        sums.append(window)
    return sums[0], sums[1]


def _iso_minute(minutes: int) -> str:
    return datetime.fromtimestamp(minutes * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def burn_downs(
    con: duckdb.DuckDBPyConnection,
    definitions: Sequence[SloDefinition],
    rolling_flags: dict[str, bool],
    period: Period,
) -> dict[str, list[BurnDownPoint]]:
    """The daily burn-down of each SLO through the period (see the module's docstring)."""
    days = period.local_days()
    longest = max(round(d.window_minutes / 1440) for d in definitions)
    first_local = days[0] - timedelta(days=max(longest, 400 if not all(rolling_flags.values()) else 0))
    start = datetime.combine(first_local, datetime.min.time(), zone(period.timezone))
    start_utc = start.astimezone(zone("UTC")).replace(tzinfo=None)
    daily = _daily(con, definitions, start_utc, period)
    result = {}
    for d in definitions:
        rows = daily.get(d.name, {})
        points = []
        n_days = max(1, round(d.window_minutes / 1440))
        for day in days:
            if rolling_flags.get(d.name, True):
                span = [day - timedelta(days=k) for k in range(n_days)]
            else:
                window = window_for(
                    d, False, _local_midnight_utc(day + timedelta(days=1), period.timezone), period.timezone
                )
                local_start = window.start_utc.replace(tzinfo=zone("UTC")).astimezone(zone(period.timezone)).date()
                span = [local_start + timedelta(days=k) for k in range((day - local_start).days + 1)]
            attainment = _attainment(d, [rows[x] for x in span if x in rows])
            remaining = error_budget_remaining(attainment, d.target)
            points.append(
                BurnDownPoint(
                    day=day.isoformat(),
                    attainment=None if attainment is None else round(attainment, 8),
                    remaining=None if remaining is None else round(remaining, 6),
                )
            )
        result[d.name] = points
    return result


def _local_midnight_utc(day: date, timezone: str) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone(timezone)).astimezone(zone("UTC")).replace(tzinfo=None)


def _attainment(d: SloDefinition, rows: list[tuple[float, float, float, float, float]]) -> float | None:
    good = sum(r[0] for r in rows)
    total = sum(r[1] for r in rows)
    slices = sum(r[2] for r in rows)
    if d.budgeting_method == "Occurrences":
        return None if total == 0 else good / total
    if not slices:
        return None
    if d.budgeting_method == "Timeslices":
        return sum(r[3] for r in rows) / slices
    return sum(r[4] for r in rows) / slices


def _daily(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[SloDefinition], start_utc: datetime, period: Period
) -> dict[str, dict[date, tuple[float, float, float, float, float]]]:
    """Per SLO and local day: good, total, slices with traffic, good slices, sum of slice ratios.

    Buckets are first summed into 15-minute blocks (Occurrences) or the SLO's time slices, in
    DuckDB; only those few rows are converted to the org's local days.
    """
    rows = con.execute(
        """
        WITH b AS (
            SELECT s.slo, s."timestamp", s.good, s.total, d.budgeting_method AS method,
                   d.time_slice_seconds AS seconds, d.time_slice_target AS slice_target
            FROM sli s JOIN (SELECT * FROM slos WHERE list_contains(?::VARCHAR[], name)) d ON d.name = s.slo
            WHERE s."timestamp" >= ? AND s."timestamp" < ?
        ), blocked AS (
            SELECT slo, method, slice_target, good, total,
                   CASE WHEN method = 'Occurrences' OR seconds IS NULL OR seconds <= 0
                        THEN time_bucket(INTERVAL 15 MINUTE, "timestamp")
                        ELSE make_timestamp(CAST(floor(epoch("timestamp") / seconds) * seconds * 1000000 AS BIGINT))
                   END AS block
            FROM b
        ), blocks AS (
            SELECT slo, block, any_value(method) AS method, any_value(slice_target) AS slice_target,
                   sum(good)::DOUBLE AS good, sum(total)::DOUBLE AS total
            FROM blocked GROUP BY slo, block
        )
        SELECT slo, CAST(timezone(?, timezone('UTC', block)) AS DATE) AS day,
               sum(good), sum(total),
               count(*) FILTER (WHERE total > 0 AND method <> 'Occurrences'),
               count(*) FILTER (WHERE total > 0 AND method <> 'Occurrences' AND good / total >= slice_target),
               sum(good / total) FILTER (WHERE total > 0 AND method <> 'Occurrences')
        FROM blocks GROUP BY ALL""",
        [[d.name for d in definitions], start_utc, period.end_utc, period.timezone],
    ).fetchall()
    result: dict[str, dict[date, tuple[float, float, float, float, float]]] = {}
    for slo, day, good, total, slices, good_slices, ratio_sum in rows:
        result.setdefault(slo, {})[day] = (
            float(good or 0),
            float(total or 0),
            float(slices or 0),
            float(good_slices or 0),
            float(ratio_sum or 0),
        )
    return result


def error_budget_policy(
    con: duckdb.DuckDBPyConnection, period: Period, scope: Scope, policy: ErrorBudgetPolicy
) -> dict[str, ServicePolicy]:
    """Each in-scope service's policy state at the period end, and the reason."""
    definitions = slo_definitions(con, scope)
    if not definitions:
        return {}
    window = Window(policy.window, period.end_utc - parse_duration(policy.window), period.end_utc)
    results = slo_results(con, [window], scope, names=[d.name for d in definitions])[window.label]
    shares = _incident_shares(con, definitions, window)
    services: dict[str, ServicePolicy] = {}
    for service in sorted({d.service for d in definitions}):
        slos = [d for d in definitions if d.service == service]
        remaining = {d.name: results[d.name].error_budget_remaining for d in slos}
        spent = [n for n, r in remaining.items() if r is not None and r <= policy.freeze_when_remaining_below]
        required = sorted(
            (s for s in shares if s.slo in remaining and s.budget_share > policy.single_incident_budget_share),
            key=lambda s: (-s.budget_share, s.incident_id),
        )
        if spent:
            details = ", ".join(f"{n} has {_percent(1 - (remaining[n] or 0))} of its budget spent" for n in spent)
            reason = (
                f"releases frozen except {', '.join(policy.freeze_exceptions) or 'nothing'}: over the last "
                f"{policy.window}, {details}"
            )
            state = "release_freeze"
        else:
            reason = f"every SLO has error budget left over the last {policy.window}"
            state = "normal"
        if required:
            by_incident: dict[str, list[str]] = {}
            for share in required:
                by_incident.setdefault(share.incident_id, []).append(f"{_percent(share.budget_share)} of {share.slo}")
            reason += "; postmortem with a P0 action required for " + "; ".join(
                f"{incident} (consumed {', '.join(parts)} budget)" for incident, parts in by_incident.items()
            )
        services[service] = ServicePolicy(
            state=state,
            reason=reason,
            exceptions=list(policy.freeze_exceptions) if spent else [],
            slos={n: None if r is None else round(r, 6) for n, r in remaining.items()},
            postmortems_required=required,
        )
    return services


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def _incident_shares(
    con: duckdb.DuckDBPyConnection, definitions: Sequence[SloDefinition], window: Window
) -> list[IncidentBudgetShare]:
    """For each incident started in the window, the share of each of its service's SLO budgets it consumed."""
    budgeted = [d.name for d in definitions if d.target < 1]
    if not budgeted:
        return []
    rows = con.execute(
        """
        WITH budget AS (
            SELECT s.slo, (1 - any_value(d.target)) * sum(s.total) AS allowed_bad
            FROM sli s JOIN slos d ON d.name = s.slo
            WHERE s.slo IN (SELECT unnest(?::VARCHAR[])) AND s."timestamp" >= ? AND s."timestamp" < ?
            GROUP BY s.slo
        ), spent AS (
            SELECT i.incident_id, s.slo, sum(s.total - s.good) AS bad
            FROM incidents i
            JOIN slos d ON d.service = i.service AND d.name IN (SELECT unnest(?::VARCHAR[]))
            JOIN sli s ON s.slo = d.name
                      AND s."timestamp" >= i.started_at
                      AND s."timestamp" < least(coalesce(i.resolved_at, ?::TIMESTAMP), ?::TIMESTAMP)
            WHERE i.started_at >= ? AND i.started_at < ?
            GROUP BY ALL
        )
        SELECT spent.incident_id, spent.slo, spent.bad / budget.allowed_bad
        FROM spent JOIN budget USING (slo)
        WHERE budget.allowed_bad > 0
        ORDER BY ALL""",
        [
            budgeted,
            window.start_utc,
            window.end_utc,
            budgeted,
            window.end_utc,
            window.end_utc,
            window.start_utc,
            window.end_utc,
        ],
    ).fetchall()
    return [IncidentBudgetShare(r[0], r[1], round(float(r[2]), 6)) for r in rows]
