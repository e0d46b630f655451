"""Live dashboards: the real voila server (`srelib dashboard`) opened in Debian's Chromium.

The server runs on a copy of the demo workbench, on 127.0.0.1, and is stopped at the end of
the module; every page request outside 127.0.0.1 is blocked and recorded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from srelib.config import Workbench
from srelib.period import Period
from srelib.present import format as show
from srelib.serve import first_paint
from tests.conftest import RESULTS, open_offline
from tests.runs import srelib

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to a login page) is the answer itself


def get(url: str, follow: bool = False) -> int:
    """The HTTP status of GET ``url`` (after its redirects, if ``follow``)."""
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Server:
    """``srelib dashboard ARGS`` on a free port, once ``ready`` is in its log. A port taken between
    :func:`free_port` and the server's start (by a kernel of another test, say) makes the server
    refuse to start (it never moves to another port), and it is started again on another one."""

    def __init__(self, root: Path, *args: str, ready: str = "drawn in kernel"):
        self.tmp = root / f"tmp-{os.getpid()}-{time.monotonic_ns()}"  # where the server keeps its summary cache
        self.tmp.mkdir()
        for _ in range(3):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}/"
            self.log = root / f"dashboard-{self.port}.log"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "srelib", "dashboard", *args, "--port", str(self.port)],
                cwd=root,
                env={**os.environ, "TMPDIR": str(self.tmp)},
                stdout=self.log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._started(ready):
                return
        raise AssertionError(f"no free port in three tries: {self.log.read_text()}")

    def _started(self, ready: str) -> bool:
        deadline = time.monotonic() + 120
        while ready not in self.log.read_text():  # by default: a preheated kernel has drawn the dashboard
            if self.process.poll() is not None:
                assert re.search("is not free|no available port", self.log.read_text()), self.log.read_text()
                return False
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.5)
        return True

    def helpers(self) -> list[int]:
        """The server's child processes: its warmer (and multiprocessing's resource tracker) and kernels."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def assert_gone(self, helpers: list[int]) -> None:
        """Once stopped: its ``helpers`` (warmer, kernels) end within 20 s and its summary cache is removed."""
        deadline = time.monotonic() + 20
        while [pid for pid in helpers if Path(f"/proc/{pid}").exists()] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()], helpers
        assert not list(self.tmp.glob("srelib-dashboard-*"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # SIGINT asks for confirmation
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def served(demo_workbench: Workbench, tmp_path_factory) -> Iterator[tuple[Workbench, Server]]:
    import shutil

    root = tmp_path_factory.mktemp("dashboard") / "workbench"
    shutil.copytree(demo_workbench.root / "params", root / "params")
    (root / "warehouse").mkdir()
    shutil.copy(demo_workbench.warehouse_path, root / "warehouse" / demo_workbench.warehouse_path.name)
    workbench = Workbench.load(root)
    server = Server(root, "--no-warm")  # the warmer has a test of its own
    yield workbench, server
    helpers = server.helpers()
    server.stop()
    # Stopping the server stops its kernels and removes its summary cache.
    server.assert_gone(helpers)


def metrics(workbench: Workbench, period: Period, team: str | None = None) -> dict:
    args = ["metrics", "--period", period.label, "--json", *(["--team", team] if team else [])]
    result = srelib(workbench.root, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


FIRST_PAINT = """() => {
  const paint = document.querySelector('body > .srelib-first-paint');
  if (!paint || !paint.querySelector('.srelib-tile-value')) return null;
  const texts = (selector) => [...paint.querySelectorAll(selector)].map(e => e.innerText);
  const labels = texts('.srelib-tile .srelib-tile-label'), values = texts('.srelib-tile .srelib-tile-value');
  return {
    tiles: Object.fromEntries(labels.map((label, i) => [label, values[i]])),
    live: document.querySelector('#rendered_cells .srelib-drawn') !== null,
    disabled: [...paint.querySelectorAll('select')].filter(s => s.disabled).length,
    spinner: document.getElementById('loading') ? getComputedStyle(document.getElementById('loading')).display : 'gone',
  };
}"""


def tiles(page) -> dict[str, str]:
    values = page.locator(".srelib-tile .srelib-tile-value").all_inner_texts()
    labels = page.locator(".srelib-tile .srelib-tile-label").all_inner_texts()
    return dict(zip(labels, values, strict=True))


def expected_tiles(figures: dict) -> dict[str, str]:
    statuses = [s["status"] for s in figures["slos"].values()]
    return {
        "Incidents": str(figures["incidents"]["count"]),
        "Median time to resolve": show.minutes(figures["incidents"]["mttr_minutes"]["median"]),
        "SLOs met / at risk / breached": f"{statuses.count('met')} / {statuses.count('at_risk')} / "
        f"{statuses.count('breached')}",
    }


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_executive_dashboard_shows_the_same_numbers_as_srelib_metrics_and_follows_the_team_filter(
    served, demo_end: Period, browser
):
    workbench, server = served
    page, problems = open_offline(browser, server.url, wait_until="commit")
    page.set_viewport_size({"width": 1280, "height": 1000})
    # The page shows its first view before its widgets are live (srelib/serve/first_paint.py) ...
    first = page.wait_for_function(FIRST_PAINT, timeout=60_000, polling="raf").json_value()
    org = metrics(workbench, demo_end)
    assert {k: first["tiles"][k] for k in expected_tiles(org)} == expected_tiles(org)
    assert not first["live"] and first["disabled"] == 3 and first["spinner"] in ("none", "gone")
    # ... and, once they have drawn, theirs alone: the same figures, each once
    page.wait_for_selector(".srelib-first-paint", state="detached", timeout=60_000)
    page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=30_000)
    shown = tiles(page)
    assert shown == first["tiles"] and page.locator(".srelib-tile").count() == len(shown)
    assert "Return on investment" in shown and "Saved: toil and cloud cost" in shown
    plan = org["programme"]  # the programme against its plan: "7 of 9" success criteria met
    assert shown["Programme: success criteria met"] == f"{plan['criteria_met']} of {plan['criteria_count']}"
    assert page.locator(".vega-embed svg, .vega-embed canvas").count() >= 3  # the trend charts are drawn
    text = page.inner_text("body")
    assert "Executive dashboard: " + demo_end.title in text and workbench.org.name in text
    assert "from srelib" not in text and "import" not in text  # no source code
    prompts = page.locator(".jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt").all_inner_texts()
    assert not "".join(prompts).strip()  # no code, no In [1]: or Out[1]:
    assert page.locator(".jp-CodeMirrorEditor, .cm-editor, .highlight").count() == 0
    page.screenshot(path=str(RESULTS / "dashboard_executive.png"), full_page=True)

    page.select_option("select >> nth=1", label="payments")  # the Team dropdown
    team = metrics(workbench, demo_end, "payments")
    expected = expected_tiles(team)
    page.wait_for_function(
        "expected => [...document.querySelectorAll('.srelib-tile-value')][0].innerText === expected",
        arg=expected["Incidents"],
        timeout=30_000,
    )
    page.wait_for_timeout(500)
    shown = tiles(page)
    assert {k: shown[k] for k in expected} == expected
    assert "team payments" in page.inner_text("body").lower()  # the header names the scope
    # (the SLO table marks an SLO resting on too little data with a dagger)
    slo_names = [t.rstrip("†") for t in page.locator(".srelib-table td:first-child").all_inner_texts()]
    assert set(team["slos"]).issubset(set(slo_names)) and "auth-availability" not in slo_names

    page.get_by_role("button", name="Whole organisation").click()  # drill back up
    page.wait_for_function(
        "expected => [...document.querySelectorAll('.srelib-tile-value')][0].innerText === expected",
        arg=str(org["incidents"]["count"]),
        timeout=30_000,
    )
    page.select_option("select >> nth=0", label=demo_end.previous().title)  # another period
    previous = metrics(workbench, demo_end.previous())
    page.wait_for_function(
        "title => document.body.innerText.includes(title)",
        arg="Executive dashboard: " + demo_end.previous().title,
        timeout=30_000,
    )
    page.wait_for_timeout(500)
    shown = tiles(page)
    assert {k: shown[k] for k in expected_tiles(previous)} == expected_tiles(previous)
    assert problems == {"errors": [], "blocked": []}  # every request went to 127.0.0.1
    page.close()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a_page_whose_widgets_never_draw_keeps_its_first_view_and_says_it_is_not_live(served, browser):
    """A proxy that does not pass websockets, a kernel gone: the first paint would look complete."""
    _, server = served
    page = browser.new_page()
    page.route_web_socket(re.compile(r".*/channels.*"), lambda socket: None)  # the kernel never answers
    page.goto(server.url, wait_until="commit")
    page.wait_for_selector(".srelib-first-paint .srelib-tile-value", timeout=60_000)
    page.wait_for_selector(".srelib-first-paint .srelib-fp-late", timeout=60_000)  # after 20 s
    assert page.inner_text(".srelib-fp-late").startswith("Not live yet: the filters and charts need")
    assert page.locator("#rendered_cells .srelib-drawn").count() == 0
    page.close()


def test_the_server_keeps_notebooks_and_sources_private(served):
    _, server = served
    assert get(server.url) == 200
    for path in ("voila/files/executive.ipynb", "executive.ipynb", "voila/render/executive.ipynb", "api/contents"):
        assert get(server.url + path, follow=True) in (403, 404), path
    assert "127.0.0.1" in server.log.read_text() and "0.0.0.0" not in server.log.read_text()
    unknown = srelib(server.log.parent, "dashboard", "nope")
    assert unknown.returncode == 2 and "unknown dashboard 'nope': known dashboards are executive" in unknown.stderr


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_team_dashboard_behind_a_token(served, demo_end: Period, browser):
    workbench, _ = served
    server = Server(workbench.root, "team", "--token", "--no-warm")
    try:
        assert get(server.url) in (302, 403)  # to the login page, or refused
        line = next(line for line in server.log.read_text().splitlines() if line.startswith("serving the team"))
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        assert "?token=" in url
        page, problems = open_offline(browser, url)
        page.wait_for_selector(".srelib-tile-value", timeout=60_000)
        page.wait_for_selector(".srelib-first-paint", state="detached", timeout=60_000)  # the widgets drew
        team = workbench.catalogue.teams[0]  # the first team is shown first
        expected = expected_tiles(metrics(workbench, demo_end, team))
        assert {k: tiles(page)[k] for k in expected} == expected
        text = page.inner_text("body")
        for heading in ("Error budgets and alerts", "Delivery (the four keys)", "Adoption of SRE practices"):
            assert heading in text
        assert problems == {"errors": [], "blocked": []}
        page.close()
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_slo_explorer_shows_burn_down_burn_rates_and_alerts(served, demo_end: Period, browser):
    workbench, _ = served
    server = Server(workbench.root, "slo_explorer", "--no-warm")
    try:
        page, problems = open_offline(browser, server.url)
        page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=60_000)
        page.select_option("select >> nth=2", label="checkout-availability")
        page.wait_for_function(
            "() => document.body.innerText.includes('checkout-availability') &&"
            " document.body.innerText.includes('Would have fired for')",
            timeout=30_000,
        )
        page.wait_for_timeout(500)
        rows = page.locator("table", has_text="Would have fired for").last.locator("tbody tr").all_inner_texts()
        assert rows and all(row.startswith("checkout-availability") for row in rows)
        summary = metrics(workbench, demo_end)
        figures = summary["slo_budgets"]["checkout-availability"]
        fired = [a for a in figures["alerts"] if a["fired_minutes"]]
        assert len([r for r in rows if "never" not in r]) == len(fired)  # the alerts that would have fired
        # the policy ledger of the SLO: its budget exhausted by the SEV1, and the freeze decided after it
        # the burn-down draws what happened: the SEV1 that spent the budget, with its tooltip
        rules = page.locator(".vega-embed svg g.mark-rule line")
        assert rules.count() >= 2  # the zero line, and the incidents and notes
        rules.last.hover(force=True)
        page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
        assert "INC-" in page.inner_text("#vg-tooltip-element") or "Card processor" in page.inner_text(
            "#vg-tooltip-element"
        )
        ledger = page.locator("table", has_text="Decision that followed").last
        assert "budget exhausted: the policy freezes releases" in ledger.inner_text()
        assert "Release freeze" in ledger.inner_text()
        assert all("checkout-availability" in row for row in ledger.locator("tbody tr").all_inner_texts())
        page.screenshot(path=str(RESULTS / "dashboard_slo_explorer.png"), full_page=True)
        assert problems == {"errors": [], "blocked": []}
        page.close()
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a_reader_drills_down_from_the_organisation_to_one_slo(served, demo_end: Period, browser):
    """org → team (its button) → service (the filter) → SLO (its link opens the SLO explorer on it,
    for the same period); a link into a view opens the dashboard on that view."""
    workbench, server = served
    # no preheated kernel: a page opened by a link gets a kernel started for it
    explorer = Server(workbench.root, "slo_explorer", "--no-warm", "--pool-size", "0", ready="is running at")
    publish = workbench.root / "params" / "publish.yaml"
    publish.write_text(f"explorer_url: {explorer.url}\n", encoding="utf-8")
    try:
        period = demo_end.previous()  # not the first the menu offers: the link chose it
        page, problems = open_offline(browser, f"{server.url}?period={period.label}")
        page.wait_for_function(
            "title => document.body.innerText.includes(title)",
            arg=f"Executive dashboard: {period.title}",
            timeout=60_000,
        )
        page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=30_000)  # the widgets are live
        page.get_by_role("button", name="payments ›").click()  # the organisation → a team
        page.wait_for_function("() => document.body.innerText.toLowerCase().includes('team payments')")
        slos = metrics(workbench, period, "payments")["slos"]
        service = slos["checkout-availability"]["service"]
        page.select_option("select >> nth=2", label=service)  # the team → one of its services
        expected = sorted(name for name, slo in slos.items() if slo["service"] == service)
        links = page.locator("a.srelib-explore")
        page.wait_for_function("n => document.querySelectorAll('a.srelib-explore').length === n", arg=len(expected))
        assert sorted(links.all_inner_texts()) == expected
        rollup = page.locator("table", has_text="Composite").last.locator("tbody tr").all_inner_texts()
        assert len(rollup) == 1 and rollup[0].strip().startswith(service)  # the service's roll-up alone

        links.filter(has_text="checkout-availability").click()  # the service → one SLO, in the explorer
        # voila streams the page while a kernel started for it runs the notebook: the address
        # changes at once, the page has loaded once the dashboard is drawn
        page.wait_for_url(f"{explorer.url}?slo=checkout-availability&period={period.label}", wait_until="commit")
        page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=90_000)
        page.wait_for_function("() => document.body.innerText.includes('Would have fired for')", timeout=30_000)
        chosen = page.locator("select").evaluate_all("selects => selects.map(s => s.selectedOptions[0].text)")
        chosen = [text.replace("\xa0", " ") for text in chosen]  # the widget's options keep their spaces
        assert chosen[0].startswith(period.title) and chosen[2] == "checkout-availability"
        assert f"SLO explorer: {period.title}" in page.inner_text("body")
        page.screenshot(path=str(RESULTS / "dashboard_drill_down.png"), full_page=True)
        assert problems == {"errors": [], "blocked": []}  # the beacon shutting the page's kernel down was taken
        deadline = time.monotonic() + 20
        while "Kernel shutdown" not in server.log.read_text():  # the page left: its kernel went with it
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.25)
        page.close()
    finally:
        publish.unlink()
        explorer.stop()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["team", "slo_explorer", "executive"])
