"""Live dashboards (voila): the same PeriodSummary as the reports, behind ipywidgets filters.

Each dashboard notebook in ``notebooks/dashboards/`` calls one function here, which returns a
widget tree: filters on top, figures below. Every figure comes from
:func:`srelib.summary.build_summary` for the chosen period and team, rendered with the same
tiles, tables and charts as the reports, so a dashboard and the report for the same period and
team agree exactly.

- **Read-only.** Each computation opens a read-only DuckDB connection and closes it at once,
  so dashboards never write anything, any number of viewers coexist with report runs, and an
  ingest is never held up for longer than one computation.
- **Fast.** Summaries are cached per (period, team) (:func:`summaries`). ``srelib dashboard``
  computes every view its filters offer ahead of time (:mod:`srelib.serve.warm`, at low
  priority, again after each ingest), so a filter change only redraws; a team's summary not
  yet computed is built on the organisation's, which the first view already has.
"""

from __future__ import annotations

import html
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from srelib.config import Workbench
from srelib.errors import UsageError
from srelib.ingest.warehouse import connect
from srelib.period import Period, zone
from srelib.present import charts, report
from srelib.run.notify import explorer_url
from srelib.run.refresh import explorer_link
from srelib.run.report import report_folder
from srelib.run.summary_cache import SummaryCache
from srelib.serve import first_paint
from srelib.serve.links import requested_view
from srelib.summary import PeriodSummary

ORG = "Whole organisation"
MEMORY = 24  # summaries a dashboard's kernel keeps in memory
ALL_SERVICES = "All services"
BUSY_AFTER = 0.4  # seconds of computing before a view says it is being computed
INCIDENT_ROWS = 25  # the worst SEV1/SEV2 incidents a dashboard lists; the monthly report has them all


def workbench() -> Workbench:
    """The workbench ``srelib dashboard`` serves (``SRELIB_WORKBENCH``), or the one around here."""
    return Workbench.find()


def summaries(wb: Workbench, folder: Path | None = None, background: bool = False) -> SummaryCache:
    """The dashboards' summaries (:mod:`srelib.run.summary_cache`): from the kernel's memory (the
    ``MEMORY`` used last), a published ``summary.json`` or the server's shared cache when
    computed from the warehouse's latest ingest, else computed now.

    ``srelib dashboard`` gives its kernels one cache folder (``SRELIB_DASHBOARD_CACHE``, outside
    the workbench): a summary the server's warmer or one viewer's kernel computed is read by
    every other kernel in a fraction of a second. ``background``: the server's warmer, which
    computes at low priority, so a viewer's kernel must never wait for it.
    """
    where = os.environ.get("SRELIB_DASHBOARD_CACHE")
    return SummaryCache(
        wb,
        folder=folder or (Path(where) if where else None),
        published=lambda period, team: report_folder(wb.outputs_path, period, team) / "summary.json",
        memory=MEMORY,
        background=background,
    )


def periods(wb: Workbench, count: int = 12) -> list[str]:
    """The current month when it has data yet (a partial period, its figures "so far"), the
    latest complete months with data (newest first), then the latest complete quarters."""
    tz = wb.org.timezone
    with connect(wb.warehouse_path) as con:
        newest_data = "SELECT max(timestamp) AS t FROM sli UNION ALL SELECT max(started_at) FROM incidents"
        last = con.execute(f"SELECT max(t) FROM ({newest_data})").fetchall()[0][0]
    labels = []
    current = Period.containing("month", datetime.now(zone(tz)).date(), tz)
    if last is not None and last >= current.start_utc:
        labels.append(current.label)
    for kind, n in (("month", count), ("quarter", 4)):
        newest = Period.latest_complete(kind, tz)
        if last is not None:
            with_data = Period.containing(kind, last.replace(tzinfo=UTC).astimezone(zone(tz)).date(), tz)
            newest = min(newest, with_data, key=lambda p: p.start)
        labels += [p.label for p in reversed(newest.trailing(n))]
    return labels


