"""Data quality (issue 18): how much data each SLO's figures rest on. Golden values by hand:
coverage against the buckets of the SLO's own grid (across a change of summer time, with a
+05:30 offset, and while the period is still going), the gaps, low traffic where the period's
budget is less than one event, and the flags every output discloses."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from srelib.config import Workbench
from srelib.ingest.warehouse import connect
from srelib.metrics.data_quality import expected_buckets, low_traffic_threshold
from srelib.period import Period
from srelib.summary import build_summary
from tests.conftest import make_workbench, slo_document, write_slos
from tests.test_corrections import _ingest

SLI_COLUMNS = ["timestamp", "slo", "good", "total"]
CORRECTION_COLUMNS = ["slo", "service", "start", "end", "rrule", "reason", "kind"]


def _workbench(root: Path, timezone: str = "UTC", org: dict | None = None) -> Workbench:
    make_workbench(root, {"api": "platform", "web": "web"}, timezone=timezone)
    if org:
        import yaml

        path = root / "params" / "org.yaml"
        path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **org}), encoding="utf-8")
    (root / "data").mkdir()
    write_slos(
        root / "data",
        [
            slo_document("api-availability", "api", 0.99),
            slo_document("api-latency", "api", 0.999),
            slo_document("web-availability", "web", 0.99),
        ],
    )
    return Workbench.load(root)


def _buckets(slo: str, start: datetime, end: datetime, step: timedelta, good: int = 10, total: int = 10) -> list[dict]:
    rows, at = [], start
    while at < end:
        rows.append({"timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "slo": slo, "good": good, "total": total})
        at += step
    return rows


def summary_of(workbench: Workbench, period: str, team: str | None = None):
    """The summary of ``period`` (in the org's time zone) from the workbench's warehouse."""
    con = connect(workbench.warehouse_path)
    try:
        return build_summary(con, workbench, Period.parse(period, workbench.org.timezone), team)
    finally:
        con.close()


def _quality(workbench: Workbench, period: str, team: str | None = None):
    return summary_of(workbench, period, team).data_quality


HOUR, FIVE = timedelta(hours=1), timedelta(minutes=5)


def test_coverage_gaps_and_low_traffic_of_a_month_by_hand(tmp_path: Path):
    workbench = _workbench(tmp_path)
    october = [
        *_buckets("api-availability", datetime(2026, 10, 1, 3), datetime(2026, 10, 10, 12), HOUR),
        # 10 October 12:00 missing: a one-hour gap
        *_buckets("api-availability", datetime(2026, 10, 10, 13), datetime(2026, 10, 31, 20), HOUR),
        # 20:00-24:00 on the 31st missing, and 00:00-03:00 on the 1st
        # api-latency: 5-minute buckets on 5 October only, one event each
        *_buckets("api-latency", datetime(2026, 10, 5), datetime(2026, 10, 6), FIVE, good=1, total=1),
        # web-availability: nothing in October; a bucket in November ends the data after October
        *_buckets("web-availability", datetime(2026, 11, 1), datetime(2026, 11, 1, 1), HOUR),
    ]
    _ingest(workbench, october)
    q = _quality(workbench, "2026-10")

    api = q["api-availability"]
    # 744 hours in October; 3 + 1 + 4 missing: 736 with data
    assert (api.bucket_seconds, api.buckets_expected, api.buckets_with_data) == (3600, 744, 736)
    assert api.coverage == round(736 / 744, 6) == 0.989247
    assert api.through == "2026-11-01T00:00+00:00"
    assert [(g.start, g.end, g.minutes) for g in api.gaps] == [
        ("2026-10-01T00:00+00:00", "2026-10-01T03:00+00:00", 180),
        ("2026-10-10T12:00+00:00", "2026-10-10T13:00+00:00", 60),
        ("2026-10-31T20:00+00:00", "2026-11-01T00:00+00:00", 240),
    ]
    assert (api.gap_count, api.gap_minutes) == (3, 480)
    # 7,360 events; at 99 % one bad event is within the budget from 100 events
    assert (api.events, api.measured, api.low_traffic_below) == (7360, 7360, 100)
    assert api.flags == ["gaps"]

    latency = q["api-latency"]
    # 288 five-minute buckets of 8,928 (744 × 12); 288 events at 99.9 %, whose budget is 0.288 events
    assert (latency.bucket_seconds, latency.buckets_expected, latency.buckets_with_data) == (300, 8928, 288)
    assert latency.coverage == round(288 / 8928, 6) == 0.032258
    assert [(g.start, g.minutes) for g in latency.gaps] == [
        ("2026-10-01T00:00+00:00", 4 * 24 * 60),
        ("2026-10-06T00:00+00:00", 26 * 24 * 60),
    ]
    assert (latency.events, latency.low_traffic_below) == (288, 1000)
    assert latency.flags == ["low_coverage", "gaps", "low_traffic"]

    web = q["web-availability"]
    assert (web.buckets_with_data, web.coverage, web.bucket_seconds, web.events) == (0, 0.0, None, 0)
    assert [(g.start, g.end) for g in web.gaps] == [("2026-10-01T00:00+00:00", "2026-11-01T00:00+00:00")]
    assert web.flags == ["no_data", "gaps", "low_traffic"]


def test_a_period_still_going_is_covered_up_to_the_newest_bucket(tmp_path: Path):
    workbench = _workbench(tmp_path)
    sli = [
        *_buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 10, 15, 12), HOUR),
        *_buckets("web-availability", datetime(2026, 10, 1), datetime(2026, 10, 15, 10), HOUR),
    ]
    _ingest(workbench, sli)
    q = _quality(workbench, "2026-10")
    # The data end at 15 October 12:00 (the newest bucket, 11:00, and its hour): 14 × 24 + 12 expected
    api, web = q["api-availability"], q["web-availability"]
    assert (api.through, api.buckets_expected, api.coverage, api.gaps) == ("2026-10-15T12:00+00:00", 348, 1.0, [])
    # web's last two hours are missing: a gap of 120 minutes (30 and longer are gaps)
    assert (web.buckets_with_data, web.coverage) == (346, round(346 / 348, 6))
    assert [(g.start, g.minutes) for g in web.gaps] == [("2026-10-15T10:00+00:00", 120)]


def test_a_berlin_october_has_745_hours_and_kolkata_buckets_on_the_utc_hour(tmp_path: Path):
    # Berlin: October 2026 runs from 30 September 22:00Z to 31 October 23:00Z; the clocks go
    # back on 25 October, so it has 745 hours.
    berlin = _workbench(tmp_path / "berlin", "Europe/Berlin")
    _ingest(berlin, _buckets("api-availability", datetime(2026, 9, 30, 22), datetime(2026, 10, 31, 23), HOUR))
    api = _quality(berlin, "2026-10")["api-availability"]
    assert (api.buckets_expected, api.buckets_with_data, api.coverage, api.gaps) == (745, 745, 1.0, [])
    assert api.through == "2026-11-01T00:00+01:00"
    # Kolkata (+05:30): October runs from 30 September 18:30Z; hourly buckets on the UTC hour
    # start at 19:00Z, and the last one in the month at 18:00Z on 31 October: 744 of them.
    kolkata = _workbench(tmp_path / "kolkata", "Asia/Kolkata")
    _ingest(kolkata, _buckets("api-availability", datetime(2026, 9, 30, 19), datetime(2026, 10, 31, 19), HOUR))
    api = _quality(kolkata, "2026-10")["api-availability"]
    assert (api.buckets_expected, api.buckets_with_data, api.coverage) == (744, 744, 1.0)
    # the first 30 minutes have no bucket start at all: not a gap, nothing is missing
    assert api.gaps == []


def test_corrections_are_counted_and_coverage_counts_the_raw_buckets(tmp_path: Path):
    workbench = _workbench(tmp_path)
    sli = _buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 11, 1, 1), HOUR)
    corrections = [
        {
            "slo": "api-availability",
            "start": "2026-10-04T02:00:00Z",
            "end": "2026-10-04T04:00:00Z",
            "rrule": "FREQ=WEEKLY",
            "reason": "maintenance",
            "kind": "maintenance",
        }
    ]
    _ingest(workbench, sli, corrections)
    api = _quality(workbench, "2026-10")["api-availability"]
    # Sundays 4, 11, 18, 25 October: four windows of two hours; the data stay whole
    assert (api.corrections, api.corrected_minutes, api.coverage) == (1, 480, 1.0)
    assert api.events == (744 - 8) * 10  # what the attainment counts
    assert api.flags == []


def test_the_configured_thresholds_apply(tmp_path: Path):
    workbench = _workbench(
        tmp_path, org={"low_traffic_events": 10_000, "sli_gap_minutes": 90, "sli_min_coverage": 0.999}
    )
    sli = [
        *_buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 10, 10, 12), HOUR),
        *_buckets("api-availability", datetime(2026, 10, 10, 13), datetime(2026, 11, 1, 1), HOUR),
    ]
    _ingest(workbench, sli)
    api = _quality(workbench, "2026-10")["api-availability"]
    # one hour missing: under 90 minutes, so no gap; 743 of 744 is under 99.9 %; 7,430 < 10,000 events
    assert (api.gap_count, api.coverage, api.low_traffic_below) == (0, round(743 / 744, 6), 10_000)
    assert api.flags == ["low_coverage", "low_traffic"]


def test_a_team_summary_has_its_own_slos_data_quality(tmp_path: Path):
    workbench = _workbench(tmp_path)
    _ingest(workbench, _buckets("web-availability", datetime(2026, 10, 1), datetime(2026, 11, 1), HOUR))
    assert list(_quality(workbench, "2026-10", "web")) == ["web-availability"]
    assert _quality(workbench, "2026-10", "web")["web-availability"].coverage == 1.0


@pytest.mark.parametrize(
    ("target", "configured", "threshold"),
    [(0.999, None, 1000), (0.99, None, 100), (0.97, None, 34), (0.9995, None, 2000), (1.0, None, None), (1.0, 5, 5)],
)
def test_low_traffic_is_a_budget_of_less_than_one_event(target, configured, threshold):
    assert low_traffic_threshold(target, configured) == threshold


def test_expected_buckets_count_the_grid_points_in_the_half_open_span():
    hour = 3_600_000_000
    assert expected_buckets(0, 24 * hour, 0, hour) == 24
    # a grid offset by 30 minutes: starts at 00:30 ... 23:30
    assert expected_buckets(0, 24 * hour, hour // 2, hour) == 24
    # the span starts at 00:30 on an on-the-hour grid: 01:00 ... 23:00
    assert expected_buckets(hour // 2, 24 * hour, 0, hour) == 23
    assert expected_buckets(5, 5, 0, hour) == 0


def test_every_output_that_says_met_says_when_the_data_are_too_thin(tmp_path: Path):
    from srelib.present import narrative, report

    workbench = _workbench(tmp_path)
    sli = [
        *_buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 11, 1, 1), HOUR),
        *_buckets("api-latency", datetime(2026, 10, 1), datetime(2026, 11, 1), HOUR, good=1, total=1),
        *_buckets("web-availability", datetime(2026, 10, 20), datetime(2026, 11, 1), HOUR),
    ]
    _ingest(workbench, sli)
    summary, quarter = summary_of(workbench, "2026-10"), summary_of(workbench, "2026-Q4")
    assert {n: r.status for n, r in summary.slos.items()} == dict.fromkeys(summary.slos, "met")
    messages = narrative.messages(summary)
    assert "All 3 SLOs met their objectives, 2 of them on too little data to be sure (below)." in messages
    assert (
        "2 SLOs rest on too little data for their figures to say much: api-latency (744 events, fewer than "
        "the 1,000 at which one bad event spends the whole budget); web-availability (data in 38.7 % of its "
        "buckets; 1 gap in its data, 19 d in all)." in messages
    )
    table = report.slo_table(summary).data
    assert table.count('class="srelib-thin"') == 2
    assert "&dagger; Resting on too little data for the figure to say much:" in table
    html = report.slo_document(summary, "web-availability").data
    assert (
        "<strong>Data behind these figures:</strong> 288 of 744 buckets of 1 h have data (38.7 % coverage); "
        "1 gap, 19 d in all; 2,880 events measured." in html
    )
    assert (
        "Too little for the figures to say much: data in 38.7 % of its buckets; 1 gap in its data, 19 d in all." in html
    )
    document = report.slo_messages(summary, "web-availability").data
    assert "it met its objective, but that says less than it seems" in document
    assert "too little data" not in report.slo_messages(summary, "api-availability").data
    # The quarter is still going: its data end at 1 November 01:00, api-latency's an hour before.
    said = narrative.messages(quarter, "quarterly_business_impact")
    assert (
        "No SLO missed its objective over the quarter, though 2 of them met it on too little data to be sure (below)."
        in said
    )
