"""Golden tests for the metric catalogue (docs/metrics.md): each expected value is computed by hand,
and where a published source defines it, the test names the source."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from srelib.config import ErrorBudgetPolicy, Initiative, Target, Targets, ValueConfig, Workbench
from srelib.errors import InputError
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.metrics import alerts, budget, delivery, engagement, policy, reliability, satisfaction, value
from srelib.metrics.compare import bootstrap_medians, compare
from srelib.metrics.scope import Scope
from srelib.period import Period, Window
from tests.conftest import INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos
from tests.test_metrics_golden import summary_for, write_golden

ONE_BUCKET = dict(timestamp="2026-10-01T00:00:00Z", slo="api-availability", good=1, total=1)
WEEK = Period.parse("2026-W44")  # Monday 26 October 2026 – Monday 2 November 2026, UTC
SERVICES = {"checkout": "payments", "search": "search", "api": "platform"}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _incident(incident_id: str, service: str, started: datetime, minutes: float | None, **extra: object) -> dict:
    return dict(
        incident_id=incident_id,
        title=incident_id,
        service=service,
        severity=extra.pop("severity", "SEV3"),
        started_at=_iso(started),
        resolved_at="" if minutes is None else _iso(started + timedelta(minutes=minutes)),
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in extra.items()},
    )


def _minute_buckets(
    slo: str, start: datetime, end: datetime, bad: dict[datetime, int], total: int = 1000
) -> pd.DataFrame:
    """One bucket per minute with ``total`` events; ``bad`` maps a minute to its bad events."""
    minutes = pd.date_range(start, end, freq="1min", inclusive="left", tz="UTC")
    bad_counts = [bad.get(m.to_pydatetime(), 0) for m in minutes]
    return pd.DataFrame(
        {
            "timestamp": [m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in minutes],
            "slo": slo,
            "good": [total - b for b in bad_counts],
            "total": total,
        }
    )


# The module fixtures are built once, on one worker, rather than on each worker that runs a test.
pytestmark = pytest.mark.xdist_group("metrics-catalogue")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, Workbench]]:
    """A week of per-minute SLI for two 99.9 % / 30-day SLOs, with bursts of errors, and some incidents.

    Built once for the module: the tests only read it."""
    tmp_path = tmp_path_factory.mktemp("week")
    workbench = make_workbench(tmp_path, SERVICES)
    data = tmp_path / "data"
    start, end = WEEK.start_utc.replace(tzinfo=UTC), WEEK.end_utc.replace(tzinfo=UTC)
    # checkout: 2 % errors (burn rate 20) for the last 70 minutes of the week.
    burst = {end - timedelta(minutes=m): 20 for m in range(1, 71)}
    # search: 10 % errors for 30 minutes on Wednesday 10:00–10:30: 3,000 bad events.
    wednesday = start + timedelta(days=2, hours=10)
    spike = {wednesday + timedelta(minutes=m): 100 for m in range(30)}
    # api: every request fails for 3 hours on Tuesday: 180,000 bad events, far over budget.
    tuesday = start + timedelta(days=1)
    outage = {tuesday + timedelta(minutes=m): 1000 for m in range(180)}
    frames = [
        _minute_buckets("checkout-availability", start, end, burst),
        _minute_buckets("search-availability", start, end, spike),
        _minute_buckets("api-availability", start, end, outage),
    ]
    data.mkdir()
    pd.concat(frames).to_csv(data / "sli.csv", index=False)
    write_slos(
        data,
        [
            slo_document("checkout-availability", "checkout", 0.999),
            slo_document("search-availability", "search", 0.999),
            slo_document("api-availability", "api", 0.999),
        ],
    )
    for doc in (data / "slos.yaml",):
        doc.write_text(doc.read_text().replace("duration: 30d", "duration: 30d"))
    incidents = [
        _incident("S1", "search", wednesday, 30, customer_impact=True, cause="Bad config"),
        _incident("A1", "api", tuesday, 180, severity="SEV1", customer_impact=True, cause="bad config"),
        _incident("A2", "api", tuesday + timedelta(minutes=60), 60, customer_impact=False, cause="disk"),
        _incident("C1", "checkout", end - timedelta(minutes=70), None, customer_impact=False, cause=" bad config "),
    ]
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, incidents)
    with in_memory(validate_directory(data)) as con:
        yield con, workbench


# ---- SLOs: burn rates, alerts, policy ----------------------------------------------------------


def test_workbook_burn_rate_factors_scale_with_the_window():
    # SRE Workbook, "Alerting on SLOs", table 5-8 (30-day budget) and the 28-day figures.
    month, four_weeks = 30 * 1440, 28 * 1440
    assert [alerts.scaled_factor(a.factor, month) for a in alerts.ALERTS] == [14.4, 6.0, 3.0, 1.0]
    assert [alerts.scaled_factor(a.factor, four_weeks) for a in alerts.ALERTS] == [13.44, 5.6, 2.8, 0.9333]
    assert [(a.severity, a.long_window, a.short_window) for a in alerts.ALERTS] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h"),
    ]


def test_burn_rates_at_the_period_end(warehouse):
    con, workbench = warehouse
    rates = budget.slo_budgets(con, WEEK, Scope(None, workbench.catalogue))["checkout-availability"].burn_rates
    # 2 % errors ÷ 0.1 % allowed = 20 while the window is inside the 70-minute burst;
    # longer windows dilute it: 20 × 70 / window minutes.
    assert rates["5m"] == rates["30m"] == rates["1h"] == pytest.approx(20)
    assert rates["2h"] == pytest.approx(20 * 70 / 120, abs=1e-6)
    assert rates["6h"] == pytest.approx(20 * 70 / 360, abs=1e-6)
    assert rates["1d"] == pytest.approx(20 * 70 / 1440, abs=1e-6)
    assert rates["3d"] == pytest.approx(20 * 70 / 4320, abs=1e-6)


def test_multiwindow_alerts_fire_exactly_when_both_windows_burn_too_fast(warehouse):
    con, workbench = warehouse
    evaluations = budget.slo_budgets(con, WEEK, Scope(None, workbench.catalogue))["checkout-availability"].alerts
    fast_page = evaluations[0]
    # 1 h burn rate = 20 × x / 60 after x minutes of the burst; it exceeds 14.4 once x > 43.2, so
    # the 5-minute evaluations at x = 45, 50, ..., 70 fire: 6 × 5 = 30 minutes, first at x = 45.
    assert (fast_page.severity, fast_page.long_window, fast_page.short_window) == ("page", "1h", "5m")
    assert fast_page.fired_minutes == 30 and fast_page.firing_at_end
    assert fast_page.first_fired == _iso(WEEK.end_utc.replace(tzinfo=UTC) - timedelta(minutes=25))
    # 6 h needs x > 108 minutes; 1 d and 3 d need x > 216: none of the others fires.
    assert [a.fired_minutes for a in evaluations[1:]] == [0, 0, 0]
    # A spike of 10 % for 30 minutes from 10:00: the 1 h burn rate 100 × x / 60 passes 14.4 after
    # 8.64 minutes, and the 5 m window holds no bad event once x > 30: the evaluations at
    # x = 10, 15, 20, 25, 30 fire, 25 minutes from 10:10.
    spike = budget.slo_budgets(con, WEEK, Scope(None, workbench.catalogue))["search-availability"].alerts
    assert spike[0].fired_minutes == 25 and spike[0].first_fired == "2026-10-28T10:10:00Z"
    assert not spike[0].firing_at_end


def test_error_budget_policy_freezes_releases_and_asks_for_postmortems(warehouse):
    con, workbench = warehouse
    states = policy.error_budget_policy(con, WEEK, Scope(None, workbench.catalogue), ErrorBudgetPolicy())
    # The policy looks at the 28 days before the period end; the data covers one week:
    # 10,080 minutes × 1,000 events, 0.1 % of which may fail: 10,080 bad events allowed.
    assert states["api"].state == "release_freeze"  # 180,000 bad: 1,786 % of the budget spent
    assert states["api"].slos["api-availability"] == pytest.approx(1 - 180_000 / 10_080, abs=1e-6)
    assert states["api"].budgets_spent == {"api-availability": pytest.approx(180_000 / 10_080, abs=1e-6)}
    assert (states["api"].window, states["api"].exceptions) == ("28d", ["P0", "security"])
    assert states["search"].state == "normal" and states["search"].exceptions == []
    # S1 alone consumed 3,000 ÷ 10,080 = 29.8 % > 20 %: a postmortem with a P0 action.
    [share] = states["search"].postmortems_required
    assert (share.incident_id, share.slo) == ("S1", "search-availability")
    assert share.budget_share == pytest.approx(3000 / 10_080, abs=1e-6)
    # C1 (still open) consumed 1,400 ÷ 10,080 = 13.9 %: below the 20 % line.
    assert states["checkout"].postmortems_required == [] and states["checkout"].state == "normal"


def test_error_budget_policy_reads_as_one_sentence_per_service(warehouse):
    from srelib.present.policy import reason

    con, workbench = warehouse
    states = policy.error_budget_policy(con, WEEK, Scope(None, workbench.catalogue), ErrorBudgetPolicy())
    # api: 180,000 bad ÷ 10,080 allowed = 1,786 % spent; A1 ran through all of it (180,000 bad), A2
    # through one hour of it (60,000 bad: 595 %).
    assert reason(states["api"]) == (
        "releases frozen except P0, security: over the last 28d, api-availability has 1786 % of its budget spent; "
        "postmortem with a P0 action required for A1 (consumed 1786 % of api-availability budget); "
        "A2 (consumed 595 % of api-availability budget)"
    )
    assert reason(states["search"]) == (
        "every SLO has error budget left over the last 28d; "
        "postmortem with a P0 action required for S1 (consumed 30 % of search-availability budget)"
    )
    assert reason(states["checkout"]) == "every SLO has error budget left over the last 28d"


def test_daily_burn_down_equals_the_window_attainment(warehouse):
    con, workbench = warehouse
    points = budget.slo_budgets(con, WEEK, Scope(None, workbench.catalogue))["api-availability"].burn_down
    assert [p.day for p in points] == [f"2026-10-{d}" for d in range(26, 32)] + ["2026-11-01"]
    # Monday: one clean day. Tuesday on: 180,000 bad of (days × 1,440,000) events.
    assert points[0].remaining == pytest.approx(1.0)
    assert points[1].attainment == pytest.approx(1 - 180_000 / (2 * 1_440_000), abs=1e-8)
    assert points[6].remaining == pytest.approx(1 - (180_000 / (7 * 1_440_000)) / 0.001, abs=1e-6)


# ---- reliability ---------------------------------------------------------------------------------


def test_mtbf_counts_overlapping_downtime_once(warehouse):
    con, workbench = warehouse
    result = reliability.mtbf(con, WEEK, Scope(None, workbench.catalogue))
    # api: A1 [00:00, 03:00) and A2 [01:00, 02:00) overlap: 180 minutes of downtime, 2 failures.
    week = 7 * 1440
    assert result["api"].downtime_minutes == 180 and result["api"].failures == 2
    assert result["api"].mtbf_minutes == pytest.approx((week - 180) / 2)
    # checkout: C1 is still open at the period end, 70 minutes before it.
    assert result["checkout"].downtime_minutes == pytest.approx(70)


def test_repeat_incidents_match_service_and_cause_within_thirty_days(warehouse):
    con, workbench = warehouse
    repeats = reliability.repeat_incidents(con, WEEK, Scope(None, workbench.catalogue))
    # A1 and S1 share a cause but not a service; C1 is alone on checkout: none repeats.
    assert repeats == []


def test_a_repeat_is_matched_to_the_latest_earlier_incident_of_its_service_and_cause(tmp_path: Path):
    from srelib.ingest.warehouse import connect
    from tests.conftest import ingest_small

    workbench = make_workbench(tmp_path, {"api": "platform", "web": "web"})
    at = lambda day, hour: datetime(2026, 10, day, hour, tzinfo=UTC)  # noqa: E731
    ingest_small(
        workbench,
        [
            _incident("E1", "api", at(1, 10), 30, cause="Bug"),  # the oldest: X1's latest is later
            _incident("T-b", "api", at(20, 8), 30, cause=" bug "),  # two at the same moment: the first
            _incident("T-a", "api", at(20, 8), 30, cause="BUG"),  # by id is the one repeated
            _incident("E4", "api", datetime(2026, 9, 20, tzinfo=UTC), 30, cause="config"),  # 38 days before X2
            _incident("X1", "api", at(27, 8), 30, cause="bug"),
            _incident("X2", "api", at(28, 9), 30, cause="config"),
            _incident("X3", "api", at(29, 12), 30, cause="bug"),
            _incident("X4", "api", at(29, 12), 30, cause=""),
            _incident("Y1", "web", at(28, 9), 30, cause="bug"),  # another service's cause
        ],
        "2026-10-27T00:00:00Z",
    )
    con = connect(workbench.warehouse_path)
    try:
        repeats = reliability.repeat_incidents(con, WEEK, Scope(None, workbench.catalogue))
    finally:
        con.close()
    assert [(r.incident_id, r.repeats, r.days_after) for r in repeats] == [
        ("X1", "T-a", 7.0),
        ("X3", "X1", round(52 / 24, 4)),
    ]


def test_prevention_counts_incidents_caught_before_customer_impact(warehouse):
    con, workbench = warehouse
    found = reliability.prevention(con, WEEK, Scope(None, workbench.catalogue))
    assert (found.incidents, found.caught_before_customer_impact, found.caught_before_customer_impact_ratio) == (
        4,
        2,
        0.5,
    )
    assert found.low_severity == 0 and found.failed_deployments == 0


def test_honest_comparison_calls_a_change_only_when_the_interval_excludes_zero():
    before = [120, 95, 180, 240, 150, 130, 200, 110, 175, 160]
    after = [40, 55, 35, 60, 45, 50, 38, 42]
    clear = compare(before, after)
    assert (clear.n_before, clear.n_after, clear.median_before, clear.median_after) == (10, 8, 155.0, 43.5)
    assert clear.median_difference == -111.5 and clear.ci_high < 0 and clear.verdict == "improved"
    assert clear.p_value < 0.001
    same = compare(before, [170, 90, 160, 250, 140, 120, 210, 100])
    assert same.ci_low < 0 < same.ci_high and same.verdict == "no_clear_change"
    assert compare(before, [10, 20]).verdict == "too_few"
    assert compare(after, before).verdict == "worsened"
    assert compare(after, before, lower_is_better=False).verdict == "improved"


def _exact_bootstrap_medians(sample: list[float]) -> dict[float, float]:
    """Every one of the n^n equally likely resamples, and the share of each median."""
    n = len(sample)
    resamples = np.array(np.meshgrid(*[sample] * n)).reshape(n, -1).T
    values, counts = np.unique(np.median(resamples, axis=1), return_counts=True)
    return dict(zip(values.tolist(), (counts / counts.sum()).tolist(), strict=True))


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        # n = 3: the median is 1 when at least two of three draws are 1: 3·(1/3)²·(2/3) + (1/3)³ = 7/27.
        ([1.0, 2.0, 3.0], {1.0: 7 / 27, 2.0: 13 / 27, 3.0: 7 / 27}),
        # n = 2: (1,1), (1,3), (3,1), (3,3) give medians 1, 2, 2, 3.
        ([1.0, 3.0], {1.0: 0.25, 2.0: 0.5, 3.0: 0.25}),
        ([7.0], {7.0: 1.0}),
    ],
)
def test_bootstrap_medians_follow_the_hand_computed_distribution(sample, expected):
    assert _exact_bootstrap_medians(sample) == pytest.approx(expected)
    drawn = bootstrap_medians(np.random.default_rng(1), np.array(sample), 200_000)
    values, counts = np.unique(drawn, return_counts=True)
    assert dict(zip(values.tolist(), (counts / drawn.size).tolist(), strict=True)) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize("sample", [[5.0, 1.0, 4.0, 4.0], [3.0, 9.0, 1.0, 6.0, 2.0], [2.0, 8.0, 8.0, 1.0, 30.0, 4.0]])
def test_bootstrap_medians_match_resampling_every_way(sample):
    """Even and odd sizes with ties: the drawn medians' shares equal those of all n^n resamples."""
    exact = _exact_bootstrap_medians(sample)
    drawn = bootstrap_medians(np.random.default_rng(2), np.array(sample), 400_000)
    values, counts = np.unique(drawn, return_counts=True)
    assert dict(zip(values.tolist(), (counts / drawn.size).tolist(), strict=True)) == pytest.approx(exact, abs=0.004)


