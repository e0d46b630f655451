from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

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


# ---- years --------------------------------------------------------------------------------------


def test_a_year_is_the_calendar_year_from_midnight_on_1_january_in_the_org_time_zone():
    utc = Period.parse("2026")
    assert (utc.kind, utc.label, utc.title) == ("year", "2026", "2026")
    assert (utc.start_utc, utc.end_utc, utc.days) == (datetime(2026, 1, 1), datetime(2027, 1, 1), 365)
    # Berlin is UTC+1 in winter, at both ends: the year starts at 23:00 UTC on 31 December.
    berlin = Period.parse("2026", "Europe/Berlin")
    assert (berlin.start_utc, berlin.end_utc) == (datetime(2025, 12, 31, 23), datetime(2026, 12, 31, 23))
    assert berlin.start.isoformat() == "2026-01-01T00:00:00+01:00"
    # Kolkata is UTC+05:30 all year (no summer time): a half-hour offset moves both ends alike.
    kolkata = Period.parse("2026", "Asia/Kolkata")
    assert (kolkata.start_utc, kolkata.end_utc) == (datetime(2025, 12, 31, 18, 30), datetime(2026, 12, 31, 18, 30))
    assert kolkata.minutes == 365 * 24 * 60


def test_a_year_across_both_dst_changes_is_its_months_end_to_end():
    """Berlin loses an hour on 29 March 2026 and gets it back on 25 October: the months are 743
    and 745 hours long, and the year, made of its twelve months without gap or overlap, 8760."""
    year = Period.parse("2026", "Europe/Berlin")
    months = [Period.parse(f"2026-{m:02d}", "Europe/Berlin") for m in range(1, 13)]
    assert months[0].start_utc == year.start_utc and months[-1].end_utc == year.end_utc
    assert all(a.end_utc == b.start_utc for a, b in pairwise(months))
    assert (months[2].minutes / 60, months[9].minutes / 60) == (31 * 24 - 1, 31 * 24 + 1)
    assert sum(m.minutes for m in months) == year.minutes == 8760 * 60
    # Sydney is in summer time (UTC+11) on 1 January at both ends, and leaves and re-enters it between.
    sydney = Period.parse("2026", "Australia/Sydney")
    assert (sydney.start_utc, sydney.end_utc) == (datetime(2025, 12, 31, 13), datetime(2026, 12, 31, 13))


def test_a_leap_year_has_366_days_and_29_february():
    leap = Period.parse("2028", "Europe/Berlin")
    days = leap.local_days()
    assert leap.days == 366 and len(days) == 366 and date(2028, 2, 29) in days
    assert (days[0], days[-1]) == (date(2028, 1, 1), date(2028, 12, 31))
    assert Period.parse("2026").days == 365 and Period.parse("2100").days == 365  # a century: not leap
    assert Period.parse("2000").days == 366  # divisible by 400: leap


def test_years_shift_trail_and_compare_with_the_year_before():
    year = Period.parse("2026", "Asia/Kolkata")
    assert (year.previous().label, year.shift(1).label, year.year_ago().label) == ("2025", "2027", "2025")
    assert [p.label for p in year.trailing(3)] == ["2024", "2025", "2026"]
    assert year.previous().timezone == "Asia/Kolkata"
    assert Period.containing("year", date(2026, 12, 31)) == Period.parse("2026")
    # ISO week 1 of 2027 starts on 4 January; week 53 of 2026 ends in 2027: years are calendar years.
    assert (
        Period.parse("2026-W53").first_day.year == 2026
        and Period.parse("2026").end_utc < Period.parse("2026-W53").end_utc
    )


def test_the_latest_complete_year_turns_at_midnight_on_1_january_in_the_org_time_zone():
    # 18:30 UTC on 31 December is midnight in Kolkata: 2026 has just ended there, not in UTC.
    midnight_in_kolkata = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
    assert Period.latest_complete("year", "Asia/Kolkata", now=midnight_in_kolkata).label == "2026"
    a_second_before = midnight_in_kolkata - timedelta(seconds=1)
    assert Period.latest_complete("year", "Asia/Kolkata", now=a_second_before).label == "2025"
    assert Period.latest_complete("year", now=midnight_in_kolkata).label == "2025"


def test_a_period_that_is_none_names_every_form_a_year_included():
    with pytest.raises(UsageError) as caught:
        Period.parse("x")
    assert str(caught.value) == (
        "period 'x' is not a year (2026), month (2026-10), quarter (2026-Q4) or ISO week (2026-W43)"
    )
    for text in ("20266", "26", "2026-", "Y2026"):
        with pytest.raises(UsageError, match="is not a year \\(2026\\), month"):
            Period.parse(text)
    with pytest.raises(UsageError, match="unknown period kind 'decade': year, quarter, month, week"):
        Period.containing("decade", date(2026, 1, 1))


@pytest.mark.parametrize("text", ["0000", "0000-01", "0001-Q1", "1899", "9999", "9999-12", "3000-W01"])
def test_years_out_of_range_are_usage_errors_not_crashes(text):
    with pytest.raises(UsageError, match="the year must be 1900-2999"):
        Period.parse(text)
