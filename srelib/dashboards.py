"""Live dashboards (voila): the same PeriodSummary as the reports, behind ipywidgets filters.

Each dashboard notebook in ``notebooks/dashboards/`` calls one function here, which returns a
widget tree: filters on top, figures below. Every figure comes from
:func:`srelib.summary.build_summary` for the chosen period and team, rendered with the same
tiles, tables and charts as the reports, so a dashboard and the report for the same period and
team agree exactly.

- **Read-only.** Each computation opens a read-only DuckDB connection and closes it at once,
  so dashboards never write anything, any number of viewers coexist with report runs, and an
  ingest is never held up for longer than one computation.
- **Fast.** Summaries are cached per (period, team). ``srelib dashboard`` computes every view
  its filters offer ahead of time (:func:`warm`, at low priority, again after each ingest), so
  a filter change only redraws; a team's summary not yet computed is built on the
  organisation's, which the first view already has.
"""

from __future__ import annotations

import contextlib
import html
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from srelib import __version__, charts, report
from srelib.config import Workbench
from srelib.files import atomic_write, locked
from srelib.period import Period, zone
from srelib.run import report_folder
from srelib.summary import PeriodSummary, build_summary
from srelib.warehouse import connect, latest_fingerprint

ORG = "Whole organisation"
WARM_PAUSE = 0.2  # seconds between two computations of the warmer: a gap for a writer (an ingest)
WARM_POLL = 15.0  # seconds between two looks at the warehouse for a new ingest
WARM_NICE = 10  # the warmer's priority (and its session's): a tenth of a busy CPU
ALL_SERVICES = "All services"
BUSY_AFTER = 0.4  # seconds of computing before a view says it is being computed
INCIDENT_ROWS = 25  # the worst SEV1/SEV2 incidents a dashboard lists; the monthly report has them all


def workbench() -> Workbench:
    """The workbench ``srelib dashboard`` serves (``SRELIB_WORKBENCH``), or the one around here."""
    return Workbench.find()


