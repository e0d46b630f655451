"""Burn rates and multiwindow, multi-burn-rate alerts (docs/metrics.md, "SLOs").

- **Burn rate** over a window = (bad ÷ total events in the window) ÷ (1 − target) (SRE Workbook,
  "Alerting on SLOs"); 1 spends exactly the budget over the SLO window. :func:`burn_rate` is the
  one place it is computed, for single windows and for numpy grids of windows alike.
- **Multiwindow, multi-burn-rate alerts** (Workbook table 5-8, :data:`ALERTS`): page when the burn
  rate over both 1 h and 5 m exceeds 14.4, or over both 6 h and 30 m exceeds 6; ticket when over
  both 1 d and 2 h exceeds 3, or over both 3 d and 6 h exceeds 1. The factors assume a 30-day
  budget; other windows scale them by window days ÷ 30 (28 days: 13.44, 5.6, 2.8, 0.933).
  Evaluated every 5 minutes through the period on 5-minute blocks of the SLI buckets.

Both read the 5-minute grid kept at ingest (:mod:`srelib.ingest.rollups`) when their windows
end on its blocks (a period's end always does; "now", between two blocks, reads the buckets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import duckdb
import numpy as np

from srelib.ingest import rollups
from srelib.ingest.specs import parse_duration
from srelib.metrics.slo import SloDefinition, grid_or_buckets
from srelib.period import Period


class AlertWindow(NamedTuple):
    """One row of the Workbook's alert table: fire when both windows burn faster than ``factor``."""

    severity: str  # page | ticket
    long_window: str
    short_window: str
    factor: float  # for a 30-day budget


# SRE Workbook, "Alerting on SLOs", table 5-8.
ALERTS = (
    AlertWindow("page", "1h", "5m", 14.4),
    AlertWindow("page", "6h", "30m", 6.0),
    AlertWindow("ticket", "1d", "2h", 3.0),
    AlertWindow("ticket", "3d", "6h", 1.0),
)
BURN_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
EVALUATION_STEP_MINUTES = 5
WORKBOOK_BUDGET_MINUTES = 30 * 1440  # the table's factors assume a 30-day budget


def burn_rate(bad: Any, total: Any, target: Any) -> Any:
    """(bad ÷ total over a window) ÷ (1 − target): 1 spends the budget exactly over the SLO window.

    Numbers in, a number out: None without traffic or at a 100 % target (no budget to burn).
    numpy arrays in (the alert grid), an array out: NaN or inf where a window has no traffic.
    """
    if np.ndim(total) == 0 and (not total or (np.ndim(target) == 0 and target >= 1)):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return bad / total / (1 - target)


def factor_scale(window_minutes: float) -> float:
    """How much a Workbook factor (for a 30-day budget) grows or shrinks for another SLO window."""
    return window_minutes / WORKBOOK_BUDGET_MINUTES


def scaled_factor(factor: float, window_minutes: float) -> float:
    """A Workbook burn-rate factor (for a 30-day budget) scaled to another SLO window."""
    return round(factor * factor_scale(window_minutes), 4)


def _minutes(text: str) -> float:
    """A window such as ``"1h"`` in minutes."""
    return parse_duration(text).total_seconds() / 60


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
        f"""SELECT slo, {sums} FROM {grid_or_buckets(con, end - timedelta(minutes=longest), end)} AS sli
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
    rate = burn_rate(float(bad or 0), float(total or 0), target)
    return None if rate is None else round(rate, 6)


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
    source = grid_or_buckets(con, period.start_utc - timedelta(minutes=longest), period.end_utc)
    if source == rollups.GRID:  # its rows are the 5-minute blocks already
        rows = f"""SELECT slo, epoch_us("timestamp") // 60000000 AS minute,
                          (total - good)::DOUBLE AS bad, total::DOUBLE AS total
                   FROM {source} WHERE "timestamp" >= ? AND "timestamp" < ?"""
    else:
        rows = f"""SELECT slo, epoch_us(time_bucket(INTERVAL {step} MINUTE, "timestamp")) // 60000000 AS minute,
                          sum(total - good)::DOUBLE AS bad, sum(total)::DOUBLE AS total
                   FROM {source} AS sli WHERE "timestamp" >= ? AND "timestamp" < ?
                   GROUP BY ALL"""
    blocks = con.execute(
        f"""
        WITH blocks AS ({rows}), wanted AS (
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
        scale = np.array([factor_scale(d.window_minutes) for d in chunk])[:, None]
        evaluated = present & (first_block + step * np.arange(columns) >= first_minute)
        last = columns - 1 - np.argmax(present[:, ::-1], axis=1)  # each SLO's last block with data
        has_data = present.any(axis=1)
        rows_of_chunk = np.arange(len(chunk))
        for _severity, long, short, factor in ALERTS:
            (bad_long, total_long), (bad_short, total_short) = sums[long], sums[short]
            burn_long = burn_rate(bad_long, total_long, target)
            burn_short = burn_rate(bad_short, total_short, target)
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