def test_every_dashboard_notebook_runs_as_in_jupyterlab(served, name):
    """As an analyst running the notebook in JupyterLab (the voila preview runs the same cells)."""
    import nbformat
    from nbclient import NotebookClient

    from srelib.run.kernels import IpcKernelManager

    workbench, _ = served
    notebook = nbformat.read(REPO / "notebooks" / "dashboards" / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", resources={"metadata": {"path": str(workbench.root)}}, timeout=120
    )
    client.kernel_manager_class = IpcKernelManager
    client.execute()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not [o for o in outputs if first_paint.MIME in o.get("data", {})]  # srelib dashboard's pages only
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views  # the dashboard's widgets


@pytest.mark.timeout(200)
def test_a_published_summary_is_reused_only_while_it_matches_the_warehouse(bench: Workbench, demo_end: Period):
    """Scheduled runs publish each period's summary.json; a dashboard shows it instead of
    computing it again, unless the warehouse has had an ingest since."""
    import duckdb

    from srelib.present.policy import with_reasons
    from srelib.run.report import run_report
    from srelib.serve.dashboards import summaries
    from srelib.summary import PeriodSummary

    run_report(bench, "executive_summary", demo_end)
    published = PeriodSummary.read(bench.outputs_path / demo_end.label / "summary.json")
    assert summaries(bench).get(demo_end, None) == published
    assert summaries(bench).get(demo_end, "payments").team == "payments"  # no published one: computed
    with duckdb.connect(str(bench.warehouse_path)) as con:
        con.execute("INSERT INTO ingests VALUES (now(), 'x', 'a-new-fingerprint', '{}', 'test')")
    fresh = with_reasons(summaries(bench).get(demo_end, None))  # published with the policy's words
    assert fresh.input_fingerprint == "a-new-fingerprint"
    assert fresh.model_dump(exclude={"generated_at", "input_fingerprint"}) == published.model_dump(
        exclude={"generated_at", "input_fingerprint"}
    )


