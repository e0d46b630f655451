"""A dashboard's first paint (srelib/serve/first_paint.py): the first view as static HTML, which
the page shows before its widgets are live. In process, as the page's kernel runs the dashboard;
the browser test that sees it come first and leave when the widgets have drawn is in
test_dashboard.py."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

from srelib.config import Workbench
from srelib.present import report
from srelib.resources import templates_dir
from srelib.serve import dashboards, first_paint
from tests.test_corrections import _ingest
from tests.test_data_quality import HOUR, _buckets, _workbench


@pytest.fixture
def workbench(tmp_path: Path) -> Workbench:
    workbench = _workbench(tmp_path)
    _ingest(
        workbench,
        [
            *_buckets("api-availability", datetime(2026, 9, 1), datetime(2026, 11, 1), HOUR),
            *_buckets("web-availability", datetime(2026, 9, 1), datetime(2026, 11, 1), HOUR, good=9),
        ],
    )
    return workbench


def _shown(monkeypatch, dashboard: type[dashboards.Dashboard], workbench: Workbench) -> tuple[list[Any], Any]:
    """What ``dashboard.show()`` displays, in order, and the dashboard."""
    displayed: list[Any] = []
    monkeypatch.setattr(dashboards, "display", lambda obj, **kwargs: displayed.append(obj))
    monkeypatch.setenv("QUERY_STRING", "")
    made = dashboard(workbench)
    made.show()
    return displayed, made


def _paints(displayed: list[Any]) -> list[str]:
    return [obj[first_paint.MIME] for obj in displayed if isinstance(obj, dict) and first_paint.MIME in obj]


@pytest.mark.parametrize("kind", [dashboards.Executive, dashboards.Team, dashboards.SloExplorer])
def test_the_first_paint_is_the_first_view_the_widgets_show(workbench, monkeypatch, kind):
    monkeypatch.setenv(first_paint.ENVIRONMENT, "1")  # as srelib dashboard's kernels run
    displayed, dashboard = _shown(monkeypatch, kind, workbench)
    [paint] = _paints(displayed)
    assert paint.startswith(f"<style>{report.style()}</style>")  # the report styles, before the page's scripts
    # every HTML view as the widgets show it, in the same order
    html_views = [view.value for _, view in dashboard.views if isinstance(view, widgets.HTML)]
    positions = [paint.index(value) for value in [dashboard.header.value, *html_views] if value]
    assert positions == sorted(positions) and len(positions) >= 3
    # each filter with its choice, disabled until the widgets are live; a chart waits for them
    filters = [w for w in (dashboard.period, dashboard.team, getattr(dashboard, "service", None)) if w is not None]
    chosen = re.findall(r"<select disabled><option selected>([^<]*)</option></select>", paint)
    assert chosen[: len(filters)] == [w.label for w in filters]
    charts = [view for _, view in dashboard.views if isinstance(view, widgets.Output)]
    assert paint.count(first_paint.CHART_PENDING) == len(charts)
    assert "<script" not in paint.lower()
    # the page the widgets draw ends with the marker the page's script waits for; the first paint has none
    page = displayed[-1]
    assert first_paint.DRAWN in page.children[-1].value and first_paint.DRAWN not in paint
    assert displayed.index(page) > next(i for i, obj in enumerate(displayed) if isinstance(obj, dict))


def test_a_notebook_run_in_jupyterlab_shows_the_widgets_only(workbench, monkeypatch):
    monkeypatch.delenv(first_paint.ENVIRONMENT, raising=False)
    displayed, _ = _shown(monkeypatch, dashboards.Executive, workbench)
    assert not _paints(displayed)


def test_text_from_the_data_is_escaped_and_only_a_dashboards_widgets_are_drawn():
    hostile = "<img src=x onerror=alert(1)>"
    tree = widgets.VBox(
        [
            widgets.HBox([widgets.Dropdown(description=hostile, options=[hostile, "b"], value=hostile)]),
            widgets.Button(description=hostile),
            widgets.HTML("<b>as the widget shows it</b>"),
            widgets.Output(),
        ],
        layout=widgets.Layout(flex_flow="row wrap"),
    )
    tree.add_class("srelib-dashboard")
    drawn = first_paint.static_html(tree)
    assert "<img" not in drawn and drawn.count("&lt;img src=x onerror=alert(1)&gt;") == 3
    assert drawn.startswith('<div class="srelib-fp-vbox srelib-dashboard" style="flex-flow: row wrap">')
    assert "<b>as the widget shows it</b>" in drawn  # an HTML view's value is its own report HTML
    # a widget a workbench's own dashboard adds is left out until the widgets are live, not an error
    assert first_paint.static_html(widgets.VBox([widgets.Checkbox(description=hostile)])) == (
        '<div class="srelib-fp-vbox"></div>'
    )


def test_the_voila_template_writes_the_first_paint_and_removes_it_when_the_widgets_have_drawn():
    template = (templates_dir() / "voila" / "templates" / "srelib" / "index.html.j2").read_text(encoding="utf-8")
    assert f"'{first_paint.MIME}' in output.get('data', {{}})" in template
    assert f"cells.querySelector('.{first_paint.DRAWN}')" in template and "paint.remove()" in template
    assert "Not live yet" in template  # a page whose widgets never draw says so
