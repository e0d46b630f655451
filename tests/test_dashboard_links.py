"""Links into a dashboard's view (issue 18, drill-down): ``?period=&team=&service=&slo=`` open
the executive dashboard and the SLO explorer on that view, each SLO of the SLO table links to
its explorer view, and a value that is not one of the dashboard's choices is ignored. In
process, as voila's kernel for the page would run it (its ``QUERY_STRING``); the browser test
that clicks through is in test_dashboard.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from srelib.config import Workbench
from srelib.serve import dashboards
from srelib.serve.links import asks_for_a_view, requested_view
from tests.test_corrections import _ingest
from tests.test_data_quality import HOUR, _buckets, _workbench

EXPLORER = "https://sre.example.com/slo-explorer"


@pytest.fixture
def workbench(tmp_path: Path) -> Workbench:
    workbench = _workbench(tmp_path)
    _ingest(
        workbench,
        [
            *_buckets("api-availability", datetime(2026, 9, 1), datetime(2026, 11, 1), HOUR),
            *_buckets("api-latency", datetime(2026, 9, 1), datetime(2026, 11, 1), HOUR, good=9),
            *_buckets("web-availability", datetime(2026, 9, 1), datetime(2026, 11, 1), HOUR),
        ],
    )
    (tmp_path / "params" / "publish.yaml").write_text(f"explorer_url: {EXPLORER}\n", encoding="utf-8")
    return workbench


def _page(monkeypatch, query: str, preheated: bool = False) -> None:
    """The environment voila gives a page's kernel: started for the page, or preheated before it."""
    monkeypatch.setenv("QUERY_STRING", query)
    monkeypatch.setenv("VOILA_PREHEAT", str(preheated))


def test_a_link_opens_the_executive_dashboard_on_its_period_team_and_service(workbench, monkeypatch):
    _page(monkeypatch, "period=2026-09&team=platform&service=api")
    dashboard = dashboards.Executive(workbench)
    dashboard.refresh()
    assert (dashboard.period.value, dashboard.team.value, dashboard.service.value) == ("2026-09", "platform", "api")
    assert "September 2026" in dashboard.header.value and "Team platform" in dashboard.header.value
    table = dashboards._html(dashboard.slo_table(dashboard.shown(dashboard.summary())))
    # each SLO of the service links to its view of the same period in the SLO explorer; web's is not shown
    assert f'href="{EXPLORER}/?slo=api-latency&amp;period=2026-09"' in table
    assert f'href="{EXPLORER}/?slo=api-availability&amp;period=2026-09"' in table
    assert "web-availability" not in table


def test_a_link_opens_the_slo_explorer_on_its_slo(workbench, monkeypatch):
    _page(monkeypatch, "slo=api-latency&period=2026-10")
    explorer = dashboards.SloExplorer(workbench)
    explorer.refresh()
    assert (explorer.slo.value, explorer.period.value) == ("api-latency", "2026-10")
    assert list(explorer.shown(explorer.summary()).slos) == ["api-latency"]


def test_a_linked_period_the_menu_does_not_offer_is_added_to_it(workbench, monkeypatch):
    _page(monkeypatch, "period=2026-W40")  # the menu has months and quarters
    dashboard = dashboards.Team(workbench)
    assert dashboard.period.value == "2026-W40"
    assert dashboard.period.options[0][1] == "2026-W40" and "2026-10" in dict(dashboard.period.options).values()


@pytest.mark.parametrize(
    "query",
    [
        "slo=%3Cscript%3Ealert(1)%3C%2Fscript%3E&team=..%2F..%2Fetc&service=nope&period=DROP%20TABLE%20sli",
        "slo=&team=&period=2026-13",
        "period=9999-01&team=PLATFORM",
    ],
)
def test_a_link_to_a_view_the_dashboard_does_not_offer_changes_nothing(workbench, monkeypatch, query):
    _page(monkeypatch, "")
    plain = dashboards.Executive(workbench), dashboards.SloExplorer(workbench)
    _page(monkeypatch, query)
    linked = dashboards.Executive(workbench), dashboards.SloExplorer(workbench)
    for a, b in zip(plain, linked, strict=True):
        assert (a.period.value, a.team.value, a.period.options) == (b.period.value, b.team.value, b.period.options)
    assert linked[0].service.value == dashboards.ALL_SERVICES
    assert linked[1].slo.value == plain[1].slo.value == "api-availability"


def test_a_preheated_kernel_ignores_the_query_string_its_environment_holds(monkeypatch):
    """voila refills its pool with the environment of the page that took the last preheated kernel."""
    _page(monkeypatch, "slo=api-latency", preheated=True)
    assert requested_view() == {}
    _page(monkeypatch, "slo=api-latency&slo=api-availability&theme=dark")
    assert requested_view() == {"slo": "api-availability"}  # the last value of each; others are not links
    monkeypatch.delenv("QUERY_STRING")
    monkeypatch.delenv("VOILA_PREHEAT")
    assert requested_view() == {}  # JupyterLab


def test_only_a_link_to_a_view_needs_a_kernel_of_its_own():
    assert asks_for_a_view({"slo": [b"x"]})
    assert asks_for_a_view(["period", "theme"])
    assert not asks_for_a_view({"template": [b"x"], "theme": [b"dark"]})
    assert not asks_for_a_view({})


def test_without_an_explorer_the_slos_are_not_linked(workbench, monkeypatch):
    (workbench.root / "params" / "publish.yaml").write_text("explorer_url: not a url\n", encoding="utf-8")
    _page(monkeypatch, "")
    dashboard = dashboards.Executive(workbench)
    assert dashboard.explorer_url is None  # invalid: the dashboard goes without the links
    assert "<a " not in dashboards._html(dashboard.slo_table(dashboard.summary()))
