"""The schedule: what is due, producing exactly that once, catching up, and the run history."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest
import yaml

from srelib.config import Workbench
from srelib.period import Period
from srelib.schedule import due_runs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def scheduled(bench: Workbench) -> Workbench:
    """A copy of the demo workbench (its warehouse, no outputs) with a small schedule."""
    schedule = {"reports": [{"report": "monthly_reliability", "cadence": "monthly", "due_after_days": 1, "history": 2}]}
    (bench.root / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule), encoding="utf-8")
    return Workbench.load(bench.root)


def _srelib(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "srelib", *args], cwd=root, capture_output=True, text=True)


def _after_due(demo_end: Period) -> str:
    """A moment when the demo's last month is due: one day after it ends, 06:00, and an hour."""
    return f"{(demo_end.end + timedelta(days=1)).date().isoformat()}T07:00:00+00:00"


@pytest.mark.timeout(600)
def test_run_due_catches_up_oldest_first_once_and_logs_every_run(scheduled: Workbench, demo_end: Period):
    now = _after_due(demo_end)
    listed = _srelib(scheduled.root, "due", "--now", now)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        ["monthly_reliability", demo_end.previous().label, "missing"],
        ["monthly_reliability", demo_end.label, "missing"],
    ]
    # An hour before the last month falls due, only the one before it is due.
    early = f"{(demo_end.end + timedelta(days=1)).date().isoformat()}T05:00:00+00:00"
    assert [r.period.label for r in due_runs(scheduled, datetime.fromisoformat(early))] == [
        demo_end.shift(-2).label,
        demo_end.previous().label,
    ]

    first = _srelib(scheduled.root, "run-due", "--now", now, "--workers", "2")
    assert first.returncode == 0, first.stderr
    assert [line.split("\t")[:3] for line in first.stdout.strip().splitlines()] == [
        ["ok", "monthly_reliability", demo_end.previous().label],
        ["ok", "monthly_reliability", demo_end.label],
    ]
    again = _srelib(scheduled.root, "run-due", "--now", now)
    assert again.returncode == 0 and again.stdout.strip() == ""  # nothing is due: nothing runs
    assert "0 published, 0 failed" in again.stderr

    history = [json.loads(line) for line in (scheduled.outputs_path / "runs.jsonl").read_text().splitlines()]
    assert sorted((h["report"], h["period"], h["status"]) for h in history) == [  # parallel: in order of finishing
        ("monthly_reliability", demo_end.previous().label, "ok"),
        ("monthly_reliability", demo_end.label, "ok"),
    ]
    assert all(h["duration_seconds"] > 0 and h["versions"]["papermill"] and h["input_fingerprint"] for h in history)


@pytest.mark.timeout(600)
def test_stale_and_failed_reports_are_due_again_and_a_failure_does_not_stop_the_others(
    scheduled: Workbench, demo_end: Period
):
    now = datetime.fromisoformat(_after_due(demo_end))
    from srelib.schedule import run_due

    assert [o.status for o in run_due(scheduled, now)] == ["ok", "ok"]
    # Inputs change (a new ingest): both reports are stale.
    import duckdb

    with duckdb.connect(str(scheduled.warehouse_path)) as con:
        con.execute("INSERT INTO ingests VALUES (now(), 'x', 'a-new-fingerprint', '{}', 'test')")
    assert {r.reason for r in due_runs(scheduled, now)} == {"inputs changed"}
    # The notebook now fails for the older month only: the newer one is still published.
    notebooks = scheduled.root / "notebooks"
    notebooks.mkdir()
    source = nbformat.read(REPO / "notebooks" / "monthly_reliability.ipynb", 4)
    source.cells.insert(
        2,
        nbformat.v4.new_code_cell(f"if summary.period == {demo_end.previous().label!r}: raise RuntimeError('boom')"),
    )
    nbformat.write(source, notebooks / "monthly_reliability.ipynb")
    result = _srelib(scheduled.root, "run-due", "--now", now.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    statuses = [line.split("\t")[:3] for line in result.stdout.strip().splitlines()]
    assert statuses == [
        ["failed", "monthly_reliability", demo_end.previous().label],
        ["ok", "monthly_reliability", demo_end.label],
    ]
    assert "1 published, 1 failed" in result.stderr
    assert [(r.period.label, r.reason) for r in due_runs(scheduled, now)] == [
        (demo_end.previous().label, "failed last time")
    ]
    history = [json.loads(line) for line in (scheduled.outputs_path / "runs.jsonl").read_text().splitlines()]
    failures = [h for h in history if h["status"] == "failed"]
    assert len(failures) == 1 and failures[0]["period"] == demo_end.previous().label and "boom" in failures[0]["error"]


def test_an_unknown_report_in_the_schedule_is_a_config_error(scheduled: Workbench):
    (scheduled.root / "params" / "schedule.yaml").write_text("reports:\n  - {report: nope}\n", encoding="utf-8")
    result = _srelib(scheduled.root, "due")
    assert result.returncode == 2 and "unknown report 'nope'" in result.stderr
    (scheduled.root / "params" / "schedule.yaml").write_text("reports:\n  - {report: x, cadence: daily}\n")
    result = _srelib(scheduled.root, "due")
    assert result.returncode == 2 and "cadence" in result.stderr
    assert _srelib(scheduled.root, "due", "--now", "tomorrow").returncode == 2


def test_the_repository_schedule_lists_the_whole_catalogue():
    from srelib.run import REPORTS
    from srelib.schedule import load_schedule

    schedule = load_schedule(Workbench.load(REPO))
    assert {entry.report for entry in schedule.reports} == set(REPORTS)
    assert datetime.now(UTC)  # the schedule parses with the org's time zone


@pytest.mark.timeout(600)
def test_srelib_run_without_a_report_runs_the_schedules_reports_for_that_kind_of_period(
    scheduled: Workbench, demo_end: Period
):
    result = _srelib(scheduled.root, "run", "--period", demo_end.label)
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[:3] for line in result.stdout.strip().splitlines()] == [
        ["ok", "monthly_reliability", demo_end.label]
    ]
    several = _srelib(
        scheduled.root, "run", "executive_summary", "team_scorecard", "--period", demo_end.label, "--team", "payments"
    )
    assert several.returncode == 0, several.stderr
    assert [line.split("\t")[:3] for line in several.stdout.strip().splitlines()] == [
        ["ok", "executive_summary", f"{demo_end.label} (payments)"],
        ["ok", "team_scorecard", f"{demo_end.label} (payments)"],
    ]
    assert (scheduled.outputs_path / demo_end.label / "teams" / "payments" / "team_scorecard.html").is_file()
    weekly = _srelib(scheduled.root, "run", "--period", "2026-W40")
    assert weekly.returncode == 2 and "schedules no report for weeks" in weekly.stderr


