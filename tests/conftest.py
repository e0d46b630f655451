"""Shared fixtures: throwaway workbenches, canonical data written row by row, the demo org."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

# jsonschema (imported by nbformat and altair) builds rfc3987_syntax's Earley grammar at import when
# that optional package is installed: ~2 s of every test process. It serves only jsonschema's "iri"
# format checks, which neither nbformat nor altair use, so the tests do without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from srelib.config import Workbench  # noqa: E402
from srelib.period import Period  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Real files from public projects, kept beside the repository; SRELIB_CONFORMANCE points elsewhere.
CONFORMANCE = Path(os.environ.get("SRELIB_CONFORMANCE") or REPO.parent / "shared" / "conformance")
INCIDENT_COLUMNS = [
    "incident_id",
    "title",
    "service",
    "team",
    "severity",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "customer_impact",
    "cause",
    "postmortem_url",
]


# Property tests: a few examples in the inner loop, many in CI (where CI is set). Either can be
# chosen with HYPOTHESIS_PROFILE=dev|ci; a failure found once is replayed from .hypothesis/ first.
settings.register_profile("dev", max_examples=15, deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


# The fast lane (`pytest -m "not slow"`) leaves out what starts kernels, servers or browsers or
# builds the demo organisation: tests that use these fixtures, and the modules that do so throughout.
SLOW_FIXTURES = {
    "demo_workbench",
    "demo_report",
    "demo_qbr",
    "demo_newsletter",
    "demo_digest",
    "bench",
    "browser",
    "prometheus",
    "scheduled",
    "served",
    "lab",
    "demo_bench",
}
SLOW_MODULES = {"test_benchmarks", "test_catalogue", "test_dashboard", "test_demo", "test_jupyterlab", "test_runner"}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the fast lane, the slow modules are not even imported (one imports nbformat: seconds)."""
    if config.getoption("markexpr", "").replace(" ", "") == "notslow" and collection_path.stem in SLOW_MODULES:
        return True
    return None


# Under pytest-xdist each worker builds its own session and module fixtures; the tests of these
# published demo reports go to one worker, so that each report runs once, and so do the tests of
# test_dashboard.py's dashboard server (with its warmer computing every view: minutes of CPU).
DEMO_REPORTS = {"demo_report", "demo_qbr", "demo_newsletter", "demo_digest"}
ONE_WORKER = {"served": "dashboard-server"}  # fixture: its tests' xdist group


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if module in SLOW_MODULES or SLOW_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xdist_group"):
            continue
        if DEMO_REPORTS & fixtures:
            item.add_marker(pytest.mark.xdist_group("demo-reports"))
        elif group := next((ONE_WORKER[f] for f in sorted(ONE_WORKER.keys() & fixtures)), None):
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Under pytest-xdist, a ``benchmark`` test runs while no other test runs, on any worker.

    A readers-writer lock over the run's workers: every test holds it shared, a benchmark holds
    it alone. A benchmark first takes the turnstile, so the other workers cannot keep starting
    tests (taking the shared lock again and again) while it waits.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        yield
        return
    import fcntl
    import tempfile

    folder = Path(tempfile.gettempdir())
    with (
        (folder / f"srelib-tests-{run}.turnstile").open("a") as turnstile,
        (folder / f"srelib-tests-{run}.lock").open("a") as lock,
    ):
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        alone = item.get_closest_marker("benchmark") is not None
        if not alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def conformance() -> Path:
    """../shared/conformance: real files from public projects. CI has it, so there its absence fails."""
    if not CONFORMANCE.is_dir():
        message = f"the conformance corpus is not at {CONFORMANCE}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CONFORMANCE


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(cwd: Path, *args: str) -> CliResult:
    """``srelib ARGS`` run in ``cwd`` in this process, through the same entry point as the installed
    command (exit codes and messages included): what a subprocess gives, without starting Python
    and importing pandas for every call. Tests of the installed command itself use a subprocess."""
    from srelib import cli

    out, err = io.StringIO(), io.StringIO()
    before, argv = Path.cwd(), sys.argv
    os.chdir(cwd)
    sys.argv = ["srelib", *args]
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(before)
        sys.argv = argv
    return CliResult(code, out.getvalue(), err.getvalue())


def write_csv(path: Path, columns: list[str], rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return path


def slo_document(name: str, service: str, target: float, method: str = "Occurrences", **objective: object) -> dict:
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": name},
        "spec": {
            "service": service,
            "budgetingMethod": method,
            "timeWindow": [{"duration": "30d", "isRolling": True}],
            "indicator": {
                "metadata": {"name": f"{name}-sli"},
                "spec": {
                    "ratioMetric": {
                        "good": {"metricSource": {"type": "Prometheus", "spec": {"query": "good"}}},
                        "total": {"metricSource": {"type": "Prometheus", "spec": {"query": "total"}}},
                    }
                },
            },
            "objectives": [{"target": target, **objective}],
        },
    }


def write_slos(directory: Path, documents: list[dict]) -> Path:
    path = directory / "slos.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