@pytest.mark.timeout(200)
def test_a_view_that_takes_long_says_it_is_being_computed_and_errors_are_plain_text(bench: Workbench, monkeypatch):
    from srelib.serve import dashboards

    dashboard = dashboards.Executive(bench)
    dashboard.refresh()
    real, seen = dashboard.summaries.get, []

    def slow(period: str, team: str | None):
        time.sleep(1.0)  # a summary not computed yet, on a large warehouse
        seen.append(dashboard.status.value)
        return real(period, team)

    monkeypatch.setattr(dashboard.summaries, "get", slow)
    dashboard.team.value = "payments"
    title = dict((v, t) for t, v in dashboard.period.options)[dashboard.period.value]
    assert seen == [f"<span class='srelib-dashboard-busy'>Computing {title} for payments…</span>"]
    assert dashboard.status.value == "" and "Team payments" in dashboard.header.value

    def failing(period: str, team: str | None):
        raise ValueError("no <b>data</b> for this view")

    monkeypatch.setattr(dashboard.summaries, "get", failing)
    dashboard.team.value = dashboards.ORG
    assert "no &lt;b&gt;data&lt;/b&gt; for this view" in dashboard.status.value


@pytest.mark.timeout(200)
def test_the_warmer_computes_every_view_ahead_and_again_after_an_ingest(
    bench: Workbench, demo_end: Period, monkeypatch, tmp_path: Path
):
    """``srelib dashboard``'s helper: every period × scope into the server's cache, once per
    ingest; the summaries of an earlier ingest are removed."""
    import threading

    import duckdb

    from srelib.ingest.warehouse import connect
    from srelib.serve import warm
    from srelib.summary import PeriodSummary, build_summary

    labels = [demo_end.label, demo_end.previous().label]  # two of the periods offered keep it short
    monkeypatch.setattr(warm, "periods", lambda wb, count=12: labels)
    monkeypatch.setattr(warm, "PAUSE", 0)
    cache = tmp_path / "cache"
    cache.mkdir()
    lines: list[str] = []
    stop = threading.Event()
    # When the newest period's views are ready, the warmer yields the CPU (once, not after each ingest).
    yielded: list[int] = []
    warmer = threading.Thread(
        target=warm.warm,
        args=(bench, cache, lambda: not stop.is_set(), lines.append, 0.2),
        kwargs={"first_ready": lambda: yielded.append(len(list(cache.glob("*.json"))))},
    )

    def ready(times: int) -> None:
        deadline = time.monotonic() + 150
        while sum("views ready" in line for line in lines) < times:
            assert warmer.is_alive() and time.monotonic() < deadline, lines
            time.sleep(0.2)

    scopes = [None, *bench.catalogue.teams]
    warmer.start()
    try:
        ready(1)
        assert f"{2 * len(scopes)} summaries (2 periods × {len(scopes)} scopes)" in lines[-1]
        with connect(bench.warehouse_path) as con:
            fingerprint = con.execute("SELECT fingerprint FROM ingests").fetchall()[-1][0]
            computed = {(s.period, s.team): s for s in map(PeriodSummary.read, cache.glob("*.json"))}
            assert set(computed) == {(label, team) for label in labels for team in scopes}
            assert all(s.input_fingerprint == fingerprint for s in computed.values())
            team = scopes[1]
            alone = build_summary(con, bench, demo_end, team).model_dump(exclude={"generated_at"})
            assert computed[(demo_end.label, team)].model_dump(exclude={"generated_at"}) == alone
        time.sleep(1)  # it looks again every 0.2 s: nothing new, nothing computed
        assert sum("views ready" in line for line in lines) == 1
        deadline = time.monotonic() + 30
        while True:  # the warmer, in this process, looks at the warehouse read-only every 0.2 s
            try:
                with duckdb.connect(str(bench.warehouse_path)) as con:
                    con.execute("INSERT INTO ingests VALUES (now(), 'x', 'a-new-fingerprint', '{}', 'test')")
                break
            except duckdb.ConnectionException:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        ready(2)
        names = [p.name for p in cache.iterdir()]
        assert len([n for n in names if n.endswith(".json")]) == 2 * len(scopes)
        assert all(n.startswith("a-new-fingerprint--") for n in names), names
        assert yielded == [len(scopes)]  # once, with the newest period and its teams computed
    finally:
        stop.set()
        warmer.join(60)
    assert not warmer.is_alive()


