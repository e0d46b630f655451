"""The slide deck and the formats a run publishes, without a kernel or a browser: what each slide
says, that it says what the report's key messages say, the requests refused before a run, and
the schedule's formats. The deck and the PDFs in Chromium are in ``test_formats.py``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from srelib.errors import ConfigError, UsageError
from srelib.period import Period
from srelib.present import deck, narrative, pdf
from srelib.run.catalogue import REPORTS
from srelib.run.report import check_formats, parse_formats
from srelib.run.schedule import _why_due, period_jobs, scheduled_spec
from srelib.run.summary_cache import SummaryCache
from tests.conftest import ingest_small, make_workbench

HOSTILE = '<script>window.__hacked = 1</script><img src=x onerror="window.__hacked = 2">'


@pytest.fixture
def small(tmp_path: Path):
    workbench = make_workbench(tmp_path, {"api": "platform"})
    org = yaml.safe_load((tmp_path / "params" / "org.yaml").read_text())
    (tmp_path / "params" / "org.yaml").write_text(yaml.safe_dump({**org, "name": f"Org {HOSTILE}"}))
    incidents = [
        dict(
            incident_id=f"I{n}",
            title=HOSTILE,
            service="api",
            severity="SEV2",
            started_at=f"2026-{month:02d}-0{n % 9 + 1}T10:00:00Z",
            resolved_at=f"2026-{month:02d}-0{n % 9 + 1}T11:{n:02d}:00Z",
        )
        for n, month in enumerate([7, 7, 8, 8, 9, 9, 10, 10, 11])
    ]
    ingest_small(workbench, incidents, sli_at="2026-08-02T10:00:00Z")
    from srelib.config import Workbench

    return Workbench.load(tmp_path)


def test_each_slide_says_what_the_key_messages_say_on_its_topic(small):
    summary = SummaryCache(small).get(Period.parse("2026-Q3", "UTC"), None)
    built = deck.deck(summary, "quarterly_business_impact", "Quarterly business impact")
    topics = {s.topic: s for s in built.slides}
    reliability = narrative.topic(summary, "quarterly_business_impact", "reliability")
    assert reliability and topics["Reliability"].message == reliability
    assert topics["Service level objectives"].message == narrative.topic(summary, "quarterly_business_impact", "slos")
    assert topics["Risks"].message.startswith("The main risk: ")
    assert all(s.notes and s.message for s in built.slides)  # every slide: one message, its definitions
    assert "Cloud spend" not in topics  # no cost data: no slide rather than an empty one
    assert built.subtitle == "Q3 2026 · Whole organisation"


@pytest.mark.parametrize("report", ["quarterly_business_impact", "monthly_reliability"])
def test_the_topics_of_a_narrative_are_all_of_its_messages_in_order(small, report):
    summary = SummaryCache(small).get(Period.parse("2026-Q3", "UTC"), None)
    env = narrative._environment(narrative.templates_dir() / "narrative")
    blocks = list(env.get_template(f"{report}.md.j2").blocks)
    said = [narrative.topic(summary, report, block) for block in blocks]
    assert " ".join(s for s in said if s) == " ".join(narrative.messages(summary, report))


def test_the_deck_page_shows_data_literally_and_loads_nothing(small):
    summary = SummaryCache(small).get(Period.parse("2026-10", "UTC"), None)
    page = deck.to_html(summary, "executive_summary", "Executive summary", small.org)
    assert HOSTILE not in page
    assert "Org &lt;script&gt;window.__hacked = 1&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # no CDN: the chart libraries are inline
    slides = re.findall(r'<section class="slide[^"]*" id="slide-(\d+)"', page)
    assert slides == [str(n) for n in range(1, len(slides) + 1)] and len(slides) >= 4
    assert page.count('<aside class="notes">') == len(slides)
    specs = re.findall(r"var spec = (.*);\n", page)
    assert specs and all(json.loads(s)["$schema"].startswith("https://vega.github.io/schema/vega-lite/") for s in specs)


def test_every_report_with_a_deck_has_its_slides_and_no_other():
    assert {name for name, spec in REPORTS.items() if spec.deck} == set(deck.DECKS)


def test_formats_are_parsed_in_order_with_the_page_always_among_them():
    assert parse_formats("pdf,slides") == ("html", "slides", "pdf")
    assert parse_formats(" HTML ") == ("html",)
    with pytest.raises(UsageError, match="unknown format 'docx': formats are html, slides, pdf"):
        parse_formats("html,docx")


def test_a_deck_or_a_pdf_that_cannot_be_made_is_refused_before_the_run(monkeypatch):
    with pytest.raises(UsageError, match="engagement has no slide deck: the reports with one are executive_summary"):
        check_formats(REPORTS["engagement"], ("html", "slides"))
    monkeypatch.setenv(pdf.BROWSER_VARIABLE, "/nowhere/chromium")
    with pytest.raises(UsageError, match="PDF needs Chromium: SRELIB_CHROMIUM=/nowhere/chromium is not"):
        check_formats(REPORTS["quarterly_business_impact"], ("html", "pdf"))
    monkeypatch.delenv(pdf.BROWSER_VARIABLE)
    monkeypatch.setenv("PATH", "/nowhere")
    assert pdf.browser() is None
    assert "apt-get install chromium" in pdf.missing()
    check_formats(REPORTS["quarterly_business_impact"], ("html", "slides"))  # a deck needs no browser


def test_the_schedule_asks_for_formats_and_a_report_lacking_one_is_due(small, tmp_path):
    entry = {"report": "engagement", "cadence": "monthly", "formats": ["html", "slides"]}
    (tmp_path / "params" / "schedule.yaml").write_text(yaml.safe_dump({"reports": [entry]}))
    from srelib.run.schedule import load_schedule

    with pytest.raises(ConfigError, match="engagement has no slide deck"):
        scheduled_spec(load_schedule(small).reports[0], small)
    entry = {"report": "executive_summary", "cadence": "monthly", "formats": ["pdf", "slides"]}
    (tmp_path / "params" / "schedule.yaml").write_text(yaml.safe_dump({"reports": [entry]}))
    jobs = period_jobs(small, Period.parse("2026-10", "UTC"))
    assert [j.formats for j in jobs] == [("html", "slides", "pdf")]
    batch = period_jobs(
        small, Period.parse("2026-10", "UTC"), ["engagement", "executive_summary"], formats=("html", "slides")
    )
    assert [j.formats for j in batch] == [("html",), ("html", "slides")]  # decks where there is one
    folder = tmp_path / "outputs" / "2026-10"
    folder.mkdir(parents=True)
    (folder / "executive_summary.html").write_text("page")
    entry = {"status": "ok", "html": "executive_summary.html", "input_fingerprint": "f"}
    (folder / "manifest.json").write_text(json.dumps({"reports": {"executive_summary": entry}}))
    keys = list(REPORTS["executive_summary"].files(("html", "slides", "pdf")))
    assert _why_due(folder, "executive_summary", "f", ["html"]) is None
    assert _why_due(folder, "executive_summary", "f", keys) == "formats missing"


def test_the_demo_publishes_every_deck_and_markdown_edition_and_the_qbr_and_executive_summary_as_pdf():
    from srelib.demo.organisation import demo_formats
    from srelib.run.catalogue import Run

    month = Period.parse("2026-10", "UTC")
    asked = {name: demo_formats(Run(name, month), printable=True) for name in REPORTS}
    assert asked["quarterly_business_impact"] == asked["executive_summary"] == ("html", "slides", "pdf")
    assert asked["annual_review"] == ("html", "slides")
    assert asked["monthly_reliability"] == asked["case_study"] == ("html", "markdown")
    assert {name for name, formats in asked.items() if formats == ("html",)} == {
        name for name, spec in REPORTS.items() if not spec.deck and not spec.markdown
    }
    assert demo_formats(Run("quarterly_business_impact", month), printable=False) == ("html", "slides")