def test_large_samples_are_compared_by_the_same_bootstrap():
    rng = np.random.default_rng(3)
    before, after = rng.lognormal(4.6, 0.8, 30_000), rng.lognormal(4.4, 0.8, 20_000)
    found = compare(before, after)

    # The sampling distribution of a median is close to normal at this size: the interval is
    # about the difference ± 1.96 × √(se₁² + se₂²), se = 1 / (2 f(median) √n) for the lognormal.
    def se(mu: float, n: int) -> float:
        median = np.exp(mu)
        density = 1 / (median * 0.8 * np.sqrt(2 * np.pi))
        return 1 / (2 * density * np.sqrt(n))

    half = 1.96 * np.hypot(se(4.6, 30_000), se(4.4, 20_000))
    assert (found.ci_high - found.ci_low) / 2 == pytest.approx(half, rel=0.1)
    assert found.ci_low < found.median_difference < found.ci_high < 0 and found.verdict == "improved"
    assert compare(before, after) == found  # a fixed seed: the same data give the same interval


# ---- delivery ------------------------------------------------------------------------------------


def test_fourkeys_bands():
    # dora-team/fourkeys METRICS.md: lead time and time to restore buckets, change failure buckets.
    assert delivery.time_band(24 * 60 - 1) == "One day" and delivery.time_band(24 * 60) == "One week"
    assert delivery.time_band(168 * 60) == "One month" and delivery.time_band(730 * 60) == "Six months"
    assert delivery.time_band(730 * 6 * 60) == "One year" and delivery.time_band(None) is None
    assert delivery.change_failure_band(0.15) == "0-15%" and delivery.change_failure_band(0.16) == "16-45%"
    assert delivery.change_failure_band(0.46) == "46-100%"
    # Deployment frequency: median days deployed per week ≥ 3 → Daily; median week deployed → Weekly.
    assert delivery.frequency_band([3, 4, 2, 5], [4, 4, 4, 4]) == "Daily"
    assert delivery.frequency_band([1, 0, 1, 2], [3, 3, 3, 3]) == "Weekly"
    assert delivery.frequency_band([0, 0, 1, 0, 0], [1, 1, 1, 1, 1]) == "Monthly"
    assert delivery.frequency_band([0, 0, 0, 0], [0, 0, 0, 0]) == "Yearly"


