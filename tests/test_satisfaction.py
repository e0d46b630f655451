"""Satisfaction over time and against the baseline, and the honest comparisons behind its gains:
golden values from published examples and hand computation (docs/metrics.md, "Satisfaction")."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.metrics import satisfaction
from srelib.metrics.compare import compare_means, compare_proportions, wilson_interval
from srelib.metrics.satisfaction import compare_nps
from srelib.metrics.scope import Scope
from srelib.period import Period, Window
from srelib.present import format as show
from srelib.present import highlights, narrative
from srelib.present.rows import satisfaction_rows
from tests.conftest import make_workbench, write_csv

SERVICES = {"checkout": "payments", "search": "search"}
SURVEYS = ["submitted_at", "survey", "team", "question", "score"]

# R's ``sleep`` data (Student, 1908): t.test(extra ~ group, data = sleep) gives Welch's
# t = −1.8608, df = 17.776, p = 0.07939, 95 % interval of group 1 − group 2: −3.3654832 to 0.2054832.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welchs_interval_matches_r_on_the_sleep_data():
    found = compare_means(SLEEP_2, SLEEP_1)  # after − before = group 1 − group 2
    assert (found.mean_before, found.mean_after, found.difference) == (2.33, 0.75, -1.58)
    assert (found.ci_low, found.ci_high) == (-3.3655, 0.2055)
    assert found.p_value == pytest.approx(0.07939, abs=1e-5)
    assert found.verdict == "no_clear_change"  # the interval holds zero
    assert compare_means(SLEEP_1, [x + 3 for x in SLEEP_1]).verdict == "improved"  # higher is better
    assert compare_means(SLEEP_1, [x + 3 for x in SLEEP_1], lower_is_better=True).verdict == "worsened"


def test_mean_comparisons_need_five_scores_a_side_and_survive_no_spread():
    few = compare_means([4, 4, 5, 4], [5, 5, 5, 5, 5])
    assert few.verdict == "too_few" and few.ci_low is None and few.difference == 0.75
    assert compare_means([], []).mean_before is None
    flat = compare_means([3] * 6, [4] * 6)  # every answer the same: no variance to test
    assert (flat.difference, flat.ci_low, flat.ci_high, flat.verdict) == (1.0, 1.0, 1.0, "improved")
    same = compare_means([4] * 6, [4] * 6)
    assert same.verdict == "no_clear_change" and same.p_value == 1.0


def test_newcombes_interval_matches_the_published_example():
    # Newcombe (1998), Table II, example (a): 56/70 against 48/80, difference 0.2000; method 10
    # (score, no continuity correction) 0.0524 to 0.3339.
    found = compare_proportions(48, 80, 56, 70, lower_is_better=False)
    assert found.difference == 0.2
    assert (round(found.ci_low, 4), round(found.ci_high, 4)) == (0.0524, 0.3339)
    assert found.verdict == "improved"
    # Wilson (1927) for 0 of 10: 0 to 0.2775 (Newcombe's Table I, example (f), method 3).
    assert tuple(round(x, 4) for x in wilson_interval(0, 10)) == (0.0, 0.2775)
    assert compare_proportions(0, 10, 0, 10).verdict == "no_clear_change"
    assert compare_proportions(1, 4, 0, 40).verdict == "too_few"
    assert compare_proportions(0, 0, 3, 10).rate_before is None


def test_two_nps_are_compared_by_the_adjusted_wald_interval_of_their_difference():
    # Before: 20 promoters, 15 detractors of 60; after: 30 and 10 of 60. Adjusted (¾ each, +3):
    # before p = 20.75/63 = 0.329365, d = 15.75/63 = 0.25, NPS' 0.079365,
    #   variance (0.579365 − 0.079365²) ÷ 63 = 0.0090963;
    # after p = 30.75/63 = 0.488095, d = 10.75/63 = 0.170635, NPS' 0.317460,
    #   variance (0.658730 − 0.317460²) ÷ 63 = 0.0088564;
    # difference 0.238095 ± 1.959964 × √0.0179527 = ± 0.262610 → −2.45 to +50.07 points.
    found = compare_nps((20, 15, 60), (30, 10, 60))
    assert (found.nps_before, found.nps_after, found.difference) == (8.3333, 33.3333, 25.0)
    assert (found.ci_low, found.ci_high) == (-2.45, 50.07)
    assert found.verdict == "no_clear_change"  # 25 points up, yet not clear at 60 responses a side
    clear = compare_nps((20, 15, 60), (45, 5, 60))
    assert clear.verdict == "improved" and clear.ci_low > 0
    assert compare_nps((20, 15, 60), (5, 40, 60)).verdict == "worsened"
    assert compare_nps((1, 1, 4), (3, 0, 40)).verdict == "too_few"
    assert compare_nps((0, 0, 0), (3, 0, 40)).difference is None


def _data(tmp_path: Path, rows: list[dict]) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "surveys.csv", SURVEYS, rows)
    return data


def _answers(survey: str, month: str, scores: list[int], team: str = "") -> list[dict]:
    return [
        dict(submitted_at=f"{month}-10T09:{i:02d}:00Z", survey=survey, team=team, question="", score=score)
        for i, score in enumerate(scores)
    ]


def test_the_satisfaction_trend_is_each_periods_figures_as_computed_alone(tmp_path):
    workbench = make_workbench(tmp_path, SERVICES)
    rows = (
        _answers("csat", "2026-08", [3, 4, 5, 2])
        + _answers("csat", "2026-10", [5, 5, 4], team="payments")
        + _answers("nps", "2026-09", [10, 9, 7, 3, 6, 9])  # 3 promoters, 2 detractors: +16.67
        + _answers("nps", "2026-10", [10, 2], team="search")
        + _answers("devex", "2026-10", [2, 3, 4], team="payments")
        + _answers("stakeholder", "2026-10", [1])  # not one of the three
    )
    periods = Period.parse("2026-10").trailing(4)
    with in_memory(validate_directory(_data(tmp_path, rows))) as con:
        for team in (None, "payments", "search"):
            scope = Scope(team, workbench.catalogue)
            trend = satisfaction.satisfaction_trend(con, periods, scope)
            assert [p.period for p in trend] == [p.label for p in periods]
            for point, period in zip(trend, periods, strict=True):
                alone = satisfaction.satisfaction(con, period, scope)
                assert {k: v for k, v in vars(point).items() if k != "period"} == vars(alone)
        org = satisfaction.satisfaction_trend(con, periods, Scope(None, workbench.catalogue))
        payments = satisfaction.satisfaction_trend(con, periods, Scope("payments", workbench.catalogue))
    assert [p.csat.mean for p in org] == [None, 3.5, None, 4.6667]
    assert org[1].csat_satisfied_ratio == 0.5
    assert (org[2].nps, org[2].promoters, org[2].detractors, org[2].nps_responses) == (16.6667, 3, 2, 6)
    assert (org[2].nps_low, org[2].nps_high) == satisfaction.nps_interval(3, 2, 6)
    assert org[3].nps == 0.0 and org[3].devex.mean == 3.0
    # a team sees its own answers only: rows without a team are the organisation's
    assert [p.csat.n for p in payments] == [0, 0, 0, 3] and payments[3].nps is None


def test_satisfaction_against_the_baseline_claims_a_gain_only_when_it_is_clear(tmp_path):
    workbench = make_workbench(tmp_path, SERVICES)
    rows = (
        _answers("csat", "2026-03", [3, 3, 4, 3, 2, 3, 4, 3])
        + _answers("csat", "2026-10", [4, 5, 4, 5, 4, 5, 5, 4])
        + _answers("nps", "2026-03", [10, 9, 7, 3, 6, 9])
        + _answers("nps", "2026-10", [10, 9, 8, 5, 6, 9])
        + _answers("devex", "2026-03", [3, 4])  # too few to compare
        + _answers("devex", "2026-10", [4, 4, 5, 3, 4])
    )
    baseline = Window("baseline 2026-01..2026-06", datetime(2026, 1, 1), datetime(2026, 7, 1))
    with in_memory(validate_directory(_data(tmp_path, rows))) as con:
        scope = Scope(None, workbench.catalogue)
        found = satisfaction.satisfaction_against(con, Period.parse("2026-10"), scope, baseline)
        assert satisfaction.satisfaction_against(con, Period.parse("2026-10"), scope, None) is None
        level = satisfaction.satisfaction(con, Period.parse("2026-10"), scope)
    # CSAT 25 ÷ 8 = 3.125 against 36 ÷ 8 = 4.5; Welch's interval excludes zero.
    assert (found.csat.mean_before, found.csat.mean_after, found.csat.difference) == (3.125, 4.5, 1.375)
    assert found.csat.verdict == "improved" and found.csat.ci_low > 0
    # NPS +16.67 (3 promoters, 2 detractors of 6) against +16.67 (3 and 2 of 6): no clear change.
    assert (found.nps.nps_before, found.nps.nps_after, found.nps.verdict) == (16.6667, 16.6667, "no_clear_change")
    assert found.devex.verdict == "too_few" and found.baseline == "baseline 2026-01..2026-06"
    summary = SimpleNamespace(
        satisfaction_compared=found, delivery_compared=None, value=SimpleNamespace(satisfaction=level)
    )
    assert highlights.baseline_changes(summary, "improved") == {
        "delivery": [],
        "satisfaction": ["CSAT 3.12 → 4.50 of 5"],
    }
    # Each side adjusted: p = 3.75/9, d = 2.75/9, variance (0.722222 − 0.111111²) ÷ 9 = 0.078875;
    # ± 1.959964 × √(2 × 0.078875) = ± 0.778454: −78 to +78 points.
    assert highlights.baseline_changes(summary, "no_clear_change")["satisfaction"] == [
        "NPS +17 → +17 (change −78 to +78 points, 95 % interval)"
    ]
    said = narrative._satisfaction(summary)
    assert said["improved"] == ["CSAT 3.12 → 4.50 of 5"] and not said["worsened"]
    shown = {r["label"]: r for r in satisfaction_rows(summary)}
    csat = shown["Customer satisfaction (CSAT, 1–5)"]
    assert csat["value"] == "4.50 (100 % satisfied)" and csat["baseline"] == "3.12 (8)"
    assert csat["change"].startswith("+1.38 (95 % interval +") and csat["verdict"] == "improved"
    nps = shown["Net Promoter Score (−100 to 100)"]
    assert nps["baseline"] == "+17 (6)" and nps["verdict"] == "no clear change"
    assert shown["Developer experience (1–5)"]["verdict"] == "too few to compare"


def test_signed_figures_use_the_minus_sign():
    assert (show.signed(-25.8), show.signed(23.3), show.signed(0.2), show.signed(None)) == ("−26", "+23", "0", "—")
    assert show.signed(-1.375, 2) == "−1.38" and show.ratio(-0.23) == "−23 %" and show.ratio(-0.001) == "0 %"
    assert show.budget(-0.4) == "−40 %"
