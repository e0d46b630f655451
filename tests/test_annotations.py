"""Annotations on the SLO charts (issue 18): SEV1/SEV2 incidents, deployments (one mark a day)
and the notes of the annotations file, for each SLO's service, drawn on the burn-downs with
tooltips. Golden values by hand, in UTC and Europe/Berlin."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from srelib.errors import InputError
from srelib.ingest.validate import validate_directory
from tests.conftest import INCIDENT_COLUMNS, write_csv
from tests.test_data_quality import HOUR, _buckets, _ingest, _workbench, summary_of

DEPLOY_COLUMNS = ["deploy_id", "service", "team", "deployed_at", "commit_at", "succeeded", "incident_id"]
ANNOTATION_COLUMNS = ["time", "slo", "service", "text"]


def _incident(incident_id: str, service: str, severity: str, started: str) -> dict:
    return {
        "incident_id": incident_id,
        "title": f"{service} errors",
        "service": service,
        "severity": severity,
        "started_at": started,
        "resolved_at": started.replace("T10", "T11"),
    }


def _deploy(deploy_id: str, service: str, at: str, succeeded: str = "true", incident: str = "") -> dict:
    return {
        "deploy_id": deploy_id,
        "service": service,
        "deployed_at": at,
        "succeeded": succeeded,
        "incident_id": incident,
    }


def _summary(tmp_path: Path, timezone: str = "UTC"):
    workbench = _workbench(tmp_path, timezone)
    data = tmp_path / "data"
    write_csv(
        data / "incidents.csv",
        INCIDENT_COLUMNS,
        [
            _incident("INC-1", "api", "SEV1", "2026-10-05T10:00:00Z"),
            _incident("INC-2", "api", "SEV3", "2026-10-06T10:00:00Z"),  # not serious: not drawn
            _incident("INC-3", "web", "SEV2", "2026-10-07T10:00:00Z"),
            _incident("INC-4", "api", "SEV2", "2026-09-30T10:00:00Z"),  # September
        ],
    )
    write_csv(
        data / "deployments.csv",
        DEPLOY_COLUMNS,
        [
            _deploy("d1", "api", "2026-10-05T08:00:00Z"),
            _deploy("d2", "api", "2026-10-05T09:30:00Z", incident="INC-1"),
            _deploy("d3", "api", "2026-10-05T23:30:00Z", succeeded="false"),  # 6 October in Berlin
            _deploy("d4", "web", "2026-10-05T12:00:00Z"),
        ],
    )
    write_csv(
        data / "annotations.csv",
        ANNOTATION_COLUMNS,
        [
            {"time": "2026-10-05T09:55:00Z", "slo": "api-availability", "text": "Vendor <b>TLS</b> change"},
            {"time": "2026-10-08T00:00:00Z", "service": "api", "text": "Traffic peak"},
        ],
    )
    _ingest(workbench, _buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 11, 1), HOUR))
    return summary_of(workbench, "2026-10")


def test_incidents_deployments_and_notes_of_the_period(tmp_path: Path):
    summary = _summary(tmp_path)
    got = [(a.day, a.kind, a.service, a.slo, a.text, a.count, a.failed) for a in summary.annotations]
    assert got == [
        # d1, d2 (caused INC-1) and d3 (failed) on 5 October: one mark, two of them failed
        ("2026-10-05", "deployments", "api", None, "3 deployments, 2 failed (caused INC-1)", 3, 2),
        ("2026-10-05", "note", "api", "api-availability", "Vendor <b>TLS</b> change", 1, 0),
        ("2026-10-05", "incident", "api", None, "INC-1 (SEV1): api errors", 1, 0),
        ("2026-10-05", "deployments", "web", None, "1 deployment", 1, 0),
        ("2026-10-07", "incident", "web", None, "INC-3 (SEV2): web errors", 1, 0),
        ("2026-10-08", "note", "api", None, "Traffic peak", 1, 0),
    ]
    assert summary.annotations[2].at == "2026-10-05T10:00+00:00" and summary.annotations[2].ref == "INC-1"


def test_days_are_the_org_time_zones(tmp_path: Path):
    summary = _summary(tmp_path, "Europe/Berlin")
    deployments = [(a.day, a.text) for a in summary.annotations if a.kind == "deployments" and a.service == "api"]
    # 23:30Z on 5 October is 01:30 on the 6th in Berlin (CEST, +02:00)
    assert deployments == [
        ("2026-10-05", "2 deployments, 1 failed (caused INC-1)"),
        ("2026-10-06", "1 deployment, 1 failed"),
    ]
    incident = next(a for a in summary.annotations if a.ref == "INC-1")
    assert incident.at == "2026-10-05T12:00+02:00"


def test_the_burn_down_draws_what_happened_to_the_slos_service(tmp_path: Path):
    from srelib.present import charts

    summary = _summary(tmp_path)
    spec = charts.burn_down(summary, only=["api-availability"]).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["line", "rule", "rule", "point"]  # budget, zero, incidents and notes, deployments
    data = spec["datasets"]
    ruled = next(rows for rows in data.values() if rows and rows[0].get("kind") in ("incident", "note"))
    assert [(r["day"], r["kind"], r["text"]) for r in ruled] == [
        ("2026-10-05", "note", "Vendor <b>TLS</b> change"),  # text in a tooltip, which escapes it
        ("2026-10-05", "incident", "INC-1 (SEV1): api errors"),
        ("2026-10-08", "note", "Traffic peak"),
    ]  # web's incident is another service's
    tooltips = [t["field"] for t in spec["layer"][2]["encoding"]["tooltip"]]
    assert tooltips == ["when", "kind", "service", "text"]
    deployed = next(rows for rows in data.values() if rows and rows[0].get("kind") == "deployments")
    assert [(r["day"], r["text"]) for r in deployed] == [("2026-10-05", "3 deployments, 2 failed (caused INC-1)")]
    # a chart of several SLOs leaves the deployments out
    several = charts.burn_down(summary).to_dict()
    assert [layer["mark"]["type"] for layer in several["layer"]] == ["line", "rule", "rule"]


def test_bad_annotation_rows_name_file_row_and_column(tmp_path: Path):
    _workbench(tmp_path)
    data = tmp_path / "data"
    write_csv(
        data / "annotations.csv",
        ANNOTATION_COLUMNS,
        [
            {"time": "2026-10-05T09:55:00Z", "slo": "nope", "text": "x"},
            {"time": "2026-10-05T09:55:00Z", "service": "nowhere", "text": "x"},
            {"time": "2026-10-05T09:55:00Z", "text": "x"},
            {"time": "2026-10-05T09:55:00Z", "service": "api", "text": ""},
        ],
    )
    with pytest.raises(InputError) as caught:
        validate_directory(data)
    said = sorted(str(p) for p in caught.value.problems)
    assert any(p.startswith("annotations.csv:2:slo:") for p in said), said
    assert "annotations.csv:3:service: unknown service: no SLO in the specs is of service 'nowhere'" in said
    assert any(p.startswith("annotations.csv:4:") for p in said), said
    assert any(p.startswith("annotations.csv:5:text: required value is empty") for p in said), said
