"""The report catalogue beyond the monthly report: each notebook runs on demo data, renders a
self-contained page whose numbers are the summary's, and draws its charts offline in Chromium."""

from __future__ import annotations

import dataclasses
import html as html_module
import re
from pathlib import Path

import pytest

from srelib.period import Period
from srelib.present import format as show
from srelib.present import highlights, narrative
from srelib.present.rows import delivery_comparison_rows, satisfaction_rows, sensitivity_rows, spend_rows
from srelib.run.catalogue import REPORTS
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


def test_every_notebook_header_takes_its_title_from_the_catalogue():
    """A report's title is declared once, in srelib/run/catalogue.py: the notebook's header asks for it."""
    import nbformat

    from srelib.resources import notebooks_dir

    for name, spec in REPORTS.items():
        nb = nbformat.read(notebooks_dir() / spec.notebook, 4)
        source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert spec.title not in source and "title" not in nb.metadata, name
        if not spec.email:  # the newsletter's header is the e-mail's own
            assert f'title("{name}")' in source or f"title('{name}')" in source, name


def test_qbr_numbers_are_the_summary(demo_qbr: Path):
    page = _text(demo_qbr)
    summary = PeriodSummary.read(demo_qbr.parent / "summary.json")
    assert summary.kind == "quarter" and summary.value is not None and summary.delivery is not None
    for sentence in narrative.messages(summary, "quarterly_business_impact"):
        assert sentence in page, sentence
    roi = summary.value.roi
    for amount in (roi.value_delivered, roi.programme_cost, roi.toil_value):
        assert show.money(amount, roi.currency) in page
    assert show.ratio(roi.roi) in page
    assert roi.range is not None and f"{show.ratio(roi.range.low)} to {show.ratio(roi.range.high)}" in page
    assert len(roi.range.sensitivity) == 4  # three assumptions with ranges, and the downtime interval
    for row in sensitivity_rows(summary):
        assert all(html_module.escape(cell) in page for cell in row.values()), row
    assert f"a return of {show.ratio(roi.roi)} (from {show.ratio(roi.range.low)}" in page
    for row in [*spend_rows(summary), *delivery_comparison_rows(summary), *satisfaction_rows(summary)]:
        assert all(html_module.escape(cell) in page for cell in row.values()), row
    assert summary.delivery_compared is not None and summary.delivery_compared.lead_time.verdict == "improved"
    # The demo's story: satisfaction clearly up against the pre-programme baseline, said as a win.
    assert summary.satisfaction_compared is not None and summary.satisfaction_compared.nps.verdict == "improved"
    assert [p.period for p in summary.satisfaction] == [t.period for t in summary.trend]
    assert f"{summary.delivery.deployments:,}" in page
    for win in highlights.wins(summary):
        assert win.text in page
    assert (
        re.search(r"\b(nan|NaN|NaT|None)\b", re.sub(r"<(script|style).*?</(script|style)>", "", page, flags=re.S))
        is None
    )


def test_qbr_draws_its_charts_offline(browser, demo_qbr: Path):
    page, problems = open_offline(browser, demo_qbr.as_uri())
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length === 8", timeout=15000)
    assert page.locator(".srelib-chart").count() == 8  # with the ROI tornado (params/value.yaml has ranges)
    assert page.locator("text=Net Promoter Score with its 95 % interval").count() == 1  # NPS per quarter
    assert page.locator("text=Customer satisfaction").count() >= 1  # the survey trends: CSAT, NPS, devex
    assert page.locator("text=Developer experience: mean score per question").count() == 1
    assert page.locator("text=Change failure rate (%)").count() == 1  # the four keys over the trend
    assert page.locator("text=Cloud spend per period, by service (USD, EffectiveCost)").count() == 1
    assert page.locator("text=Value delivered and return on investment").count() == 1
    assert page.locator("text=Return on investment at each assumption's low and high (%)").count() == 1
    assert page.locator("text=Return on investment, range").count() == 1
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt").count() == 0  # no code
    assert "report." not in page.inner_text("body")
    page.close()
    assert problems == {"errors": [], "blocked": []}


