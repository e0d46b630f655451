"""A runner killed outright (``kill -9``, the out-of-memory killer) leaves nothing running, removes
nobody's work in progress, and never a report folder half new, half old (issue 15, item 8).

- Its worker processes and their kernels die with it: none publishes after its lock is gone.
- A staging folder is its process's, under a lock of its own: the next runner removes only
  those whose owner is gone, never one a live process still writes into.
- A report folder is replaced in one step: a publisher killed at any step leaves it entirely
  old or entirely new, and a reader finds it whole at every moment.

The fast tests kill real processes that publish plain files; the slow ones (marked) kill a real
``srelib run`` with kernels.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from srelib.files import atomic_write, locked, replace_folder
from srelib.run.batch import OK, Job, Listener, Outcome, RunOptions, run_many
from srelib.run.control import Stop, clean_staging, owned_folder, remove_abandoned
from srelib.run.executors import EXECUTORS, Executor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: /proc, renameat2")

# Holds a staging folder of its own until a line arrives on stdin (or it is killed).
HOLD = """
import sys
from pathlib import Path
from srelib.run.control import owned_folder
with owned_folder(Path(sys.argv[1])) as folder:
    (folder / "report.html").write_text("in progress")
    print(folder, flush=True)
    sys.stdin.readline()
"""


def hold(staging: Path) -> tuple[subprocess.Popen[str], Path]:
    """A live process owning a staging folder, and that folder."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(staging)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


def abandoned(staging: Path) -> Path:
    """A staging folder whose owner was killed outright."""
    process, folder = hold(staging)
    process.kill()
    process.wait(10)
    return folder


def test_a_staging_folder_is_removed_only_once_its_owner_is_gone(tmp_path: Path):
    staging = tmp_path / "outputs" / ".staging"
    owner, in_use = hold(staging)
    try:
        dead = abandoned(staging)
        remove_abandoned(staging)
        assert (in_use / "report.html").read_text() == "in progress"
        assert not dead.exists() and not dead.with_name(f"{dead.name}.lock").exists()
    finally:
        owner.communicate("\n", timeout=10)
    assert owner.returncode == 0 and not staging.exists()  # the owner removed its own, and the empty parent


def test_a_new_runner_cleans_up_after_a_killed_one_but_never_under_a_live_process(tmp_path: Path, monkeypatch):
    """What the second runner of the issue did: took the lock and removed ``outputs/.staging``,
    under the feet of the killed runner's workers that were still publishing."""
    outputs = tmp_path / "outputs"
    owner, in_use = hold(outputs / ".staging")
    dead = abandoned(outputs / ".staging")
    seen: dict[str, bool] = {}

    class Recording(Executor):
        def run(self, root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop):
            seen["dead removed"] = not dead.exists()
            seen["live kept"] = (in_use / "report.html").is_file()
            return [Outcome(job, OK, 0.0) for job in jobs]

    monkeypatch.setitem(EXECUTORS, "recording", Recording)
    try:
        run_many(tmp_path, [Job("quick", "2026-10")], options=RunOptions(outputs=str(outputs)), executor="recording")
        assert seen == {"dead removed": True, "live kept": True}
        assert (in_use / "report.html").read_text() == "in progress"  # and after the batch's own clean-up
        assert sorted(p.name for p in (outputs / ".staging").iterdir()) == sorted([in_use.name, f"{in_use.name}.lock"])
    finally:
        owner.communicate("\n", timeout=10)
    assert not (outputs / ".staging").exists()


# ---------------------------------------------------------------------------------------------
# Publishing a report folder in one step

FILES = ("report.html", "report.ipynb", "summary.json")


def published(folder: Path, version: str) -> None:
    """A report folder as a run leaves it: its files, a manifest, and a team's folder inside."""
    (folder / "teams" / "payments").mkdir(parents=True, exist_ok=True)
    for name in (*FILES, "manifest.json"):
        (folder / name).write_text(version)
    (folder / "teams" / "payments" / "report.html").write_text("the team's own")


