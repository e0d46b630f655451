"""How numbers read: durations, percentages and counts, formatted once for every output.

Tables, narratives, dashboards and e-mails all format through these functions, so a
number reads the same everywhere (and the narrative-matches-table test can compare text).
None never reaches a reader as "nan" or "None": it becomes an em dash in tables and is
phrased around in narratives.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MISSING = "—"


def minutes(value: float | None) -> str:
    """58 → "58 m"; 101.7 → "1 h 42 m"; 1500 → "1 d 1 h"; 0.4 → "24 s"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if value < 1:
        return f"{round(value * 60)} s"
    total = round(value)
    if total < 60:
        return f"{total} m"
    if total < 24 * 60:
        hours, mins = divmod(total, 60)
        return f"{hours} h {mins} m" if mins else f"{hours} h"
    days, rest = divmod(total, 24 * 60)
    hours = round(rest / 60)
    if hours == 24:
        days, hours = days + 1, 0
    return f"{days} d {hours} h" if hours else f"{days} d"


def target(value: float) -> str:
    """An SLO target: 0.999 → "99.9 %", 0.9995 → "99.95 %", 1.0 → "100 %"."""
    text = f"{value * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text} %"


def attainment(value: float | None, slo_target: float | None = None) -> str:
    """Attainment, truncated (never rounded up) to as many decimals as its target shows, at least two.

    Truncation keeps the text on the right side of the target: a breached 99.8996 % against
    99.9 % reads "99.89 %", never "99.90 %"; a met 99.9996 % never reads "100.00 %".
    """
    if value is None:
        return MISSING
    decimals = 2
    if slo_target is not None:
        shown_target = target(slo_target).removesuffix(" %")
        decimals = max(2, len(shown_target.partition(".")[2]))
    scale = 10**decimals
    truncated = math.floor(round(value * 100 * scale, 6)) / scale
    return f"{truncated:.{decimals}f} %"


def budget(value: float | None) -> str:
    """Error budget remaining as a percentage of the budget; negative when overspent ("−40 %")."""
    if value is None:
        return MISSING
    return _minus(f"{value * 100:.0f} %")


def count(value: float | None) -> str:
    """A count, or a scaled count with one decimal when it is not whole (12, 35.2)."""
    if value is None:
        return MISSING
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def ratio(value: float | None, digits: int = 0) -> str:
    """A share as a percentage: "75 %" (``digits`` decimals: "0.3 %")."""
    return MISSING if value is None else _minus(f"{100 * value:.{digits}f} %")


def signed(value: float | None, digits: int = 0) -> str:
    """A change or a score either side of zero, always with its sign: "+23", "−26", "0"."""
    if value is None:
        return MISSING
    text = f"{value:+.{digits}f}"
    return "0" if float(text) == 0 else _minus(text)


def _minus(text: str) -> str:
    """The typographic minus sign (U+2212) for a negative number, as in :func:`money`; "−0" is "0"."""
    if text.startswith("-"):
        text = "−" + text[1:]
    return "0" + text[2:] if text.startswith("−0") and not any(c in "123456789" for c in text) else text


def rate(value: float | None) -> str:
    """A burn rate: "0.42×", "14.4×"."""
    return MISSING if value is None else f"{value:.2g}×" if value < 10 else f"{value:.1f}×"


def money(amount: float | None, currency: str = "USD") -> str:
    """An amount of money without cents: "USD 12,037", "−USD 1,200" when negative."""
    if amount is None:
        return MISSING
    sign = "−" if amount < 0 else ""
    return f"{sign}{currency} {abs(amount):,.0f}"


def span_title(start: str, end: str, timezone: str) -> str:
    """Whole months from ``start`` to ``end`` (exclusive), ISO 8601: "May–October 2025"."""
    tz = ZoneInfo(timezone)
    first = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(tz)
    last = (datetime.fromisoformat(end.replace("Z", "+00:00")) - timedelta(days=1)).astimezone(tz)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%B %Y}"
    if first.year == last.year:
        return f"{first:%B}–{last:%B %Y}"
    return f"{first:%B %Y}–{last:%B %Y}"


def join(items: list[str]) -> str:
    """["a", "b", "c"] → "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def safe_link(url: str | None) -> str:
    """A URL fit for an href: http(s) only (a ``javascript:`` URL from the data is no link), else ""."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return ""


STATUS_LABELS = {"met": "Met", "at_risk": "At risk", "breached": "Breached", "no_data": "No data"}


# How the awareness and impact KPIs (srelib.metrics.engagement) read.
KPI_LABELS = {
    "training_participation_rate": "Training participation (attended ÷ invited)",
    "newsletter_open_rate": "Newsletter open rate",
    "documentation_views": "Documentation, blog and podcast views",
    "event_attendance": "Event attendance",
    "collaboration_events": "Sessions with product teams",
    "teams_engaged": "Teams engaged",
    "practice_adoption_rate": "SRE practice adoption (teams × practices)",
    "automation_runs": "Automation runs (tool usage)",
}


def day(iso: str | None) -> str:
    """An ISO date as a reader writes it: "6 November 2026"."""
    if iso is None:
        return MISSING
    when = date.fromisoformat(iso)
    return f"{when.day} {when:%B %Y}"


def weekday(iso_date: str) -> str:
    """A calendar day with its weekday, as a reader says it: "2026-11-03" → "Tuesday 3 November"."""
    when = datetime.fromisoformat(iso_date[:10])
    return f"{when:%A} {when.day} {when:%B}"


def days(count: int) -> str:
    """``1 day``, ``61 days``."""
    return f"{count} day{'s' if count != 1 else ''}"


def days_span(start: str, end: str) -> str:
    """The local days from ``start`` to ``end`` (exclusive; ISO 8601 with their offset, as a
    summary has them): "26 October – 1 November 2026", "5–11 October 2026"."""
    first = datetime.fromisoformat(start[:10])
    last = datetime.fromisoformat(end[:10]) - timedelta(days=1)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"