def _kernel_killer(workbench: Workbench, cell: str) -> None:
    notebooks = workbench.root / "notebooks"
    notebooks.mkdir(exist_ok=True)
    source = nbformat.read(REPO / "notebooks" / "executive_summary.ipynb", 4)
    source.cells.insert(2, nbformat.v4.new_code_cell(cell))
    nbformat.write(source, notebooks / "executive_summary.ipynb")


@pytest.mark.timeout(600)
def test_a_kernel_that_dies_is_restarted_and_one_that_keeps_dying_fails_cleanly(
    scheduled: Workbench, demo_end: Period, tmp_path: Path
):
    from srelib.errors import ReportError
    from srelib.run import run_report

    marker = tmp_path / "died-once"
    _kernel_killer(
        scheduled,
        f"import os, pathlib\nmarker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n    marker.touch()\n    os._exit(1)",
    )
    result = run_report(scheduled, "executive_summary", demo_end, backoff=0.1)
    manifest = json.loads((result.html.parent / "manifest.json").read_text())
    assert manifest["reports"]["executive_summary"]["attempts"] == 2 and result.html.is_file()

    _kernel_killer(scheduled, "import os\nos._exit(1)")
    before = result.html.read_bytes()
    with pytest.raises(ReportError, match="the kernel died 3 times"):
        run_report(scheduled, "executive_summary", demo_end, backoff=0.1)
    assert result.html.read_bytes() == before  # the earlier report is intact
    last = json.loads((scheduled.outputs_path / "runs.jsonl").read_text().splitlines()[-1])
    assert last["status"] == "failed" and last["attempts"] == 3


def test_retention_removes_old_period_folders_whole_and_keeps_the_rest(scheduled: Workbench, demo_end: Period):
    import os

    from srelib.schedule import apply_retention

    outputs = scheduled.outputs_path
    for label in ("2020-01", "2020-Q1", "2020-W05", demo_end.label):
        folder = outputs / label
        folder.mkdir(parents=True)
        manifest = {"period": label, "title": label, "team": None, "subject": None, "reports": {}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    for failed in (outputs / "_failed" / "2020-01" / "x.ipynb", outputs / "_failed" / demo_end.label / "y.ipynb"):
        failed.parent.mkdir(parents=True, exist_ok=True)
        failed.write_text("{}")
    now = datetime.fromisoformat(_after_due(demo_end))
    weeks_ago = (now - timedelta(days=40)).timestamp()
    os.utime(outputs / "_failed" / demo_end.label / "y.ipynb", (weeks_ago, weeks_ago))
    schedule = yaml.safe_load((scheduled.root / "params" / "schedule.yaml").read_text())
    schedule["retention"] = {"months": 6, "quarters": 4, "failed_days": 30}  # weeks: kept for ever
    (scheduled.root / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule))

    removed = apply_retention(scheduled, now)
    assert sorted(removed) == ["2020-01", "2020-Q1", "_failed/2020-01", f"_failed/{demo_end.label}/y.ipynb"]
    assert (outputs / demo_end.label / "manifest.json").is_file() and (outputs / "2020-W05").is_dir()
    assert not [p for p in outputs.iterdir() if p.name.startswith(".removed-")]
    assert "2020-01" not in (outputs / "index.html").read_text()
    assert apply_retention(scheduled, now) == []  # idempotent