@pytest.mark.timeout(200)
def test_views_the_warmer_could_not_compute_are_tried_again(bench: Workbench, demo_end: Period, monkeypatch, tmp_path):
    """A view that fails (an ingest held the warehouse, say) is tried again on the next pass, and
    the views are ready only when all are there; a view that keeps failing is given up after
    ``ATTEMPTS`` passes, and the warmer says how many are missing."""
    import threading

    from srelib.serve import warm

    monkeypatch.setattr(warm, "periods", lambda wb, count=12: [demo_end.label])
    monkeypatch.setattr(warm, "PAUSE", 0)
    real = warm.summaries
    failures = {"payments": 1, "platform": 99}  # payments fails once; platform always

    class Flaky:
        def __init__(self, *args, **kwargs):
            self.views = real(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.views, name)

        def get(self, period: Period, team: str | None):
            if failures.get(team or "", 0) > 0:
                failures[team or ""] -= 1
                raise OSError("Could not set lock on file")
            return self.views.get(period, team)

    monkeypatch.setattr(warm, "summaries", Flaky)
    lines: list[str] = []
    stop = threading.Event()
    warmer = threading.Thread(target=warm.warm, args=(bench, tmp_path, lambda: not stop.is_set(), lines.append, 0.1))
    warmer.start()
    try:
        deadline = time.monotonic() + 150
        while not any("views ready" in line for line in lines):
            assert warmer.is_alive() and time.monotonic() < deadline, lines
            time.sleep(0.1)
    finally:
        stop.set()
        warmer.join(60)
    scopes = 1 + len(bench.catalogue.teams)
    tries = [line for line in lines if "not computed yet" in line]
    assert tries == [
        "2 dashboard views not computed yet: trying again in 0 s",
        "1 dashboard views not computed yet: trying again in 0 s",
    ]
    assert f"{scopes - 1} summaries (1 periods × {scopes} scopes)" in lines[-1]
    assert lines[-1].endswith("; 1 could not be computed")
    assert len(list(tmp_path.glob("*.json"))) == scopes - 1


