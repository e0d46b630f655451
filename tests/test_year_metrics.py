"""A year's PeriodSummary: the calendar year in the org's time zone, its additive figures the sum
of its twelve months', its trend the years before (those before the data marked uncovered).

The small warehouse is in Europe/Berlin (UTC+1 on both new year's eves), with a row on each side
of each year boundary; each expected number says how it was computed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.period import Period
from srelib.summary import PeriodSummary, build_summary
from tests.conftest import INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos

TZ = "Europe/Berlin"
SERVICES = {"api": "platform", "login": "identity"}

INCIDENTS = [
    # 23:59:59 on 31 December 2025 in Berlin: 2025.
    dict(incident_id="Y0", service="api", severity="SEV1", started_at="2025-12-31T22:59:59Z"),
    # Midnight on 1 January 2026 in Berlin: the year's first instant. Resolved after 60 min.
    dict(
        incident_id="Y1",
        service="api",
        severity="SEV1",
        started_at="2025-12-31T23:00:00Z",
        resolved_at="2026-01-01T00:00:00Z",
        customer_impact="true",
    ),
    # The night summer time starts (29 March): 30 min.
    dict(
        incident_id="Y2",
        service="login",
        severity="SEV2",
        started_at="2026-03-29T01:30:00Z",
        resolved_at="2026-03-29T02:00:00Z",
    ),
    # Still open: counted, never in a time to resolve.
    dict(incident_id="Y3", service="api", severity="SEV3", started_at="2026-07-15T12:00:00Z"),
    # The night summer time ends (25 October): 90 min.
    dict(
        incident_id="Y4",
        service="login",
        severity="SEV3",
        started_at="2026-10-25T00:30:00Z",
        resolved_at="2026-10-25T02:00:00Z",
        customer_impact="true",
    ),
    # 23:59:59 on 31 December 2026 in Berlin: still 2026 (December). 10 min.
    dict(
        incident_id="Y5",
        service="api",
        severity="SEV4",
        started_at="2026-12-31T22:59:59Z",
        resolved_at="2026-12-31T23:09:59Z",
    ),
    # Midnight on 1 January 2027 in Berlin: 2027.
    dict(incident_id="Y6", service="api", severity="SEV1", started_at="2026-12-31T23:00:00Z"),
]

SLI = [
    {"timestamp": "2025-12-31T22:00:00Z", "slo": "api-availability", "good": 500, "total": 1000},  # 2025
    {"timestamp": "2025-12-31T23:00:00Z", "slo": "api-availability", "good": 990, "total": 1000},  # January
    {"timestamp": "2026-06-01T00:00:00Z", "slo": "api-availability", "good": 1000, "total": 1000},  # June
    {"timestamp": "2026-12-31T23:00:00Z", "slo": "api-availability", "good": 0, "total": 1000},  # 2027
]

DEPLOYMENTS = [
    {"deploy_id": "D0", "service": "api", "deployed_at": "2025-12-31T22:30:00Z"},  # 2025
    {"deploy_id": "D1", "service": "api", "deployed_at": "2025-12-31T23:30:00Z"},  # January
    {"deploy_id": "D2", "service": "login", "deployed_at": "2026-05-05T10:00:00Z"},  # May
    {"deploy_id": "D3", "service": "api", "deployed_at": "2026-12-31T22:00:00Z"},  # December
]

AUTOMATION = [
    {"automation": "restart", "team": "platform", "ran_at": "2026-02-01T08:00:00Z", "minutes_saved": 90},
    {"automation": "restart", "team": "platform", "ran_at": "2026-11-30T23:30:00Z", "minutes_saved": 30},  # December
    {"automation": "restart", "team": "platform", "ran_at": "2026-12-31T23:30:00Z", "minutes_saved": 600},  # 2027
]

COSTS = [
    # A day in June: all of it in 2026.
    {"ChargePeriodStart": "2026-06-01T00:00:00Z", "ChargePeriodEnd": "2026-06-02T00:00:00Z", "EffectiveCost": 100},
    # 24 hours across the Berlin new year (23:00 UTC): 11 of them in 2026, 13 in 2027.
    {"ChargePeriodStart": "2026-12-31T12:00:00Z", "ChargePeriodEnd": "2027-01-01T12:00:00Z", "EffectiveCost": 24},
]

ENGAGEMENT = [  # dates are local calendar days
    {"date": "2025-12-31", "kind": "workshop", "title": "Old", "team": "platform", "reached": 7},
    {"date": "2026-01-01", "kind": "workshop", "title": "New year", "team": "platform", "reached": 10},
    {"date": "2026-06-10", "kind": "doc_page", "title": "Runbooks", "team": "", "reached": 100},
    {"date": "2026-12-31", "kind": "lunch_and_learn", "title": "Last", "team": "identity", "reached": 20},
    {"date": "2027-01-04", "kind": "office_hours", "title": "Planned", "team": "", "reached": 0},
]


@pytest.fixture
def year_data(tmp_path: Path):
    workbench = make_workbench(tmp_path, SERVICES, timezone=TZ)
    data = tmp_path / "data"
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], SLI)
    write_slos(data, [slo_document("api-availability", "api", 0.99)])
    write_csv(data / "deployments.csv", ["deploy_id", "service", "deployed_at"], DEPLOYMENTS)
    write_csv(data / "automation_runs.csv", ["automation", "team", "ran_at", "minutes_saved"], AUTOMATION)
    write_csv(data / "costs.csv", ["ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost"], COSTS)
    write_csv(data / "engagement.csv", ["date", "kind", "title", "team", "reached"], ENGAGEMENT)
    return workbench, data


def test_metrics_json_for_a_year_matches_hand_computed_values(year_data):
    workbench, data = year_data
    out = run_cli(workbench.root, "metrics", "--period", "2026", "--data", str(data), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    # until 2026 has ended it is a partial period, its figures "so far"
    from datetime import UTC, datetime

    going = datetime.now(UTC) < datetime(2027, 1, 1, tzinfo=UTC)
    assert result["partial"] is going
    assert (result["period"], result["kind"], result["title"]) == ("2026", "year", "2026 so far" if going else "2026")
    assert (result["start"], result["end"]) == ("2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00")
    incidents = result["incidents"]
    # Y1 to Y5: not Y0 (2025) nor Y6 (2027).
    assert (incidents["count"], incidents["open"], incidents["customer_impacting"]) == (5, 1, 2)
    assert incidents["by_severity"] == {"SEV1": 1, "SEV2": 1, "SEV3": 2, "SEV4": 1, "SEV5": 0}
    # resolve: Y1 60, Y2 30, Y4 90, Y5 10 → [10, 30, 60, 90]: median 45, mean 47.5.
    assert incidents["mttr_minutes"]["n"] == 4
    assert (incidents["mttr_minutes"]["median"], incidents["mttr_minutes"]["mean"]) == (45.0, 47.5)
    # SLO: January 990/1000 and June 1000/1000 → 1990/2000 = 0.995; budget 1 − 10 ÷ (0.01 × 2000) = 0.5.
    slo = result["slos"]["api-availability"]
    assert (slo["good"], slo["total"], slo["attainment"], slo["error_budget_remaining"], slo["status"]) == (
        1990,
        2000,
        0.995,
        0.5,
        "met",
    )
    assert result["delivery"]["deployments"] == 3  # D1, D2, D3
    toil = result["value"]["toil"]
    assert (toil["runs"], toil["hours_saved"]) == (2, 2.0)  # 90 + 30 minutes
    assert result["value"]["costs"]["effective_cost"] == pytest.approx(111.0)  # 100 + 24 × 11/24
    kpis = result["engagement"]["kpis"]
    assert kpis["documentation_views"]["value"] == 100.0
    assert kpis["collaboration_events"]["value"] == 2.0  # the workshop of 1 January and the lunch and learn
    assert [e["title"] for e in result["engagement"]["upcoming"]] == ["Planned"]  # after the year
    # A year is compared with the year before, once (its "year ago" is the previous year).
    assert set(result["reliability"]["comparisons"]) == {"previous"}
    assert result["reliability"]["comparisons"]["previous"]["label"] == "2025"


def test_a_years_additive_figures_are_the_sum_of_its_months(year_data):
    workbench, data = year_data
    with in_memory(validate_directory(data)) as con:
        year = build_summary(con, workbench, Period.parse("2026", TZ))
        months = [build_summary(con, workbench, Period.parse(f"2026-{m:02d}", TZ)) for m in range(1, 13)]

    def total(figure) -> float:
        return sum(figure(m) for m in months)

    assert year.incidents.count == total(lambda s: s.incidents.count) == 5
    assert year.incidents.open == total(lambda s: s.incidents.open)
    assert year.incidents.customer_impacting == total(lambda s: s.incidents.customer_impacting)
    for severity, count in year.incidents.by_severity.items():
        assert count == total(lambda s, sev=severity: s.incidents.by_severity.get(sev, 0)), severity
    assert year.incidents.mttr_minutes.n == total(lambda s: s.incidents.mttr_minutes.n)
    slo = year.slos["api-availability"]
    assert slo.good == total(lambda s: s.slos["api-availability"].good)
    assert slo.total == total(lambda s: s.slos["api-availability"].total)
    assert year.delivery is not None and year.value is not None and year.engagement is not None
    assert year.delivery.deployments == total(lambda s: s.delivery.deployments)
    assert year.value.toil.runs == total(lambda s: s.value.toil.runs)
    assert year.value.toil.hours_saved == pytest.approx(total(lambda s: s.value.toil.hours_saved))
    assert year.value.costs.effective_cost == pytest.approx(total(lambda s: s.value.costs.effective_cost))
    for kpi in ("documentation_views", "event_attendance", "collaboration_events", "automation_runs"):
        assert year.engagement.kpis[kpi].value == total(lambda s, k=kpi: s.engagement.kpis[k].value), kpi
    # The minutes too: the year is its months end to end, across both changes of summer time.
    assert Period.parse("2026", TZ).minutes == sum(Period.parse(m.period, TZ).minutes for m in months)


def test_a_years_trend_is_the_years_before_with_those_before_the_data_uncovered(year_data):
    workbench, data = year_data
    with in_memory(validate_directory(data)) as con:
        year = build_summary(con, workbench, Period.parse("2026", TZ))
    labels = [p.period for p in year.trend]
    assert labels == [str(y) for y in range(2015, 2027)]  # trend_periods: 12
    # The data start on 31 December 2025 (Y0, 23:59:59 in Berlin): 2025 and 2026 are covered.
    assert [p.period for p in year.trend if p.covered] == ["2025", "2026"]
    assert year.previous is not None and year.previous.period == "2025" and year.previous.incidents.count == 1
    assert year.trend[-1].incidents.count == year.incidents.count


def test_a_year_summary_round_trips_through_summary_json(year_data, tmp_path: Path):
    workbench, data = year_data
    with in_memory(validate_directory(data)) as con:
        year = build_summary(con, workbench, Period.parse("2026", TZ))
    year.write(tmp_path / "summary.json")
    assert PeriodSummary.read(tmp_path / "summary.json") == year
