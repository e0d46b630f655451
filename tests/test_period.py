from datetime import UTC, datetime

import pytest

from srelib.errors import UsageError
from srelib.period import Period


def test_month_is_half_open_from_midnight_utc():
    p = Period.parse("2026-10")
    assert (p.start_utc, p.end_utc) == (datetime(2026, 10, 1), datetime(2026, 11, 1))
    assert p.title == "October 2026"
    assert p.minutes == 31 * 24 * 60


def test_quarter_and_iso_week():
    q = Period.parse("2026-q4")
    assert (q.label, q.start_utc, q.end_utc) == ("2026-Q4", datetime(2026, 10, 1), datetime(2027, 1, 1))
    w = Period.parse("2026-W43")
    assert (w.start_utc, w.end_utc) == (datetime(2026, 10, 19), datetime(2026, 10, 26))
    assert Period.parse("2026-W53").label == "2026-W53"  # 2026 has 53 ISO weeks
    assert Period.parse("2026-W01").start_utc == datetime(2025, 12, 29)  # ISO week 1 starts in December


def test_boundaries_are_midnight_in_the_org_time_zone_across_dst():
    p = Period.parse("2026-10", "Europe/Berlin")
    # October starts in summer time (UTC+2) and ends in winter time (UTC+1).
    assert p.start_utc == datetime(2026, 9, 30, 22)
    assert p.end_utc == datetime(2026, 10, 31, 23)
    assert p.minutes == (31 * 24 + 1) * 60  # the month has one hour more
    assert p.start.isoformat() == "2026-10-01T00:00:00+02:00"


@pytest.mark.parametrize("text", ["2026-13", "2026-10-01", "Q4-2026", "2025-W53", "", "October"])
def test_bad_periods_are_usage_errors(text):
    with pytest.raises(UsageError):
        Period.parse(text)


def test_unknown_time_zone_is_a_usage_error():
    with pytest.raises(UsageError, match="time zone"):
        Period.parse("2026-10", "Mars/Olympus")


def test_latest_complete_period():
    now = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
    assert Period.latest_complete("month", now=now).label == "2026-10"
    # 00:30 UTC on 1 November is still 31 October in New York: October is not complete there.
    assert Period.latest_complete("month", "America/New_York", now=now).label == "2026-09"
    assert Period.latest_complete("quarter", now=now).label == "2026-Q3"
    assert Period.latest_complete("week", now=now).label == "2026-W43"


def test_shift_and_trailing():
    p = Period.parse("2026-01")
    assert p.previous().label == "2025-12"
    assert [x.label for x in Period.parse("2026-Q1").trailing(3)] == ["2025-Q3", "2025-Q4", "2026-Q1"]


@pytest.mark.parametrize("name", ["Europe", "Mars/Olympus", "x" * 300, "../etc/passwd"])
def test_a_time_zone_that_is_not_one_is_a_usage_error(name):
    from srelib.period import zone

    with pytest.raises(UsageError, match="unknown time zone"):
        zone(name)
