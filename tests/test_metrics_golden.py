"""Golden tests: hand-computed values for every edge case docs/metrics.md lists.

The fixture is small enough to compute by hand; each expected number says how it was computed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srelib.config import Workbench
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.period import Period
from srelib.summary import build_summary
from tests.conftest import INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos

SERVICES = {
    "api": "platform",
    "login": "identity",
    "search": "search",
    "checkout": "payments",
    "ledger": "payments",
    "perfect": "platform",
}

INCIDENTS = [
    # On the first instant of October: in October (half-open [start, end)).
    dict(
        incident_id="I1",
        title="API down",
        service="api",
        team="payments",
        severity="SEV1",
        started_at="2026-10-01T00:00:00Z",
        detected_at="2026-10-01T00:10:00Z",
        acknowledged_at="2026-10-01T00:15:00Z",
        resolved_at="2026-10-01T02:00:00Z",
        customer_impact="true",
    ),
    # One second before November; no detected_at, so acknowledge counts from started_at.
    dict(
        incident_id="I2",
        title="Login slow",
        service="login",
        team="platform",
        severity="SEV2",
        started_at="2026-10-31T23:59:59Z",
        acknowledged_at="2026-11-01T00:19:59Z",
        resolved_at="2026-11-01T00:59:59Z",
        customer_impact="false",
    ),
    # On the first instant of November: not in October.
    dict(
        incident_id="I3",
        service="api",
        team="platform",
        severity="SEV3",
        started_at="2026-11-01T00:00:00Z",
        resolved_at="2026-11-01T01:00:00Z",
    ),
    # Written with +02:00: 01:00 on 1 November there is 23:00 UTC on 31 October. No team: the
    # catalogue gives checkout's team, payments.
    dict(
        incident_id="I4",
        service="checkout",
        severity="SEV3",
        started_at="2026-11-01T01:00:00+02:00",
        detected_at="2026-11-01T01:30:00+02:00",
        resolved_at="2026-11-01T03:00:00+02:00",
    ),
    # Still open: counted, never in a time to resolve.
    dict(
        incident_id="I5",
        service="search",
        team="search",
        severity="SEV4",
        started_at="2026-10-15T12:00:00Z",
        detected_at="2026-10-15T12:04:00Z",
    ),
    # One second before October in UTC (but already October in Berlin).
    dict(
        incident_id="I6",
        service="ledger",
        team="payments",
        severity="SEV5",
        started_at="2026-09-30T23:59:59Z",
        resolved_at="2026-10-01T00:29:59Z",
    ),
]


def _bucket(ts: str, slo: str, good: int, total: int) -> dict[str, object]:
    return {"timestamp": ts, "slo": slo, "good": good, "total": total}


SLI = [
    # api-availability, Occurrences, 99 %: October Σgood 1990, Σtotal 2000 (the zero-traffic
    # bucket adds nothing; the November bucket is outside).
    _bucket("2026-10-01T00:00:00Z", "api-availability", 990, 1000),
    _bucket("2026-10-15T00:00:00Z", "api-availability", 1000, 1000),
    _bucket("2026-10-20T00:00:00Z", "api-availability", 0, 0),
    _bucket("2026-11-01T00:00:00Z", "api-availability", 0, 1000),
    # login-slices, Timeslices of 5m, slice good when ≥ 95 %: slices 1.00, 0.90 (bad), no traffic
    # (left out), 0.96 → 2 good of 3.
    _bucket("2026-10-02T10:00:00Z", "login-slices", 100, 100),
    _bucket("2026-10-02T10:05:00Z", "login-slices", 90, 100),
    _bucket("2026-10-02T10:10:00Z", "login-slices", 0, 0),
    _bucket("2026-10-02T10:15:00Z", "login-slices", 96, 100),
    # search-ratio, RatioTimeslices of 1h: hour one 150/200 = 0.75, hour two 10/10 = 1 → mean 0.875.
    _bucket("2026-10-03T10:00:00Z", "search-ratio", 50, 100),
    _bucket("2026-10-03T10:30:00Z", "search-ratio", 100, 100),
    _bucket("2026-10-03T11:00:00Z", "search-ratio", 10, 10),
    # 100 % targets: one perfect, one with a single bad event.
    _bucket("2026-10-04T00:00:00Z", "perfect-latency", 500, 500),
    _bucket("2026-10-04T00:00:00Z", "checkout-strict", 999, 1000),
    # ledger-availability has no buckets at all in October: no data.
    _bucket("2026-09-04T00:00:00Z", "ledger-availability", 10, 10),
]

SLOS = [
    slo_document("api-availability", "api", 0.99),
    slo_document("login-slices", "login", 0.9, "Timeslices", timeSliceTarget=0.95, timeSliceWindow="5m"),
    slo_document("search-ratio", "search", 0.95, "RatioTimeslices", timeSliceWindow="1h"),
    slo_document("perfect-latency", "perfect", 1.0),
    slo_document("checkout-strict", "checkout", 1.0),
    slo_document("ledger-availability", "ledger", 0.999),
]


@pytest.fixture
def golden(tmp_path: Path) -> tuple[Workbench, Path]:
    return write_golden(tmp_path)


def write_golden(tmp_path: Path) -> tuple[Workbench, Path]:
    """The golden workbench and data directory (also used by tests/test_metrics_catalogue.py)."""
    workbench = make_workbench(tmp_path, SERVICES)
    data = tmp_path / "data"
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], SLI)
    write_slos(data, SLOS)
    return workbench, data


def summary_for(golden, period: str, team: str | None = None, timezone: str | None = None):
    workbench, data = golden
    if timezone:
        workbench = Workbench(
            workbench.root, workbench.org.model_copy(update={"timezone": timezone}), workbench.catalogue
        )
    with in_memory(validate_directory(data)) as con:
        return build_summary(con, workbench, Period.parse(period, workbench.org.timezone), team)


def test_metrics_json_matches_hand_computed_values(golden):
    workbench, data = golden
    out = run_cli(workbench.root, "metrics", "--period", "2026-10", "--data", str(data), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["period"] == "2026-10"
    assert (result["start"], result["end"]) == ("2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00")
    assert result["team"] is None
    assert result["teams"] == ["identity", "payments", "platform", "search"]
    incidents = result["incidents"]
    # October: I1, I2, I4 (23:00Z on the 31st) and I5 (open).
    assert incidents["count"] == 4
    assert incidents["open"] == 1
    assert incidents["customer_impacting"] == 1
    assert incidents["by_severity"] == {"SEV1": 1, "SEV2": 1, "SEV3": 1, "SEV4": 1, "SEV5": 0}
    # detect: I1 10, I4 30, I5 4 → [4, 10, 30]; p90 at rank 1.8 → 10 + 0.8 × 20 = 26.
    assert incidents["mttd_minutes"] == {"n": 3, "mean": pytest.approx(44 / 3, abs=1e-4), "median": 10.0, "p90": 26.0}
    # acknowledge: I1 15 − 10 = 5; I2 from started_at (no detected_at) = 20 → p90 = 5 + 0.9 × 15 = 18.5.
    assert incidents["mtta_minutes"] == {"n": 2, "mean": 12.5, "median": 12.5, "p90": 18.5}
    # resolve: I1 120, I2 60, I4 120; I5 is open → [60, 120, 120]; mean 100; p90 = 120.
    assert incidents["mttr_minutes"] == {"n": 3, "mean": 100.0, "median": 120.0, "p90": 120.0}


def test_slo_attainment_budget_and_status(golden):
    slos = summary_for(golden, "2026-10").slos
    api = slos["api-availability"]
    assert (api.good, api.total, api.attainment) == (1990, 2000, 0.995)
    # 1 − (2000 − 1990) / ((1 − 0.99) × 2000) = 1 − 10 / 20 = 0.5
    assert api.error_budget_remaining == pytest.approx(0.5)
    assert api.status == "met"
    login = slos["login-slices"]
    assert (login.slices, login.good_slices) == (3, 2)
    assert login.attainment == pytest.approx(2 / 3, abs=1e-8)
    assert login.error_budget_remaining == pytest.approx(1 - (1 / 3) / 0.1, abs=1e-6)
    assert login.status == "breached"
    search = slos["search-ratio"]
    assert search.attainment == pytest.approx(0.875)
    assert (search.good, search.total, search.slices) == (160, 210, 2)
    assert search.status == "breached"


def test_hundred_percent_targets_have_no_budget(golden):
    slos = summary_for(golden, "2026-10").slos
    assert slos["perfect-latency"].attainment == 1.0
    assert slos["perfect-latency"].error_budget_remaining is None
    assert slos["perfect-latency"].status == "met"
    assert slos["checkout-strict"].attainment == pytest.approx(0.999)
    assert slos["checkout-strict"].status == "breached"


def test_slo_without_traffic_in_the_period_has_no_data(golden):
    ledger = summary_for(golden, "2026-10").slos["ledger-availability"]
    assert (ledger.good, ledger.total, ledger.attainment, ledger.error_budget_remaining, ledger.status) == (
        0,
        0,
        None,
        None,
        "no_data",
    )


def test_empty_period_is_all_zero_and_null(golden):
    summary = summary_for(golden, "2025-01")
    assert summary.incidents.count == 0
    assert summary.incidents.mttr_minutes.n == 0
    assert summary.incidents.mttr_minutes.median is None
    assert {r.status for r in summary.slos.values()} == {"no_data"}
    assert summary.notable_incidents == []


def test_team_scope_uses_incident_team_then_catalogue(golden):
    payments = summary_for(golden, "2026-10", team="payments")
    # I1 says payments itself (though api belongs to platform); I4 has no team: checkout → payments.
    assert payments.incidents.count == 2
    assert payments.incidents.mttr_minutes.median == 120.0
    # SLOs of payments' services: checkout and ledger.
    assert sorted(payments.slos) == ["checkout-strict", "ledger-availability"]
    platform = summary_for(golden, "2026-10", team="platform")
    assert platform.incidents.count == 1  # I2 (login's incident, but its own team column says platform)
    assert sorted(platform.slos) == ["api-availability", "perfect-latency"]


def test_org_time_zone_moves_the_boundaries(golden):
    berlin = summary_for(golden, "2026-10", timezone="Europe/Berlin")
    assert berlin.start == "2026-10-01T00:00:00+02:00"
    assert berlin.end == "2026-11-01T00:00:00+01:00"
    # Berlin's October is [09-30 22:00Z, 10-31 23:00Z): I6 (09-30 23:59:59Z) joins; I2 and I4 leave.
    assert sorted(i.incident_id for i in berlin.notable_incidents) == ["I1"]
    assert berlin.incidents.count == 3
    assert berlin.incidents.by_severity["SEV5"] == 1


def test_unknown_team_is_a_usage_error(golden):
    from srelib.errors import UsageError

    with pytest.raises(UsageError, match="unknown team 'nobody'"):
        summary_for(golden, "2026-10", team="nobody")


def test_notable_incidents_are_sev1_and_sev2_with_titles(golden):
    notable = summary_for(golden, "2026-10").notable_incidents
    assert [(i.incident_id, i.severity, i.title, i.open) for i in notable] == [
        ("I1", "SEV1", "API down", False),
        ("I2", "SEV2", "Login slow", False),
    ]
    assert notable[1].minutes_to_resolve == 60.0


def test_trend_covers_twelve_periods_and_marks_periods_without_data(golden):
    summary = summary_for(golden, "2026-10")
    assert [p.period for p in summary.trend][-3:] == ["2026-08", "2026-09", "2026-10"]
    assert len(summary.trend) == 12
    assert summary.trend[-1].incidents == summary.incidents
    covered = {p.period: p.covered for p in summary.trend}
    assert covered["2026-09"] and not covered["2026-08"]  # data starts on 4 September
    assert summary.previous is not None and summary.previous.period == "2026-09"


def test_burn_rate_and_budget_minutes_match_the_workbook():
    from srelib.metrics.alerts import burn_rate
    from srelib.metrics.slo import error_budget

    # SRE Workbook, "Alerting on SLOs": 99.9 % over 30 days allows 43.2 minutes; a 1.44 % error
    # ratio burns that budget at 14.4 times the sustainable rate (2 % of it in one hour).
    assert error_budget(0.999, 30 * 24 * 60) == pytest.approx(43.2)
    assert error_budget(0.999, 10_000) == pytest.approx(10)  # events: 10 of 10,000 may fail
    assert burn_rate(144, 10_000, 0.999) == pytest.approx(14.4)
    assert burn_rate(10, 10_000, 0.999) == pytest.approx(1.0)
    assert burn_rate(0, 0, 0.999) is None and burn_rate(1, 10, 1.0) is None
