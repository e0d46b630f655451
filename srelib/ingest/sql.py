"""SQL expressions the ingest's roll-ups and the metrics share, each written once: exact sums,
an SLI bucket's time slice, and the sums a time-sliced SLO's attainment is computed from."""

from __future__ import annotations


def exact_sum_sql(expr: str) -> str:
    """Σ ``expr`` over DECIMAL(38, 12): exact, so the same rows give the same bits however DuckDB's
    threads split them (a parallel ``sum`` of DOUBLE adds in an order that varies run to run), and
    sums of sums are the sum. Each value is rounded to 12 decimals first; the result is a ``Decimal``."""
    return f"sum(CAST({expr} AS DECIMAL(38, 12)))"


def time_slice_sql(seconds: str) -> str:
    """SQL: the number of the time slice of ``seconds`` seconds an SLI bucket falls in (by its start)."""
    return f'epoch_us("timestamp") // (CAST({seconds} AS BIGINT) * 1000000)'


def slice_sums_sql(slice_target: str) -> str:
    """SQL: over slices with traffic (columns ``good``, ``total``), the slices, the good ones (good/total ≥
    ``slice_target``) and the sum of their ratios, the inputs of :func:`srelib.metrics.slo.attainment`."""
    return (
        "count(*) FILTER (WHERE total > 0) AS slices, "
        f"count(*) FILTER (WHERE total > 0 AND good / total >= {slice_target}) AS good_slices, "
        f"{exact_sum_sql('CASE WHEN total > 0 THEN good / total END')} AS ratio_sum"
    )
