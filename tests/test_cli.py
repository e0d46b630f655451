"""The command-line contract: exit codes and messages (docs/architecture.md, "Command line").

The commands run in this process through the entry point's ``main`` (``run_cli``), which gives
the same exit codes and messages as a new process; one test runs the installed command itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, CliResult, make_workbench, run_cli


def srelib(*args: str, cwd) -> CliResult:
    return run_cli(cwd, *args)


def installed(*args: str, cwd) -> subprocess.CompletedProcess:
    """``python -m srelib ARGS`` in a process of its own, as a shell runs it."""
    return subprocess.run([sys.executable, "-m", "srelib", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbench with this repository's params and three months of the demo's data (to 2026-10) ingested."""
    root = tmp_path_factory.mktemp("small-demo")
    shutil.copytree(REPO / "params", root / "params")
    made = srelib("demo", "--data-only", "data/demo", "--end-month", "2026-10", "--months", "3", cwd=root)
    assert made.returncode == 0, made.stderr
    ingested = srelib("ingest", "--data", "data/demo", cwd=root)
    assert ingested.returncode == 0, ingested.stderr
    return root


def test_usage_errors_exit_2_without_traceback(small_demo):
    for args, message in [
        (("metrics", "--period", "2026-13", "--json"), "period '2026-13': month must be 01-12"),
        (("metrics", "--period", "2026-10", "--team", "nobody"), "unknown team 'nobody'"),
        (("metrics", "--period", "2026-10", "--data", "x", "--warehouse", "y"), "give --data or --warehouse"),
        (("run", "no_such_report", "--period", "2026-10"), "unknown report 'no_such_report'"),
        (("run", "monthly_reliability", "--period", "2026-10", "-p", "colour=blue"), "has no parameter colour"),
        (("run", "monthly_reliability", "--period", "2026-10", "-p", "colour=[blue"), "the value is invalid YAML at"),
        (("run", "team_scorecard", "--period", "2026-10", "--team", "../x"), "Invalid value for '--team'"),
        (("metrics",), "Missing option '--period'"),
    ]:
        result = srelib(*args, cwd=small_demo)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_missing_warehouse_is_explained(tmp_path):
    make_workbench(tmp_path, {"api": "platform"})
    result = srelib("metrics", "--period", "2026-10", cwd=tmp_path)
    assert result.returncode == 2
    assert "no warehouse at" in result.stderr and "srelib ingest" in result.stderr


def test_the_installed_command_outside_a_workbench_exits_2_with_the_reason(tmp_path):
    result = installed("metrics", "--period", "2026-10", cwd=tmp_path)
    assert result.returncode == 2
    assert "no workbench found" in result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_on_a_data_directory_needs_no_workbench(small_demo, tmp_path):
    result = srelib(
        "metrics", "--period", "2026-10", "--data", str(small_demo / "data" / "demo"), "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["incidents"]["count"] > 0


def test_metrics_json_is_the_period_summary(small_demo):
    result = srelib("metrics", "--period", "2026-10", "--team", "payments", "--json", cwd=small_demo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data)[:7] == ["period", "start", "end", "team", "teams", "incidents", "slos"]
    assert data["team"] == "payments"
    assert {slo["team"] for slo in data["slos"].values()} == {"payments"}


def test_metrics_text_output(small_demo):
    result = srelib("metrics", "--period", "2026-10", cwd=small_demo)
    assert result.returncode == 0
    assert "Median time to resolve" in result.stdout and "checkout-availability" in result.stdout


def test_demo_data_only_writes_data_that_validates(small_demo):
    assert srelib("validate", str(small_demo / "data" / "demo"), cwd=small_demo).returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(900)  # the whole catalogue: two dozen notebooks, one after another
def test_readme_command_one_srelib_demo(tmp_path):
    """`srelib demo` in a workbench: data, warehouse, the whole report catalogue, and the index path on stdout."""
    shutil.copytree(REPO / "params", tmp_path / "params")
    result = installed("demo", "--months", "6", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    index = tmp_path / "outputs" / "index.html"
    assert result.stdout.strip() == str(index)
    assert "[4/4] done" in result.stderr
    outputs = tmp_path / "outputs"
    assert len(list(outputs.glob("*/monthly_reliability.html"))) == 3
    assert len(list(outputs.glob("*-Q*/quarterly_business_impact.html"))) == 1
    for name in ("newsletter.html", "newsletter.txt", "engagement.html", "executive_summary.html"):
        assert len(list(outputs.glob(f"*/{name}"))) == 1, name
    assert len(list(outputs.glob("*/teams/*/team_scorecard.html"))) == 5
    assert len(list(outputs.glob("*/slos/*/slo_document.html"))) == 10
    assert len(list(outputs.glob("*/initiatives/*/case_study.html"))) == 3
    assert not (outputs / "_failed").exists()
    linked = index.read_text(encoding="utf-8")
    for html in outputs.rglob("*.html"):
        if html != index:
            assert f'href="{html.relative_to(outputs).as_posix()}"' in linked, html
    assert (tmp_path / "warehouse" / "workbench.duckdb").is_file()


def test_demo_automation_runs_never_repeat_their_key():
    """(automation, ran_at) is the file's key: two runs drawn within one second must not share
    it (the demo for November 2026 did, and its own ingest refused it)."""
    import numpy as np

    from srelib.demo.organisation import DemoPlan, _automation
    from srelib.period import Period

    plan = DemoPlan(Period.parse("2026-11"))
    for seed in range(90, 100):  # seed 95 draws two runs of one automation within a second
        runs = _automation(plan, np.random.default_rng(seed))
        assert not runs.duplicated(["automation", "ran_at"]).any(), seed