def test_the_index_links_every_published_report(demo_qbr: Path, demo_report: Path):
    index = (demo_qbr.parent.parent / "index.html").read_text(encoding="utf-8")
    for report in (demo_qbr, demo_report):
        relative = report.relative_to(demo_qbr.parent.parent).as_posix()
        assert f'href="{relative}"' in index


# ---- the newsletter ------------------------------------------------------------------------------


def test_newsletter_is_email_safe(demo_newsletter: Path):
    page = demo_newsletter.read_text(encoding="utf-8")
    lowered = page.lower()
    for forbidden in ("<script", "<style", "<link", "javascript:", "onerror=", "onload=", "@import"):
        assert forbidden not in lowered, forbidden
    sources = re.findall(r'\ssrc="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)  # charts as images
    widths = [int(w) for w in re.findall(r'\swidth="(\d+)"', page)]
    assert widths and max(widths) <= 640
    assert all(int(px) <= 640 for px in re.findall(r"(?:max-)?width:\s*(\d+)px", page))
    assert 'class="' not in page  # inline styles only: e-mail clients drop stylesheets


def test_newsletter_text_part_says_what_the_html_says(demo_newsletter: Path):
    summary = PeriodSummary.read(demo_newsletter.parent / "summary.json")
    text = (demo_newsletter.parent / "newsletter.txt").read_text(encoding="utf-8")
    page = _text(demo_newsletter)
    for win in highlights.wins(summary, limit=4):
        assert win.text in text and win.text in page
    assert summary.engagement is not None and len(summary.engagement.upcoming) == 4  # the demo's planned events
    for event in summary.engagement.upcoming:
        assert event.title is not None and event.title in text and event.title in page
    assert "TIP OF THE MONTH: " in text and "Tip of the month" in page and "of the week" not in text + page
    assert "<" not in text.replace("<>", "")  # plain text, no markup


def test_newsletter_shows_hostile_text_literally(demo_newsletter: Path, demo_workbench):
    from srelib.metrics.engagement import UpcomingEvent
    from srelib.present import newsletter

    summary = PeriodSummary.read(demo_newsletter.parent / "summary.json")
    assert summary.engagement is not None
    hostile = "<script>alert(1)</script>{{ 7*7 }}<img src=x onerror=alert(2)>"
    upcoming = [UpcomingEvent("2026-12-01", "workshop", hostile, None)]
    engagement = dataclasses.replace(summary.engagement, upcoming=upcoming)
    letter = newsletter.build(summary.model_copy(update={"engagement": engagement}), demo_workbench)
    page = newsletter.render_html(letter)
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}&lt;img src=x onerror=alert(2)&gt;" in page
    assert hostile in newsletter.render_text(letter)  # the text part shows it as written


def test_newsletter_message_has_text_html_and_inline_image(demo_newsletter: Path, demo_workbench):
    from srelib.present import newsletter

    summary = PeriodSummary.read(demo_newsletter.parent / "summary.json")
    letter = newsletter.build(summary, demo_workbench)
    message = newsletter.mime_message(letter, "sre@example.com", ["everyone@example.com"])
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    html_part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html_part.get_content()
    assert "data:image" not in html_part.get_content()


def test_newsletter_opens_offline_with_its_image_drawn(browser, demo_newsletter: Path):
    from tests.conftest import RESULTS

    page, problems = open_offline(browser, demo_newsletter.as_uri())
    page.set_viewport_size({"width": 700, "height": 900})
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "newsletter.png"), full_page=True)
    page.close()
    assert problems == {"errors": [], "blocked": []}


# ---- the weekly digest ---------------------------------------------------------------------------


def test_digest_is_email_safe_and_published_with_its_text_part(demo_digest: Path):
    page = demo_digest.read_text(encoding="utf-8")
    lowered = page.lower()
    for forbidden in ("<script", "<style", "<link", "javascript:", "onerror=", "onload=", "@import"):
        assert forbidden not in lowered, forbidden
    assert all(s.startswith("data:image/png;base64,") for s in re.findall(r'\ssrc="([^"]*)"', page))
    widths = [int(w) for w in re.findall(r'\swidth="(\d+)"', page)]
    assert widths and max(widths) <= 640
    assert all(int(px) <= 640 for px in re.findall(r"(?:max-)?width:\s*(\d+)px", page))
    assert 'class="' not in page  # inline styles only: e-mail clients drop stylesheets
    assert (demo_digest.parent / "weekly_digest.txt").is_file() and demo_digest.parent.name.count("-W") == 1