def _period_title(period: Period) -> str:
    """A period as the period menu names it: a month still going is "December 2026 so far"."""
    if not period.ended:
        return f"{period.title} so far (partial)"
    return period.title


def _linked_period(wb: Workbench, offered: list[tuple[str, str]], asked: str | None) -> list[tuple[str, str]]:
    """The period menu, with the period a link asked for first when it is a period and not one
    the menu offers yet (an older month linked from its report)."""
    if asked is None or asked in (label for _, label in offered):
        return offered
    try:
        period = Period.parse(asked, wb.org.timezone)
    except UsageError:
        return offered  # not a period: the link's choice is ignored
    return [(_period_title(period), period.label), *offered]


def _services(wb: Workbench, team: str | None) -> list[str]:
    return sorted(name for name, s in wb.catalogue.services.items() if team is None or s.team == team)


def _only_service(summary: PeriodSummary, service: str | None) -> PeriodSummary:
    """The summary with its SLOs (and notable incidents) narrowed to one service."""
    if service is None:
        return summary
    slos = {n: s for n, s in summary.slos.items() if s.service == service}
    budgets = {n: b for n, b in summary.slo_budgets.items() if n in slos}
    incidents = [i for i in summary.notable_incidents if i.service == service]
    rollups = [r for r in summary.rollups if r.level == "service" and r.name == service]
    quality = {n: q for n, q in summary.data_quality.items() if n in slos}
    return summary.model_copy(
        update={
            "slos": slos,
            "slo_budgets": budgets,
            "notable_incidents": incidents,
            "rollups": rollups,
            "data_quality": quality,
        }
    )


def _html(value: Any) -> str:
    return value.data if hasattr(value, "data") else str(value)


