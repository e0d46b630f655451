"""Start small: a team with only incidents, only cost exports, or SLOs without data yet gets in, and its reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from srelib.ingest.validate import validate_directory
from tests.conftest import INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos

INCIDENTS = [
    dict(
        incident_id="INC-1",
        title="Checkout errors",
        service="checkout",
        severity="SEV2",
        started_at="2026-10-03T10:00:00Z",
        acknowledged_at="2026-10-03T10:04:00Z",
        resolved_at="2026-10-03T11:00:00Z",
    ),
    dict(
        incident_id="INC-2",
        title="Slow search",
        service="search",
        severity="SEV3",
        started_at="2026-10-10T08:00:00Z",
        resolved_at="2026-10-10T08:30:00Z",
    ),
]


srelib = run_cli  # in this process: the fast lane starts no interpreter per command


def installed(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed command, in its own process, for the end-to-end runs."""
    return subprocess.run([sys.executable, "-m", "srelib", *args], cwd=cwd, capture_output=True, text=True)


def _incidents_only(root: Path) -> Path:
    make_workbench(root, {"checkout": "payments", "search": "search"})
    write_csv(root / "data" / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    return root


def test_incidents_alone_are_a_valid_data_directory(tmp_path):
    dataset = validate_directory(_incidents_only(tmp_path) / "data")
    assert dataset.row_counts == {"incidents": 2}
    assert dataset.slos.slos == []


def test_a_file_with_a_header_and_no_rows_is_valid_and_holds_nothing(tmp_path):
    write_csv(tmp_path / "incidents.csv", INCIDENT_COLUMNS, [])
    write_csv(tmp_path / "sli.csv", ["timestamp", "slo", "good", "total"], [])
    write_slos(tmp_path, [slo_document("checkout-availability", "checkout", 0.999)])
    dataset = validate_directory(tmp_path)
    assert dataset.row_counts == {"incidents": 0, "sli": 0}
    assert [s.name for s in dataset.slos.slos] == ["checkout-availability"]


def test_incidents_only_ingest_and_metrics(tmp_path):
    root = _incidents_only(tmp_path)
    ingest = srelib(root, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "2 incidents" in ingest.stdout
    result = srelib(root, "metrics", "--period", "2026-10", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["incidents"]["count"] == 2
    assert summary["incidents"]["mttr_minutes"]["median"] == 45.0  # 60 and 30 minutes
    assert summary["slos"] == {}
    text = srelib(root, "metrics", "--period", "2026-10")
    assert text.returncode == 0, text.stderr


def test_an_slo_without_data_yet_reports_no_data(tmp_path):
    make_workbench(tmp_path, {"checkout": "payments"})
    (tmp_path / "data").mkdir()
    write_slos(tmp_path / "data", [slo_document("checkout-availability", "checkout", 0.999)])
    assert srelib(tmp_path, "ingest").returncode == 0
    result = srelib(tmp_path, "metrics", "--period", "2026-10", "--json")
    assert result.returncode == 0, result.stderr
    slo = json.loads(result.stdout)["slos"]["checkout-availability"]
    assert (slo["status"], slo["attainment"], slo["total"]) == ("no_data", None, 0)


def test_cost_exports_alone_give_the_period_costs(tmp_path, conformance):
    make_workbench(tmp_path, {"checkout": "payments"})
    (tmp_path / "data").mkdir()
    sources = {"sources": [{"kind": "focus", "path": str(conformance / "focus" / "focus_sample.csv")}]}
    (tmp_path / "params" / "sources.yaml").write_text(yaml.safe_dump(sources))
    ingest = srelib(tmp_path, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    result = srelib(tmp_path, "metrics", "--period", "2024-09", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    costs = summary["value"]["costs"]
    assert (costs["effective_cost"], costs["billed_cost"]) == (14.98, 20.52)  # the sample's 14.9765 and 20.5202
    assert summary["incidents"]["count"] == 0


@pytest.mark.slow
def test_incidents_only_get_the_monthly_report(tmp_path):
    root = _incidents_only(tmp_path)
    assert installed(root, "ingest").returncode == 0
    result = installed(root, "run", "monthly_reliability", "--period", "2026-10")
    assert result.returncode == 0, result.stdout + result.stderr
    html = Path(result.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")
    assert "2 incidents started in October 2026" in html  # the key message
    assert "Checkout errors" in html  # the SEV2 in the notable incidents
    assert "No SLOs are defined for this scope." in html  # a section without data says so
    assert "Traceback" not in html


def test_a_quarter_without_anything_to_measure_value_with_says_what_to_add(tmp_path):
    """Incidents alone: the QBR tells the team what value needs, not that it delivered USD 0."""
    from srelib.config import Workbench
    from srelib.ingest.warehouse import in_memory
    from srelib.period import Period
    from srelib.present import narrative
    from srelib.summary import build_summary

    root = _incidents_only(tmp_path)
    workbench = Workbench.load(root)
    with in_memory(validate_directory(root / "data")) as con:
        summary = build_summary(con, workbench, Period.parse("2026-Q4", "UTC"))
    messages = narrative.messages(summary, "quarterly_business_impact")
    assert messages[0] == (
        "No value is measured yet: add automation runs, cost initiatives (params/initiatives.yaml) "
        "or the cost of downtime and of the programme (params/value.yaml)."
    )
    assert not any("of value" in m or "hours of toil" in m for m in messages)
