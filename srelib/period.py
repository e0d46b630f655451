"""Reporting periods: calendar years, quarters, months and ISO weeks.

A period is half-open, ``[start, end)``, with its boundaries at midnight in the org's
time zone (docs/metrics.md). The warehouse stores UTC, so every period
also knows its boundaries as naive UTC datetimes for SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from srelib.errors import UsageError

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)

KINDS = ("year", "quarter", "month", "week")  # longest first
FIRST_YEAR, LAST_YEAR = 1900, 2999  # a period's neighbours and a year of trend stay representable
FORMS = "a year (2026), month (2026-10), quarter (2026-Q4) or ISO week (2026-W43)"


def now_utc() -> datetime:
    """The clock (UTC, naive, as the warehouse keeps times): the one place a period asks it."""
    return datetime.now(UTC).replace(tzinfo=None)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a folder of zones: OSError
        raise UsageError(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True)
class Period:
    """A year (``2026``), quarter (``2026-Q4``), month (``2026-10``) or ISO week (``2026-W43``)."""

    kind: str  # "year" | "quarter" | "month" | "week"
    first_day: date
    timezone: str = "UTC"

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> Period:
        text = text.strip()
        zone(timezone)
        if (m := _YEAR.match(text) or _MONTH.match(text) or _QUARTER.match(text) or _WEEK.match(text)) and not (
            FIRST_YEAR <= int(m[1]) <= LAST_YEAR
        ):
            raise UsageError(f"period {text!r}: the year must be {FIRST_YEAR}-{LAST_YEAR}")
        if m := _YEAR.match(text):
            return cls("year", date(int(m[1]), 1, 1), timezone)
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise UsageError(f"period {text!r}: month must be 01-12")
            return cls("month", date(year, month, 1), timezone)
        if m := _QUARTER.match(text):
            return cls("quarter", date(int(m[1]), 3 * int(m[2]) - 2, 1), timezone)
        if m := _WEEK.match(text):
            try:
                return cls("week", date.fromisocalendar(int(m[1]), int(m[2]), 1), timezone)
            except ValueError as exc:
                raise UsageError(f"period {text!r}: {m[1]} has no ISO week {m[2]}") from exc
        raise UsageError(f"period {text!r} is not {FORMS}")

    @classmethod
    def latest_complete(cls, kind: str, timezone: str = "UTC", now: datetime | None = None) -> Period:
        """The most recent period of ``kind`` that has fully ended at ``now``."""
        now = now or datetime.now(UTC)
        today = now.astimezone(zone(timezone)).date()
        current = cls.containing(kind, today, timezone)
        return current.shift(-1)

    @classmethod
    def containing(cls, kind: str, day: date, timezone: str = "UTC") -> Period:
        if kind == "year":
            return cls(kind, date(day.year, 1, 1), timezone)
        if kind == "month":
            return cls(kind, day.replace(day=1), timezone)
        if kind == "quarter":
            return cls(kind, date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), timezone)
        if kind == "week":
            return cls(kind, day - timedelta(days=day.weekday()), timezone)
        raise UsageError(f"unknown period kind {kind!r}: {', '.join(KINDS)}")

    @property
    def label(self) -> str:
        if self.kind == "year":
            return str(self.first_day.year)
        if self.kind == "month":
            return f"{self.first_day:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first_day.year}-Q{(self.first_day.month - 1) // 3 + 1}"
        year, week, _ = self.first_day.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def title(self) -> str:
        """How a reader names the period: "2026", "Q4 2026", "October 2026", "week 43 of 2026"."""
        if self.kind == "year":
            return str(self.first_day.year)
        if self.kind == "month":
            return f"{self.first_day:%B %Y}"
        if self.kind == "quarter":
            return f"Q{(self.first_day.month - 1) // 3 + 1} {self.first_day.year}"
        year, week, _ = self.first_day.isocalendar()
        return f"week {week} of {year}"

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier)."""
        if self.kind == "week":
            return Period("week", self.first_day + timedelta(weeks=n), self.timezone)
        if self.kind == "year":
            return Period("year", date(self.first_day.year + n, 1, 1), self.timezone)
        months = 3 * n if self.kind == "quarter" else n
        index = self.first_day.year * 12 + self.first_day.month - 1 + months
        return Period(self.kind, date(index // 12, index % 12 + 1, 1), self.timezone)

    def previous(self) -> Period:
        return self.shift(-1)

    def year_ago(self) -> Period:
        """The same period a year earlier: the month or quarter, the ISO week with the same number,
        or (for a year) the previous year."""
        if self.kind == "week":
            year, week, _ = self.first_day.isocalendar()
            try:
                return Period("week", date.fromisocalendar(year - 1, week, 1), self.timezone)
            except ValueError:  # week 53 of a year whose predecessor has 52
                return self.shift(-52)
        return self.shift({"year": -1, "quarter": -4, "month": -12}[self.kind])

    def trailing(self, count: int) -> list[Period]:
        """``count`` periods ending with this one, oldest first."""
        return [self.shift(-i) for i in range(count - 1, -1, -1)]

    @property
    def start(self) -> datetime:
        """Midnight at the period's first day, in the org time zone (aware)."""
        return datetime.combine(self.first_day, datetime.min.time(), zone(self.timezone))

    @property
    def end(self) -> datetime:
        """Midnight after the period's last day, in the org time zone (exclusive, aware)."""
        return self.shift(1).start

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC).replace(tzinfo=None)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC).replace(tzinfo=None)

    @property
    def minutes(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds() / 60

    @property
    def days(self) -> float:
        """Length in days (23- and 25-hour DST days count as they are)."""
        return self.minutes / 1440

    @property
    def ended(self) -> bool:
        """Whether the period is over (its end has passed on the clock, :func:`now_utc`)."""
        return self.end_utc <= now_utc()

    def so_far(self) -> Window:
        """The part of the period that has passed (the whole period once it has ended): what a
        period still going is measured over. Counts of a period still going are compared with
        other periods, and turned into rates (per day, MTBF, incidents avoided), over this
        part, not over days that have not happened yet (docs/metrics.md, "Partial periods")."""
        end = min(self.end_utc, max(self.start_utc, now_utc()))
        return Window(f"{self.label} so far" if end < self.end_utc else self.label, self.start_utc, end)

    def local_days(self) -> list[date]:
        """Every calendar day of the period, in the org time zone."""
        last = self.shift(1).first_day
        return [self.first_day + timedelta(days=i) for i in range((last - self.first_day).days)]

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Window:
    """A stretch of time that is not a calendar period (a baseline, a rolling SLO window), in UTC."""

    label: str
    start_utc: datetime
    end_utc: datetime

    @property
    def minutes(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds() / 60

    @property
    def days(self) -> float:
        return self.minutes / 1440