def _write_deployments(data: Path, deploys: list[tuple[str, datetime, int, str]]) -> None:
    write_csv(
        data / "deployments.csv",
        ["deploy_id", "service", "deployed_at", "commit_at", "succeeded", "incident_id"],
        [
            dict(
                deploy_id=d,
                service="api",
                deployed_at=_iso(at),
                commit_at=_iso(at - timedelta(minutes=lead)),
                succeeded="true",
                incident_id=inc,
            )
            for d, at, lead, inc in deploys
        ],
    )


def _delivery_workbench(tmp_path: Path, incidents: list[dict]) -> tuple[Workbench, Path]:
    """A workbench of SERVICES and its data folder: one SLO with one bucket, and ``incidents``."""
    workbench = make_workbench(tmp_path, SERVICES)
    data = tmp_path / "data"
    data.mkdir()
    write_slos(data, [slo_document("api-availability", "api", 0.999)])
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], [ONE_BUCKET])
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, incidents)
    return workbench, data


def test_the_delivery_trend_is_each_periods_four_keys_as_computed_alone(tmp_path):
    incidents = [
        _incident("I1", "api", datetime(2026, 8, 14, 12, tzinfo=UTC), 90),
        _incident("I2", "api", datetime(2026, 10, 2, 12, tzinfo=UTC), 30),
    ]
    workbench, data = _delivery_workbench(tmp_path, incidents)
    _write_deployments(
        data,
        [
            ("D1", datetime(2026, 8, 5, 10), 60, ""),
            ("D2", datetime(2026, 8, 14, 11), 120, "I1"),
            ("D3", datetime(2026, 9, 30, 23), 180, "I2"),  # its incident starts in October
            ("D4", datetime(2026, 10, 20, 10), 45, ""),
        ],
    )
    periods = Period.parse("2026-10").trailing(4)
    with in_memory(validate_directory(data)) as con:
        for team in (None, "platform", "search"):
            scope = Scope(team, workbench.catalogue)
            trend = delivery.delivery_trend(con, periods, scope)
            assert [p.period for p in trend] == ["2026-07", "2026-08", "2026-09", "2026-10"]
            for point, period in zip(trend, periods, strict=True):
                alone = delivery.delivery(con, period, scope)
                assert (point.deployments, point.change_failures, point.change_failure_rate) == (
                    alone.deployments,
                    alone.change_failures,
                    alone.change_failure_rate,
                )
                assert point.lead_time_minutes == alone.lead_time_minutes
                assert point.failed_deployment_recovery_minutes == alone.failed_deployment_recovery_minutes
        org = delivery.delivery_trend(con, periods, Scope(None, workbench.catalogue))
    assert [p.deployments for p in org] == [0, 2, 1, 1]
    assert [p.change_failure_rate for p in org] == [None, 0.5, 1.0, 0.0]
    assert org[3].failed_deployment_recovery_minutes.median == 30  # I2, caused by September's D3


