"""The command-line contract: exit codes and messages (DESIGN.md, "Command line")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import make_workbench


def srelib(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "srelib", *args], cwd=cwd, capture_output=True, text=True)


def test_usage_errors_exit_2_without_traceback(demo_workbench):
    for args, message in [
        (("metrics", "--period", "2026-13", "--json"), "period '2026-13': month must be 01-12"),
        (("metrics", "--period", "2026-10", "--team", "nobody"), "unknown team 'nobody'"),
        (("metrics", "--period", "2026-10", "--data", "x", "--warehouse", "y"), "give --data or --warehouse"),
        (("run", "no_such_report", "--period", "2026-10"), "unknown report 'no_such_report'"),
        (("run", "monthly_reliability", "--period", "2026-10", "-p", "colour=blue"), "has no parameter colour"),
        (("metrics",), "Missing option '--period'"),
    ]:
        result = srelib(*args, cwd=demo_workbench.root)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_missing_warehouse_is_explained(tmp_path):
    make_workbench(tmp_path, {"api": "platform"})
    result = srelib("metrics", "--period", "2026-10", cwd=tmp_path)
    assert result.returncode == 2
    assert "no warehouse at" in result.stderr and "srelib ingest" in result.stderr


def test_outside_a_workbench(tmp_path):
    result = srelib("metrics", "--period", "2026-10", cwd=tmp_path)
    assert result.returncode == 2
    assert "no workbench found" in result.stderr


def test_metrics_on_a_data_directory_needs_no_workbench(tmp_path):
    assert srelib("demo", "--data-only", "d", "--end-month", "2026-10", "--months", "3", cwd=tmp_path).returncode == 0
    result = srelib("metrics", "--period", "2026-10", "--data", "d", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["incidents"]["count"] > 0


def test_metrics_json_is_the_period_summary(demo_workbench, demo_end):
    result = srelib("metrics", "--period", demo_end.label, "--team", "payments", "--json", cwd=demo_workbench.root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data)[:7] == ["period", "start", "end", "team", "teams", "incidents", "slos"]
    assert data["team"] == "payments"
    assert {slo["team"] for slo in data["slos"].values()} == {"payments"}


def test_metrics_text_output(demo_workbench, demo_end):
    result = srelib("metrics", "--period", demo_end.label, cwd=demo_workbench.root)
    assert result.returncode == 0
    assert "Median time to resolve" in result.stdout and "checkout-availability" in result.stdout


def test_demo_data_only(tmp_path):
    result = srelib("demo", "--data-only", str(tmp_path / "d"), "--end-month", "2026-10", "--months", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert srelib("validate", str(tmp_path / "d"), cwd=tmp_path).returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(900)  # the whole catalogue: two dozen notebooks, one after another
def test_readme_command_one_srelib_demo(tmp_path):
    """`srelib demo` in a workbench: data, warehouse, the whole report catalogue, and the index path on stdout."""
    import shutil

    from tests.conftest import REPO

    shutil.copytree(REPO / "params", tmp_path / "params")
    result = srelib("demo", "--months", "6", cwd=tmp_path)
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
    assert len(list(outputs.glob("*/slos/*/slo_document.html"))) == 9
    assert len(list(outputs.glob("*/initiatives/*/case_study.html"))) == 3
    assert not (outputs / "_failed").exists()
    linked = index.read_text(encoding="utf-8")
    for html in outputs.rglob("*.html"):
        if html != index:
            assert f'href="{html.relative_to(outputs).as_posix()}"' in linked, html
    assert (tmp_path / "warehouse" / "workbench.duckdb").is_file()
