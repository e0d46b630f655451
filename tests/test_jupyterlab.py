"""An analyst opens the report notebook in a real JupyterLab, runs all cells, and sees the charts."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import open_offline

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("jupyterlab")]  # one worker: one notebooks folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _jupyterlab(root: Path, folder: Path) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server on ``root`` (its URL and log), on a port it takes or fails for: never
    another one beside it (``port_retries=0``), where something else may be listening."""
    folder.mkdir(parents=True)
    log = folder / "lab.log"
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(folder / "config"), JUPYTER_RUNTIME_DIR=str(folder / "rt"))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=test-token",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def notebooks(demo_workbench) -> Iterator[Path]:
    """The demo workbench with the report notebook and the dashboards in its notebooks/ folder."""
    folder = demo_workbench.root / "notebooks"
    folder.mkdir(exist_ok=True)
    shutil.copy(REPO / "notebooks" / "monthly_reliability.ipynb", folder)
    shutil.copytree(REPO / "notebooks" / "dashboards", folder / "dashboards")
    yield demo_workbench.root
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def lab(notebooks, tmp_path_factory) -> Iterator[str]:
    """One JupyterLab server on the demo workbench for the notebook test."""
    with _jupyterlab(notebooks, tmp_path_factory.mktemp("lab") / "server") as (url, _):
        yield url


def test_notebook_runs_in_jupyterlab_with_its_defaults(lab, browser):
    page, problems = open_offline(browser, f"{lab}/lab/tree/notebooks/monthly_reliability.ipynb?token=test-token")
    kernel = "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
    page.wait_for_function(f"{kernel}?.status === 'idle'", timeout=60000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("document.querySelectorAll('.srelib-chart svg').length === 4", timeout=120000)
    assert page.locator(".jp-OutputArea-output .srelib-status").count() > 0
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert problems["blocked"] == []  # JupyterLab and the charts need nothing beyond 127.0.0.1
    page.close()


def test_a_dashboard_renders_in_jupyterlabs_voila_preview(notebooks, browser, tmp_path):
    """What JupyterLab's "Render with Voilà" button opens: the voila server extension's page.

    On a server of its own. Twice in CI under load (not once here), the page never came: the
    first time the kernel had drawn the dashboard in 0.2 s and the page's load event had not come
    120 s later; the second time no tile came in 120 s and the server then ignored SIGTERM for
    60 s, its event loop blocked. That matches voila's known hang in the server extension, which runs
    without a preheated kernel (voila-dashboards/voila#1428; jupyter_client sends on a
    shadowed, blocking socket, jupyter/jupyter_client#1059, open). ``srelib dashboard`` preheats
    and is tested apart (tests/test_dashboard.py). So a preview that does not render in 75 s is
    tried once more on a fresh server, and its server's log is printed; two hangs fail (within
    the 300 s a test has: 2 × (75 s + 30 s to stop the server))."""
    url = "/voila/render/notebooks/dashboards/executive.ipynb?token=test-token"
    for attempt in (1, 2):
        with _jupyterlab(notebooks, tmp_path / f"lab-{attempt}") as (lab, log):
            # voila streams the page while the notebook runs: wait for the dashboard itself
            page = None
            try:
                page, problems = open_offline(browser, lab + url, timeout=75_000, wait_until="commit")
                page.wait_for_selector(".srelib-tile-value", timeout=75_000)
            except PlaywrightTimeout:
                if page is not None:
                    page.close()
                print(f"attempt {attempt}: the voila preview did not render in 75 s; its server's log:")
                print(log.read_text(errors="replace")[-4000:])
                if attempt == 2:
                    raise
                continue
            page.wait_for_selector(".vega-embed svg, .vega-embed canvas", timeout=60000)
            assert "Incidents" in page.locator(".srelib-tile-label").all_inner_texts()
            # The preview uses voila's own lab template, which asks CDNs for Font Awesome, MathJax
            # and mermaid (blocked here, hence the failed loads; `srelib dashboard` uses the
            # workbench's template, which asks for none); the dashboard and its charts need nothing
            # from them.
            cdn_assets = ("fontawesome", "mathjax", "mermaid")
            assert all(any(a in u for a in cdn_assets) for u in problems["blocked"]), problems["blocked"]
            assert [e for e in problems["errors"] if "Failed to load resource" not in e] == []
            page.close()
            return