def _section(title: str, body: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<h2 class='srelib-dashboard-h2'>{title}</h2>"), body])


def _dropdown(description: str, options: list[Any], value: Any) -> widgets.Dropdown:
    return widgets.Dropdown(
        description=description, options=options, value=value, style={"description_width": "initial"}
    )


class Dashboard:
    """Filters, and the views they redraw; subclasses say which views."""

    title = "Dashboard"

    whole_org = True  # whether "Whole organisation" is one of the team choices

    def __init__(self, wb: Workbench | None = None, team: str | None = None):
        self.workbench = wb or workbench()
        self.summaries = summaries(self.workbench)
        self.link = requested_view()  # the view the page's address asked for, if any
        self.explorer_url = explorer_url(self.workbench)
        tz = self.workbench.org.timezone
        offered = [(_period_title(Period.parse(label, tz)), label) for label in periods(self.workbench)]
        offered = _linked_period(self.workbench, offered, self.link.get("period"))
        labels = [label for _, label in offered]
        asked = self.link.get("period")
        self.period = _dropdown("Period", offered, asked if asked in labels else labels[0])
        teams = list(self.workbench.catalogue.teams)
        options = [ORG, *teams] if self.whole_org else teams
        team = team or self.link.get("team")
        self.team = _dropdown("Team", options, team if team in teams else options[0])
        self.status = widgets.HTML(layout=widgets.Layout(min_height="1.5em"))
        self.status.add_class("srelib-dashboard-status")
        self.header = widgets.HTML()
        self.views: list[tuple[Callable[[PeriodSummary], Any], widgets.Widget]] = []
        self.period.observe(lambda change: self.refresh(), names="value")
        self.team.observe(lambda change: self.refresh(), names="value")

    @property
    def chosen_team(self) -> str | None:
        return None if self.team.value == ORG else self.team.value

    def html_view(self, render: Callable[[PeriodSummary], Any]) -> widgets.HTML:
        view = widgets.HTML()
        self.views.append((lambda s: setattr(view, "value", _html(render(s))), view))
        return view

    def chart_view(self, build: Callable[[PeriodSummary], Any], empty: str) -> widgets.Output:
        view = widgets.Output()

        def draw(summary: PeriodSummary) -> None:
            view.clear_output(wait=True)
            built = build(summary)
            with view:
                display(report.chart(None if built is None else charts.drawn(built), empty))

        self.views.append((draw, view))
        return view

    def slo_table(self, summary: PeriodSummary) -> Any:
        """The SLO table, each SLO linked to its view in the SLO explorer when it is served."""
        if not self.explorer_url:
            return report.slo_table(summary)
        return report.slo_table(summary, lambda slo: explorer_link(self.explorer_url, slo, self.period.value))

    def summary(self) -> PeriodSummary:
        return self.summaries.get(Period.parse(self.period.value, self.workbench.org.timezone), self.chosen_team)

    def shown(self, summary: PeriodSummary) -> PeriodSummary:
        return summary

    def refresh(self) -> None:
        # A view not computed yet takes seconds on a large warehouse: say so while it does.
        scope = self.chosen_team or "the whole organisation"
        busy = threading.Timer(
            BUSY_AFTER,
            setattr,
            (
                self.status,
                "value",
                f"<span class='srelib-dashboard-busy'>Computing {html.escape(self.period.label)} "
                f"for {html.escape(scope)}…</span>",
            ),
        )
        busy.start()
        try:
            summary = self.shown(self.summary())
        except Exception as exc:  # a dashboard says what went wrong instead of showing a traceback
            summary, error = None, html.escape(str(exc))
        finally:
            busy.cancel()
            busy.join()  # if it fired meanwhile, its message is set before being replaced below
        if summary is None:
            self.status.value = f"<span class='srelib-dashboard-error'>Could not compute this view: {error}</span>"
            return
        for draw, _ in self.views:
            draw(summary)
        self.header.value = _html(report.header(summary, self.title))  # last: when it changes, all has
        self.status.value = ""

    def layout(self) -> widgets.Widget:
        raise NotImplementedError

    def banner(self) -> widgets.HTML:
        """The workbench's branding: the org's name and colours."""
        org = self.workbench.org
        colours = "; ".join(f"--srelib-{k}: {v}" for k, v in org.colours.model_dump().items())
        return widgets.HTML(
            f"<style>:root {{ {html.escape(colours)} }}</style><header class='srelib-banner'>"
            f"<span class='org'>{html.escape(org.name)}</span><span class='report'>{html.escape(self.title)}</span>"
            "</header>"
        )

    def show(self) -> None:
        """Display the styles, chart bundle and widgets, and draw the first view; then say so in
        the server's log (a kernel's own stderr), where voila only says it *started* a kernel."""
        started = time.monotonic()
        display(report.setup())
        banner = self.banner()
        display(banner)
        page = self.layout()
        page.add_class("srelib-dashboard")
        self.refresh()
        if first_paint.wanted():  # the page shows this view before its widgets are live
            display(first_paint.bundle(report.style(), banner, page), raw=True)
        page.children = (*page.children, first_paint.marker())
        display(page)
        if sys.__stderr__ is not None:
            print(
                f"srelib dashboard: {self.title.lower()} drawn in kernel {os.getpid()} "
                f"in {time.monotonic() - started:.1f} s",
                file=sys.__stderr__,
                flush=True,
            )


class Executive(Dashboard):
    title = "Executive dashboard"

    def __init__(self, wb: Workbench | None = None, team: str | None = None):
        super().__init__(wb, team)
        services = _services(self.workbench, self.chosen_team)
        service = self.link.get("service")
        chosen = service if service in services else ALL_SERVICES
        self.service = _dropdown("Service (SLOs)", [ALL_SERVICES, *services], chosen)
        self.service.observe(lambda change: self.refresh(), names="value")
        self.team.observe(lambda change: self._services_of_team(), names="value")

    def _services_of_team(self) -> None:
        options = [ALL_SERVICES, *_services(self.workbench, self.chosen_team)]
        self.service.options = options  # resets the value to the first option when it is gone
        if self.service.value not in options:
            self.service.value = ALL_SERVICES

    def shown(self, summary: PeriodSummary) -> PeriodSummary:
        return _only_service(summary, None if self.service.value == ALL_SERVICES else self.service.value)

    def drill_down(self) -> widgets.Widget:
        buttons = []
        for name in self.workbench.catalogue.teams:
            button = widgets.Button(description=f"{name} ›", tooltip=f"Show team {name}")
            button.on_click(lambda _b, team=name: setattr(self.team, "value", team))
            buttons.append(button)
        home = widgets.Button(description="Whole organisation", tooltip="Back to the whole organisation")
        home.on_click(lambda _b: setattr(self.team, "value", ORG))
        return widgets.HBox([home, *buttons], layout=widgets.Layout(flex_flow="row wrap"))

    def layout(self) -> widgets.Widget:
        filters = widgets.HBox([self.period, self.team, self.service], layout=widgets.Layout(flex_flow="row wrap"))
        return widgets.VBox(
            [
                self.header,
                filters,
                self.status,
                self.html_view(report.tiles),
                _section("Drill down into a team", self.drill_down()),
                _section(
                    "Trends",
                    widgets.HBox(
                        [
                            self.chart_view(charts.incidents_by_severity, "No incidents in the trend."),
                            self.chart_view(charts.time_to_resolve, "No resolved incidents in the trend."),
                        ],
                        layout=widgets.Layout(flex_flow="row wrap"),
                    ),
                ),
                _section("SLOs rolled up", self.html_view(report.rollup_table)),
                _section("SLOs", self.html_view(self.slo_table)),
                _section("SLO status by period", self.chart_view(charts.slo_status_grid, "No SLO data.")),
                _section("Notable incidents", self.html_view(lambda s: report.incident_table(s, INCIDENT_ROWS))),
            ]
        )


class Team(Dashboard):
    title = "Team dashboard"

    whole_org = False  # one team at a time

    def layout(self) -> widgets.Widget:
        return widgets.VBox(
            [
                self.header,
                widgets.HBox([self.period, self.team]),
                self.status,
                self.html_view(report.tiles),
                _section("SLOs rolled up", self.html_view(report.rollup_table)),
                _section("SLOs", self.html_view(self.slo_table)),
                _section("Error budgets and alerts", self.html_view(report.budget_table)),
                _section("Incidents", self.html_view(lambda s: report.incident_table(s, INCIDENT_ROWS))),
                _section("Delivery (the four keys)", self.html_view(report.delivery_table)),
                _section("Adoption of SRE practices", self.html_view(report.adoption_table)),
            ]
        )


class SloExplorer(Dashboard):
    title = "SLO explorer"

    def __init__(self, wb: Workbench | None = None, slo: str | None = None):
        super().__init__(wb)
        first = self.summary()
        names = sorted(first.slos)
        slo = slo or self.link.get("slo")
        self.slo = _dropdown("SLO", names, slo if slo in names else (names[0] if names else None))
        self.slo.observe(lambda change: self.refresh(), names="value")

    def shown(self, summary: PeriodSummary) -> PeriodSummary:
        name = self.slo.value if hasattr(self, "slo") else None
        if name is None:
            return summary
        slos = {n: s for n, s in summary.slos.items() if n == name}
        budgets = {n: b for n, b in summary.slo_budgets.items() if n == name}
        quality = {n: q for n, q in summary.data_quality.items() if n == name}
        return summary.model_copy(update={"slos": slos, "slo_budgets": budgets, "data_quality": quality})

    def layout(self) -> widgets.Widget:
        return widgets.VBox(
            [
                self.header,
                widgets.HBox([self.period, self.team, self.slo], layout=widgets.Layout(flex_flow="row wrap")),
                self.status,
                self.html_view(lambda s: report.slo_document(s, self.slo.value) if self.slo.value else ""),
                _section(
                    "Error budget burn-down",
                    self.chart_view(lambda s: charts.burn_down(s, only=[self.slo.value]), "No traffic in the period."),
                ),
                _section("Burn rates and multiwindow alerts", self.html_view(report.alert_table)),
                _section(
                    "Error budget policy ledger",
                    self.html_view(lambda s: report.ledger_table(s, self.slo.value) if self.slo.value else ""),
                ),
            ]
        )