def test_delivery_against_the_baseline_is_compared_honestly(tmp_path):
    from srelib.present.rows import delivery_comparison_rows

    incidents = [_incident(f"I{i}", "api", datetime(2026, 4, 2 + i, 12, tzinfo=UTC), 60 + 10 * i) for i in range(6)]
    incidents += [_incident(f"J{i}", "api", datetime(2026, 10, 2 + i, 12, tzinfo=UTC), 20 + i) for i in range(6)]
    workbench, data = _delivery_workbench(tmp_path, incidents)
    before = [(f"B{i}", datetime(2026, 4, 1 + i, 10), 600 + i, f"I{i}" if i < 6 else "") for i in range(20)]
    after = [
        (f"A{i}", datetime(2026, 10, 1, 10) + timedelta(hours=12 * i), 60 + i, f"J{i}" if i < 6 else "")
        for i in range(60)
    ]
    _write_deployments(data, before + after)
    baseline = Window("baseline 2026-04", datetime(2026, 4, 1), datetime(2026, 5, 1))
    with in_memory(validate_directory(data)) as con:
        found = delivery.delivery_against(con, Period.parse("2026-10"), Scope(None, workbench.catalogue), baseline)
        assert delivery.delivery_against(con, Period.parse("2026-10"), Scope(None, workbench.catalogue), None) is None
    # 20 deployments in April's 30 days, 60 in October's 31: rate ratio (60/31) ÷ (20/30) = 2.903226, higher is better
    rate = found.deployment_rate
    assert (rate.count_before, rate.days_before, rate.count_after, rate.days_after) == (20, 30, 60, 31)
    assert rate.rate_ratio == pytest.approx(2.903226, abs=1e-6) and rate.verdict == "improved"
    assert rate.ci_low > 1 and not rate.lower_is_better
    # Lead times 600..619 against 60..119 minutes: medians 609.5 and 89.5
    assert (found.lead_time.median_before, found.lead_time.median_after) == (609.5, 89.5)
    assert found.lead_time.verdict == "improved" and found.lead_time.ci_high < 0
    # Recovery of the incidents the deployments caused: 60..110 against 20..25 minutes
    assert (found.recovery.median_before, found.recovery.median_after) == (85.0, 22.5)
    assert found.recovery.verdict == "improved"
    # Change failures: 6 of 20 (I0..I5) against 6 of 60 (J0..J5). Newcombe's hybrid score interval,
    # by hand: Wilson intervals 0.3 → [0.145477, 0.518973], 0.1 → [0.046643, 0.201495];
    # −0.2 − √((0.1 − 0.046643)² + (0.518973 − 0.3)²) = −0.425380 and
    # −0.2 + √((0.201495 − 0.1)² + (0.3 − 0.145477)²) = −0.015126.
    cfr = found.change_failure_rate
    assert (cfr.events_before, cfr.n_before, cfr.events_after, cfr.n_after) == (6, 20, 6, 60)
    assert (cfr.rate_before, cfr.rate_after, cfr.difference) == (0.3, 0.1, -0.2)
    assert cfr.ci_low == pytest.approx(-0.425380, abs=2e-6) and cfr.ci_high == pytest.approx(-0.015126, abs=2e-6)
    assert cfr.verdict == "improved"
    shown = delivery_comparison_rows(SimpleNamespace(delivery_compared=found))
    assert [r["key"] for r in shown] == [
        "Deployments",
        "Median lead time",
        "Median failed deployment recovery time",
        "Change failure rate",
    ]
    assert shown[0]["before"] == "20 in 30 days" and shown[0]["change"].startswith("×2.90 a day (95 % interval ")
    assert shown[1]["change"].startswith("−8 h 40 m (95 % interval −")
    assert shown[2]["verdict"] == "improved"
    assert shown[3]["before"] == "30.0 % (6 of 20)" and shown[3]["after"] == "10.0 % (6 of 60)"
    assert shown[3]["change"] == "−20.0 pts (95 % interval −42.5 pts to −1.5 pts)"