class Summaries:
    """PeriodSummary per (period, team): from memory, from a published ``summary.json`` or the
    server's shared cache when computed from the warehouse's latest ingest, else computed now.

    ``srelib dashboard`` gives its kernels one cache folder (``SRELIB_DASHBOARD_CACHE``, outside
    the workbench): a summary the server's warmer or one viewer's kernel computed is read by
    every other kernel in a fraction of a second. The memory keeps the ``MEMORY`` summaries
    used last.
    """

    MEMORY = 24

    def __init__(self, wb: Workbench, cache: Path | None = None, background: bool = False):
        self.workbench = wb
        # The server's warmer computes at low priority: a viewer's kernel must never wait for it
        # (it could wait for a starved process), so it holds no lock while computing.
        self.background = background
        where = os.environ.get("SRELIB_DASHBOARD_CACHE")
        self.cache = cache or (Path(where) if where else None)
        self._memory: OrderedDict[tuple[str, str | None], PeriodSummary] = OrderedDict()
        self._lock = threading.Lock()  # one computation at a time: DuckDB uses the cores itself

    def get(self, period: str, team: str | None) -> PeriodSummary:
        key = (period, team)
        with self._lock:
            if key not in self._memory:
                self._memory[key] = self._find(period, team)
                while len(self._memory) > self.MEMORY:
                    self._memory.popitem(last=False)
            self._memory.move_to_end(key)
            return self._memory[key]

    def _find(self, period: str, team: str | None) -> PeriodSummary:
        chosen = Period.parse(period, self.workbench.org.timezone)
        with connect(self.workbench.warehouse_path) as con:
            fingerprint = latest_fingerprint(con)
            found = self._stored(chosen, team, fingerprint)
            if found is not None:
                return found
            # A team's SLO figures are the organisation's, narrowed: when the org summary of this
            # period is at hand (it is the executive dashboard's first view), only the team's
            # incidents are left to compute.
            org = None if team is None else self._memory.get((period, None)) or self._stored(chosen, None, fingerprint)
            if self.cache is None or fingerprint is None:
                return build_summary(con, self.workbench, chosen, team, org)
            cached = self._cached(chosen, team, fingerprint)

            def read_or_compute() -> PeriodSummary:
                found = self._read(cached, fingerprint, team)
                if found is None:
                    found = build_summary(con, self.workbench, chosen, team, org)
                    atomic_write(cached, found.to_json())
                return found

            with locked(cached.with_suffix(".lock")):  # one kernel computes it, the others wait and read it
                if not self.background:
                    return read_or_compute()
            return read_or_compute()  # the warmer: after any kernel computing it, holding nothing

    def _cached(self, period: Period, team: str | None, fingerprint: str) -> Path:
        assert self.cache is not None
        return self.cache / f"{fingerprint}--{__version__}--{period.label}--{team or '_org'}.json"

    def _stored(self, period: Period, team: str | None, fingerprint: str | None) -> PeriodSummary | None:
        """The summary as published by a report run, or as computed by another of the server's
        kernels, when either was computed from the warehouse's current data."""
        published = report_folder(self.workbench.outputs_path, period, team) / "summary.json"
        found = self._read(published, fingerprint, team)
        if found is None and self.cache is not None and fingerprint is not None:
            found = self._read(self._cached(period, team, fingerprint), fingerprint, team)
        return found

    @staticmethod
    def _read(path: Path, fingerprint: str | None, team: str | None) -> PeriodSummary | None:
        """The summary in ``path`` if it was computed by this srelib from these inputs."""
        if fingerprint is None or not path.is_file():
            return None
        try:
            summary = PeriodSummary.read(path)
        except (OSError, ValueError):
            return None
        same = (summary.input_fingerprint, summary.team, summary.srelib_version) == (fingerprint, team, __version__)
        return summary if same else None

    def forget(self) -> None:
        """Empty the memory (the files stay)."""
        with self._lock:
            self._memory.clear()

    def periods(self, count: int = 12) -> list[str]:
        """The latest complete months with data (newest first), then the latest complete quarters."""
        tz = self.workbench.org.timezone
        with connect(self.workbench.warehouse_path) as con:
            newest_data = "SELECT max(timestamp) AS t FROM sli UNION ALL SELECT max(started_at) FROM incidents"
            last = con.execute(f"SELECT max(t) FROM ({newest_data})").fetchall()[0][0]
        labels = []
        for kind, n in (("month", count), ("quarter", 4)):
            newest = Period.latest_complete(kind, tz)
            if last is not None:
                with_data = Period.containing(kind, last.replace(tzinfo=UTC).astimezone(zone(tz)).date(), tz)
                newest = min(newest, with_data, key=lambda p: p.start)
            labels += [p.label for p in reversed(newest.trailing(n))]
        return labels


def _services(wb: Workbench, team: str | None) -> list[str]:
    return sorted(name for name, s in wb.catalogue.services.items() if team is None or s.team == team)


def _only_service(summary: PeriodSummary, service: str | None) -> PeriodSummary:
    """The summary with its SLOs (and notable incidents) narrowed to one service."""
    if service is None:
        return summary
    slos = {n: s for n, s in summary.slos.items() if s.service == service}
    budgets = {n: b for n, b in summary.slo_budgets.items() if n in slos}
    incidents = [i for i in summary.notable_incidents if i.service == service]
    return summary.model_copy(update={"slos": slos, "slo_budgets": budgets, "notable_incidents": incidents})


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
        self.summaries = Summaries(self.workbench)
        tz = self.workbench.org.timezone
        periods = [(Period.parse(label, tz).title, label) for label in self.summaries.periods()]
        self.period = _dropdown("Period", periods, periods[0][1])
        teams = list(self.workbench.catalogue.teams)
        options = [ORG, *teams] if self.whole_org else teams
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
            with view:
                display(report.chart(build(summary), empty))

        self.views.append((draw, view))
        return view

    def summary(self) -> PeriodSummary:
        return self.summaries.get(self.period.value, self.chosen_team)

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
        display(self.banner())
        page = self.layout()
        page.add_class("srelib-dashboard")
        self.refresh()
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
        self.service = _dropdown("Service (SLOs)", [ALL_SERVICES, *_services(self.workbench, None)], ALL_SERVICES)
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
                _section("SLOs", self.html_view(report.slo_table)),
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
                _section("SLOs", self.html_view(report.slo_table)),
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
        self.slo = _dropdown("SLO", names, slo if slo in names else (names[0] if names else None))
        self.slo.observe(lambda change: self.refresh(), names="value")

    def shown(self, summary: PeriodSummary) -> PeriodSummary:
        name = self.slo.value if hasattr(self, "slo") else None
        if name is None:
            return summary
        slos = {n: s for n, s in summary.slos.items() if n == name}
        budgets = {n: b for n, b in summary.slo_budgets.items() if n == name}
        return summary.model_copy(update={"slos": slos, "slo_budgets": budgets})

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
            ]
        )


