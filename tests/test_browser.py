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
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import load
    from srelib.period import Period
    from srelib.run.report import run_report
    from tests.conftest import INCIDENT_COLUMNS, make_workbench, slo_document, write_csv, write_slos

    workbench = make_workbench(tmp_path, {"api": "platform"})
    data = tmp_path / "data"
    write_csv(
        data / "incidents.csv",
        INCIDENT_COLUMNS,
        [
            dict(
                incident_id="I1",
                title=HOSTILE,
                service="api",
                severity="SEV1",
                started_at="2026-10-02T10:00:00Z",
                resolved_at="2026-10-02T11:00:00Z",
                postmortem_url="javascript:alert(1)",
            )
        ],
    )
    write_csv(
        data / "sli.csv",
        ["timestamp", "slo", "good", "total"],
        [dict(timestamp="2026-10-02T10:00:00Z", slo="api-availability", good=9, total=10)],
    )
    write_slos(data, [slo_document("api-availability", "api", 0.99)])
    dataset = validate_directory(data)
    load(dataset, workbench.warehouse_path)
    dataset.con.close()
    html = run_report(workbench, "monthly_reliability", Period.parse("2026-10")).html
    page, problems = open_offline(browser, html.as_uri())
    page.wait_for_selector(".srelib-chart svg")
    assert page.evaluate("window.__hacked") is None
    assert HOSTILE in page.inner_text("table.srelib-incidents")
    assert page.locator("table.srelib-incidents a").count() == 0  # a javascript: URL is not made a link
    assert problems == {"errors": [], "blocked": []}
    page.close()
