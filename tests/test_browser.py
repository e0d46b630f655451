"""The report in a real browser (Debian's Chromium) with the network cut off: charts drawn, no errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import RESULTS, open_offline

pytestmark = pytest.mark.browser


def test_report_draws_its_charts_offline(browser, demo_report: Path):
    page, problems = open_offline(browser, demo_report.as_uri())
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length === 4", timeout=15000)
    for chart in page.locator(".srelib-chart").all():
        assert chart.locator("svg path, svg rect, svg line").count() > 10  # drawn marks, not an empty frame
        assert "could not be drawn" not in chart.inner_text()
    text = page.inner_text("body")
    assert "Monthly reliability report" in text and "Key messages" in text
    assert re.search(r"\b(nan|NaN|NaT|None|undefined)\b", text) is None
    assert "report.load" not in text
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "monthly_reliability.png"), full_page=True)
    assert problems == {"errors": [], "blocked": []}
    page.close()


def test_portal_links_every_report(browser, demo_report: Path):
    index = demo_report.parent.parent / "index.html"
    page, problems = open_offline(browser, index.as_uri())
    link = page.get_by_role("link", name="Monthly reliability report").first
    link.click()
    page.wait_for_selector(".srelib-chart svg")
    assert page.url == demo_report.as_uri()
    assert problems == {"errors": [], "blocked": []}
    page.close()


HOSTILE = '<script>window.__hacked = 1</script><img src=x onerror="window.__hacked = 2">{{ 7*7 }} *bold*'


def test_hostile_incident_titles_are_shown_literally(browser, tmp_path):
    from srelib.period import Period
    from srelib.run.report import run_report
    from tests.conftest import ingest_small, make_workbench

    workbench = make_workbench(tmp_path, {"api": "platform"})
    incident = dict(
        incident_id="I1",
        title=HOSTILE,
        service="api",
        severity="SEV1",
        started_at="2026-10-02T10:00:00Z",
        resolved_at="2026-10-02T11:00:00Z",
        postmortem_url="javascript:alert(1)",
    )
    ingest_small(workbench, [incident], sli_at="2026-10-02T10:00:00Z")
    html = run_report(workbench, "monthly_reliability", Period.parse("2026-10")).html
    page, problems = open_offline(browser, html.as_uri())
    page.wait_for_selector(".srelib-chart svg")
    assert page.evaluate("window.__hacked") is None
    assert HOSTILE in page.inner_text("table.srelib-incidents")
    assert page.locator("table.srelib-incidents a").count() == 0  # a javascript: URL is not made a link
    assert problems == {"errors": [], "blocked": []}
    page.close()