@pytest.mark.timeout(300)
def test_the_server_computes_views_ahead_while_an_ingest_and_a_report_run_work(
    bench: Workbench, demo_workbench: Workbench, demo_end: Period
):
    """The server's warmer computes the views of the filters into the cache the pages read (the
    in-process test above follows it to the end); dashboards are read-only: with a page open
    and the warmer computing, an ingest and a report run work; stopping the server stops the
    warmer and removes its cache."""
    from srelib.ingest.warehouse import connect, latest_fingerprint
    from srelib.serve.dashboards import periods

    server = Server(bench.root)
    try:
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in server.helpers()]
        assert any(b"multiprocessing.spawn" in c for c in commands), "no warmer process"
        newest = periods(bench)[0]
        scopes = 1 + len(bench.catalogue.teams)
        deadline = time.monotonic() + 200
        while f"dashboard views of {newest} ready: {scopes} summaries" not in server.log.read_text():
            assert time.monotonic() < deadline and server.process.poll() is None, server.log.read_text()
            time.sleep(0.5)
        (cache,) = server.tmp.glob("srelib-dashboard-*")
        with connect(bench.warehouse_path) as con:
            fingerprint = latest_fingerprint(con)
        names = {p.name for p in cache.glob("*.json")}
        assert len(names) >= scopes and all(name.startswith(f"{fingerprint}--") for name in names), names

        assert get(server.url) == 200  # a viewer's kernel has read the warehouse
        ingest = srelib(bench.root, "ingest", "--data", str(demo_workbench.root / "data" / "demo"))
        assert ingest.returncode == 0, ingest.stderr
        run = srelib(bench.root, "run", "executive_summary", "--period", demo_end.label)
        assert run.returncode == 0, run.stderr
        assert get(server.url) == 200
        helpers = server.helpers()
    finally:
        server.stop()
    server.assert_gone(helpers)


@pytest.mark.browser
@pytest.mark.timeout(200)
def test_a_failing_dashboard_shows_no_traceback(served, browser):
    """A workbench's own dashboard whose cell fails: the page says so without code or traceback."""
    import nbformat

    workbench, _ = served
    folder = workbench.root / "notebooks" / "dashboards"
    folder.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("secret_formula = 42\nraise RuntimeError('internal detail xyz')")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "broken.ipynb")
    server = Server(workbench.root, "broken", "--pool-size", "0", "--no-warm", ready="Voilà is running at")
    try:
        page, _ = open_offline(browser, server.url)
        page.wait_for_function("() => document.body.innerText.includes('There was an error')", timeout=60_000)
        text = page.inner_text("body")
        assert "secret_formula" not in text and "internal detail xyz" not in text and "Traceback" not in text
        page.close()
    finally:
        server.stop()
        (folder / "broken.ipynb").unlink()
