"""Which tip the newsletter and the weekly digest show: in turn, across year ends, never the same
tip in the same week."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from srelib.config import Tip
from srelib.period import Period
from srelib.present import tips


def _tips(count: int) -> list[Tip]:
    return [Tip(title=f"t{i}", text=f"text {i}") for i in range(count)]


def _step_by_step(choices: list[Tip], until: date) -> dict[date, Tip]:
    """The rule as written, one week at a time from the epoch up to ``until`` (the oracle for the
    month-by-month walk): each Monday's tip."""
    shown, index, week = {}, -1, tips.EPOCH_MONDAY
    while week <= until:
        index = (index + 1) % len(choices)
        if choices[index] is tips.of_the_month(choices, tips.newsletter_before(week)):
            index = (index + 1) % len(choices)
        shown[week] = choices[index]
        week += timedelta(days=7)
    return shown


def _monday(label: str) -> date:
    return Period.parse(label).first_day


def test_the_newsletter_takes_the_tips_in_turn_month_by_month_across_year_ends():
    five = _tips(5)
    months = ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02"]
    shown = [tips.of_the_month(five, _monday(m)).title for m in months]
    # 2026 × 12 + 10 = 24322 ≡ 2 (mod 5); then 3, 4, and on into January: 0, 1.
    assert shown == ["t2", "t3", "t4", "t0", "t1"]
    # With the repository's first eight tips the turn is the one the newsletter always had
    # (year × 60 + month, which differs from year × 12 + month by a multiple of 48).
    eight = _tips(8)
    for label in ("2025-01", "2026-06", "2026-12", "2027-01"):
        day = _monday(label)
        assert tips.of_the_month(eight, day) is eight[(day.year * 60 + day.month) % 8], label


def test_the_digest_moves_on_one_tip_a_week_across_2026_w53_and_2027_w01():
    """2026 has 53 ISO weeks: the ISO number starts again at 1, the digest's week count does not.

    With eight tips, the newsletter's tip of November 2026 is t3 (24323 mod 8) and of December
    t4 (24324 mod 8). The digest of 2026-W52 goes out on Monday 28 December, after November's
    newsletter; those of W53 (out on 4 January) and 2027-W01 and W02 after December's. Week by
    week it moves on one tip: t2, t3, then t4 is December's newsletter's, so W01 passes over it
    to t5, and W02 shows t6.
    """
    eight = _tips(8)
    weeks = ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    mondays = [_monday(w) for w in weeks]
    assert [tips.week_number(m) for m in mondays] == [6625, 6626, 6627, 6628]  # one a week, on through new year
    assert [tips.of_the_month(eight, tips.newsletter_before(m)).title for m in mondays] == ["t3", "t4", "t4", "t4"]
    assert [tips.of_the_week(eight, m).title for m in mondays] == ["t2", "t3", "t5", "t6"]
    oracle = _step_by_step(eight, mondays[-1])
    assert [oracle[m].title for m in mondays] == ["t2", "t3", "t5", "t6"]


@pytest.mark.parametrize("count", [2, 3, 5, 8, 13, 16])
def test_the_digest_never_shows_the_newsletters_tip_and_takes_the_others_in_turn(count: int):
    choices = _tips(count)
    monday = _monday("2025-W40")
    oracle = _step_by_step(choices, monday + timedelta(weeks=80))
    before = tips.of_the_week(choices, monday - timedelta(days=7))
    for _ in range(80):  # 80 weeks, through the end of 2025 and 2026
        shown = tips.of_the_week(choices, monday)
        assert shown is not tips.of_the_month(choices, tips.newsletter_before(monday)), monday
        assert shown is oracle[monday], monday
        if count > 2:  # the next tip, or the one after it when the next is the newsletter's
            assert (choices.index(shown) - choices.index(before)) % count in (1, 2), monday
        before, monday = shown, monday + timedelta(days=7)


def test_the_digest_of_a_week_follows_the_newsletter_sent_before_it_goes_out():
    # Week 43 of 2026 ends on Monday 26 October: September's newsletter (sent early October) came before.
    assert tips.newsletter_before(_monday("2026-W43")) == date(2026, 9, 1)
    # Week 44 ends on Monday 2 November, with October's newsletter going out the same week.
    assert tips.newsletter_before(_monday("2026-W44")) == date(2026, 10, 1)
    # A week ending on Monday 1 June 2026 goes out on the 1st: May's newsletter is the one that week.
    assert tips.newsletter_before(date(2026, 5, 25)) == date(2026, 5, 1)


def test_no_tips_or_one_tip():
    assert tips.of_the_week([], _monday("2026-W43")) is None and tips.of_the_month([], date(2026, 10, 1)) is None
    one = _tips(1)
    assert tips.of_the_week(one, _monday("2026-W43")) is one[0]  # it cannot be avoided: shown anyway