def test_the_four_keys_compare_over_an_initiatives_services_only(tmp_path):
    """An initiative's four keys count its services' deployments and the incidents they caused; the
    organisation's count every service's."""
    incidents = [_incident(f"I{i}", "api", datetime(2026, 4, 2 + i, 12, tzinfo=UTC), 60) for i in range(3)]
    workbench, data = _delivery_workbench(tmp_path, incidents)
    deploys = [(f"A{i}", datetime(2026, 4, 1 + i, 10), 100, f"I{i}" if i < 3 else "") for i in range(10)]
    deploys += [(f"S{i}", datetime(2026, 4, 1 + i, 11), 50, "") for i in range(5)]
    deploys += [(f"B{i}", datetime(2026, 5, 1 + i, 10), 40, "") for i in range(12)]
    _write_deployments(data, deploys)
    frame = pd.read_csv(data / "deployments.csv")
    frame.loc[frame["deploy_id"].str.startswith("S"), "service"] = "search"
    frame.to_csv(data / "deployments.csv", index=False)
    before = Window("April", datetime(2026, 4, 1), datetime(2026, 5, 1))
    after = Window("May", datetime(2026, 5, 1), datetime(2026, 5, 31))
    with in_memory(validate_directory(data)) as con:
        scope = Scope(None, workbench.catalogue)
        api = delivery.compare_delivery(con, before, after, scope, ["api"])
        everything = delivery.compare_delivery(con, before, after, scope)
    assert (api.deployment_rate.count_before, everything.deployment_rate.count_before) == (10, 15)
    assert api.change_failure_rate.rate_before == 0.3 and everything.change_failure_rate.rate_before == 0.2
    assert api.lead_time.median_before == 100 and everything.lead_time.median_before == 100
    assert api.recovery.n_before == 3 and api.baseline == "April"


def test_four_keys_from_deployments(tmp_path):
    workbench, data = _delivery_workbench(
        tmp_path, [_incident("I1", "api", datetime(2026, 10, 14, 12, tzinfo=UTC), 90)]
    )
    deploys = [  # (id, deployed, minutes since the commit, incident)
        ("D1", datetime(2026, 10, 5, 10), 60, ""),
        ("D2", datetime(2026, 10, 6, 10), 120, ""),
        ("D3", datetime(2026, 10, 14, 11), 180, "I1"),
        ("D4", datetime(2026, 10, 20, 10), -5, ""),  # commit after deploy: ignored, as fourkeys does
    ]
    _write_deployments(data, deploys)
    with pytest.raises(InputError) as caught:  # a commit after its deployment is an impossible ordering
        validate_directory(data)
    assert "deployments.csv:5:deployed_at: deployed_at is before commit_at" in caught.value.report()
    deploys[3] = ("D4", datetime(2026, 10, 20, 10), 0, "")
    _write_deployments(data, deploys)
    with in_memory(validate_directory(data)) as con:
        keys = delivery.delivery(con, Period.parse("2026-10"), Scope(None, workbench.catalogue))
    assert keys.deployments == 4 and keys.deployments_per_day == pytest.approx(4 / 31, abs=1e-4)
    assert keys.lead_time_minutes.n == 3 and keys.lead_time_minutes.median == 120  # the zero lead time is ignored
    assert keys.change_failures == 1 and keys.change_failure_rate == 0.25 and keys.change_failure_band == "16-45%"
    assert keys.failed_deployment_recovery_minutes.median == 90 and keys.recovery_band == "One day"
    # fourkeys looks back three months but not before the first deployment (5 October): the ISO
    # weeks of 5, 12, 19 and 26 October had deployments on 2, 1, 1 and 0 days. Median days 1 < 3;
    # the median week had a deployment: Weekly.
    assert keys.band_window == "2026-08..2026-10" and keys.deployment_frequency_band == "Weekly"


# ---- value ---------------------------------------------------------------------------------------


def test_nps_worked_example():
    # Bain & Company's definition: % promoters (9–10) − % detractors (0–6).
    scores = [10, 9, 9, 8, 7, 6, 5, 10, 3, 9]
    promoters, detractors = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    assert (promoters, detractors) == (5, 3)
    assert satisfaction.nps_score(promoters, detractors, len(scores)) == 20.0
    assert satisfaction.nps_score(0, 0, 0) is None
    assert satisfaction.nps_score(0, 4, 4) == -100.0


def test_the_nps_interval_is_the_adjusted_wald_one():
    # Rocks (2016): ¾ more promoters and detractors, 3 more responses. The worked example above:
    # p = 5.75/13 = 0.442308, d = 3.75/13 = 0.288462, centre 0.153846;
    # variance (0.730769 − 0.153846²) ÷ 13 = 0.054392, half-width 1.959964 × 0.233221 = 0.457107.
    assert satisfaction.nps_interval(5, 3, 10) == (-30.33, 61.1)
    # One passive: p = d = 0.75/4; half-width 1.959964 × √(0.375 ÷ 4) = 0.600119.
    assert satisfaction.nps_interval(0, 0, 1) == (-60.01, 60.01)
    # A hundred promoters: the upper end is clipped at 100.
    assert satisfaction.nps_interval(100, 0, 100) == (93.09, 100.0)
    assert satisfaction.nps_interval(0, 0, 0) is None


