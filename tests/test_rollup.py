"""SLO roll-ups (issue 18): organisation → team → service → SLO, each level with its SLOs met, at
risk, breached or without data, the least budget left, and a composite attainment weighted by
params/slo_documents.yaml. Golden values by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from srelib.metrics.rollup import composite_attainment, rollups
from srelib.metrics.slo import SloResult
from tests.test_data_quality import HOUR, _buckets, _ingest, _workbench, summary_of


def _result(
    service: str, team: str | None, target: float, attainment: float | None, remaining: float | None, status: str
):
    return SloResult(
        service=service,
        team=team,
        target=target,
        budgeting_method="Occurrences",
        good=0,
        total=0,
        attainment=attainment,
        error_budget_remaining=remaining,
        status=status,
    )


def test_the_composite_is_the_weighted_mean_of_attainment_over_target():
    # (2 × 0.999/0.999 + 1 × 0.98/0.99) ÷ 3 = (2 + 0.989899) ÷ 3 = 0.996633
    assert composite_attainment([(0.999, 0.999, 2), (0.98, 0.99, 1)]) == pytest.approx(0.996633, abs=5e-7)
    # an SLO without data counts for nothing, its weight included
    assert composite_attainment([(0.999, 0.999, 2), (None, 0.99, 5)]) == pytest.approx(1.0)
    assert composite_attainment([(None, 0.99, 1)]) is None
    assert composite_attainment([]) is None
    # a 100 % target: attainment ÷ 1
    assert composite_attainment([(0.9995, 1.0, 1), (1.0, 0.99, 1)]) == pytest.approx((0.9995 + 1 / 0.99) / 2)


def test_each_level_counts_its_slos_and_names_the_least_budget_left():
    results = {
        "checkout-availability": _result("checkout", "payments", 0.999, 0.9973, -1.7, "breached"),
        "checkout-latency": _result("checkout", "payments", 0.99, 0.995, 0.5, "met"),
        "ledger-availability": _result("ledger", "payments", 0.999, 0.9992, 0.2, "at_risk"),
        "search-availability": _result("search", "search", 0.995, None, None, "no_data"),
        "orphan-availability": _result("orphan", None, 0.99, 0.999, 0.9, "met"),
    }
    weights = {"checkout-availability": 3}
    levels = {(r.level, r.name): r for r in rollups(results, weights, "Northwind")}
    assert list(levels) == [
        ("organisation", "Northwind"),
        ("team", "payments"),
        ("team", "search"),
        ("service", "checkout"),
        ("service", "ledger"),
        ("service", "orphan"),
        ("service", "search"),
    ]
    org = levels["organisation", "Northwind"]
    assert (org.met, org.at_risk, org.breached, org.no_data) == (2, 1, 1, 1)
    assert (org.lowest_budget_slo, org.lowest_budget) == ("checkout-availability", -1.7)
    assert org.children == ["payments", "search"]
    # (3 × 0.998298 + 1.005051 + 1.000200 + 1.009091) ÷ 6 = 6.009237 ÷ 6: above 1 with a breach
    # among them, which is why the breakdown always stands beside it
    by_hand = (3 * 0.9973 / 0.999 + 0.995 / 0.99 + 0.9992 / 0.999 + 0.999 / 0.99) / 6
    assert org.composite == round(by_hand, 6) == 1.001539
    assert org.weight == 6
    payments = levels["team", "payments"]
    assert (payments.slos, payments.children, payments.parent) == (
        ["checkout-availability", "checkout-latency", "ledger-availability"],
        ["checkout", "ledger"],
        "Northwind",
    )
    assert payments.composite == round((3 * 0.9973 / 0.999 + 0.995 / 0.99 + 0.9992 / 0.999) / 5, 6)
    checkout = levels["service", "checkout"]
    assert (checkout.parent, checkout.lowest_budget_slo, checkout.breached, checkout.met) == (
        "payments",
        "checkout-availability",
        1,
        1,
    )
    search = levels["team", "search"]
    assert (search.composite, search.lowest_budget, search.no_data, search.weight) == (None, None, 1, 0)
    assert levels["service", "orphan"].parent is None
    # a team's scope has no organisation level
    assert [(r.level, r.name) for r in rollups(results, weights, "Northwind", "payments")] == [
        ("team", "payments"),
        ("service", "checkout"),
        ("service", "ledger"),
    ]


def test_the_summary_rolls_its_slos_up_with_the_weights_of_the_slo_documents(tmp_path: Path):
    workbench = _workbench(tmp_path)
    (tmp_path / "params" / "slo_documents.yaml").write_text(
        yaml.safe_dump({"documents": {"api-availability": {"weight": 3}}}), encoding="utf-8"
    )
    sli = [
        *_buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 11, 1), HOUR, good=999, total=1000),
        *_buckets("api-latency", datetime(2026, 10, 1), datetime(2026, 11, 1), HOUR, good=997, total=1000),
        *_buckets("web-availability", datetime(2026, 10, 1), datetime(2026, 11, 1), HOUR, good=995, total=1000),
    ]
    _ingest(workbench, sli)
    from srelib.config import Workbench

    workbench = Workbench.load(tmp_path)
    summary, team = summary_of(workbench, "2026-10"), summary_of(workbench, "2026-10", "platform")
    levels = {(r.level, r.name): r for r in summary.rollups}
    # api-availability 99.9 % against 99 % (weight 3), api-latency 99.7 % against 99.9 %, web 99.5 % against 99 %
    api = levels["service", "api"]
    assert api.composite == round((3 * 0.999 / 0.99 + 0.997 / 0.999) / 4, 6)
    assert (api.met, api.breached, api.lowest_budget_slo) == (1, 1, "api-latency")
    org = levels["organisation", "Test Org"]
    assert org.composite == round((3 * 0.999 / 0.99 + 0.997 / 0.999 + 0.995 / 0.99) / 5, 6)
    assert [(r.level, r.name) for r in team.rollups] == [("team", "platform"), ("service", "api")]
    assert team.rollups[0] == levels["team", "platform"]


def test_reports_show_the_roll_ups_as_a_tree_with_the_breakdown_beside_the_composite(tmp_path: Path):
    from srelib.present.rows import rollup_rows

    results = {
        "checkout-availability": _result("checkout", "payments", 0.999, 0.9973, -1.7, "breached"),
        "ledger-availability": _result("ledger", "payments", 0.999, 0.9992, 0.2, "at_risk"),
        "search-availability": _result("search", "search", 0.995, 0.999, 0.8, "met"),
    }
    summary = _summary_with(results)
    rows = rollup_rows(summary)
    assert [(r["scope"], r["level"]) for r in rows] == [
        ("Northwind", "organisation"),
        ("\u2003payments", "team"),
        ("\u2003\u2003checkout", "service"),
        ("\u2003\u2003ledger", "service"),
        ("\u2003search", "team"),
        ("\u2003\u2003search", "service"),
    ]
    assert rows[0]["breakdown"] == "1 / 1 / 1 / 0"
    assert rows[0]["lowest"] == "−170 % (checkout-availability)"
    assert rows[0]["composite"] == "100.08 %"  # (0.998298 + 1.000200 + 1.004020) ÷ 3 = 1.000839
    # a dashboard narrowed to one service shows that service's roll-up alone, at the root
    from srelib.serve.dashboards import _only_service

    narrowed = rollup_rows(_only_service(summary, "ledger"))
    assert [(r["scope"], r["level"], r["breakdown"]) for r in narrowed] == [("ledger", "service", "0 / 1 / 0 / 0")]


def _summary_with(results: dict[str, SloResult]):
    from srelib.metrics.incidents import IncidentStats
    from srelib.summary import PeriodSummary

    return PeriodSummary(
        period="2026-10",
        start="2026-10-01T00:00:00+00:00",
        end="2026-11-01T00:00:00+00:00",
        team=None,
        teams=["payments", "search"],
        incidents=IncidentStats(),
        slos=results,
        kind="month",
        title="October 2026",
        timezone="UTC",
        org="Northwind",
        rollups=rollups(results, {}, "Northwind"),
    )
