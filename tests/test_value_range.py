"""ROI with its uncertainty (docs/metrics.md, "Value"): assumptions as ranges, the downtime
interval, the range over every combination of their ends, sensitivity and shares; golden values
computed by hand."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
import yaml
from pydantic import ValidationError

from srelib.config import Assumption, ValueConfig, Workbench
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.metrics.programme import CriterionStatus
from srelib.metrics.scope import Scope
from srelib.metrics.value import DAYS_PER_MONTH, RoiInputs, _downtime_avoided, roi_at, roi_range
from srelib.period import Period, Window
from srelib.present.programme import criterion_rows
from tests.conftest import INCIDENT_COLUMNS, make_workbench, write_csv


def test_an_assumption_is_one_number_or_an_ordered_range():
    assert Assumption.model_validate(120) == Assumption(low=120, base=120, high=120)
    assert not Assumption.model_validate(120).ranged
    ranged = Assumption.model_validate({"low": 60, "base": 120, "high": 200})
    assert ranged.ranged and (ranged.low, ranged.base, ranged.high) == (60, 120, 200)
    with pytest.raises(ValidationError, match="low ≤ base ≤ high does not hold: 130, 120, 200"):
        Assumption.model_validate({"low": 130, "base": 120, "high": 200})
    with pytest.raises(ValidationError):
        Assumption.model_validate({"low": -1, "base": 0, "high": 1})
    with pytest.raises(ValidationError):
        Assumption.model_validate({"base": 1, "high": 2})
    config = ValueConfig.model_validate(
        {"hourly_rate": 95, "downtime_cost_per_minute": {"low": 1, "base": 2, "high": 3}}
    )
    assert config.hourly_rate.base == 95 and config.downtime_cost_per_minute.high == 3
    assert config.programme_cost_per_month == Assumption(low=0, base=0, high=0)


def test_a_value_yaml_of_single_numbers_still_loads(tmp_path):
    make_workbench(tmp_path, {"api": "platform"})
    (tmp_path / "params" / "value.yaml").write_text(
        yaml.safe_dump({"currency": "EUR", "hourly_rate": 95, "programme_cost_per_month": 60000})
    )
    value = Workbench.load(tmp_path).value
    assert (value.currency, value.hourly_rate.base, value.programme_cost_per_month.high) == ("EUR", 95, 60000)


# A 30.4375-day period (programme cost = one month's), 100 hours of toil, 5,000 saved, 1,000 minutes avoided.
INPUTS = RoiInputs(toil_hours=100, savings=5000, downtime_avoided_minutes=1000, days=DAYS_PER_MONTH, programme=True)


def test_roi_at_the_base_figures():
    figures = roi_at(INPUTS, 90, 20, 40000)
    # value = 100 × 90 + 5,000 + 1,000 × 20 = 34,000; cost 40,000; ROI = (34,000 − 40,000) ÷ 40,000
    assert (figures.toil_value, figures.downtime_value, figures.delivered) == (9000, 20000, 34000)
    assert (figures.programme_cost, figures.roi) == (40000, -0.15)
    team = roi_at(RoiInputs(100, 5000, None, DAYS_PER_MONTH, programme=False), 90, 20, 40000)
    assert (team.delivered, team.downtime_value, team.programme_cost, team.roi) == (14000, None, None, None)


def test_the_roi_at_every_corner_of_a_two_assumption_grid():
    settings = ValueConfig.model_validate(
        {
            "hourly_rate": {"low": 60, "base": 90, "high": 150},
            "downtime_cost_per_minute": 20,
            "programme_cost_per_month": {"low": 30000, "base": 40000, "high": 50000},
        }
    )
    base = roi_at(INPUTS, 90, 20, 40000)
    spread = roi_range(INPUTS, settings, None, base)
    # By hand: value = 100 × rate + 25,000; ROI = (value − cost) ÷ cost
    corners = {
        (60, 30000): (31000 - 30000) / 30000,  # 0.033333
        (60, 50000): (31000 - 50000) / 50000,  # −0.38
        (150, 30000): (40000 - 30000) / 30000,  # 0.333333
        (150, 50000): (40000 - 50000) / 50000,  # −0.2
    }
    assert spread.low == pytest.approx(min(corners.values()), abs=1e-6) == -0.38
    assert spread.high == pytest.approx(0.333333, abs=1e-6)
    assert (spread.value_low, spread.value_high) == (31000, 40000)
    assert spread.positive is False
    assert (spread.downtime_avoided_low, spread.downtime_avoided_high) == (None, None)
    # Sensitivity: one at a time, the other at base. Cost: ROI −0.15 ± ... at 30,000 and 50,000;
    # rate: value 31,000 or 40,000 against 40,000.
    by_name = {s.name: s for s in spread.sensitivity}
    assert [s.name for s in spread.sensitivity] == ["programme_cost_per_month", "hourly_rate"]  # widest first
    cost = by_name["programme_cost_per_month"]
    assert (cost.low, cost.high, cost.roi_low, cost.roi_high) == (30000, 50000, 0.133333, -0.32)
    rate = by_name["hourly_rate"]
    assert (rate.value_low, rate.value_high, rate.roi_low, rate.roi_high) == (31000, 40000, -0.225, 0.0)
    assert spread.shares == {"toil": 0.264706, "initiatives": 0.147059, "downtime": 0.588235}  # of 34,000
    one = RoiInputs(100, 5000, 1000, DAYS_PER_MONTH, True, by_initiative={"rightsizing": 6000, "spot": -1000})
    assert roi_range(one, settings, None, base).initiative_shares == {"rightsizing": 0.176471, "spot": -0.029412}


def test_the_downtime_interval_joins_the_corners_and_a_higher_cost_lowers_the_roi():
    settings = ValueConfig.model_validate(
        {
            "hourly_rate": 90,
            "downtime_cost_per_minute": {"low": 10, "base": 20, "high": 30},
            "programme_cost_per_month": 40000,
        }
    )
    base = roi_at(INPUTS, 90, 20, 40000)
    spread = roi_range(INPUTS, settings, (-200.0, 3000.0), base)
    # value = 14,000 + minutes × cost per minute: lowest −200 × 30 (a loss valued dearest), highest 3,000 × 30
    assert (spread.value_low, spread.value_high) == (14000 - 6000, 14000 + 90000)
    assert (spread.low, spread.high) == (-0.8, 1.6)
    assert [s.name for s in spread.sensitivity] == ["downtime_avoided_minutes", "downtime_cost_per_minute"]
    minutes = spread.sensitivity[0]
    assert (minutes.low, minutes.high, minutes.roi_low, minutes.roi_high) == (
        -200,
        3000,
        -0.75,
        0.85,
    )  # value 10,000 and 74,000


def test_a_team_has_a_value_range_but_no_roi():
    settings = ValueConfig.model_validate({"hourly_rate": {"low": 60, "base": 90, "high": 150}})
    inputs = RoiInputs(100, 5000, None, DAYS_PER_MONTH, programme=False)
    spread = roi_range(inputs, settings, None, roi_at(inputs, 90, 0, 0))
    assert (spread.low, spread.high, spread.positive) == (None, None, None)
    assert (spread.value_low, spread.value_high) == (11000, 20000)
    assert [(s.name, s.value_low, s.value_high, s.roi_low) for s in spread.sensitivity] == [
        ("hourly_rate", 11000, 20000, None)
    ]


def test_the_downtime_interval_bootstraps_the_baseline_days(tmp_path):
    """Two baseline days, the second with one 60-minute customer-impacting incident: a resample
    is both first days (a quarter of the time: 0 a day), one of each (30) or both second days
    (a quarter: 60); the 95 % interval of the rate is 0 to 60 minutes a day."""
    workbench = make_workbench(tmp_path, {"api": "platform"})
    incident = dict(incident_id="B1", service="api", severity="SEV2", customer_impact="true")
    write_csv(
        tmp_path / "data" / "incidents.csv",
        INCIDENT_COLUMNS,
        [dict(incident, started_at="2026-09-02T10:00:00Z", resolved_at="2026-09-02T11:00:00Z")],
    )
    baseline = Window("baseline", datetime(2026, 9, 1), datetime(2026, 9, 3))
    october = Period.parse("2026-10", "UTC")
    with in_memory(validate_directory(tmp_path / "data")) as con:
        avoided, interval = _downtime_avoided(con, october, Scope(None, workbench.catalogue), baseline)
    assert avoided == 30 * 31  # 60 minutes in 2 days, over October's 31 days, none in October
    assert interval == (0.0, 60 * 31)


def _ranged_summary(tmp_path, value: dict):
    """October 2026 of a workbench with 120 hours of toil automated and the value assumptions ``value``."""
    from srelib.summary import build_summary

    workbench = make_workbench(tmp_path, {"api": "platform"})
    (tmp_path / "params" / "value.yaml").write_text(yaml.safe_dump(value), encoding="utf-8")
    write_csv(
        tmp_path / "data" / "automation_runs.csv",
        ["automation", "team", "ran_at", "minutes_saved"],
        [dict(automation="certs", team="platform", ran_at="2026-10-05T10:00:00Z", minutes_saved=7200)],
    )
    workbench = Workbench.load(tmp_path)
    with in_memory(validate_directory(tmp_path / "data")) as con:
        return build_summary(con, workbench, Period.parse("2026-10", "UTC"), None)


def test_reports_show_the_roi_with_its_range_and_what_moves_it(tmp_path):
    from srelib.present import narrative
    from srelib.present.rows import kpi_tiles, sensitivity_rows, value_rows

    value = {"hourly_rate": {"low": 80, "base": 100, "high": 150}, "programme_cost_per_month": 10000}
    summary = _ranged_summary(tmp_path, value)
    roi = summary.value.roi
    # 120 h × 100 = 12,000 against 10,000 × 31 ÷ 30.4375 = 10,184.80: ROI 1,815.20 ÷ 10,184.80 = 17.8 %;
    # at 80 an hour 9,600: −5.7 %; at 150, 18,000: 76.7 %
    assert (roi.value_delivered, roi.programme_cost, roi.roi) == (12000, 10184.8, 0.178226)
    assert (roi.range.low, roi.range.high, roi.range.positive) == (-0.057419, 0.76734, False)
    assert roi.range.shares == {"toil": 1.0, "initiatives": 0.0, "downtime": 0.0}
    assert value_rows(summary)[0] | {} == {
        "component": "Toil removed by automation",
        "measure": "120 hours in 1 run",
        "value": "USD 12,000",
        "share": "100 %",
    }
    rows = {r["component"]: r["value"] for r in value_rows(summary)}
    assert rows["Return on investment"] == "18 %" and rows["Return on investment, range"] == "−6 % to 77 %"
    assert sensitivity_rows(summary) == [
        {
            "assumption": "Cost of an engineer hour",
            "low": "USD 80",
            "high": "USD 150",
            "at_low": "−6 %",
            "at_high": "77 %",
        }
    ]
    tile = next(t for t in kpi_tiles(summary) if t["label"] == "Return on investment")
    assert tile["note"] == "value USD 12,000; range −6 % to 77 %"
    # The programme's "ROI above zero" criterion shows the range too, and says when it is met at base only.
    criterion = CriterionStatus("Measurable business impact", "long", "value.roi.roi", "above", 0, 0.178226, True)
    scorecard = SimpleNamespace(programme=SimpleNamespace(criteria={"roi": criterion}), year=None, value=summary.value)
    (row,) = criterion_rows(scorecard)
    assert row["value"] == "18 % (range −6 % to 77 %)"
    assert (row["status"], row["status_key"]) == ("Met at base, not at every end of the range", "met")
    text = narrative.render(summary, "quarterly_business_impact")
    assert (
        "a return of 18 % (from −6 % to 77 % over the ranges of the value assumptions and the downtime estimate, "
        "so it is not positive at every end of them; the cost of an engineer hour moves it most)." in text
    )


def test_single_figures_show_no_range(tmp_path):
    from srelib.present import narrative
    from srelib.present.rows import sensitivity_rows, value_rows

    summary = _ranged_summary(tmp_path, {"hourly_rate": 100, "programme_cost_per_month": 10000})
    assert summary.value.roi.range.sensitivity == [] and summary.value.roi.range.low == summary.value.roi.roi
    assert "Return on investment, range" not in {r["component"] for r in value_rows(summary)}
    assert sensitivity_rows(summary) == []
    assert "a return of 18 %." in narrative.render(summary, "quarterly_business_impact")
