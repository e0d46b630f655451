"""The weekly digest for development teams, on a small warehouse in Europe/Berlin: the week's
wins, the SLOs at risk, next week's sessions and the tip of the week, as e-mail-safe HTML and
plain text that say the same, with data shown as written and never as markup.

The week is 2026-W43: Monday 19 October 00:00 (UTC+2) to Monday 26 October 00:00 (UTC+1, summer
time ends on the 25th). Each SLO has a 30-day rolling window ending at the week's end.
"""

from __future__ import annotations

import dataclasses
import html as html_module
import re
from pathlib import Path

import pytest
import yaml

from srelib.config import Workbench
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.period import Period
from srelib.present import digest, tips
from srelib.present import format as show
from srelib.summary import PeriodSummary, build_summary
from tests.conftest import INCIDENT_COLUMNS, make_workbench, slo_document, write_csv, write_slos

TZ = "Europe/Berlin"
WEEK = "2026-W43"
SERVICES = {"api": "platform", "login": "identity", "checkout": "payments", "search": "search"}

INCIDENTS = [
    # 23:59:59 on Sunday 18 October in Berlin: the week before.
    dict(incident_id="I0", service="checkout", severity="SEV1", started_at="2026-10-18T21:59:59Z"),
    dict(
        incident_id="I1",
        service="api",
        severity="SEV2",
        started_at="2026-10-20T09:00:00Z",
        resolved_at="2026-10-20T10:00:00Z",
        postmortem_url="https://wiki.example.com/postmortems/I1",
    ),
    dict(
        incident_id="I2",
        service="login",
        severity="SEV3",
        started_at="2026-10-22T12:00:00Z",
        resolved_at="2026-10-22T12:30:00Z",
    ),
    # 2026-W44, a quiet week: one SEV4.
    dict(
        incident_id="I3",
        service="search",
        severity="SEV4",
        started_at="2026-10-27T08:00:00Z",
        resolved_at="2026-10-27T08:10:00Z",
    ),
]


def _bucket(ts: str, slo: str, good: int, total: int) -> dict[str, object]:
    return {"timestamp": ts, "slo": slo, "good": good, "total": total}


SLI = [
    # api-availability: 9,880 good of 10,000 in the window → 98.8 % < 99 %: the budget is spent
    # (1 − 120 ÷ 100 = −20 %), although the week itself (1,000 of 1,000) met the objective.
    _bucket("2026-10-01T00:00:00Z", "api-availability", 8880, 9000),
    _bucket("2026-10-20T10:00:00Z", "api-availability", 1000, 1000),
    # login-latency: 80 bad of 10,000 → 1 − 80 ÷ 100 = 20 % of the budget left (< 25 %): at risk.
    _bucket("2026-10-02T00:00:00Z", "login-latency", 9920, 10000),
    # checkout-availability: half of the last 5 minutes failed: burn rate 50 over 5 m and 1 h
    # (≥ 14.4: the page alert fires at the week's end); the window holds 50 bad of 1,000,100
    # (99.5 % of the budget left); the week's own buckets, 50 of 100, miss the objective.
    _bucket("2026-10-01T00:00:00Z", "checkout-availability", 1000000, 1000000),
    _bucket("2026-10-25T22:55:00Z", "checkout-availability", 50, 100),
    # search-latency: the week missed (980 of 1,000 = 98 %), the window is fine (20 bad of 101,000).
    _bucket("2026-10-01T00:00:00Z", "search-latency", 100000, 100000),
    _bucket("2026-10-21T00:00:00Z", "search-latency", 980, 1000),
    # api-latency: all good; not at risk.
    _bucket("2026-10-21T00:00:00Z", "api-latency", 1000, 1000),
]

SLOS = [
    slo_document("api-availability", "api", 0.99),
    slo_document("login-latency", "login", 0.99),
    slo_document("checkout-availability", "checkout", 0.99),
    slo_document("search-latency", "search", 0.99),
    slo_document("api-latency", "api", 0.99),
]

