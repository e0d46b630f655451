"""Which tip of ``params/tips.yaml`` the newsletter and the weekly digest show: each in turn.

The newsletter takes the tips in turn by month, the weekly digest by week. Both counts run on
across year ends: the month number is year × 12 + month, the week number the days since Monday
1 January 1900 ÷ 7 (not the ISO week number, which starts again at 1 after week 52 or 53), so
new year never skips or repeats a tip.

The digest passes over the tip of the newsletter its readers had last: the newsletter of the
month before the one the digest goes out in (a week's digest goes out once the week has ended,
on the Monday its period ends or later; a month's newsletter at the start of the next month).
So the two never show the same tip in the same week, nor in the same month. Week after week
the digest moves on to the next tip, passing over that one; with a single tip it shows it anyway.
"""

from __future__ import annotations

from datetime import date, timedelta

from srelib.config import Tip

EPOCH_MONDAY = date(1900, 1, 1)  # a Monday, and the first day of the first year a period can be in


def month_number(day: date) -> int:
    """A number that moves on by one each calendar month, across year ends too."""
    return day.year * 12 + day.month


def week_number(day: date) -> int:
    """A number that moves on by one each week (Monday to Sunday), across year ends too."""
    return (day - EPOCH_MONDAY).days // 7


def of_the_month(tips: list[Tip], first_day: date) -> Tip | None:
    """The newsletter's tip for the month that starts on ``first_day``."""
    return tips[month_number(first_day) % len(tips)] if tips else None


def newsletter_before(monday: date) -> date:
    """The first day of the month whose newsletter the digest of the week starting on ``monday``
    follows: the month before the one the week ends in (its end being the next Monday)."""
    sent_in = (monday + timedelta(days=7)).replace(day=1)
    return (sent_in - timedelta(days=1)).replace(day=1)


def of_the_week(tips: list[Tip], monday: date) -> Tip | None:
    """The digest's tip for the week starting on ``monday``: the next one after last week's,
    passing over the newsletter's tip (:func:`newsletter_before`).

    The turn depends on every skip since the epoch, so it is walked month by month: within the
    weeks whose digests go out in one month the skipped tip is the same, and the digest moves on
    through the other tips one a week.
    """
    count = len(tips)
    if count < 2:
        return tips[0] if tips else None
    target = week_number(monday)
    index, week = -1, 0  # the tip shown the week before ``week`` (-1: none yet)
    while week <= target:
        sent = EPOCH_MONDAY + timedelta(weeks=week + 1)  # the day ``week`` ends: its digest goes out
        next_month = (sent.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(target, week_number(next_month - timedelta(days=8)))  # the last week ending in the month
        skipped = (month_number(sent) - 1) % count  # the tip of the month before's newsletter
        index = _move_on(index, last - week + 1, skipped, count)
        week = last + 1
    return tips[index]


def _move_on(index: int, weeks: int, skipped: int, count: int) -> int:
    """The tip ``weeks`` turns after ``index``, counting the ``count`` tips round and round but
    passing over ``skipped``: one step a turn through the other ``count - 1``."""
    others = count - 1
    position = (skipped - 1) % others if index == skipped else index if index < skipped else index - 1
    position = (position + weeks) % others
    return position if position < skipped else position + 1