def test_digest_says_in_text_what_its_html_says_and_its_numbers_are_the_summarys(demo_digest: Path, demo_workbench):
    from srelib.present import digest

    summary = PeriodSummary.read(demo_digest.parent / "summary.json")
    assert summary.kind == "week"
    text = (demo_digest.parent / "weekly_digest.txt").read_text(encoding="utf-8")
    page = _text(demo_digest)
    letter = digest.build(summary, demo_workbench)
    assert letter.tip is not None and f"TIP OF THE WEEK: {letter.tip.title}" in text and "Tip of the week" in page
    assert letter.wins and letter.sessions  # the demo has wins and a session planned for the week after
    for said in [*letter.wins, *(s.why for s in letter.at_risk), *(s.title for s in letter.sessions), letter.intro]:
        assert said in text and said in page, said
    figures = {f.label: f.value for f in letter.figures}
    assert figures["Incidents"] == str(summary.incidents.count)
    assert figures["Median time to resolve"] == show.minutes(summary.incidents.mttr_minutes.median)
    for row in letter.at_risk:
        assert row.budget_left == show.budget(summary.slo_budgets[row.name].rolling.error_budget_remaining)
        assert f"{row.budget_left} of its {row.window} budget left" in text
    assert "<" not in text.replace("<>", "")
    assert re.search(r"\b(nan|NaN|NaT|None)\b", page) is None


def test_digest_and_newsletter_of_the_same_week_show_different_tips(demo_digest: Path, demo_workbench):
    from srelib.present import tips

    summary = PeriodSummary.read(demo_digest.parent / "summary.json")
    text = (demo_digest.parent / "weekly_digest.txt").read_text(encoding="utf-8")
    month = tips.newsletter_before(Period.parse(summary.period).first_day)  # the one out before or with it
    newsletter_tip = tips.of_the_month(demo_workbench.tips.tips, month)
    assert newsletter_tip is not None and f"TIP OF THE WEEK: {newsletter_tip.title}\n" not in text
    assert "TIP OF THE WEEK: " in text


def test_digest_message_goes_out_as_published(demo_digest: Path):
    from srelib.present import mail

    page = demo_digest.read_text(encoding="utf-8")
    text = (demo_digest.parent / "weekly_digest.txt").read_text(encoding="utf-8")
    message = mail.message(page, text, "sre@example.com", ["dev-teams@example.com"])
    assert message["Subject"].startswith("SRE weekly digest · week ")
    assert message.get_body(("plain",)).get_content().strip() == text.strip()
    assert message.get_body(("html",)).get_content().strip() == page.strip()  # no image: the page as is


def test_digest_opens_offline(browser, demo_digest: Path):
    from tests.conftest import RESULTS

    page, problems = open_offline(browser, demo_digest.as_uri())
    page.set_viewport_size({"width": 700, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    body = page.inner_text("body")
    assert "TIP OF THE WEEK" in body.upper() and "NEXT WEEK'S SESSIONS" in body.upper()
    assert re.search(r"\b(nan|NaN|NaT|None|undefined)\b", body) is None
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "weekly_digest.png"), full_page=True)
    page.close()
    assert problems == {"errors": [], "blocked": []}


# ---- engagement, executive summary, analysts' own reports ----------------------------------------


# engagement: adoption, activities per family, surveys per question
@pytest.mark.parametrize(("report", "charts"), [("engagement", 3), ("executive_summary", 2)])
def test_monthly_catalogue_reports_run_and_draw_offline(browser, demo_workbench, demo_end, report, charts):
    from srelib.run.report import run_report

    published = run_report(demo_workbench, report, demo_end).html
    summary = PeriodSummary.read(published.parent / "summary.json")
    page_text = _text(published)
    narrative_name = "engagement" if report == "engagement" else "monthly_reliability"
    for sentence in narrative.messages(summary, narrative_name):
        assert sentence in page_text, sentence
    page, problems = open_offline(browser, published.as_uri())
    page.wait_for_function(f"document.querySelectorAll('.srelib-chart svg').length === {charts}", timeout=15000)
    body = page.inner_text("body")
    assert re.search(r"\b(nan|NaN|NaT|None|undefined)\b", body) is None
    page.close()
    assert problems == {"errors": [], "blocked": []}