DASHBOARDS: dict[str, type[Dashboard]] = {"executive": Executive, "team": Team, "slo_explorer": SloExplorer}


def warm(
    wb: Workbench,
    cache: Path,
    keep_going: Callable[[], bool] = lambda: True,
    log: Callable[[str], None] = print,
    poll: float = WARM_POLL,
) -> None:
    """Compute every view the dashboards offer (each period × the organisation and each team)
    into ``cache``: the newest period and its teams, the organisation of each other period
    (newest first), then their teams; then watch the warehouse and start again after each
    ingest. Runs until ``keep_going()`` is false.

    Each summary is computed on a read-only connection held only while computing, with a pause
    between two, so an ingest waiting for the warehouse gets in within one computation.
    """
    summaries = Summaries(wb, cache, background=True)
    teams: list[str | None] = [None, *wb.catalogue.teams]
    ready_for = None
    while keep_going():
        try:
            with connect(wb.warehouse_path) as con:
                fingerprint = latest_fingerprint(con)
            periods = summaries.periods() if fingerprint != ready_for else []
        except Exception as exc:  # the warehouse is being replaced, say: look again later
            log(f"cannot read the warehouse yet: {exc}")
            periods = []
        started, computed = time.monotonic(), set()
        if periods:
            _forget_other_data(cache, fingerprint)
        # The newest period (the page's first view) with its teams, then the organisation of
        # every other period (a period change needs it; a team is quick once it is there), then
        # their teams. In memory: one period's summaries at a time.
        batches = [[(p, None)] + ([(p, t) for t in teams[1:]] if i == 0 else []) for i, p in enumerate(periods)]
        batches += [[(p, t) for t in teams] for p in periods[1:]]  # the organisation's is read back first
        for batch in batches:
            summaries.forget()
            for period, team in batch:
                if not keep_going():
                    return
                time.sleep(WARM_PAUSE)
                try:
                    summaries.get(period, team)
                    computed.add((period, team))
                except Exception as exc:
                    log(f"cannot compute {period} {team or 'organisation'}: {exc}")
        if periods:
            ready_for = fingerprint
            log(
                f"dashboard views ready: {len(computed)} summaries ({len(periods)} periods × {len(teams)} scopes) "
                f"in {time.monotonic() - started:.0f} s"
            )
        deadline = time.monotonic() + poll
        while keep_going() and time.monotonic() < deadline:
            time.sleep(min(1.0, poll))


def _forget_other_data(cache: Path, fingerprint: str | None) -> None:
    """Remove the cached summaries of earlier ingests: nobody will ask for them again."""
    for path in cache.glob("*--*"):
        if not path.name.startswith(f"{fingerprint}--"):
            path.unlink(missing_ok=True)


def warm_in_background(root: Path, cache: Path, parent: int) -> None:
    """:func:`warm` as ``srelib dashboard``'s helper process, until its parent (the server) is
    gone, at low priority: in a session of its own (Ctrl-C is the server's to handle), whose
    scheduling group is niced too, since Linux shares the CPU between sessions first
    (autogroups) and a nice value alone would not yield to the visitors' kernels. Nice 10 (about
    a tenth of a busy CPU), not 19: an ingest waits for the warehouse while it computes."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.setsid()
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(WARM_NICE))
    with contextlib.suppress(OSError):
        os.nice(WARM_NICE)
    wb = Workbench.load(root)
    warm(
        wb,
        cache,
        keep_going=lambda: os.getppid() == parent,
        log=lambda line: print(f"srelib dashboard: {line}", file=sys.stderr, flush=True),
    )
