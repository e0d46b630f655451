"""The benchmarks run end to end (small sizes): they must not rot between the runs that use them.

Each benchmark times srelib against a baseline in the same command, prints the ratio and judges
its target; a missed target exits 1, and then its test fails. A target that only means something
at the size it is stated for (100M SLI rows, the whole monthly set) says "not judged" on the
small sizes run here; the PeriodSummary ratio and the dashboard's times are judged here too.
Benchmarks run while no other test runs (the ``benchmark`` marker, tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.benchmark


def _benchmark(script: str, *args: str, timeout: float = 280) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, str(REPO / "benchmarks" / script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def test_sli_ingest_benchmark_runs_and_prints_its_ratios(tmp_path):
    result = _benchmark(
        "sli_ingest.py", "--slos", "3", "--days", "2", "--incremental-days", "1", "--workdir", str(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8,640 SLI rows (3 SLOs × 2 days of 1-minute buckets)" in result.stdout
    assert "2 days" in result.stdout and "last 1 days again" in result.stdout
    assert "target for the full load: ratio ≤ 2.5×, peak < 4 GB: not judged below 73,000 SLO-days" in result.stdout


def test_metrics_benchmark_checks_its_baseline_and_meets_the_period_summary_target(tmp_path):
    result = _benchmark(
        "metrics.py", "--slos", "10", "--days", "62", "--incidents", "500", "--workdir", str(tmp_path / "bench"),
        "--compare-raw",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr  # 1: a target missed
    assert "Traceback" not in result.stderr  # the raw SQL and srelib agreed on the headline figures
    assert "892,800 SLI rows, 500 incidents; period 2025-02" in result.stdout
    assert "srelib metrics (processes)" in result.stdout and "PeriodSummary (one process)" in result.stdout
    assert "target for the PeriodSummary: ratio ≤ 2.0×: met" in result.stdout
    assert "target for srelib metrics: ratio ≤ 2.0×, peak < 1.5 GB: not judged below" in result.stdout
    # the summaries from the SLI roll-ups and from the raw buckets, in three time zones, a team too
    assert result.stdout.count(" s: the same\n") == 5 and "target: the same in every case: met" in result.stdout


@pytest.fixture(scope="module")
def demo_bench(tmp_path_factory) -> Path:
    """One demo workbench for the report-run and dashboard benchmarks (built by the first)."""
    return tmp_path_factory.mktemp("demo-bench")


@pytest.mark.xdist_group("demo-bench")
def test_report_runs_benchmark_runs_both_ways_and_prints_the_ratio(demo_bench: Path):
    result = _benchmark("report_runs.py", "--limit", "1", "--workdir", str(demo_bench))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "monthly set for" in result.stdout and "1 report runs" in result.stdout
    assert "srelib run --period" in result.stdout and "papermill + jupyter nbconvert, one by one" in result.stdout
    assert "speed-up: " in result.stdout and "target for the whole monthly set: ≥ 3×" in result.stdout
    assert "target not judged with --limit" in result.stdout
    assert len(list((demo_bench / "naive").glob("*.html"))) == 1  # the baseline really rendered it


@pytest.mark.xdist_group("demo-bench")
def test_dashboard_benchmark_meets_its_targets_on_the_demo(demo_bench: Path):
    result = _benchmark("dashboard.py", "--loads", "1", "--gap", "1", "--periods", "1", "--workdir", str(demo_bench))
    assert result.returncode == 0, result.stdout + result.stderr  # 1: a target missed
    assert "Traceback" not in result.stderr
    assert "page load 1: first KPI after" in result.stdout
    assert "right after opening:" in result.stdout and "once the views visited are computed:" in result.stdout
    assert "team filter, 6 changes:" in result.stdout and "period filter, 2 changes:" in result.stdout
    assert "target for a filter change: ≤ 0.5 s" in result.stdout
    assert "the period the server computes last" in result.stdout
