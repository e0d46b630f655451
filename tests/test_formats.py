"""The QBR as a slide deck and as PDFs, as a reader gets them: the deck in Chromium with the
network cut (every slide reached from the keyboard, charts drawn, speaker notes), the PDFs read
back with pypdf (a page per slide, the report's text), the index linking them, and a later run
without them leaving no stale deck or PDF beside the new page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pypdf import PdfReader

from srelib.summary import PeriodSummary
from tests.conftest import open_offline


def test_the_qbr_deck_is_navigable_offline_with_charts_and_notes(browser, demo_qbr: Path):
    folder = demo_qbr.parent
    manifest = json.loads((folder / "manifest.json").read_text())["reports"]["quarterly_business_impact"]
    assert {k: manifest[k] for k in ("html", "slides", "pdf", "slides_pdf")} == {
        "html": "quarterly_business_impact.html",
        "slides": "quarterly_business_impact.slides.html",
        "pdf": "quarterly_business_impact.pdf",
        "slides_pdf": "quarterly_business_impact.slides.pdf",
    }
    page, problems = open_offline(browser, (folder / manifest["slides"]).as_uri())
    page.set_viewport_size({"width": 1280, "height": 720})
    count = page.evaluate("window.srelibDeck.count")
    assert count >= 8
    messages = []
    for n in range(count):
        current = page.locator(".slide.current")
        assert current.get_attribute("id") == f"slide-{n + 1}" and page.url.endswith(f"#{n + 1}")
        messages.append(current.locator(".message, h1").first.inner_text())
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # past the end: stays on the last slide
    assert page.locator(".slide.current").get_attribute("id") == f"slide-{count}"
    page.keyboard.press("Home")
    assert page.locator(".slide.current").get_attribute("id") == "slide-1"
    page.keyboard.press("End")
    page.keyboard.press("PageUp")
    assert page.locator(".slide.current").get_attribute("id") == f"slide-{count - 1}"
    summary = PeriodSummary.read(folder / "summary.json")
    roi = f"{summary.value.roi.roi:.0%}".replace("%", " %")
    assert any(roi in m for m in messages), messages  # the value slide states the ROI with its range
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length >= 6", timeout=30_000)
    assert page.locator(".srelib-chart").count() == page.locator(".srelib-chart svg").count()
    assert not page.locator(".slide.current .notes").is_visible()
    page.keyboard.press("n")
    notes = page.locator(".slide.current .notes")
    assert notes.is_visible() and "Speaker notes." in notes.inner_text()
    assert problems == {"errors": [], "blocked": []}
    page.goto((folder / manifest["slides"]).as_uri() + "#3")
    assert page.locator(".slide.current").get_attribute("id") == "slide-3"  # a link to a slide opens it
    page.close()

    deck = PdfReader(folder / manifest["slides_pdf"])
    assert len(deck.pages) == count  # one slide per page
    assert {(float(p.mediabox.width), float(p.mediabox.height)) for p in deck.pages} == {(960.0, 540.0)}
    for n in (1, 2, count - 1):
        text = re.sub(r"\s+", " ", deck.pages[n].extract_text())
        assert re.sub(r"\s+", " ", messages[n])[:60] in text
    report = PdfReader(folder / manifest["pdf"])
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in report.pages))
    assert len(report.pages) >= 4
    for heading in ("Key messages", "Value delivered and return on investment", "Delivery (DORA four keys)"):
        assert heading in text
    assert "Return on investment at each assumption" in text  # the tornado chart was drawn before printing

    index = (demo_qbr.parents[1] / "index.html").read_text()
    for name in manifest["slides"], manifest["pdf"], manifest["slides_pdf"]:
        assert f'href="{folder.name}/{name}"' in index


def test_a_pdf_that_fails_publishes_nothing_and_a_run_without_formats_leaves_no_stale_deck(
    bench, demo_end, monkeypatch
):
    import pytest

    from srelib.errors import ReportError
    from srelib.run.report import run_report

    folder = bench.outputs_path / demo_end.label
    first = run_report(bench, "executive_summary", demo_end, formats=("html", "slides", "pdf"))
    assert sorted(p.name for p in first.others) == [
        "executive_summary.pdf",
        "executive_summary.slides.html",
        "executive_summary.slides.pdf",
    ]
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setenv("SRELIB_CHROMIUM", "/bin/false")  # a "browser" that prints nothing
    with pytest.raises(ReportError, match=r"Chromium could not print executive_summary\.html as PDF"):
        run_report(bench, "executive_summary", demo_end, formats=("html", "pdf"))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # the earlier report, whole
    runs = [json.loads(line) for line in (bench.outputs_path / "runs.jsonl").read_text().splitlines()]
    assert runs[-1]["status"] == "failed" and "could not print" in runs[-1]["error"]
    monkeypatch.delenv("SRELIB_CHROMIUM")
    run_report(bench, "executive_summary", demo_end)
    names = {p.name for p in folder.iterdir()}
    assert "executive_summary.html" in names and not names & {
        "executive_summary.pdf",
        "executive_summary.slides.html",
        "executive_summary.slides.pdf",
    }  # they would show the numbers of the run before
    entry = json.loads((folder / "manifest.json").read_text())["reports"]["executive_summary"]
    assert not entry.keys() & {"slides", "pdf", "slides_pdf"}


def test_every_table_of_a_report_downloads_as_the_csv_of_its_cells(browser, demo_qbr: Path, tmp_path: Path):
    import csv
    import io
    from urllib.parse import unquote

    import nbformat

    from srelib.config import OrgConfig
    from srelib.present.render import to_html

    page, problems = open_offline(browser, demo_qbr.as_uri())
    tables = page.locator("table")
    links = page.locator("a.srelib-csv")
    assert tables.count() >= 8 and links.count() == tables.count()
    for n in range(tables.count()):
        link = links.nth(n)
        assert link.get_attribute("download").startswith(f"quarterly_business_impact-{demo_qbr.parent.name}-")
        content = unquote(link.get_attribute("href").removeprefix("data:text/csv;charset=utf-8,"))
        shown = page.evaluate(
            "t => Array.from(t.rows, r => Array.from(r.cells, c => c.innerText.replace(/\\s+/g, ' ').trim()))",
            tables.nth(n).element_handle(),
        )
        safe = [[f"'{c}" if c.startswith(("=", "+", "-", "@")) else c for c in row] for row in shown]
        assert list(csv.reader(io.StringIO(content.removeprefix("\ufeff")))) == safe  # as shown, formulas inert
    assert "value-delivered-and-return-on-investment.csv" in links.first.get_attribute("download")
    assert problems == {"errors": [], "blocked": []}
    page.close()

    cell = '=HYPERLINK("http://evil.example","click")'
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"## Hostile\n\n| a |\n|---|\n| {cell} |")]
    )
    (tmp_path / "hostile.html").write_text(to_html(notebook, OrgConfig(name="Org"), "Hostile", "hostile"))
    page, problems = open_offline(browser, (tmp_path / "hostile.html").as_uri())
    content = unquote(page.locator("a.srelib-csv").get_attribute("href").split(",", 1)[1])
    assert list(csv.reader(io.StringIO(content.removeprefix("\ufeff")))) == [["a"], [f"'{cell}"]]
    assert page.locator("a.srelib-csv").get_attribute("download") == "hostile-hostile.csv"
    page.close()


def test_the_markdown_editions_publish_beside_the_page_and_go_when_no_longer_asked_for(bench, demo_end):
    from markdown_it import MarkdownIt

    from srelib.run.report import run_report

    folder = bench.outputs_path / demo_end.label
    first = run_report(bench, "monthly_reliability", demo_end, formats=("html", "markdown"))
    assert sorted(p.name for p in first.others) == [
        "monthly_reliability-1.png",
        "monthly_reliability-2.png",
        "monthly_reliability.md",
    ]
    text = (folder / "monthly_reliability.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert re.findall(r'<img src="([^"]+)"', html) == ["monthly_reliability-1.png", "monthly_reliability-2.png"]
    summary = PeriodSummary.read(folder / "summary.json")
    assert f"| Incidents | {summary.incidents.count} |" in text
    entry = json.loads((folder / "manifest.json").read_text())["reports"]["monthly_reliability"]
    assert entry["markdown"] == "monthly_reliability.md"
    assert entry["images"] == ["monthly_reliability-1.png", "monthly_reliability-2.png"]
    index = (bench.outputs_path / "index.html").read_text(encoding="utf-8")
    assert f'href="{demo_end.label}/monthly_reliability.md">Markdown</a>' in index
    # A case study's edition lands in its initiative's folder.
    case = run_report(
        bench, "case_study", demo_end, parameters={"initiative": "rightsizing"}, formats=("html", "markdown")
    )
    assert {p.name for p in case.others} == {"case_study.md", "case_study-1.png", "case_study-2.png"}
    assert case.html.parent.name == "rightsizing"
    assert (
        (case.html.parent / "case_study.md").read_text(encoding="utf-8").startswith("# Case study: Compute rightsizing")
    )
    # A later run without it leaves no stale Markdown or image beside the new page.
    run_report(bench, "monthly_reliability", demo_end)
    names = {p.name for p in folder.iterdir()}
    assert "monthly_reliability.html" in names and not {n for n in names if n.endswith((".md", ".png"))}
    entry = json.loads((folder / "manifest.json").read_text())["reports"]["monthly_reliability"]
    assert not entry.keys() & {"markdown", "images"}
