"""A period still going (issue 18, fresh data): its counts are compared, and turned into rates,
over the part that has passed, not over days that have not happened yet. The clock is frozen
at 11 October 2026 00:00 UTC: ten days of October have passed. Golden values by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from srelib.period import Period, Window
from srelib.present import narrative
from tests.conftest import ingest_small, make_workbench
from tests.test_data_quality import summary_of

NOW = datetime(2026, 10, 11)


@pytest.fixture
def frozen(monkeypatch) -> datetime:
    monkeypatch.setattr("srelib.period.now_utc", lambda: NOW)
    return NOW


def _incident(n: int, started: str, resolved: str | None) -> dict[str, object]:
    return {
        "incident_id": f"INC-{n}",
        "title": f"incident {n}",
        "service": "api",
        "severity": "SEV3",
        "started_at": started,
        "resolved_at": resolved or "",
        "customer_impact": "true",
    }


def test_a_period_so_far_is_its_part_that_has_passed(frozen):
    october = Period.parse("2026-10")
    assert october.so_far() == Window("2026-10 so far", datetime(2026, 10, 1), NOW)
    assert october.so_far().days == 10 and not october.ended
    september = Period.parse("2026-09")
    assert september.ended and september.so_far() == Window("2026-09", september.start_utc, september.end_utc)
    november = Period.parse("2026-11")  # not begun: nothing has passed
    assert november.so_far().days == 0
    berlin = Period.parse("2026-10", "Europe/Berlin")  # begins 30 September 22:00 UTC
    assert berlin.so_far().days == pytest.approx(10 + 2 / 24)


def test_a_month_so_far_is_compared_at_the_pace_of_the_month_before(tmp_path: Path, frozen):
    workbench = make_workbench(tmp_path, {"api": "platform"})
    september = [_incident(n, f"2026-09-{3 * n:02d}T10:00:00Z", f"2026-09-{3 * n:02d}T11:00:00Z") for n in range(1, 7)]
    october = [
        _incident(7, "2026-10-02T10:00:00Z", "2026-10-02T11:00:00Z"),
        _incident(8, "2026-10-10T12:00:00Z", None),  # still open: down for 12 hours until now
    ]
    ingest_small(workbench, [*september, *october], "2026-10-05T00:00:00Z")
    summary = summary_of(workbench, "2026-10")
    assert (summary.partial, summary.title) == (True, "October 2026 so far")

    previous = summary.reliability.comparisons["previous"]
    # 6 incidents in the 30 days of September; 10 days of October have passed: 6 × 10 ÷ 30 = 2.0
    assert (previous.incidents.other, previous.incidents.other_scaled, previous.incidents.change) == (6, 2.0, 0.0)
    assert (previous.incident_rate.days_before, previous.incident_rate.days_after) == (30, 10)
    # MTBF of api over the ten days: 60 + 720 minutes down, (14,400 − 780) ÷ 2 failures
    mtbf = summary.reliability.mtbf["api"]
    assert (mtbf.downtime_minutes, mtbf.uptime_minutes, mtbf.mtbf_minutes) == (780, 13_620, 6_810)
    assert summary.delivery.deployments_per_day == 0.0
    said = narrative.messages(summary)
    assert said[0].startswith(
        "2 incidents started in October 2026 so far, against 2.0 at September 2026's pace over as many days (6 in all)"
    )

    # September, which has ended, is measured over all of its 30 days as before
    ended = summary_of(workbench, "2026-09")
    assert not ended.partial and ended.reliability.mtbf["api"].uptime_minutes == 30 * 1440 - 6 * 60
    assert narrative.messages(ended)[0] == "6 incidents started in September 2026. All of them affected customers."