def test_engagement_report_shows_activities_lapses_and_surveys_as_the_summary_has_them(demo_workbench, demo_end):
    from srelib.present.activities import activity_rows, activity_team_rows, lapse_texts, survey_rows
    from srelib.run.report import run_report

    published = run_report(demo_workbench, "engagement", demo_end).html
    summary = PeriodSummary.read(published.parent / "summary.json")
    page = _text(published)
    a = summary.activities
    # The demo's story: post-incident review workshops ran monthly and stopped three months ago.
    assert a is not None and a.lapsed == ["post_incident_review_workshop"]
    assert a.kinds["post_incident_review_workshop"].periods_since == 3
    assert a.kinds["cross_team_pairing"].count >= 2  # written `pairing` in the demo's file
    assert {"awareness", "education", "engagement", "integration"} <= {k.family for k in a.kinds.values()}
    for text in lapse_texts(summary):
        assert text in page, text
    for row in activity_rows(summary) + activity_team_rows(summary):
        cells = [v for k, v in row.items() if k != "status_key"]
        assert all(cell in page for cell in cells), row
    stakeholder = summary.surveys["stakeholder"]
    assert len(stakeholder.questions) == 4 and stakeholder.target == 4.0
    for row in survey_rows(summary):
        assert row["question"] in page and row["mean"] in page, row
    # The lapse is a risk in the executive summary's list and in the newsletter's watch list.
    assert lapse_texts(summary)[0] in [h.text for h in highlights.risks(summary)]


def test_newsletter_watches_the_lapsed_activity(demo_newsletter: Path):
    from srelib.present.activities import lapse_highlight

    summary = PeriodSummary.read(demo_newsletter.parent / "summary.json")
    watched = lapse_highlight(summary)
    assert watched is not None and watched.startswith("Post-incident review workshop has lapsed")
    assert watched in _text(demo_newsletter)
    assert watched in (demo_newsletter.parent / "newsletter.txt").read_text(encoding="utf-8")


def test_executive_tiles_are_the_summary(demo_report: Path):
    from srelib.present import report

    summary = PeriodSummary.read(demo_report.parent / "summary.json")  # the month's, as its report published it
    tiles = {t["label"]: t for t in report.kpi_tiles(summary)}
    assert tiles["Incidents"]["value"] == str(summary.incidents.count)
    assert tiles["Median time to resolve"]["value"] == show.minutes(summary.incidents.mttr_minutes.median)
    assert summary.value is not None
    assert tiles["Return on investment"]["value"] == show.ratio(summary.value.roi.roi)
    assert tiles["SLOs met / at risk / breached"]["status"] == "breached"  # the demo's checkout story


