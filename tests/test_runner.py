"""The runner: warm kernels, timeouts, SIGTERM and Ctrl-C, the lock, progress, Dask, the scheduler daemon.

Most tests use small "probe" reports of their own (notebooks/<name>.ipynb in a copy of the demo
workbench) so that what they check (a hanging cell, a leaked variable, a signal mid-run) is
all the notebook does; the real catalogue runs in tests/test_schedule.py and the demo.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from srelib.config import Workbench
from srelib.period import Period
from tests.conftest import open_offline
from tests.runs import alive, leftovers, probe, runs, srelib, start, wait_for

# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_reused_kernel_hands_each_notebook_a_client_that_misses_no_output(tmp_path):
    """The runner connects to its warm kernel once a report, checking that the kernel answers and
    that its outputs reach the client (srelib.run.kernels._answering), and hands that client to
    papermill: a cell's first output, written at once, is in every executed notebook."""
    import nbformat
    import papermill
    from nbformat.v4 import new_code_cell, new_notebook

    from srelib.run.kernels import ENGINE, ReusableKernel

    source = tmp_path / "first.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print('first', flush=True)"), new_code_cell("2 + 2")]), source)
    kernel = ReusableKernel()
    pids = set()
    try:
        for run in range(12):
            executed = tmp_path / f"run-{run}.ipynb"
            papermill.execute_notebook(
                str(source), str(executed), engine_name=ENGINE, km=kernel.ready(tmp_path), kc=kernel.client,
                kernel_name="python3", progress_bar=False,
            )  # fmt: skip
            cells = nbformat.read(executed, as_version=4).cells
            assert [o.get("text") for o in cells[0].outputs] == ["first\n"], run
            assert cells[1].outputs[0]["data"]["text/plain"] == "4", run
            assert kernel.client is not None and not kernel.client.channels_running  # closed after the notebook
            pids.add(kernel.pid)
    finally:
        kernel.close()
    assert len(pids) == 1  # one warm kernel for all of them


@pytest.mark.timeout(300)
def test_reused_kernels_start_every_report_with_an_empty_namespace(bench: Workbench, demo_end: Period):
    """One worker runs three reports on one kernel: none sees what the one before it left."""
    probe(
        bench,
        "leak_check",
        "import os\nassert 'leaked' not in globals(), 'a variable leaked from the previous report'\n"
        "leaked = 1\nkernel_pid = os.getpid()",
        f"open({str(bench.root / 'pids.txt')!r}, 'a').write(f'{{kernel_pid}}\\n')",
    )
    result = srelib(
        bench.root, "run", "leak_check", "--period", demo_end.label, "-p", "label=a", "--workers", "1"
    )  # one report: no reuse yet
    assert result.returncode == 0, result.stderr
    result = srelib(
        bench.root,
        "run",
        "leak_check",
        "leak_check",
        "leak_check",
        "--period",
        demo_end.label,
        "--workers",
        "1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pids = (bench.root / "pids.txt").read_text().split()
    assert len(pids) == 4 and len(set(pids[1:])) == 1  # the batch's three reports shared one kernel
    assert not alive(int(pids[-1]))  # and it was shut down at the end
    assert not leftovers(bench)


@pytest.mark.timeout(300)
def test_a_report_past_its_timeout_is_stopped_kept_as_failed_and_the_others_are_published(
    bench: Workbench, demo_end: Period, browser
):
    probe(bench, "hangs", "import time\ntime.sleep(3600)")
    probe(bench, "quick", "x = 1")
    started = time.monotonic()
    # 20 s: enough for a kernel to start and reach the third cell on a busy machine
    args = ["run", "hangs", "quick", "--period", demo_end.label, "--timeout", "20", "--workers", "2"]
    result = srelib(bench.root, *args)
    took = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert [line[:3] for line in lines] == [["failed", "hangs", demo_end.label], ["ok", "quick", demo_end.label]]
    assert "timed out after 20 s in cell 3" in lines[0][4]  # In [3]: after the injected parameters
    assert took < 90  # stopped at its timeout, not after the hour
    failed = bench.outputs_path / "_failed" / demo_end.label / "hangs.ipynb"
    assert "papermill-error-cell" in failed.read_text() or "An Exception was encountered" in failed.read_text()
    assert not (bench.outputs_path / demo_end.label / "hangs.html").exists()
    assert (bench.outputs_path / demo_end.label / "quick.html").is_file()
    last = {r["report"]: r for r in runs(bench)}
    assert (
        last["hangs"]["status"] == "failed"
        and last["hangs"]["failed_notebook"] == f"_failed/{demo_end.label}/hangs.ipynb"
    )
    # The index shows the failure, with the failed notebook, beside the published report.
    page, problems = open_offline(browser, (bench.outputs_path / "index.html").as_uri())
    rows = {r.split("\t")[0]: r for r in page.locator("tbody tr").all_inner_texts()}
    assert "failed" in rows["Probe hangs"] and "timed out after 20 s" in rows["Probe hangs"]
    assert "never" in rows["Probe hangs"] and "ok" in rows["Probe quick"]
    assert (
        page.locator("a", has_text="failed notebook").get_attribute("href") == f"_failed/{demo_end.label}/hangs.ipynb"
    )
    assert problems == {"errors": [], "blocked": []}
    page.close()
    assert not leftovers(bench)


def _earlier_report(bench: Workbench, period: Period) -> bytes:
    probe(bench, "slow", "x = 1")
    assert srelib(bench.root, "run", "slow", "--period", period.label).returncode == 0
    return (bench.outputs_path / period.label / "slow.html").read_bytes()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("sig", "code", "workers"), [(signal.SIGTERM, 143, "2"), (signal.SIGINT, 130, "1")])
