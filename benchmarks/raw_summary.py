"""The baseline for benchmarks/metrics.py: the PeriodSummary's figures as raw DuckDB SQL.

What an analyst would write by hand against the warehouse, without srelib: one query per
group, aggregates only, the SQL window functions for rolling sums. It imports pandas and duckdb
like any notebook would. Run as a script it prints a few headline figures as JSON, which the
benchmark checks against ``srelib metrics --json`` so that both compute the same numbers.

    python benchmarks/raw_summary.py WORKBENCH PERIOD
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd  # noqa: F401  (the baseline process imports pandas, as a notebook does)
import yaml

TREND = 12
ALERTS = ((60, 5, 14.4), (360, 30, 6.0), (1440, 120, 3.0), (4320, 360, 1.0))  # minutes, minutes, factor


def _months(period: str, count: int) -> list[tuple[str, datetime, datetime]]:
    year, month = map(int, period.split("-"))
    result = []
    for i in range(count - 1, -1, -1):
        index = year * 12 + month - 1 - i
        start = datetime(index // 12, index % 12 + 1, 1)
        end = datetime((index + 1) // 12, (index + 1) % 12 + 1, 1)
        result.append((f"{start:%Y-%m}", start, end))
    return result


def raw_summary(con: duckdb.DuckDBPyConnection, period: Any, workbench: Any = None) -> dict[str, Any]:
    """Every group's figures for a month ``period`` (a Period or "YYYY-MM"), UTC org, whole org."""
    label = period if isinstance(period, str) else period.label
    months = _months(label, TREND)
    _, start, end = months[-1]
    first = months[0][1]
    out: dict[str, Any] = {}

    # Incidents: counts and duration statistics per month of the trend.
    out["incidents"] = con.execute(
        """
        SELECT strftime(date_trunc('month', started_at), '%Y-%m') AS period, count(*),
               count(*) FILTER (WHERE resolved_at IS NULL), count(*) FILTER (WHERE customer_impact),
               quantile_cont(epoch(resolved_at - started_at) / 60, [0.5, 0.9]),
               avg(epoch(resolved_at - started_at) / 60),
               quantile_cont(epoch(acknowledged_at - coalesce(detected_at, started_at)) / 60, [0.5, 0.9]),
               quantile_cont(epoch(detected_at - started_at) / 60, [0.5, 0.9]),
               quantile_cont(epoch(mitigated_at - started_at) / 60, [0.5, 0.9])
        FROM incidents WHERE started_at >= ? AND started_at < ? GROUP BY ALL ORDER BY 1""",
        [first, end],
    ).fetchall()
    out["by_service"] = con.execute(
        "SELECT service, severity, count(*) FROM incidents WHERE started_at >= ? AND started_at < ? GROUP BY ALL",
        [start, end],
    ).fetchall()

    # SLO attainment per month: events, and time slices for the Timeslices methods.
    out["slo_events"] = con.execute(
        """
        SELECT strftime(date_trunc('month', "timestamp"), '%Y-%m') AS period, slo, sum(good), sum(total)
        FROM sli WHERE "timestamp" >= ? AND "timestamp" < ? GROUP BY ALL""",
        [first, end],
    ).fetchall()
    out["slo_slices"] = con.execute(
        """
        SELECT period, slo, count(*), count(*) FILTER (WHERE good / total >= target), avg(good / total)
        FROM (SELECT strftime(date_trunc('month', s."timestamp"), '%Y-%m') AS period, s.slo,
                     epoch_us(s."timestamp") // (d.time_slice_seconds::BIGINT * 1000000) AS slice,
                     sum(s.good) AS good, sum(s.total) AS total, any_value(d.time_slice_target) AS target
              FROM sli s JOIN slos d ON d.name = s.slo AND d.budgeting_method <> 'Occurrences'
              WHERE s."timestamp" >= ? AND s."timestamp" < ?
              GROUP BY ALL HAVING sum(s.total) > 0)
        GROUP BY ALL""",
        [first, end],
    ).fetchall()

    # Rolling window at the period end, and the burn rates over the Workbook's windows.
    out["rolling"] = con.execute(
        """
        SELECT s.slo, sum(s.good), sum(s.total) FROM sli s JOIN slos d ON d.name = s.slo
        WHERE s."timestamp" >= ?::TIMESTAMP - to_minutes(d.window_minutes::BIGINT) AND s."timestamp" < ?
        GROUP BY s.slo""",
        [end, end],
    ).fetchall()
    windows = (5, 30, 60, 120, 360, 1440, 4320)
    sums = ", ".join(
        f'sum(total - good) FILTER (WHERE "timestamp" >= ?::TIMESTAMP - INTERVAL {w} MINUTE), '
        f'sum(total) FILTER (WHERE "timestamp" >= ?::TIMESTAMP - INTERVAL {w} MINUTE)'
        for w in windows
    )
    out["burn_rates"] = con.execute(
        f'SELECT slo, {sums} FROM sli WHERE "timestamp" >= ? AND "timestamp" < ? GROUP BY slo',
        [end] * (2 * len(windows)) + [end - timedelta(days=3), end],
    ).fetchall()

    # Multiwindow alerts every 5 minutes through the period: SQL window functions on 5-minute blocks.
    frames = ", ".join(
        f"sum(bad) OVER (PARTITION BY slo ORDER BY t RANGE BETWEEN INTERVAL {w - 5} MINUTE PRECEDING AND CURRENT ROW) "
        f"/ nullif(sum(total) OVER (PARTITION BY slo ORDER BY t RANGE BETWEEN INTERVAL {w - 5} MINUTE PRECEDING "
        f"AND CURRENT ROW), 0) AS r{w}"
        for w in sorted({w for pair in ALERTS for w in pair[:2]})
    )
    conditions = ", ".join(
        f"count(*) FILTER (WHERE r{long} / (1 - target) > {f} * scale AND r{short} / (1 - target) > {f} * scale)"
        for long, short, f in ALERTS
    )
    out["alerts"] = con.execute(
        f"""
        WITH blocks AS (
            SELECT slo, time_bucket(INTERVAL 5 MINUTE, "timestamp") AS t, sum(total - good)::DOUBLE AS bad,
                   sum(total)::DOUBLE AS total
            FROM sli WHERE "timestamp" >= ? AND "timestamp" < ? GROUP BY ALL
        ), rates AS (SELECT slo, t, {frames} FROM blocks)
        SELECT r.slo, {conditions}
        FROM rates r JOIN (SELECT name, target, window_minutes / 43200 AS scale FROM slos) d ON d.name = r.slo
        WHERE r.t >= ? GROUP BY r.slo""",
        [start - timedelta(days=3), end, start],
    ).fetchall()

    # Daily burn-down: daily sums, then the window's days by a window function.
    out["burn_down"] = con.execute(
        """
        WITH daily AS (
            SELECT slo, CAST("timestamp" AS DATE) AS day, sum(good) AS good, sum(total) AS total
            FROM sli WHERE "timestamp" >= ? AND "timestamp" < ? GROUP BY ALL
        )
        SELECT slo, day,
               sum(good) OVER w28 / sum(total) OVER w28, sum(good) OVER w30 / sum(total) OVER w30
        FROM daily
        WINDOW w28 AS (PARTITION BY slo ORDER BY day RANGE BETWEEN INTERVAL 27 DAY PRECEDING AND CURRENT ROW),
               w30 AS (PARTITION BY slo ORDER BY day RANGE BETWEEN INTERVAL 29 DAY PRECEDING AND CURRENT ROW)""",
        [start - timedelta(days=30), end],
    ).fetchall()

    # Error budget policy: four weeks of budget, and what each incident consumed of it.
    out["policy"] = con.execute(
        """
        WITH budget AS (
            SELECT s.slo, any_value(d.service) AS service, (1 - any_value(d.target)) * sum(s.total) AS allowed,
                   sum(s.total - s.good) AS bad
            FROM sli s JOIN slos d ON d.name = s.slo
            WHERE s."timestamp" >= ? AND s."timestamp" < ? GROUP BY s.slo
        ), spent AS (
            SELECT i.incident_id, s.slo, sum(s.total - s.good) AS bad
            FROM incidents i JOIN slos d ON d.service = i.service
            JOIN sli s ON s.slo = d.name AND s."timestamp" >= i.started_at
                      AND s."timestamp" < least(coalesce(i.resolved_at, ?::TIMESTAMP), ?::TIMESTAMP)
            WHERE i.started_at >= ? AND i.started_at < ? GROUP BY ALL
        )
        SELECT b.service, b.slo, 1 - b.bad / b.allowed, max(spent.bad / b.allowed)
        FROM budget b LEFT JOIN spent USING (slo) GROUP BY ALL""",
        [end - timedelta(days=28), end, end, end, end - timedelta(days=28), end],
    ).fetchall()

    # Reliability: baseline and comparison spans, MTBF, repeats.
    out["durations"] = con.execute(
        """SELECT list(epoch(resolved_at - started_at) / 60), list(epoch(acknowledged_at - started_at) / 60)
           FROM incidents WHERE started_at >= ? AND started_at < ?""",
        [start - timedelta(days=365), end],
    ).fetchall()
    out["repeats"] = con.execute(
        """SELECT count(*) FROM incidents i JOIN incidents e ON e.service = i.service AND e.cause = i.cause
             AND e.started_at < i.started_at AND e.started_at >= i.started_at - INTERVAL 30 DAY
           WHERE i.started_at >= ? AND i.started_at < ?""",
        [start, end],
    ).fetchall()

    # Delivery, value, engagement: small tables.
    out["delivery"] = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE incident_id IS NOT NULL),
                  quantile_cont(epoch(deployed_at - commit_at) / 60, 0.5)
           FROM deployments WHERE deployed_at >= ? AND deployed_at < ?""",
        [start, end],
    ).fetchall()
    for table, column in (("automation_runs", "ran_at"), ("surveys", "submitted_at")):
        out[table] = con.execute(
            f"SELECT count(*) FROM {table} WHERE {column} >= ? AND {column} < ?", [start, end]
        ).fetchall()
    out["costs"] = con.execute(
        'SELECT sum("EffectiveCost") FROM costs WHERE "ChargePeriodStart" >= ? AND "ChargePeriodStart" < ?',
        [start, end],
    ).fetchall()
    return out


def main() -> None:
    root, period = Path(sys.argv[1]), sys.argv[2]
    org = yaml.safe_load((root / "params" / "org.yaml").read_text())
    con = duckdb.connect(str(root / org.get("warehouse", "warehouse/workbench.duckdb")), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    out = raw_summary(con, period)
    current = [r for r in out["incidents"] if r[0] == period]
    headline = {
        "incidents": current[0][1] if current else 0,
        "attainment": {slo: good / total for p, slo, good, total in out["slo_events"] if p == period and total},
        "rolling_total": {slo: int(total) for slo, _good, total in out["rolling"]},
    }
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
