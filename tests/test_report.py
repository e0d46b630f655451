"""papermill runs the notebook on demo data; nbconvert renders a self-contained report."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest

from srelib.errors import ReportError
from srelib.present import format as show
from srelib.present import narrative
from srelib.run.report import run_report
from srelib.summary import PeriodSummary


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []  # URLs the page would fetch by itself
        self.anchors: list[str] = []  # URLs a reader may click

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.anchors.append(values["href"] or "")
        for name in ("src", "srcset", "data", "poster"):
            if values.get(name):
                self.loads.append(values[name] or "")
        if tag == "link" and values.get("href"):
            self.loads.append(values["href"] or "")


def _remote(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url.strip()))


def test_report_is_published_with_summary_and_manifest(demo_report: Path, demo_end):
    folder = demo_report.parent
    assert folder.name == demo_end.label
    names = {p.name for p in folder.iterdir() if p.is_file()}
    assert {"manifest.json", "monthly_reliability.html", "monthly_reliability.ipynb", "summary.json"} <= names
    manifest = json.loads((folder / "manifest.json").read_text())
    # Every file is a published report's (other tests publish beside it), nothing half-written.
    published = {"manifest.json", "summary.json"} | {
        f"{name}{ext}" for name in manifest["reports"] for ext in (".html", ".ipynb", ".txt")
    }
    assert names <= published, names - published
    entry = manifest["reports"]["monthly_reliability"]
    assert entry["status"] == "ok" and entry["parameters"]["period"] == demo_end.label
    assert entry["versions"]["papermill"] and entry["input_fingerprint"]
    assert not (folder.parent / ".staging").exists()
    index = (folder.parent / "index.html").read_text()
    assert f'href="{demo_end.label}/monthly_reliability.html"' in index


def test_html_loads_nothing_from_the_network_and_shows_no_code(demo_report: Path):
    html = demo_report.read_text()
    links = _Links()
    links.feed(html)
    assert [u for u in links.loads if _remote(u)] == []
    summary = PeriodSummary.read(demo_report.parent / "summary.json")
    postmortems = {i.postmortem_url for i in summary.notable_incidents}
    # The only outbound links are the incidents' postmortems, for readers to click.
    assert {u for u in links.anchors if _remote(u)} <= postmortems
    assert "require.js" not in html and "MathJax" not in html and "cdn.jsdelivr" not in html
    for code in (
        "report.load(",
        "summary_path",
        "injected-parameters",
        "hl-ipython3",
        'class="jp-InputPrompt',
        'class="jp-OutputPrompt',
    ):
        assert code not in html, code


def test_report_numbers_equal_the_summary(demo_report: Path):
    html = demo_report.read_text()
    summary = PeriodSummary.read(demo_report.parent / "summary.json")
    for sentence in narrative.messages(summary):
        assert sentence.split(":")[0].split(";")[0] in html.replace("&#39;", "'")
    for name, slo in summary.slos.items():
        # (an SLO resting on too little data has a marker and a footnote: docs/metrics.md, "Data quality")
        row = re.search(rf"<td>{re.escape(name)}(<sup [^>]*>(†|&dagger;)</sup>)?</td>.*?</tr>", html, re.S)
        assert row, name
        assert show.attainment(slo.attainment, slo.target) in row.group(0)
        assert show.target(slo.target) in row.group(0)
    assert f'<td class="num">{summary.incidents.count}</td>' in html
    assert (
        re.search(r"\b(nan|NaN|NaT|None)\b", re.sub(r"<(script|style).*?</(script|style)>", "", html, flags=re.S))
        is None
    )


def test_budget_policy_and_comparison_sections_show_the_summary_figures(demo_report: Path):
    import html as html_module

    from srelib.present.report import VERDICTS

    page = html_module.unescape(demo_report.read_text())
    summary = PeriodSummary.read(demo_report.parent / "summary.json")
    budgets = page[page.index("Error budgets at the end of the period") :]
    for name, budget in summary.slo_budgets.items():
        row = re.search(rf"<td>{re.escape(name)}</td>.*?</tr>", budgets, re.S)
        assert row, name
        assert show.budget(budget.rolling.error_budget_remaining) in row.group(0)
        assert show.attainment(budget.rolling.attainment, budget.rolling.target) in row.group(0)
    for service, policy in summary.error_budget_policy.items():
        assert policy.reason in page, service
    frozen = [s for s, p in summary.error_budget_policy.items() if p.state == "release_freeze"]
    # the demo's SEV1 spends checkout's budget; one failed refund in a few hundred, payments-api's
    assert frozen == ["checkout", "payments-api"]
    assert summary.reliability is not None
    comparisons = page[page.index("Compared with before") : page.index("Service level objectives")]
    for comparison in summary.reliability.comparisons.values():
        assert VERDICTS[comparison.mttr.verdict] in comparisons
        assert f"{comparison.mttr.n_before} / {comparison.mttr.n_after}" in comparisons


def test_follow_up_and_readiness_sections_show_the_summary_figures(demo_report: Path):
    import html as html_module

    from srelib.present import follow_up as view

    page = html_module.unescape(demo_report.read_text())
    summary = PeriodSummary.read(demo_report.parent / "summary.json")
    assert summary.follow_up is not None and summary.readiness is not None
    follow_up = page[page.index("Post-incident follow-up") : page.index("Production readiness and launches")]
    for row in view.follow_up_rows(summary):
        assert f'<td class="num">{row["value"]}</td>' in follow_up, row
    for row in view.overdue_action_rows(summary, 15):
        assert row["action"] in follow_up and row["overdue"] in follow_up
    for row in view.repeat_rows(summary):
        assert row["incident"] in follow_up and row["open"] in follow_up
    start = page.index("Services where that is not done")
    policy = page[start : page.index("SEV1 and SEV2 incidents", start)]
    for service, figures in summary.follow_up.by_service.items():
        cells = rf"<td>{re.escape(service)}</td>.*?<td class=\"num\">{figures.actions_overdue}</td>"
        assert re.search(cells, policy, re.S), service
    readiness = page[page.index("Production readiness and launches") :]
    for row in view.readiness_rows(summary):
        assert row["value"] in readiness and row["note"] in readiness
    for launch in summary.readiness.launches:
        assert launch.service in readiness


def test_summary_json_is_what_metrics_computes(demo_report: Path, demo_workbench, demo_end):
    from srelib.ingest.warehouse import connect
    from srelib.summary import build_summary

    written = json.loads((demo_report.parent / "summary.json").read_text())
    with connect(demo_workbench.warehouse_path) as con:
        fresh = build_summary(con, demo_workbench, demo_end).model_dump(mode="json")
    for key in ("incidents", "slos", "trend", "notable_incidents", "teams", "slo_budgets", "reliability", "delivery"):
        assert written[key] == fresh[key], key


def test_failed_run_keeps_the_notebook_and_the_earlier_report(demo_report: Path, demo_workbench, demo_end, tmp_path):
    before = demo_report.read_bytes()
    notebooks = demo_workbench.root / "notebooks"
    notebooks.mkdir(exist_ok=True)
    source = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "monthly_reliability.ipynb", 4)
    source.cells.insert(2, nbformat.v4.new_code_cell("raise RuntimeError('the warehouse caught fire')"))
    nbformat.write(source, notebooks / "monthly_reliability.ipynb")
    try:
        with pytest.raises(ReportError, match="the warehouse caught fire"):
            run_report(demo_workbench, "monthly_reliability", demo_end)
    finally:
        shutil.rmtree(notebooks)
    assert demo_report.read_bytes() == before
    failed = demo_workbench.outputs_path / "_failed" / demo_end.label / "monthly_reliability.ipynb"
    assert "the warehouse caught fire" in failed.read_text()
    assert not (demo_workbench.outputs_path / ".staging").exists()


def test_notebook_defaults_work_in_jupyterlab_after_demo(demo_workbench, demo_end, tmp_path):
    """An analyst opens notebooks/monthly_reliability.ipynb and runs all cells, parameters untouched."""
    notebooks = demo_workbench.root / "notebooks"
    notebooks.mkdir(exist_ok=True)
    source = Path(__file__).resolve().parents[1] / "notebooks" / "monthly_reliability.ipynb"
    shutil.copy(source, notebooks / source.name)
    try:
        executed = papermill.execute_notebook(
            str(notebooks / source.name),
            str(tmp_path / "out.ipynb"),
            kernel_name="python3",
            cwd=str(notebooks),
            progress_bar=False,
        )
    finally:
        shutil.rmtree(notebooks)
    outputs = json.dumps([c.get("outputs") for c in executed.cells])
    assert demo_end.title in outputs
    assert "srelib-chart" in outputs


def _shown(notebook: nbformat.NotebookNode) -> list[str]:
    """Everything a notebook's outputs show, charts' random element ids and the time the summary was
    computed left out (another report of the period may publish the folder's summary.json anew from
    the same data)."""
    shown = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts = [output.get("text", ""), *(str(v) for _, v in sorted(output.get("data", {}).items()))]
            texts = [re.sub(r"srelib-chart-[0-9a-f]+", "srelib-chart-ID", t) for t in texts if t]
            shown += [re.sub(r"computed \d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d", "computed T", t) for t in texts]
    return shown


@pytest.mark.timeout(600)
def test_the_notebook_kept_for_audit_re_runs_as_published_from_any_folder(demo_report: Path, tmp_path):
    """`python -m papermill outputs/P/monthly_reliability.ipynb out.ipynb` (issue 14): the executed
    notebook names the summary.json published beside it, so a re-run, here from a folder of its
    own, shows the same figures, sentences and tables as the run that published it."""
    import subprocess
    import sys

    published = demo_report.parent / "monthly_reliability.ipynb"
    notebook = nbformat.read(published, 4)
    parameters = notebook.metadata.papermill.parameters
    assert parameters["summary_path"] == str((demo_report.parent / "summary.json").resolve())
    injected = next(c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert f"summary_path = {json.dumps(parameters['summary_path'])}" in injected.source
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rerun = subprocess.run(
        [sys.executable, "-m", "papermill", str(published), "out.ipynb", "--no-progress-bar"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    again = nbformat.read(elsewhere / "out.ipynb", 4)
    summary = PeriodSummary.read(demo_report.parent / "summary.json")
    assert _shown(again) == _shown(notebook)
    shown = "\n".join(_shown(again))
    assert summary.title in shown and show.minutes(summary.incidents.mttr_minutes.median) in shown
    for sentence in narrative.messages(summary, "monthly_reliability"):
        assert sentence in shown, sentence


def test_notebook_is_thin_and_stored_without_outputs():
    source = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "monthly_reliability.ipynb", 4)
    code = [c for c in source.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs for c in code)
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines())
    nbformat.validate(source)


def test_a_long_incident_list_is_cut_to_the_worst_with_a_note():
    """Dashboards list the worst 25 SEV1/SEV2 incidents, saying how many there are in all;
    reports list them all."""
    from srelib.present import report
    from srelib.summary import NotableIncident

    def incident(n: int, severity: str, minutes: float | None, open_: bool = False) -> NotableIncident:
        return NotableIncident(
            incident_id=f"INC-{n}",
            title=f"Incident {n}",
            service="api",
            team="core",
            severity=severity,
            started_at=f"2026-10-{n:02d}T10:00+00:00",
            minutes_to_resolve=minutes,
            open=open_,
            customer_impact=True,
            postmortem_url=None,
        )

    incidents = [
        incident(1, "SEV2", 500),
        incident(2, "SEV1", 30),
        incident(3, "SEV1", 90),
        incident(4, "SEV2", None, open_=True),
        incident(5, "SEV1", None, open_=True),
        incident(6, "SEV2", 20),
    ]
    summary = PeriodSummary.model_construct(notable_incidents=incidents, title="October 2026")
    assert [i.incident_id for i in report.worst_incidents(summary, 4)] == ["INC-5", "INC-3", "INC-2", "INC-4"]
    cut = report.incident_table(summary, 3).data
    assert re.findall(r"INC-\d", cut) == ["INC-5", "INC-3", "INC-2"]
    assert "The 3 worst of 6 SEV1 and SEV2 incidents" in cut
    whole = report.incident_table(summary).data
    assert re.findall(r"INC-\d", whole) == [f"INC-{n}" for n in range(1, 7)] and "worst" not in whole
    assert "worst" not in report.incident_table(summary, 6).data