def test_new_report_scaffolds_a_notebook_that_srelib_run_publishes(demo_workbench, demo_end):
    import subprocess
    import sys

    notebook = demo_workbench.root / "notebooks" / "capacity_review.ipynb"
    try:
        made = subprocess.run(
            [sys.executable, "-m", "srelib", "new-report", "capacity_review", "--title", "Capacity review"],
            cwd=demo_workbench.root,
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
        assert made.stdout.strip() == str(notebook)
        again = subprocess.run(
            [sys.executable, "-m", "srelib", "new-report", "capacity_review"],
            cwd=demo_workbench.root,
            capture_output=True,
            text=True,
        )
        assert again.returncode == 2 and "already exists" in again.stderr
        run = subprocess.run(
            [sys.executable, "-m", "srelib", "run", "capacity_review", "--period", demo_end.label],
            cwd=demo_workbench.root,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        html = Path(run.stdout.strip())
        assert html.name == "capacity_review.html" and "Capacity review" in _text(html)
        index = (demo_workbench.outputs_path / "index.html").read_text(encoding="utf-8")
        assert "Capacity review" in index
    finally:
        notebook.unlink(missing_ok=True)


@pytest.mark.timeout(600)
def test_every_notebook_runs_top_to_bottom_with_its_defaults(demo_workbench, tmp_path):
    """As an analyst's "Run all" in JupyterLab after `srelib demo`: no parameters injected, the
    workbench found from the current folder, the latest complete period by default. One kernel,
    its namespace emptied before each notebook, as the runner reuses kernels
    (test_runner.py::test_reused_kernels_start_every_report_with_an_empty_namespace)."""
    import papermill

    from srelib.resources import notebooks_dir
    from srelib.run.kernels import ENGINE, ReusableKernel

    kernel = ReusableKernel()
    try:
        for name in sorted(REPORTS):
            executed = tmp_path / f"{name}.ipynb"
            papermill.execute_notebook(
                str(notebooks_dir() / f"{name}.ipynb"),
                str(executed),
                engine_name=ENGINE,
                km=kernel.ready(demo_workbench.root),
                kernel_name="python3",
                progress_bar=False,
            )
            assert "Traceback" not in executed.read_text(encoding="utf-8"), name
    finally:
        kernel.close()


def test_case_study_sentences_and_table_give_the_same_figures(demo_workbench, demo_end):
    from srelib.ingest.warehouse import connect
    from srelib.present import report
    from srelib.summary import build_summary

    with connect(demo_workbench.warehouse_path) as con:
        summary = build_summary(con, demo_workbench, demo_end)
    for name, effect in summary.initiatives.items():
        sentences = " ".join(narrative.messages(summary, "case_study", **narrative.case_context(summary, name)))
        rows = {r["measure"].split(" (")[0]: r for r in report.case_rows(summary, name)}
        mttr = rows["Median time to resolve"]
        assert mttr["before"] in sentences and mttr["after"] in sentences, name
        incidents = rows["Incidents a day"]
        assert f"from {incidents['before']} to {incidents['after']} a day" in sentences, name
        said_clear = "a clear change" in sentences
        tested = [rows["Median time to resolve"]["verdict"], rows["Incidents a day"]["verdict"]]
        assert said_clear == any(v in ("improved", "worsened") for v in tested), name
        assert effect.started
        # The four keys over the initiative's services: a delivery sentence only for a clear change,
        # naming the figures of the four keys' table.
        keys = {r["key"]: r for r in report.four_keys_rows(effect.delivery)}
        assert list(keys) == [
            "Deployments",
            "Median lead time",
            "Median failed deployment recovery time",
            "Change failure rate",
        ]
        clear = [k for k, r in keys.items() if r["verdict"] in ("improved", "worsened")]
        assert ("Delivery on its services clearly" in sentences) == bool(clear), name
        lead = effect.delivery.lead_time
        if keys["Median lead time"]["verdict"] == "improved":
            before, after = show.minutes(lead.median_before), show.minutes(lead.median_after)
            assert f"median lead time {before} → {after}" in sentences


def test_slo_document_shows_spec_text_literally(demo_report: Path):
    from srelib.present import report

    summary = PeriodSummary.read(demo_report.parent / "summary.json")
    hostile = "<script>alert(1)</script>{{ 7*7 }}"
    spec = dataclasses.replace(summary.slo_specs["checkout-availability"], description=hostile, caveats=[hostile])
    tampered = summary.model_copy(update={"slo_specs": {**summary.slo_specs, "checkout-availability": spec}})
    html = report.slo_document(tampered, "checkout-availability").data
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}") == 2


@pytest.mark.parametrize(
    ("report", "team", "parameters", "charts"),
    [
        ("team_scorecard", "payments", {}, 0),
        ("slo_document", None, {"slo": "checkout-availability"}, 1),
        ("case_study", None, {"initiative": "rightsizing"}, 2),
    ],
)
def test_fan_out_reports_run_and_open_offline(browser, demo_workbench, demo_end, report, team, parameters, charts):
    from srelib.present import report as report_api
    from srelib.run.report import run_report

    published = run_report(demo_workbench, report, demo_end, team, parameters=parameters).html
    subject = team or next(iter(parameters.values()))
    assert subject in published.parent.as_posix()
    page_text = _text(published)
    summary = PeriodSummary.read(published.parent / "summary.json")
    if report == "slo_document":
        fields = report_api.slo_document_fields(summary, "checkout-availability")
        for sentence in narrative.messages(summary, "slo_document", slo=fields):
            assert sentence in page_text, sentence
        assert fields is not None and fields["attainment"] in page_text and fields["window_remaining"] in page_text
    page, problems = open_offline(browser, published.as_uri())
    if charts:
        page.wait_for_function(f"document.querySelectorAll('.srelib-chart svg').length === {charts}", timeout=15000)
    body = page.inner_text("body")
    assert re.search(r"\b(nan|NaN|NaT|None|undefined)\b", body) is None
    page.close()
    assert problems == {"errors": [], "blocked": []}


# ---- the SRE programme scorecard ------------------------------------------------------------------

HOSTILE_TITLE = '<script>alert("x")</script><b>Chaos</b> *everywhere* [link](javascript:alert(1))'


@pytest.fixture(scope="module")
def programme_bench(demo_workbench, demo_end, tmp_path_factory):
    """A copy of the demo workbench (params and warehouse) with the demo's publishing record and a
    milestone title full of markup: its summaries are its own, whatever ran in the demo's before."""
    import shutil

    import yaml

    from srelib.config import Workbench
    from srelib.demo.history import write_earlier_runs

    root = tmp_path_factory.mktemp("programme-bench")
    shutil.copytree(demo_workbench.root / "params", root / "params")
    (root / "warehouse").mkdir()
    shutil.copy(demo_workbench.warehouse_path, root / demo_workbench.org.warehouse)
    plan = yaml.safe_load((root / "params" / "programme.yaml").read_text(encoding="utf-8"))
    plan["milestones"]["chaos_in_every_team"]["title"] = HOSTILE_TITLE
    (root / "params" / "programme.yaml").write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    workbench = Workbench.load(root)
    assert write_earlier_runs(workbench, demo_end) > 0
    assert write_earlier_runs(workbench, demo_end) == 0  # once
    return workbench


@pytest.mark.slow
def test_programme_scorecard_tells_the_demo_story_with_the_summary_numbers_offline(browser, programme_bench, demo_end):
    from srelib.present import programme as words
    from srelib.present import report
    from srelib.run.report import run_report

    published = run_report(programme_bench, "programme_scorecard", demo_end).html
    summary = PeriodSummary.read(published.parent / "summary.json")
    p = summary.programme
    assert p is not None
    # The demo's story: executive reporting started a month after the plan, the year-two milestone
    # is not met yet (and not due), the communications are regular, most criteria are met.
    m = p.milestones
    assert m["executive_reporting"].status == "done_late" and m["executive_reporting"].days_late > 0
    assert (m["chaos_in_every_team"].met, m["chaos_in_every_team"].status) == (False, "on_plan")
    assert sum(x.status == "done" for x in m.values()) >= 9
    assert p.communications.history and p.communications.on_time_share == 1.0
    assert p.criteria["regular_communications"].met is True
    assert p.criteria_count == 9 and 5 <= p.criteria_met < 9
    assert {ph.status for ph in p.phases.values()} == {"done", "in_progress"}
    # Every figure on the page is the summary's.
    raw = published.read_text(encoding="utf-8")
    page_text = _text(published)
    assert words.headline(p) in page_text
    for row in words.phase_rows(summary) + words.milestone_rows(summary) + words.criterion_rows(summary):
        cells = [v for k, v in row.items() if k != "status_key"]
        assert all(cell in page_text for cell in cells), row
    for sentence in words.at_risk_texts(summary):
        assert sentence in page_text, sentence
    tile = {t["label"]: t for t in report.kpi_tiles(summary)}["Programme: success criteria met"]
    assert tile["value"] == f"{p.criteria_met} of {p.criteria_count}"
    # The milestone title with markup is text: shown literally, never a tag, a link or emphasis.
    assert HOSTILE_TITLE in page_text
    assert '<script>alert("x")' not in raw and "<b>Chaos</b>" not in raw
    assert 'href="javascript:' not in raw
    page, problems = open_offline(browser, published.as_uri())
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length === 1", timeout=15000)
    body = page.inner_text("body")
    assert re.search(r"\b(nan|NaN|NaT|None|undefined)\b", body) is None
    assert HOSTILE_TITLE in body  # drawn as the text it is
    page.close()
    assert problems == {"errors": [], "blocked": []}