def test_sigterm_or_ctrl_c_mid_run_stops_cleanly(bench: Workbench, demo_end: Period, sig, code, workers):
    """SIGTERM to the runner (parallel workers), or Ctrl-C in its terminal (the whole foreground
    process group gets SIGINT; one worker in-process): kernels shut down, nothing half-written,
    the earlier report intact, the lock released."""
    before = _earlier_report(bench, demo_end)
    marker = bench.root / "running.txt"
    probe(bench, "slow", f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(3600)")
    probe(bench, "quick", "x = 1")
    runner = start(bench.root, "run", "slow", "quick", "quick", "--period", demo_end.label, "--workers", workers)
    try:
        kernel = int(wait_for(marker))
        time.sleep(1)
        os.killpg(runner.pid, sig) if sig == signal.SIGINT else runner.send_signal(sig)
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    assert runner.returncode == code, err
    deadline = time.monotonic() + 10
    while alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(kernel)  # the kernel was shut down
    assert (bench.outputs_path / demo_end.label / "slow.html").read_bytes() == before
    assert not leftovers(bench)
    assert any(r["report"] == "slow" and r["status"] == "interrupted" for r in runs(bench))
    assert "interrupted" in out
    assert not (bench.outputs_path / "_failed" / demo_end.label / "slow.ipynb").exists()
    probe(bench, "slow", "x = 2")  # the lock was released: the next run works
    assert srelib(bench.root, "run", "slow", "--period", demo_end.label).returncode == 0


@pytest.mark.timeout(300)
def test_a_worker_process_that_dies_is_replaced_and_the_other_reports_are_published(bench: Workbench, demo_end: Period):
    probe(bench, "kills_its_worker", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    probe(bench, "quick", "x = 1")
    probe(bench, "other", "y = 2")
    result = srelib(
        bench.root, "run", "kills_its_worker", "quick", "other", "--period", demo_end.label, "--workers", "2"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = {line.split("\t")[1]: line.split("\t") for line in result.stdout.strip().splitlines()}
    assert (
        lines["kills_its_worker"][0] == "failed"
        and "the worker process died (exit code -9)" in lines["kills_its_worker"][4]
    )
    assert lines["quick"][0] == "ok" and lines["other"][0] == "ok"
    assert not leftovers(bench)


@pytest.mark.timeout(300)
def test_one_runner_per_workbench(bench: Workbench, demo_end: Period):
    marker = bench.root / "running.txt"
    probe(bench, "slow", f"import time\nopen({str(marker)!r}, 'w').write('1')\ntime.sleep(3600)")
    runner = start(bench.root, "run", "slow", "--period", demo_end.label)
    try:
        wait_for(marker)
        second = srelib(bench.root, "run", "slow", "--period", demo_end.label)
        assert second.returncode == 1
        assert f"a report runner is already running for this workbench (pid {runner.pid}" in second.stderr
        due = srelib(bench.root, "run-due")
        assert due.returncode == 1 and "already running" in due.stderr
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=60)
    assert runner.returncode == 143


@pytest.mark.timeout(300)
def test_progress_bar_and_closing_table_on_a_terminal(bench: Workbench, demo_end: Period):
    import pty

    probe(bench, "quick", "x = 1")
    probe(bench, "other", "y = 2")
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "srelib", "run", "quick", "other", "--period", demo_end.label],
        cwd=bench.root,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(primary)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert process.returncode == 0, screen
    assert "2/2" in screen  # the progress bar's count
    assert "Report runs" in screen and "━" in screen and "│" in screen  # the bar and the table
    assert "2 published, 0 failed" in screen


@pytest.mark.timeout(300)
def test_the_dask_executor_runs_the_same_jobs_on_a_cluster(bench: Workbench, demo_end: Period):
    from distributed import LocalCluster

    probe(bench, "quick", "x = 1")
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = srelib(
            bench.root,
            "run",
            "quick",
            "executive_summary",
            "--period",
            demo_end.label,
            "--executor",
            "dask",
            "--scheduler-address",
            cluster.scheduler_address,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split("\t")[:2] for line in result.stdout.strip().splitlines()] == [
        ["ok", "quick"],
        ["ok", "executive_summary"],
    ]
    manifest = json.loads((bench.outputs_path / demo_end.label / "manifest.json").read_text())
    assert set(manifest["reports"]) == {"quick", "executive_summary"}
    assert (bench.outputs_path / demo_end.label / "executive_summary.html").is_file()
    assert not leftovers(bench)
    down = srelib(
        bench.root,
        "run",
        "quick",
        "--period",
        demo_end.label,
        "--executor",
        "dask",
        "--scheduler-address",
        "tcp://127.0.0.1:9",
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},  # Dask's own setting, 30 s by default
        timeout=120,
    )
    assert down.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in down.stderr
    missing = srelib(bench.root, "run", "quick", "--period", demo_end.label, "--executor", "dask")
    assert missing.returncode == 2 and "--scheduler-address" in missing.stderr


