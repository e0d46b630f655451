"""`srelib init`: a team's own workbench, from nothing to a published report."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from srelib.config import Workbench
from srelib.ingest.sources import ADAPTERS, load_config
from tests.conftest import INCIDENT_COLUMNS, run_cli, write_csv

srelib = run_cli  # in this process: the fast lane starts no interpreter per command


def installed(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed command, in its own process, for the end-to-end runs."""
    return subprocess.run([sys.executable, "-m", "srelib", *args], cwd=cwd, capture_output=True, text=True)


def test_init_makes_a_workbench_with_commented_params_and_an_empty_data_folder(tmp_path):
    result = srelib(tmp_path, "init", "mine")
    assert result.returncode == 0, result.stderr
    root = tmp_path / "mine"
    assert sorted(p.name for p in (root / "params").iterdir()) == [
        "activities.yaml",
        "error_budget_policy.yaml",
        "follow_up.yaml",
        "initiatives.yaml",
        "org.yaml",
        "programme.yaml",
        "schedule.yaml",
        "services.yaml",
        "slo_documents.yaml",
        "sources.yaml",
        "targets.yaml",
        "tips.yaml",
        "value.yaml",
    ]
    assert list((root / "data").iterdir()) == []
    workbench = Workbench.load(root)
    assert (workbench.org.name, workbench.catalogue.services, workbench.initiatives.initiatives) == (
        "Our organisation",
        {},
        [],
    )
    assert "Northwind" not in "".join(p.read_text() for p in (root / "params").iterdir())  # nothing of the demo
    assert all(line.startswith("#") for line in (root / "params" / "org.yaml").read_text().splitlines()[:2])
    assert "srelib ingest" in result.stderr


def test_init_refuses_an_existing_workbench_and_changes_nothing(tmp_path):
    assert srelib(tmp_path, "init").returncode == 0
    (tmp_path / "params" / "org.yaml").write_text("name: Ours\n")
    result = srelib(tmp_path, "init", ".")
    assert result.returncode == 2
    assert "already has params/" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "params" / "org.yaml").read_text() == "name: Ours\n"


def test_every_example_in_the_sources_template_is_valid_when_uncommented(tmp_path):
    assert srelib(tmp_path, "init").returncode == 0
    path = tmp_path / "params" / "sources.yaml"
    assert load_config(path) == []  # as written: nothing configured
    path.write_text(re.sub(r"^#(  .*)$", r"\1", path.read_text(), flags=re.M))  # as a user uncomments
    configs = load_config(path)
    assert {c.kind for c in configs} == set(ADAPTERS)
    for config in configs:
        assert ADAPTERS[config.kind].parse_options(dict(config.model_extra or {}), config.kind)[1] == []


def test_metrics_on_a_warehouse_outside_any_workbench(tmp_path):
    root = tmp_path / "mine"
    assert srelib(tmp_path, "init", "mine").returncode == 0
    write_csv(
        root / "data" / "incidents.csv",
        INCIDENT_COLUMNS,
        [dict(incident_id="1", service="api", severity="SEV2", started_at="2026-10-01T10:00:00Z")],
    )
    assert srelib(root, "ingest").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = srelib(
        elsewhere, "metrics", "--period", "2026-10", "--warehouse", str(root / "warehouse" / "workbench.duckdb")
    )
    assert result.returncode == 0, result.stderr
    assert "no workbench found" not in result.stderr


def test_a_command_outside_a_workbench_says_how_to_make_one(tmp_path):
    result = srelib(tmp_path, "ingest")
    assert result.returncode == 2
    assert "no workbench found" in result.stderr and "srelib init" in result.stderr


@pytest.mark.slow
def test_from_init_to_a_published_report_with_a_folder_of_exports(tmp_path, conformance):
    """The README's "Your own data in five minutes", step by step, with real exports."""
    assert installed(tmp_path, "init", "mine").returncode == 0
    root = tmp_path / "mine"
    shutil.copytree(conformance / "focus", root / "exports" / "focus")
    write_csv(
        root / "data" / "incidents.csv",
        INCIDENT_COLUMNS,
        [
            dict(
                incident_id="INC-7",
                title="Queue backlog",
                service="orders",
                severity="SEV2",
                started_at="2024-09-12T09:00:00Z",
                resolved_at="2024-09-12T10:30:00Z",
            )
        ],
    )
    sources = root / "params" / "sources.yaml"
    sources.write_text(
        re.sub(r"^sources:$", "sources:\n  - kind: focus\n    path: exports/focus", sources.read_text(), flags=re.M)
    )
    assert yaml.safe_load(sources.read_text())["sources"] == [{"kind": "focus", "path": "exports/focus"}]
    validate = installed(root, "validate", "data")
    assert validate.returncode == 0, validate.stderr
    assert installed(root, "ingest").returncode == 0
    run = installed(root, "run", "monthly_reliability", "--period", "2024-09")
    assert run.returncode == 0, run.stdout + run.stderr
    html = Path(run.stdout.strip().splitlines()[-1])
    assert html == root / "outputs" / "2024-09" / "monthly_reliability.html"
    page = html.read_text(encoding="utf-8")
    assert "Queue backlog" in page and "INC-7" in page  # the SEV2 among the notable incidents
    assert (root / "outputs" / "index.html").is_file()
