"""The annual review on the demo organisation: it runs with its defaults for the demo's review year,
every figure on the page is the summary's, and its charts draw offline in Chromium."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pytest

from srelib.demo.organisation import review_year
from srelib.present import annual
from srelib.present.programme import criterion_rows
from srelib.summary import PeriodSummary
from tests.conftest import open_offline

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_annual(demo_workbench, demo_end) -> Path:
    """The annual review of the year the demo reviews (the latest its data cover whole, else the year to date)."""
    from srelib.run.report import run_report

    return run_report(demo_workbench, "annual_review", review_year(demo_end)).html


def _text(path: Path) -> str:
    page = re.sub(r"<(script|style).*?</(script|style)>", "", path.read_text(encoding="utf-8"), flags=re.S)
    return html_module.unescape(page)


def test_the_annual_review_numbers_are_the_summarys(demo_annual: Path, demo_end):
    summary = PeriodSummary.read(demo_annual.parent / "summary.json")
    page = _text(demo_annual)
    y = summary.year
    assert summary.kind == "year" and y is not None and summary.period == review_year(demo_end).label
    assert annual.coverage_text(summary) in page
    for sentence in annual.key_messages(summary) + annual.plan_inputs(summary):
        assert sentence in page, sentence
    rows = (
        annual.year_value_rows(summary)
        + annual.rate_rows(summary)
        + annual.resolve_rows(summary)
        + annual.month_rows(summary)
        + annual.burner_rows(summary)
        + annual.repeat_service_rows(summary, 10)
        + annual.initiative_rows(summary)
        + annual.year_activity_rows(summary)
    )
    for row in rows:
        assert all(cell in page for key, cell in row.items() if key != "status_key"), row
    # The demo's story at the year's end: a lapsed workshop, repeats, the SLO that burned most budget.
    assert y.activities is not None and "post_incident_review_workshop" in y.activities.lapsed
    assert y.repeat_services and y.budget_burners
    assert any(
        text.startswith("Lapsed activity: Post-incident review workshop") for text in annual.plan_inputs(summary)
    )
    not_met = [r for r in criterion_rows(summary) if r["status_key"] == "breached"]
    assert all(f"Success criterion not met: {r['criterion']}" in page for r in not_met)
    assert re.search(r"\b(nan|NaN|NaT|None|undefined)\b", page) is None


def test_the_annual_review_draws_its_charts_offline(browser, demo_annual: Path):
    page, problems = open_offline(browser, demo_annual.as_uri())
    # value, incidents, engagement, activities per family, surveys, programme timeline, budget burners
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length === 7", timeout=20000)
    assert page.locator(".srelib-chart").count() == 7
    assert page.locator("text=Inputs for next year's plan").count() == 1
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt").count() == 0
    assert "report." not in page.inner_text("body")
    page.close()
    assert problems == {"errors": [], "blocked": []}