# ---------------------------------------------------------------------------------------------
# The scheduler daemon


def test_cron_triggers_fire_exactly_when_periods_fall_due():
    from srelib.period import zone
    from srelib.run.daemon import trigger_for
    from srelib.run.schedule import ScheduledReport

    berlin = zone("Europe/Berlin")
    cases = [  # (entry, after, expected next firing, local time)
        (
            ScheduledReport(report="r", cadence="monthly", due_after_days=1),
            datetime(2026, 10, 2, 7, 0),
            datetime(2026, 11, 2, 6, 0),
        ),
        (
            ScheduledReport(report="r", cadence="monthly", due_after_days=0, due_at="02:30"),
            datetime(2026, 3, 1, 3, 0),
            datetime(2026, 4, 1, 2, 30),
        ),
        (
            ScheduledReport(report="r", cadence="quarterly", due_after_days=3),
            datetime(2026, 10, 5),
            datetime(2027, 1, 4, 6, 0),
        ),
        (
            ScheduledReport(report="r", cadence="weekly", due_after_days=2, due_at="09:15"),
            datetime(2026, 11, 27),
            datetime(2026, 12, 2, 9, 15),
        ),
        (
            ScheduledReport(report="r", cadence="monthly", due_after_days=40),
            datetime(2026, 11, 27, 7),
            datetime(2026, 11, 28, 6, 0),
        ),
    ]
    for entry, after, expected in cases:
        trigger = trigger_for(entry, "Europe/Berlin")
        fired = trigger.get_next_fire_time(None, after.replace(tzinfo=berlin))
        assert fired == expected.replace(tzinfo=berlin), (entry, fired)
    # Across the end of summer time (25 October 2026), 06:00 is still 06:00 local.
    monthly = trigger_for(ScheduledReport(report="r", cadence="monthly", due_after_days=1), "Europe/Berlin")
    fired = monthly.get_next_fire_time(None, datetime(2026, 10, 3, tzinfo=UTC))
    assert fired.astimezone(UTC) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


@pytest.mark.timeout(400)
def test_the_scheduler_catches_up_at_start_is_alone_and_stops_on_sigterm(bench: Workbench, demo_end: Period):
    schedule = {"reports": [{"report": "executive_summary", "cadence": "monthly", "history": 2}], "recheck_minutes": 5}
    (bench.root / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule), encoding="utf-8")
    from srelib.run.schedule import due_runs

    # The last two months, or the two before them in the hours before last month falls due.
    due = sorted(r.period.label for r in due_runs(Workbench.load(bench.root)))
    assert len(due) == 2 and due[-1] in (demo_end.label, demo_end.previous().label), due
    daemon = start(bench.root, "scheduler", "--workers", "2")
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len([r for r in runs(bench) if r["status"] == "ok"]) < 2:
            assert daemon.poll() is None, daemon.communicate()
            time.sleep(0.5)
        published = sorted(r["period"] for r in runs(bench) if r["status"] == "ok")
        assert published == due
        second = srelib(bench.root, "scheduler", timeout=60)
        assert second.returncode == 1 and "a scheduler is already running for this workbench" in second.stderr
        time.sleep(1)
        daemon.send_signal(signal.SIGTERM)
        _, log = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, log
    assert "executive_summary (monthly): next at" in log and "recheck: next at" in log
    assert "start-up catch-up: 2 published, 0 not published" in log
    assert "scheduler stopped (SIGTERM)" in log
    assert not (bench.outputs_path / ".scheduler.lock").read_text().strip()  # released
    assert srelib(bench.root, "due").stdout.strip() == ""  # nothing left to do
    _ = timedelta