def contents(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def publish(outputs: Path, version: str) -> None:
    """What run_report does once a report is rendered: the files staged, the folder replaced."""
    with locked(outputs / ".lock"), owned_folder(outputs / ".staging") as staging:
        for name in FILES:
            (staging / name).write_text(version)

        def change(copy: Path) -> None:
            for name in FILES:
                os.replace(staging / name, copy / name)
            atomic_write(copy / "manifest.json", version)  # never into the linked file the old folder shares

        replace_folder(outputs / "2026-10", staging, change)


def test_a_reader_finds_the_report_folder_whole_old_or_new_while_it_is_republished(tmp_path: Path):
    """A reader that opens each file by path always finds it; one that opens the folder once and
    reads its files through it finds them all of one version (or, once that version is retired
    and removed, none: never a mixture)."""
    outputs = tmp_path / "outputs"
    folder = outputs / "2026-10"
    published(folder, "0")
    done = threading.Event()
    problems: list[str] = []
    reads = 0

    def read_text(name: str, directory: int) -> str | None:
        opener = lambda path, flags: os.open(path, flags, dir_fd=directory)  # noqa: E731
        try:
            with open(name, encoding="utf-8", opener=opener) as handle:
                return handle.read()
        except FileNotFoundError:  # the version this reader holds was removed, after the swap
            return None

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                for name in (*FILES, "manifest.json", "teams/payments/report.html"):
                    (folder / name).read_text()
                directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    versions = {read_text(name, directory) for name in (*FILES, "manifest.json")} - {None}
                finally:
                    os.close(directory)
                if len(versions) > 1:
                    problems.append(f"a mixture of versions {sorted(versions)}")
                reads += 1
            except OSError as exc:
                problems.append(str(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, 61):
            publish(outputs, str(version))
    finally:
        done.set()
        thread.join(10)
    assert problems == [] and reads > 0
    assert contents(folder) == {
        **dict.fromkeys((*FILES, "manifest.json"), "60"),
        "teams/payments/report.html": "the team's own",
    }
    assert not (outputs / ".staging").exists()


# Publishes version "new" over version "old" and is killed at ``step``.
KILLED_AT = """
import errno, os, signal, sys
from pathlib import Path
from srelib import files
from srelib.run.control import owned_folder

outputs, step = Path(sys.argv[1]), sys.argv[2]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
exchange, rename = files.exchange, os.rename

def exchange_or_die(first, second):
    if step == "before the swap":
        die()
    if step == "between the two renames":  # as on a file system that cannot exchange (NFS)
        raise OSError(errno.EINVAL, "cannot exchange here")
    exchange(first, second)
    if step == "after the swap":
        die()

def rename_then_die(source, target):
    rename(source, target)
    if step == "between the two renames":
        die()

files.exchange, os.rename = exchange_or_die, rename_then_die
with owned_folder(outputs / ".staging") as staging:
    for name in ("report.html", "report.ipynb", "summary.json"):
        (staging / name).write_text("new")

    def change(copy):
        for name in ("report.html", "report.ipynb", "summary.json"):
            os.replace(staging / name, copy / name)
            if step == "while copying":
                die()
        files.atomic_write(copy / "manifest.json", "new")

    files.replace_folder(outputs / "2026-10", staging, change)
"""


@pytest.mark.parametrize(
    ("step", "left"),
    [
        ("while copying", "old"),
        ("before the swap", "old"),
        ("after the swap", "new"),
        ("between the two renames", "old"),
    ],
)
def test_a_publisher_killed_at_any_step_leaves_the_folder_entirely_old_or_entirely_new(
    tmp_path: Path, step: str, left: str
):
    outputs = tmp_path / "outputs"
    folder = outputs / "2026-10"
    published(folder, "old")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT, str(outputs), step], capture_output=True, text=True, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    clean_staging(outputs)  # what the next runner does first
    assert contents(folder) == {
        **dict.fromkeys((*FILES, "manifest.json"), left),
        "teams/payments/report.html": "the team's own",
    }
    assert not (outputs / ".staging").exists()


# ---------------------------------------------------------------------------------------------
# Real runners, killed outright (slow: kernels)


def descendants(pid: int) -> set[int]:
    """Every process started, directly or not, by ``pid`` (from /proc)."""
    children: dict[int, set[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), set()) - found:
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()  # a zombie is gone
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killing_a_runner_outright_takes_its_workers_and_kernels_with_it(bench, demo_end):
    from tests.runs import leftovers, probe, runs, srelib, start

    kernels = bench.root / "kernels"
    kernels.mkdir()
    sleeps = f"import os, time\nopen(os.path.join({str(kernels)!r}, str(os.getpid())), 'w').write(str(os.getppid()))\n"
    probe(bench, "sleeps", sleeps + "time.sleep(3600)")
    probe(bench, "sleeps_too", sleeps + "time.sleep(3600)")
    runner = start(bench.root, "run", "sleeps", "sleeps_too", "--period", demo_end.label, "--workers", "2")
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len([p for p in kernels.iterdir() if p.read_text()]) < 2:
            assert time.monotonic() < deadline and runner.poll() is None, runner.communicate()
            time.sleep(0.2)
        family = descendants(runner.pid)
        workers = {int(p.read_text()) for p in kernels.iterdir()}
        assert {int(p.name) for p in kernels.iterdir()} | workers <= family and runner.pid not in workers
        runner.kill()
        runner.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in family if alive(pid)] == []
    finally:
        for pid in family | {runner.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert (bench.outputs_path / ".staging").is_dir()  # what the killed runner left...
    probe(bench, "quick", "x = 1")
    after = srelib(bench.root, "run", "quick", "--period", demo_end.label)
    assert after.returncode == 0, after.stderr
    assert not leftovers(bench)  # ...the next runner removed, its owners being gone
    assert [r["report"] for r in runs(bench)] == ["quick"]  # and nothing of the killed runner's was published
    assert not (bench.outputs_path / demo_end.label / "sleeps.html").exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_new_runner_leaves_a_run_in_progress_alone(bench, demo_end):
    """A run the lock does not cover (a worker of a killed runner where processes cannot die with
    their parent, a Dask task, run_report called directly) goes on and publishes while another
    runner takes the lock, cleans up and publishes: nothing of the run's is removed under it."""
    from tests.runs import leftovers, probe, srelib

    started, go = bench.root / "started.txt", bench.root / "go.txt"
    probe(
        bench,
        "waits",
        f"import os, time\nopen({str(started)!r}, 'w').write('1')\n"
        f"for _ in range(1200):\n    if os.path.exists({str(go)!r}):\n        break\n    time.sleep(0.1)",
    )
    probe(bench, "quick", "x = 1")
    script = (
        "from pathlib import Path\nfrom srelib.config import Workbench\nfrom srelib.period import Period\n"
        "from srelib.run.report import run_report\n"
        f"workbench = Workbench.load(Path({str(bench.root)!r}))\n"
        f"print(run_report(workbench, 'waits', Period.parse({demo_end.label!r}, workbench.org.timezone)).html)\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", script], cwd=bench.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not started.is_file():
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()
            time.sleep(0.2)
        second = srelib(bench.root, "run", "quick", "--period", demo_end.label)
        assert second.returncode == 0, second.stderr
        go.write_text("1")
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err
    folder = bench.outputs_path / demo_end.label
    assert (folder / "waits.html").is_file() and (folder / "quick.html").is_file()
    assert not leftovers(bench)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_dask_task_whose_runner_is_gone_stops_and_publishes_nothing(bench, demo_end):
    """A Dask worker is no child of the runner: a runner killed outright cannot take its running
    task along. The task sees that its batch folder has no owner any more, and stops."""
    from srelib.run.batch import INTERRUPTED
    from srelib.run.executors import _DASK_WORKERS, _dask_task
    from tests.runs import probe

    started = bench.root / "started.txt"
    probe(bench, "sleeps", f"import time\nopen({str(started)!r}, 'w').write('1')\ntime.sleep(3600)")
    runner, batch = hold(bench.outputs_path / ".staging")  # stands for the runner: it owns the batch folder

    def kill_the_runner_once_the_report_runs() -> None:
        deadline = time.monotonic() + 120
        while not started.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        runner.kill()

    killer = threading.Thread(target=kill_the_runner_once_the_report_runs)
    killer.start()
    try:
        outcome = _dask_task(str(bench.root), Job("sleeps", demo_end.label), RunOptions(summary_cache=str(batch)))
        stopped = time.time()
    finally:
        killer.join()
        runner.wait(10)
        worker = _DASK_WORKERS.pop(threading.get_ident(), None)
        if worker is not None:
            worker.close()
    assert outcome.status == INTERRUPTED, outcome
    assert started.is_file() and stopped - started.stat().st_mtime < 30  # soon after, not at its timeout
    assert not (bench.outputs_path / demo_end.label / "sleeps.html").exists()