ENGAGEMENT = [  # local calendar days
    {"date": "2026-10-25", "kind": "workshop", "title": "Held this week", "team": "search", "reached": 9},
    {"date": "2026-10-26", "kind": "office_hours", "title": "SRE office hours", "team": "", "reached": 0},
    {"date": "2026-11-01", "kind": "workshop", "title": "Payments game day", "team": "payments", "reached": 0},
    {"date": "2026-11-02", "kind": "lunch_and_learn", "title": "Too late", "team": "", "reached": 0},
]

TIPS = [{"title": f"Tip {i}", "text": f"Text of tip {i}."} for i in range(5)]


@pytest.fixture(scope="module")
def week_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workbench, Path]:
    """The week's workbench and data, shared by the module's tests (none of them changes it)."""
    tmp_path = tmp_path_factory.mktemp("week")
    make_workbench(tmp_path, SERVICES, timezone=TZ)
    (tmp_path / "params" / "tips.yaml").write_text(yaml.safe_dump({"tips": TIPS}), encoding="utf-8")
    data = tmp_path / "data"
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], SLI)
    write_slos(data, SLOS)
    write_csv(data / "engagement.csv", ["date", "kind", "title", "team", "reached"], ENGAGEMENT)
    return Workbench.load(tmp_path), data


def _summary(week_data, label: str = WEEK) -> PeriodSummary:
    workbench, data = week_data
    with in_memory(validate_directory(data)) as con:
        return build_summary(con, workbench, Period.parse(label, TZ))


@pytest.fixture(scope="module")
def week(week_data) -> PeriodSummary:
    return _summary(week_data)


def test_the_weeks_wins_are_what_the_summary_can_stand_behind(week_data, week):
    assert (week.incidents.count, week.incidents.open) == (2, 0)  # I1 and I2; I0 is the Sunday before
    assert [(h.kind, h.text) for h in digest.wins(week)] == [
        ("postmortems", "The postmortem the error budget policy requires this week is written."),
        ("all_resolved", "All 2 incidents of the week are resolved."),
    ]
    quiet = _summary(week_data, "2026-W44")  # one SEV4, resolved
    assert [h.text for h in digest.wins(quiet)] == [
        "No SEV1 or SEV2 incident this week.",
        "The one incident of the week is resolved.",
    ]


def test_a_week_before_the_data_claims_no_win(week_data):
    before = _summary(week_data, "2026-W38")  # ends on 21 September: the data start on 1 October
    assert before.trend[-1].covered is False
    assert digest.wins(before) == []


def test_slos_at_risk_are_the_spent_the_burning_the_low_and_the_missed(week):
    rows = [(s.name, s.status, s.budget_left, s.why) for s in digest.slos_at_risk(week)]
    assert rows == [
        ("api-availability", "breached", "−20 %", "Its 30d error budget is spent."),
        (
            "checkout-availability",
            "burning",
            "100 %",
            "It is burning its budget fast enough to page (50.0× over 1h, 50.0× over 5m); it missed its "
            "objective this week: 50.00 % against 99 %.",
        ),
        ("login-latency", "at_risk", "20 %", "Its 30d error budget is running low."),
        ("search-latency", "at_risk", "98 %", "It missed its objective this week: 98.00 % against 99 %."),
    ]
    at_risk = {s.name: s for s in digest.slos_at_risk(week)}
    assert at_risk["checkout-availability"].team == "payments" and at_risk["api-availability"].window == "30d"
    assert "api-latency" not in at_risk


def test_sessions_are_those_of_the_seven_days_after_the_week(week):
    sessions = [(s.day, s.title, s.kind, s.audience) for s in digest.sessions(week)]
    assert sessions == [
        ("Monday 26 October", "SRE office hours", "office hours", "everyone"),
        ("Sunday 1 November", "Payments game day", "workshop", "team payments"),
    ]


def test_the_digest_shows_the_tip_of_the_week(week_data, week):
    workbench, _ = week_data
    letter = digest.build(week, workbench)
    expected = tips.of_the_week(workbench.tips.tips, Period.parse(WEEK).first_day)
    assert letter.tip == expected and letter.tip is not None
    assert letter.tip != tips.of_the_month(workbench.tips.tips, tips.newsletter_before(Period.parse(WEEK).first_day))
    page, text = digest.render_html(letter), digest.render_text(letter)
    assert "Tip of the week" in page and f"TIP OF THE WEEK: {letter.tip.title}" in text
    assert letter.tip.text in page and letter.tip.text in text
    assert (letter.subject, letter.days) == ("SRE weekly digest · week 43 of 2026", "19–25 October 2026")