def _value_workbench(tmp_path: Path) -> tuple[Workbench, Path]:
    workbench = make_workbench(tmp_path, SERVICES)
    workbench = Workbench(
        workbench.root,
        workbench.org,
        workbench.catalogue,
        value=ValueConfig.model_validate(
            {"hourly_rate": 100.0, "downtime_cost_per_minute": 10.0, "programme_cost_per_month": 30_000.0}
        ),
        initiatives=workbench.initiatives.model_copy(
            update={
                "initiatives": [
                    Initiative(
                        name="rightsizing", kind="cost", start=date(2026, 10, 11), services=["api"], baseline_days=10
                    )
                ]
            }
        ),
        targets=Targets(targets={"newsletter_open_rate": Target(target=0.5), "event_attendance": Target(target=61)}),
    )
    data = tmp_path / "data"
    data.mkdir()
    write_slos(data, [slo_document("api-availability", "api", 0.999)])
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], [ONE_BUCKET])
    write_csv(
        data / "incidents.csv",
        INCIDENT_COLUMNS,
        [
            # Baseline (the 6 months before October: April–September, 183 days): 2 impacting incidents of 60 minutes.
            _incident("B1", "api", datetime(2026, 5, 10, tzinfo=UTC), 60, customer_impact=True),
            _incident("B2", "api", datetime(2026, 8, 10, tzinfo=UTC), 60, customer_impact=True),
            # October: one impacting incident of 15 minutes; one without impact.
            _incident("O1", "api", datetime(2026, 10, 20, tzinfo=UTC), 15, customer_impact=True),
            _incident("O2", "api", datetime(2026, 10, 21, tzinfo=UTC), 500, customer_impact=False),
        ],
    )
    write_csv(
        data / "automation_runs.csv",
        ["automation", "team", "ran_at", "minutes_saved"],
        [
            dict(automation="cert-rotation", team="platform", ran_at="2026-10-02T10:00:00Z", minutes_saved=30),
            dict(automation="cert-rotation", team="platform", ran_at="2026-10-09T10:00:00Z", minutes_saved=30),
            dict(automation="disk-cleanup", team="search", ran_at="2026-10-03T10:00:00Z", minutes_saved=30),
            dict(automation="disk-cleanup", team="search", ran_at="2026-11-01T00:00:00Z", minutes_saved=999),
        ],
    )
    costs = []
    for day in range(1, 42):  # 21 September – 31 October. api: 100 a day until 10 October, 80 after; search: 50
        start = datetime(2026, 9, 21, tzinfo=UTC) + timedelta(days=day - 1)
        for service, amount in (
            ("api", 100.0 if start < datetime(2026, 10, 11, tzinfo=UTC) else 80.0),
            ("search", 50.0),
        ):
            costs.append(
                dict(
                    ChargePeriodStart=_iso(start),
                    ChargePeriodEnd=_iso(start + timedelta(days=1)),
                    EffectiveCost=amount,
                    BilledCost=amount * 1.1,
                    ServiceName=service,
                )
            )
    # One row straddling the month's start: 12:00 on 30 September to 12:00 on 1 October.
    costs.append(
        dict(
            ChargePeriodStart="2026-09-30T12:00:00Z",
            ChargePeriodEnd="2026-10-01T12:00:00Z",
            EffectiveCost=40.0,
            BilledCost=40.0,
            ServiceName="search",
        )
    )
    pd.DataFrame(costs).to_csv(data / "costs.csv", index=False)
    write_csv(
        data / "surveys.csv",
        ["submitted_at", "survey", "team", "question", "score"],
        [
            dict(submitted_at=f"2026-10-05T10:{i:02d}:00Z", survey="nps", score=s)
            for i, s in enumerate([10, 9, 9, 8, 7, 6, 5, 10, 3, 9])
        ]
        + [dict(submitted_at=f"2026-10-06T10:{i:02d}:00Z", survey="csat", score=s) for i, s in enumerate([5, 4, 3, 4])],
    )
    write_csv(
        data / "engagement.csv",
        ["date", "kind", "title", "team", "reached", "audience"],
        [
            dict(date="2026-10-02", kind="newsletter", title="October", team="", reached=210, audience=420),
            dict(date="2026-10-08", kind="workshop", title="SLOs", team="payments", reached=12, audience=20),
            dict(date="2026-10-15", kind="lunch_and_learn", title="Postmortems", team="", reached=49, audience=60),
            dict(date="2026-11-01", kind="workshop", title="Next month", team="search", reached=99, audience=99),
        ],
    )
    return workbench, data


def test_value_components_and_roi(tmp_path):
    workbench, data = _value_workbench(tmp_path)
    october = Period.parse("2026-10")
    with in_memory(validate_directory(data)) as con:
        baseline = reliability.baseline_window(datetime(2026, 10, 1, tzinfo=UTC), 6, october)
        result = value.value(con, october, Scope(None, workbench.catalogue), workbench, baseline)
    # Toil: 3 runs of 30 minutes in October = 1.5 h × 100.
    assert (result.toil.runs, result.toil.hours_saved, result.toil.value) == (3, 1.5, 150.0)
    # Cost: api 10 days × 100 + 21 days × 80 = 2,680; search 31 × 50 = 1,550, plus half of the
    # straddling row (12 of its 24 hours fall in October) = 20.
    assert result.costs.by_service == {"api": 2680.0, "search": 1570.0}
    assert result.costs.effective_cost == 4250.0
    assert result.costs.billed_cost == pytest.approx(2680 * 1.1 + 1550 * 1.1 + 20, abs=0.01)
    # Rightsizing from 11 October: baseline 100 a day over its 10 baseline days; 21 days in effect
    # at 80: expected 2,100, actual 1,680, saved 420.
    [saving] = result.costs.initiatives
    assert (saving.baseline_daily_cost, saving.days_in_effect, saving.expected_cost) == (100.0, 21.0, 2100.0)
    assert (saving.actual_cost, saving.savings) == (1680.0, 420.0)
    # Downtime avoided: baseline 120 impacting minutes over 183 days, × 31 days = 20.33,
    # minus October's 15 = 5.33 minutes × 10 = 53.28.
    expected_avoided = 120 / 183 * 31 - 15
    assert result.roi.downtime_avoided_minutes == pytest.approx(expected_avoided, abs=0.01)
    assert result.roi.downtime_avoided_value == pytest.approx(expected_avoided * 10, abs=0.01)
    # Programme cost: 30,000 a month × 31 ÷ 30.4375 days; ROI = (value − cost) ÷ cost.
    cost = 30_000 * 31 / (365.25 / 12)
    delivered = 150 + 420 + expected_avoided * 10
    assert result.roi.programme_cost == pytest.approx(cost, abs=0.01)
    assert result.roi.value_delivered == pytest.approx(delivered, abs=0.02)
    assert result.roi.roi == pytest.approx((delivered - cost) / cost, abs=1e-5)
    # Satisfaction: NPS 20 (the worked example); CSAT mean (5+4+3+4)/4 = 4, 3 of 4 satisfied.
    assert result.satisfaction.nps == 20.0 and result.satisfaction.nps_responses == 10
    assert (result.satisfaction.nps_low, result.satisfaction.nps_high) == (-30.33, 61.1)
    from types import SimpleNamespace

    from srelib.present.rows import satisfaction_rows

    shown = satisfaction_rows(SimpleNamespace(value=result, satisfaction_compared=None))  # value only: no baseline
    nps_row = next(r for r in shown if r["label"].startswith("Net Promoter"))
    assert nps_row["value"] == "+20 (95 % interval −30 to +61)"
    assert result.satisfaction.csat.mean == 4.0 and result.satisfaction.csat_satisfied_ratio == 0.75


