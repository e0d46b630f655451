"""Shared fixtures: throwaway workbenches, canonical data written row by row, the demo org."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml

from srelib.config import Workbench
from srelib.period import Period

REPO = Path(__file__).resolve().parents[1]
CONFORMANCE = REPO.parent / "shared" / "conformance"
INCIDENT_COLUMNS = [
    "incident_id",
    "title",
    "service",
    "team",
    "severity",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "customer_impact",
    "cause",
    "postmortem_url",
]


def write_csv(path: Path, columns: list[str], rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return path


def slo_document(name: str, service: str, target: float, method: str = "Occurrences", **objective: object) -> dict:
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": name},
        "spec": {
            "service": service,
            "budgetingMethod": method,
            "timeWindow": [{"duration": "30d", "isRolling": True}],
            "indicator": {
                "metadata": {"name": f"{name}-sli"},
                "spec": {
                    "ratioMetric": {
                        "good": {"metricSource": {"type": "Prometheus", "spec": {"query": "good"}}},
                        "total": {"metricSource": {"type": "Prometheus", "spec": {"query": "total"}}},
                    }
                },
            },
            "objectives": [{"target": target, **objective}],
        },
    }


def write_slos(directory: Path, documents: list[dict]) -> Path:
    path = directory / "slos.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


def make_workbench(root: Path, services: dict[str, str], timezone: str = "UTC") -> Workbench:
    (root / "params").mkdir(parents=True, exist_ok=True)
    (root / "params" / "org.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "Test Org",
                "timezone": timezone,
                "warehouse": "warehouse/test.duckdb",
                "data": "data",
                "outputs": "outputs",
            }
        ),
        encoding="utf-8",
    )
    (root / "params" / "services.yaml").write_text(
        yaml.safe_dump({"services": {s: {"team": t} for s, t in services.items()}}), encoding="utf-8"
    )
    return Workbench.load(root)


@pytest.fixture(scope="session")
def demo_end() -> Period:
    return Period.latest_complete("month")


@pytest.fixture(scope="session")
def demo_workbench(tmp_path_factory: pytest.TempPathFactory, demo_end: Period) -> Workbench:
    """A copy of the repository's params with the demo org generated and ingested."""
    from srelib import demo
    from srelib.validate import validate_directory
    from srelib.warehouse import load

    root = tmp_path_factory.mktemp("demo-workbench")
    shutil.copytree(REPO / "params", root / "params")
    workbench = Workbench.load(root)
    demo.generate(root / "data" / "demo", demo_end)
    dataset = validate_directory(root / "data" / "demo")
    load(dataset, workbench.warehouse_path)
    dataset.con.close()
    return workbench


@pytest.fixture(scope="session")
def demo_report(demo_workbench: Workbench, demo_end: Period) -> Path:
    """The monthly reliability report of the demo's latest month, run once for all tests."""
    from srelib.run import run_report

    return run_report(demo_workbench, "monthly_reliability", demo_end).html
