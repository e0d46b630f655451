"""The report catalogue beyond the monthly report: each notebook runs on demo data, renders a
self-contained page whose numbers are the summary's, and draws its charts offline in Chromium."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pytest

from srelib import highlights, narrative, present
from srelib.run import REPORTS
from srelib.summary import PeriodSummary
from tests.conftest import open_offline

pytestmark = pytest.mark.browser


def _text(path: Path) -> str:
    return html_module.unescape(path.read_text(encoding="utf-8"))


def test_every_registered_report_has_a_notebook_with_period_first():
    import nbformat

    from srelib.resources import notebooks_dir

    for name in REPORTS:
        nb = nbformat.read(notebooks_dir() / f"{name}.ipynb", 4)
        parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assigned = [line.split("=")[0].strip() for line in parameters.source.splitlines() if "=" in line]
        assert assigned[0] == "period", name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name} is stored with outputs"


def test_qbr_numbers_are_the_summary(demo_qbr: Path):
    page = _text(demo_qbr)
    summary = PeriodSummary.read(demo_qbr.parent / "summary.json")
    assert summary.kind == "quarter" and summary.value is not None and summary.delivery is not None
    for sentence in narrative.messages(summary, "quarterly_business_impact"):
        assert sentence in page, sentence
    roi = summary.value.roi
    for amount in (roi.value_delivered, roi.programme_cost, roi.toil_value):
        assert present.money(amount, roi.currency) in page
    assert present.ratio(roi.roi) in page
    assert f"{summary.delivery.deployments:,}" in page
    for win in highlights.wins(summary):
        assert win.text in page
    assert (
        re.search(r"\b(nan|NaN|NaT|None)\b", re.sub(r"<(script|style).*?</(script|style)>", "", page, flags=re.S))
        is None
    )


def test_qbr_draws_its_charts_offline(browser, demo_qbr: Path):
    page, problems = open_offline(browser, demo_qbr.as_uri())
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length === 3", timeout=15000)
    assert page.locator(".srelib-chart").count() == 3
    assert page.locator("text=Value delivered and return on investment").count() == 1
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt").count() == 0  # no code
    assert "report." not in page.inner_text("body")
    page.close()
    assert problems == {"errors": [], "blocked": []}


def test_the_index_links_every_published_report(demo_qbr: Path, demo_report: Path):
    index = (demo_qbr.parent.parent / "index.html").read_text(encoding="utf-8")
    for report in (demo_qbr, demo_report):
        relative = report.relative_to(demo_qbr.parent.parent).as_posix()
        assert f'href="{relative}"' in index
