"""Report runs: ``srelib run --period P`` against the papermill and nbconvert command lines.

The issue's target: ``srelib run --period P`` of the monthly set (every report the schedule has
for months, fan-outs expanded: on the demo org 21 reports) is at least 3× faster than running
the same notebooks one after another with

    papermill NOTEBOOK OUT.ipynb -p period P [-p team T] [-p slo S] ... -k python3
    jupyter nbconvert --to html OUT.ipynb

(each notebook then computes its own summary from the warehouse, as it does when run by hand).
Both run here, one after the other, on the same demo warehouse; the ratio is printed.

    python benchmarks/report_runs.py                 # the whole monthly set
    python benchmarks/report_runs.py --limit 3       # a quick look (the first 3 runs)

Exit status 1 when the target is missed (only checked for the whole set).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 3.0


def build(root: Path) -> None:
    """A demo workbench (params of this repository, seeded demo data, warehouse) in ``root``."""
    repo = Path(__file__).resolve().parents[1]
    shutil.copytree(repo / "params", root / "params")
    demo = [sys.executable, "-m", "srelib", "demo", "--data-only", str(root / "data" / "demo")]
    subprocess.run(demo, check=True, cwd=root)
    subprocess.run([sys.executable, "-m", "srelib", "ingest"], check=True, cwd=root, capture_output=True)


def monthly_jobs(root: Path, limit: int | None) -> tuple[str, list]:
    from srelib.config import Workbench
    from srelib.period import Period
    from srelib.run.schedule import period_jobs

    workbench = Workbench.load(root)
    period = Period.latest_complete("month", workbench.org.timezone)
    jobs = period_jobs(workbench, period)
    return period.label, jobs[:limit] if limit else jobs


def naive(root: Path, period: str, jobs: list, out: Path) -> float:
    """Each report with the papermill CLI, then the nbconvert CLI, one after the other."""
    from srelib.config import Workbench
    from srelib.resources import notebooks_dir

    workbench = Workbench.load(root)
    bin_dir = Path(sys.executable).parent
    started = time.perf_counter()
    for i, job in enumerate(jobs):
        executed = out / f"{i:02d}-{job.report}.ipynb"
        parameters = ["-p", "period", period, "-p", "warehouse", str(workbench.warehouse_path)]
        parameters += ["-p", "workbench", str(root)]
        if job.team:
            parameters += ["-p", "team", job.team]
        for name, value in job.parameters.items():
            parameters += ["-p", name, value]
        notebook = notebooks_dir() / f"{job.report}.ipynb"
        subprocess.run(
            [str(bin_dir / "papermill"), str(notebook), str(executed), *parameters, "-k", "python3"],
            check=True,
            capture_output=True,
            cwd=root,
        )
        subprocess.run(
            [str(bin_dir / "jupyter"), "nbconvert", "--to", "html", str(executed)],
            check=True,
            capture_output=True,
            cwd=root,
        )
    return time.perf_counter() - started


def srelib_run(root: Path, period: str, jobs: list, limit: int | None, workers: int | None) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "srelib", "run", "--period", period]
    if limit:  # the same runs, named one by one, is only possible without fan-outs: name the reports
        command = [sys.executable, "-m", "srelib", "run", *sorted({j.report for j in jobs}), "--period", period]
    if workers:
        command += ["--workers", str(workers)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=root)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"srelib run failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N runs of the monthly set (a quick look)")
    parser.add_argument("--workers", type=int, help="srelib run --workers (default: cores)")
    parser.add_argument("--workdir", type=Path, help="where to build the demo workbench (default: a temp folder)")
    args = parser.parse_args()
    root = (args.workdir or Path(tempfile.mkdtemp(prefix="srelib-bench-runs-"))).resolve()
    if not (root / "params").is_dir():
        build(root)
    period, jobs = monthly_jobs(root, args.limit)
    if args.limit:  # whole reports only: fan-out reports expand to every team/SLO/initiative
        jobs = [j for j in jobs if not j.team and not j.parameters]
    print(f"monthly set for {period}: {len(jobs)} report runs on {os.cpu_count()} cores")
    baseline_dir = root / "naive"
    shutil.rmtree(baseline_dir, ignore_errors=True)
    baseline_dir.mkdir()
    shutil.rmtree(root / "outputs", ignore_errors=True)
    ours = srelib_run(root, period, jobs, args.limit, args.workers)
    print(f"  srelib run --period {period}:            {ours:7.1f} s")
    theirs = naive(root, period, jobs, baseline_dir)
    print(f"  papermill + jupyter nbconvert, one by one: {theirs:7.1f} s")
    ratio = theirs / ours
    print(f"  speed-up: {ratio:.2f}× (target for the whole monthly set: ≥ {TARGET:.0f}×)")
    if args.limit is not None:  # a few runs are mostly kernel start-up on both sides
        print("  target not judged with --limit")
        return 0
    if ratio < TARGET:
        print("  target missed")
        return 1
    print("  target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
