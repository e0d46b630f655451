"""The Markdown edition for the wiki and the blog, without a kernel: escaping of hostile data, that
the text's tables and messages are the summary's, and the chart images it names. Publishing it
(``srelib run … --format markdown``) and removing it again are in ``test_runner.py``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from srelib.period import Period
from srelib.present import markdown, narrative, rows
from srelib.run.summary_cache import SummaryCache
from tests.conftest import ingest_small, make_workbench

HOSTILE = "*x* | [a](http://e.example) <script>alert(1)</script>\n- bullet \x1b[31mred`code`_u_ ~s~ $m$ ![i](y) \\"
PNG = b"\x89PNG\r\n\x1a\n"


def gfm() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("markdown")
    make_workbench(root, {"api": "platform"})
    org = yaml.safe_load((root / "params" / "org.yaml").read_text())
    (root / "params" / "org.yaml").write_text(yaml.safe_dump({**org, "name": f"Org {HOSTILE}"}))
    initiative = {
        "name": "runbooks",
        "title": f"Runbooks {HOSTILE}",
        "kind": "reliability",
        "start": "2026-09-01",
        "owner": HOSTILE,
        "description": HOSTILE,
        "services": ["api"],
    }
    (root / "params" / "initiatives.yaml").write_text(yaml.safe_dump({"initiatives": [initiative]}))
    incidents = [
        dict(
            incident_id=f"I{n}",
            title=HOSTILE,
            service="api",
            severity="SEV2",
            started_at=f"2026-{month:02d}-0{n % 9 + 1}T10:00:00Z",
            resolved_at=f"2026-{month:02d}-0{n % 9 + 1}T1{n % 3 + 1}:{n:02d}:00Z",
        )
        for n, month in enumerate([6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 10])
    ]
    from srelib.config import Workbench

    workbench = Workbench.load(root)
    ingest_small(workbench, incidents, sli_at="2026-10-02T10:00:00Z")
    return Workbench.load(root)


@pytest.fixture(scope="module")
def october(small):
    return SummaryCache(small).get(Period.parse("2026-10", "UTC"), None)


def test_inline_text_is_never_markup():
    escaped = markdown.inline(HOSTILE)
    assert "\n" not in escaped and "\x1b" not in escaped
    html = gfm().renderInline(escaped)
    # Every character of the value is shown, none makes emphasis, a link, an image, code or HTML.
    assert not re.search(r"<(em|strong|a|img|code|s|del|script)\b", html)
    shown = gfm().renderInline(escaped).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown.replace("&quot;", '"') == " ".join(narrative.one_line(HOSTILE).split())


def test_a_table_keeps_its_columns_whatever_the_cells_hold():
    columns: list[rows.Column] = [("name", "Name | yes", False), ("value", "Value", True)]
    text = markdown.table([{"name": HOSTILE, "value": "1,234"}, {"name": "b", "value": "5"}], columns, "none")
    html = gfm().render(text)
    assert html.count("<tr>") == 3 and html.count("<td") == 4  # a header and two rows of two cells
    assert '<td style="text-align:right">1,234</td>' in html
    assert "<script>" not in html and "<em>" not in html
    assert markdown.table([], columns, "No *rows*.") == "_No \\*rows\\*._"


def test_the_monthly_post_shows_the_reports_messages_figures_and_trend_images(small, october):
    post = markdown.post(october, "monthly_reliability", "Monthly reliability report", small.org.name)
    html = gfm().render(post.text)
    assert "<script>" not in html and "<em>x</em>" not in html and "<li>bullet" not in html
    assert not re.search(r'<a href="http://e', html)
    # The key messages are the narrative's, the headline table the report's own rows.
    assert narrative.render(october, "monthly_reliability") in post.text
    for row in rows.kpi_rows(october):
        cells = (
            f"| {markdown.inline(row['label'])} | {markdown.inline(row['now'])} | {markdown.inline(row['before'])} |"
        )
        assert cells in post.text
    # Two trend charts, as PNG images named in the text with alt text saying what they show.
    assert [f.name for f in post.figures] == ["monthly_reliability-1.png", "monthly_reliability-2.png"]
    for figure in post.figures:
        assert figure.png.startswith(PNG) and len(figure.png) > 5_000
        assert f"]({figure.name})" in post.text
        assert "each period from" in figure.alt
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', html)
    assert [src for src, _ in images] == [f.name for f in post.figures]
    assert images[1][1].startswith("Time to resolve")
    width = int.from_bytes(post.figures[0].png[16:20], "big")
    assert width >= 2 * markdown.WIDTH  # drawn at twice the size, sharp on high-density screens
    assert post.text.startswith("# Monthly reliability report: October 2026\n")
    assert post.text.endswith("\n") and "\n\n\n" not in post.text


def test_the_case_study_post_has_the_before_and_after_tables_of_the_report(small, october):
    post = markdown.post(october, "case_study", "Case study", small.org.name, initiative="runbooks")
    html = gfm().render(post.text)
    assert "<script>" not in html and "<em>x</em>" not in html and "<li>bullet" not in html
    assert post.text.startswith("# Case study: Runbooks \\*x\\* \\| \\[a\\]")
    effect = october.initiatives["runbooks"]
    for row in rows.case_rows(october, "runbooks"):
        assert markdown.inline(row["measure"]) in post.text and markdown.inline(row["before"]) in post.text
    delivery = rows.four_keys_rows(effect.delivery)
    assert all(markdown.inline(row["key"]) in post.text for row in delivery)
    messages = narrative.render(october, "case_study", **narrative.case_context(october, "runbooks"))
    assert messages in post.text
    assert html.count("<table>") == 2 and len(post.figures) == 2
    assert [f.name for f in post.figures] == ["case_study-1.png", "case_study-2.png"]


def test_a_post_without_incidents_says_so_in_place_of_the_charts(tmp_path: Path):
    workbench = make_workbench(tmp_path, {"api": "platform"})
    ingest_small(workbench, [], sli_at="2026-10-02T10:00:00Z")
    summary = SummaryCache(workbench).get(Period.parse("2026-10", "UTC"), None)
    post = markdown.post(summary, "monthly_reliability", "Monthly", "Org")
    assert post.figures == ()
    assert "_No incidents in the last twelve periods._" in post.text


def test_only_the_reports_with_an_edition_have_one():
    from srelib.run.catalogue import REPORTS

    assert {name for name, spec in REPORTS.items() if spec.markdown} == set(markdown.EDITIONS)
    with pytest.raises(KeyError, match="monthly_reliability, case_study"):
        markdown.post(None, "engagement", "Engagement", "Org")  # type: ignore[arg-type]
