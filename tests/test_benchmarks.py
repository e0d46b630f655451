"""The benchmarks run end to end (tiny sizes): they must not rot between the runs that use them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_sli_ingest_benchmark_runs_and_prints_its_ratios(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "sli_ingest.py"),
            "--slos",
            "3",
            "--days",
            "2",
            "--incremental-days",
            "1",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert result.returncode in (0, 1), (
        result.stdout + result.stderr
    )  # 1: target missed (tiny files: start-up dominates)
    assert "Traceback" not in result.stderr
    assert "8,640 SLI rows (3 SLOs × 2 days of 1-minute buckets)" in result.stdout
    assert "2 days" in result.stdout and "last 1 days again" in result.stdout
    assert "target for the full load: ratio ≤ 2.5×, peak < 4 GB:" in result.stdout


def test_metrics_benchmark_runs_checks_its_baseline_and_prints_its_ratios(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "metrics.py"),
            "--slos",
            "10",
            "--days",
            "62",
            "--incidents",
            "500",
            "--workdir",
            str(tmp_path / "bench"),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        env=env,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr  # the raw SQL and srelib agreed on the headline figures
    assert "892,800 SLI rows, 500 incidents; period 2025-02" in result.stdout
    assert "srelib metrics (processes)" in result.stdout and "PeriodSummary (one process)" in result.stdout


@pytest.fixture(scope="module")
def demo_bench(tmp_path_factory) -> Path:
    """One demo workbench for the report-run and dashboard benchmarks (built by the first)."""
    return tmp_path_factory.mktemp("demo-bench")


def _benchmark(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, str(REPO / "benchmarks" / script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=280, env=env)


def test_report_runs_benchmark_runs_both_ways_and_prints_the_ratio(demo_bench: Path):
    result = _benchmark("report_runs.py", "--limit", "1", "--workdir", str(demo_bench))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "monthly set for" in result.stdout and "1 report runs" in result.stdout
    assert "srelib run --period" in result.stdout and "papermill + jupyter nbconvert, one by one" in result.stdout
    assert "speed-up: " in result.stdout and "target for the whole monthly set: ≥ 3×" in result.stdout
    assert len(list((demo_bench / "naive").glob("*.html"))) == 1  # the baseline really rendered it


def test_dashboard_benchmark_opens_the_real_server_and_prints_its_times(demo_bench: Path):
    result = _benchmark("dashboard.py", "--loads", "1", "--gap", "1", "--periods", "1", "--workdir", str(demo_bench))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "page load 1: first KPI after" in result.stdout
    assert "right after opening:" in result.stdout and "once every view is computed:" in result.stdout
    assert "team filter, 6 changes:" in result.stdout and "period filter, 2 changes:" in result.stdout
    assert "target for a filter change: ≤ 0.5 s" in result.stdout
    assert "the period the server computes last" in result.stdout