def test_numbers_are_the_summarys(week_data, week):
    workbench, _ = week_data
    figures = {f.label: f for f in digest.build(week, workbench).figures}
    assert figures["Incidents"].value == str(week.incidents.count) == "2"
    assert figures["Median time to resolve"].value == show.minutes(week.incidents.mttr_minutes.median) == "45 m"
    assert figures["SLOs at risk"].value == "4"
    measured = sum(1 for s in week.slos.values() if s.status != "no_data")
    assert figures["SLOs at risk"].note == f"of {measured} with data this week"
    budgets = {name: b.rolling.error_budget_remaining for name, b in week.slo_budgets.items()}
    for row in digest.slos_at_risk(week):
        assert row.budget_left == show.budget(budgets[row.name])


def test_the_text_part_says_what_the_html_part_says(week_data, week):
    workbench, _ = week_data
    letter = digest.build(week, workbench)
    page = html_module.unescape(digest.render_html(letter))
    text = digest.render_text(letter)
    said = [letter.intro, letter.days, *letter.wins]
    said += [s.why for s in letter.at_risk] + [s.name for s in letter.at_risk] + [s.budget_left for s in letter.at_risk]
    said += [s.title for s in letter.sessions] + [s.day for s in letter.sessions]
    said += [f.value for f in letter.figures] + [f.label for f in letter.figures]
    for item in said:
        assert item in page and item in text, item
    assert "<" not in text


def test_the_html_part_is_email_safe(week_data, week):
    workbench, _ = week_data
    page = digest.render_html(digest.build(week, workbench))
    lowered = page.lower()
    for forbidden in ("<script", "<style", "<link", "javascript:", "onerror=", "onload=", "@import", 'class="'):
        assert forbidden not in lowered, forbidden
    assert not re.findall(r'\ssrc="(?!data:image/png;base64,)', page)  # images, if any, travel inside the page
    assert max(int(w) for w in re.findall(r'\swidth="(\d+)"', page)) <= 640
    assert all(int(px) <= 640 for px in re.findall(r"(?:max-)?width:\s*(\d+)px", page))


def test_hostile_text_is_shown_as_written_and_never_as_markup(week_data, week):
    from srelib.config import Tip, Tips
    from srelib.metrics.engagement import UpcomingEvent

    workbench, _ = week_data
    hostile = "<script>alert(1)</script>{{ 7*7 }}<img src=x onerror=alert(2)>"
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}&lt;img src=x onerror=alert(2)&gt;"
    workbench = dataclasses.replace(workbench, tips=Tips(tips=[Tip(title=hostile, text=hostile)]))
    assert week.engagement is not None
    engagement = dataclasses.replace(
        week.engagement, upcoming=[UpcomingEvent("2026-10-27", "workshop", hostile, "payments")]
    )
    budgets = {hostile if n == "api-availability" else n: b for n, b in week.slo_budgets.items()}
    tampered = week.model_copy(update={"engagement": engagement, "slo_budgets": budgets})
    letter = digest.build(tampered, workbench)
    assert letter.tip is not None and letter.tip.title == hostile
    assert [s.title for s in letter.sessions] == [hostile] and letter.at_risk[0].name == hostile
    page = digest.render_html(letter)
    assert "<script>" not in page and "<img src=x" not in page
    assert page.count(escaped) == 4  # the tip's title and text, the session, the SLO
    text = digest.render_text(letter)
    assert text.count(hostile) == 4  # the text part shows it as written


def test_the_message_has_a_text_and_an_html_part_with_the_published_subject(week_data, week):
    workbench, _ = week_data
    letter = digest.build(week, workbench)
    message = digest.mime_message(letter, "sre@example.com", ["dev-teams@example.com"])
    assert [p.get_content_type() for p in message.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert message["Subject"] == letter.subject and message["To"] == "dev-teams@example.com"
    assert message.get_body(("plain",)).get_content().strip() == digest.render_text(letter).strip()