def make_workbench(root: Path, services: dict[str, str], timezone: str = "UTC") -> Workbench:
    (root / "params").mkdir(parents=True, exist_ok=True)
    (root / "params" / "org.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "Test Org",
                "timezone": timezone,
                "warehouse": "warehouse/test.duckdb",
                "data": "data",
                "outputs": "outputs",
            }
        ),
        encoding="utf-8",
    )
    (root / "params" / "services.yaml").write_text(
        yaml.safe_dump({"services": {s: {"team": t} for s, t in services.items()}}), encoding="utf-8"
    )
    return Workbench.load(root)


def ingest_small(workbench: Workbench, incidents: list[dict[str, object]], sli_at: str) -> None:
    """Ingest ``incidents`` (rows of incidents.csv), one SLI bucket at ``sli_at`` (9 good of 10)
    and the SLO it measures (api-availability of service api, 99 %) into ``workbench``."""
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import load

    data = workbench.root / "data"
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, incidents)
    write_csv(
        data / "sli.csv",
        ["timestamp", "slo", "good", "total"],
        [dict(timestamp=sli_at, slo="api-availability", good=9, total=10)],
    )
    write_slos(data, [slo_document("api-availability", "api", 0.99)])
    dataset = validate_directory(data)
    load(dataset, workbench.warehouse_path)
    dataset.con.close()


@pytest.fixture(scope="session")
def demo_end() -> Period:
    return Period.latest_complete("month")


@pytest.fixture(scope="session")
def demo_workbench(tmp_path_factory: pytest.TempPathFactory, demo_end: Period) -> Workbench:
    """A copy of the repository's params with the demo org generated and ingested."""
    from srelib.demo import organisation as demo
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import load

    root = tmp_path_factory.mktemp("demo-workbench")
    shutil.copytree(REPO / "params", root / "params")
    workbench = Workbench.load(root)
    demo.generate(root / "data" / "demo", demo_end, programme_start=workbench.org.programme_start)
    dataset = validate_directory(root / "data" / "demo")
    load(dataset, workbench.warehouse_path)
    dataset.con.close()
    return workbench


@pytest.fixture(scope="session")
def demo_quarter(demo_end: Period) -> Period:
    """The latest quarter that ended by the demo's last month."""
    return Period.containing("quarter", demo_end.shift(1).first_day, demo_end.timezone).previous()


@pytest.fixture(scope="session")
def demo_qbr(demo_workbench: Workbench, demo_quarter: Period) -> Path:
    """The quarterly business impact report of the demo's latest complete quarter, with its slide
    deck and both PDFs (the report's and the deck's)."""
    from srelib.run.report import run_report

    formats = ("html", "slides", "pdf")
    return run_report(demo_workbench, "quarterly_business_impact", demo_quarter, formats=formats).html


@pytest.fixture(scope="session")
def demo_newsletter(demo_workbench: Workbench, demo_end: Period) -> Path:
    """The newsletter of the demo's latest month (its HTML part)."""
    from srelib.run.report import run_report

    return run_report(demo_workbench, "newsletter", demo_end).html


@pytest.fixture(scope="session")
def demo_digest(demo_workbench: Workbench, demo_end: Period) -> Path:
    """The weekly digest of the demo's last complete week (its HTML part)."""
    from srelib.demo.organisation import last_week
    from srelib.run.report import run_report

    return run_report(demo_workbench, "weekly_digest", last_week(demo_end)).html


@pytest.fixture(scope="session")
def demo_report(demo_workbench: Workbench, demo_end: Period) -> Path:
    """The monthly reliability report of the demo's latest month, run once for all tests."""
    from srelib.run.report import run_report

    return run_report(demo_workbench, "monthly_reliability", demo_end).html


CHROMIUM = "/usr/bin/chromium"
RESULTS = Path(__file__).resolve().parents[1] / "test-results"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for every browser test."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install chromium): .ci/run does"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield browser
        browser.close()


def open_offline(browser, url: str, timeout: float = 30_000, wait_until: str = "load"):
    """A page whose every non-local request is blocked and recorded (``timeout``: milliseconds
    until the page's ``wait_until`` event: its load, or "commit" when the test waits for what it
    looks for itself)."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: dict[str, list[str]] = {"errors": [], "blocked": []}
    page.on("pageerror", lambda exc: problems["errors"].append(str(exc)))
    page.on("console", lambda msg: problems["errors"].append(msg.text) if msg.type == "error" else None)

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")) or re.match(r"^https?://127\.0\.0\.1[:/]", url):
            request_route.continue_()
        else:
            problems["blocked"].append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url, timeout=timeout, wait_until=wait_until)
    return page, problems


@pytest.fixture
def bench(demo_workbench: Workbench, tmp_path: Path) -> Workbench:
    """A copy of the demo workbench's params and warehouse, with no outputs and no schedule."""
    import shutil

    root = tmp_path / "workbench"
    shutil.copytree(demo_workbench.root / "params", root / "params")
    (root / "warehouse").mkdir()
    shutil.copy(demo_workbench.warehouse_path, root / "warehouse" / demo_workbench.warehouse_path.name)
    (root / "params" / "schedule.yaml").write_text("reports: []\n", encoding="utf-8")
    return Workbench.load(root)