def test_a_team_gets_its_share_of_value_but_no_roi(tmp_path):
    workbench, data = _value_workbench(tmp_path)
    october = Period.parse("2026-10")
    with in_memory(validate_directory(data)) as con:
        result = value.value(con, october, Scope("platform", workbench.catalogue), workbench, None)
    assert result.toil.runs == 2 and result.costs.by_service == {"api": 2680.0}
    assert result.roi.programme_cost is None and result.roi.roi is None


def test_the_spend_trend_is_each_periods_cost_as_computed_alone(tmp_path):
    """Each point of ``spend`` equals the cost section of that period's own summary, for the
    organisation and for a team (one query for the trend; one per period alone)."""
    from srelib.present.rows import spend_rows
    from srelib.summary import build_summary

    workbench, data = _value_workbench(tmp_path)
    with in_memory(validate_directory(data)) as con:
        for team in (None, "platform"):
            scope = Scope(team, workbench.catalogue)
            trend = value.spend_trend(con, Period.parse("2026-10").trailing(4), scope)
            assert [p.period for p in trend] == ["2026-07", "2026-08", "2026-09", "2026-10"]
            for point in trend:
                alone = value.value(con, Period.parse(point.period), scope, workbench, None).costs
                assert (point.effective_cost, point.by_service) == (alone.effective_cost, alone.by_service)
        summary = build_summary(con, workbench, Period.parse("2026-10"))
        # Per team, each period's figure is that team's own spend (its tag, else its services').
        teams = {
            t: value.spend_trend(con, Period.parse("2026-10").trailing(4), Scope(t, workbench.catalogue))
            for t in SERVICES.values()
        }
    for i, point in enumerate(summary.spend[-4:]):
        assert point.by_team == {t: trend[i].effective_cost for t, trend in teams.items() if trend[i].effective_cost}
        assert sum(point.by_team.values()) == pytest.approx(point.effective_cost, abs=0.01)
    # October (the value test's figures): api 2,680, search 1,570
    assert summary.spend[-1].by_service == {"api": 2680.0, "search": 1570.0}
    assert summary.spend[-1].by_team == {"platform": 2680.0, "search": 1570.0}
    assert [r["service"] for r in spend_rows(summary)] == ["api", "search", "All services"]
    assert spend_rows(summary)[-1]["now"] == "USD 4,250"
    assert [(r["team"], r["now"]) for r in spend_rows(summary, by="team")] == [
        ("platform", "USD 2,680"),
        ("search", "USD 1,570"),
        ("All teams", "USD 4,250"),
    ]


def test_awareness_kpis_against_targets(tmp_path):
    workbench, data = _value_workbench(tmp_path)
    october = Period.parse("2026-10")
    with in_memory(validate_directory(data)) as con:
        result = engagement.engagement(con, october, Scope(None, workbench.catalogue), workbench.targets, [october])
    open_rate = result.kpis["newsletter_open_rate"]
    assert (open_rate.value, open_rate.target, open_rate.met) == (0.5, 0.5, True)  # 210 of 420 opened
    # Events: 12 + 49 attendees against 61 a month: October's 31 days do not raise the target (was 62.13).
    attendance = result.kpis["event_attendance"]
    assert (attendance.value, attendance.target, attendance.met) == (61, 61, True)
    assert result.kpis["collaboration_events"].value == 1  # only the workshop names a team
    assert result.kpis["documentation_views"].target is None  # no target configured


# ---- sums that are the same bits on every run ---------------------------------------------------


def test_float_sums_are_exact_so_threads_cannot_change_their_last_digits():
    """A parallel sum of DOUBLE adds in whatever order DuckDB's threads finish, so its last bits
    vary between runs (the demo's 2026-08 daily cost interval moved in its 4th decimal).
    exact_sum_sql adds over DECIMAL: one result whatever the threads and runs, the exact sum up to
    the rounding of each value to 12 decimals (DuckDB's cast is within a few units of the 12th)."""
    from decimal import Decimal

    from srelib.ingest.sql import exact_sum_sql

    rng = np.random.default_rng(7)
    values = rng.lognormal(3, 2, 400_000) * rng.choice([-1, 1], 400_000)  # several row groups, mixed signs
    exact = sum(Decimal(float(v)).quantize(Decimal("1e-12")) for v in values)
    sums = set()
    for threads in (1, 2, 4):
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        con.register("values_frame", pd.DataFrame({"cost": values}))
        con.execute("CREATE TABLE costs AS SELECT cost FROM values_frame")
        for _ in range(3):
            [(total,)] = con.execute(f"SELECT {exact_sum_sql('cost')} FROM costs").fetchall()
            sums.add(total)
        con.close()
    [total] = sums
    assert abs(total - exact) < Decimal("1e-6")  # 400,000 values, each off by < 1e-11


# ---- edge cases on the golden data set of tests/test_metrics_golden.py --------------------------


@pytest.fixture
def golden(tmp_path: Path) -> tuple[Workbench, Path]:
    return write_golden(tmp_path)


def test_time_slice_methods_burn_down_by_slices(golden):
    summary = summary_for(golden, "2026-10")
    login = {p.day: p for p in summary.slo_budgets["login-slices"].burn_down}
    # 2 October: slices of 5 minutes at 100 %, 90 % (bad: under 95 %) and 96 %; the empty slice
    # is left out. Attainment 2/3; remaining 1 − (1/3) ÷ (1 − 0.9) = −2.33.
    assert login["2026-10-02"].attainment == pytest.approx(2 / 3, abs=1e-8)
    assert login["2026-10-02"].remaining == pytest.approx(1 - (1 / 3) / 0.1, abs=1e-5)
    assert login["2026-10-01"].attainment is None  # no slice with traffic yet in the window
    ratio = {p.day: p for p in summary.slo_budgets["search-ratio"].burn_down}
    assert ratio["2026-10-03"].attainment == pytest.approx(0.875)  # mean of 150/200 and 10/10


def test_hundred_percent_targets_have_no_burn_rates_alerts_or_policy_share(golden):
    summary = summary_for(golden, "2026-10")
    strict = summary.slo_budgets["checkout-strict"]
    assert set(strict.burn_rates.values()) == {None}
    assert all(a.fired_minutes == 0 and a.burn_rate_long is None for a in strict.alerts)
    assert summary.error_budget_policy["checkout"].slos == {"checkout-strict": None}
    assert summary.error_budget_policy["checkout"].state == "normal"
    assert summary.slos["checkout-strict"].budget_minutes is None


def test_an_empty_period_gives_every_group_without_numbers_it_does_not_have(golden):
    summary = summary_for(golden, "2030-01")
    assert summary.delivery is not None and summary.delivery.deployments == 0
    assert summary.delivery.change_failure_rate is None and summary.delivery.deployment_frequency_band is None
    assert summary.value is not None and summary.value.toil.hours_saved == 0 and summary.value.costs.effective_cost == 0
    assert summary.value.satisfaction.nps is None and summary.value.roi.roi is None  # no programme cost configured
    assert (
        summary.reliability is not None and summary.reliability.mtbf == {} and summary.reliability.repeat_ratio is None
    )
    assert summary.reliability.comparisons["previous"].mttr.verdict == "too_few"
    assert all(p.remaining is None for b in summary.slo_budgets.values() for p in b.burn_down)
    assert {p.state for p in summary.error_budget_policy.values()} == {"normal"}
    assert summary.engagement is not None and summary.engagement.kpis["event_attendance"].value == 0


def test_burn_down_days_follow_the_org_time_zone_across_dst(golden):
    # Europe/Berlin leaves summer time on 25 October 2026: October has 31 local days, one of them
    # 25 hours long, and the period starts at 22:00 UTC on 30 September.
    summary = summary_for(golden, "2026-10", timezone="Europe/Berlin")
    days = [p.day for p in summary.slo_budgets["api-availability"].burn_down]
    assert len(days) == 31 and days[0] == "2026-10-01" and days[-1] == "2026-10-31"
    api = {p.day: p for p in summary.slo_budgets["api-availability"].burn_down}
    # The bucket at 00:00 UTC on 1 October is 02:00 in Berlin: 1 October, 990 of 1,000.
    assert api["2026-10-01"].attainment == pytest.approx(0.99)
    # I6 started 23:59:59 UTC on 30 September: already October in Berlin, and ledger's only failure.
    assert summary.reliability is not None and summary.reliability.mtbf["ledger"].failures == 1


def test_metrics_json_has_one_section_per_group(tmp_path):
    import json

    workbench, data = _value_workbench(tmp_path)
    (workbench.root / "params" / "value.yaml").write_text("hourly_rate: 100\nprogramme_cost_per_month: 30000\n")
    result = run_cli(workbench.root, "metrics", "--period", "2026-10", "--data", str(data), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    for section in ("incidents", "slos", "reliability", "slo_budgets", "error_budget_policy", "delivery", "value"):
        assert body[section] is not None, section
    assert body["value"]["toil"]["hours_saved"] == 1.5 and body["value"]["toil"]["value"] == 150.0
    assert body["value"]["satisfaction"]["nps"] == 20.0
    assert body["engagement"]["kpis"]["newsletter_open_rate"]["value"] == 0.5
    assert body["delivery"]["deployments"] == 0 and body["delivery"]["lead_time_band"] is None


# ---- a team's summary from the organisation's ----------------------------------------------------


def _comparable(summary) -> dict:
    return summary.model_dump(exclude={"generated_at"})


def test_team_summaries_built_from_the_org_summary_equal_those_computed_alone(demo_workbench, demo_end, demo_quarter):
    from srelib.ingest.warehouse import connect
    from srelib.summary import PeriodSummary, build_summary

    with connect(demo_workbench.warehouse_path) as con:
        for period in (demo_end, demo_end.previous(), demo_quarter):
            org = PeriodSummary.model_validate_json(build_summary(con, demo_workbench, period).to_json())
            for team in demo_workbench.catalogue.teams:
                alone = build_summary(con, demo_workbench, period, team)
                assert alone.slos and alone.slo_budgets and alone.error_budget_policy, team
                assert _comparable(build_summary(con, demo_workbench, period, team, org)) == _comparable(alone)


def test_an_org_summary_of_other_data_or_another_period_is_not_used(demo_workbench, demo_end):
    from srelib.ingest.warehouse import connect
    from srelib.summary import build_summary

    team = next(iter(demo_workbench.catalogue.teams))
    with connect(demo_workbench.warehouse_path) as con:
        org = build_summary(con, demo_workbench, demo_end)
        alone = _comparable(build_summary(con, demo_workbench, demo_end, team))
        name = next(iter(alone["slos"]))
        tampered = org.model_copy(deep=True)
        tampered.slos[name] = dataclasses.replace(tampered.slos[name], good=-1)
        tampered.trend[-1].slos[name] = tampered.slos[name]
        used = build_summary(con, demo_workbench, demo_end, team, tampered)
        assert used.slos[name].good == -1  # taken from the org summary, not scanned again
        for stale in (
            tampered.model_copy(update={"input_fingerprint": "other data"}),
            tampered.model_copy(update={"srelib_version": "0.0.0"}),
            tampered.model_copy(update={"trend": tampered.trend[1:]}),
        ):
            assert _comparable(build_summary(con, demo_workbench, demo_end, team, stale)) == alone
        other = build_summary(con, demo_workbench, demo_end.previous())
        assert _comparable(build_summary(con, demo_workbench, demo_end, team, other)) == alone


def test_alert_evaluations_do_not_depend_on_how_many_slos_share_a_grid(demo_workbench, demo_end, monkeypatch):
    """The 5-minute grid holds a few SLOs at a time: one SLO per grid gives the same alerts."""
    from srelib.ingest.warehouse import connect
    from srelib.metrics.slo import slo_definitions

    with connect(demo_workbench.warehouse_path) as con:
        definitions = slo_definitions(con, Scope(None, demo_workbench.catalogue))
        checked, period = 0, demo_end
        for _ in range(6):  # two of the latest months in which an alert fired (the demo's story moves with the date)
            together = alerts.alert_evaluations(con, definitions, period)
            if any(e.fired_minutes for evaluations in together.values() for e in evaluations):
                monkeypatch.setattr(alerts, "GRID_CELLS", 1)
                assert alerts.alert_evaluations(con, definitions, period) == together
                monkeypatch.undo()
                checked += 1
                if checked == 2:
                    break
            period = period.previous()
        assert checked == 2
