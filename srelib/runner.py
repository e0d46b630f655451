"""Many report runs at once: N worker processes, each with a warm kernel; or a Dask cluster.

How a batch runs (:func:`run_many`):

- **One runner per workbench.** The batch holds ``outputs/.runner.lock``; a second runner is
  refused with a clear message (or waits, when asked to). Publishing is safe between processes
  anyway (staging folders, atomic renames, a file lock around manifest, index and run log).
- **Workers.** ``workers`` processes (default: cores), started with ``spawn`` in their own
  process group. Each runs one report at a time on a kernel it keeps warm and reuses
  (:mod:`srelib.kernels`), so a report costs its own work, not a kernel start and imports.
- **One summary per period.** Runs of a batch share each (period, team) summary through a
  cache folder: the first run that needs it computes it, the others read it.
- **Per-report timeout.** A report running past ``timeout`` seconds is interrupted (then its
  kernel killed), recorded as failed, and its notebook kept under ``outputs/_failed/``.
- **Failures stay local.** A failed report, a dead kernel (retried with back-off by
  :func:`srelib.run.run_report`) or a dead worker process (replaced) never stops the others.
- **Clean stop.** SIGTERM or Ctrl-C: no new report starts; running ones are interrupted, their
  kernels shut down, nothing is published half-written, and earlier reports stay intact.
- **Scale-out.** ``executor="dask"`` sends the same jobs to an existing Dask distributed
  cluster; its workers must see the workbench folder (a shared file system) and have srelib.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from srelib.errors import SrelibError, UsageError

OK, FAILED, INTERRUPTED, NOT_RUN = "ok", "failed", "interrupted", "not run"
GRACE_SECONDS = 5.0  # after an interrupt, how long a cell has to stop before its kernel is killed
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Job:
    report: str
    period: str  # a period label: 2026-10, 2026-Q3, 2026-W43
    team: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        about = self.team or next(iter(self.parameters.values()), "")
        return f"{self.report} {self.period}{f' ({about})' if about else ''}"


@dataclass(frozen=True)
class Outcome:
    job: Job
    status: str  # ok, failed, interrupted or "not run" (the batch stopped first)
    seconds: float
    message: str = ""
    html: str | None = None


@dataclass(frozen=True)
class RunOptions:
    timeout: int = 600  # seconds one report may take
    retries: int = 2  # restarts of a kernel that dies
    backoff: float = 1.0  # seconds before the first restart, doubling
    kernel_reuse: int = 25  # reports one kernel runs before it is replaced (1: a fresh kernel each)
    warehouse: str | None = None  # a DuckDB file other than the workbench's
    outputs: str | None = None  # an outputs folder other than the workbench's
    summary_cache: str | None = None  # set by run_many: where the batch shares its summaries


class Listener:
    """What a batch tells its caller as it goes (a progress bar, log lines); by default nothing."""

    def begin(self, total: int) -> None:
        pass

    def started(self, job: Job) -> None:
        pass

    def finished(self, outcome: Outcome, done: int, total: int) -> None:
        pass


class LineListener(Listener):
    """One line per finished report: ``[3/21] monthly_reliability 2026-10: ok in 1.2 s``."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write

    def finished(self, outcome: Outcome, done: int, total: int) -> None:
        message = f" ({outcome.message})" if outcome.status != OK and outcome.message else ""
        self.write(f"[{done}/{total}] {outcome.job.label}: {outcome.status} in {outcome.seconds:.1f} s{message}")


class Stop:
    """Set by SIGTERM or SIGINT (or by hand): the batch starts nothing more and interrupts what runs."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None

    def set(self, signum: int | None = None) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + (self.signum or signal.SIGINT)


class RunnerBusy(SrelibError):
    """Another runner holds the workbench's runner lock."""


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def outputs_folder(root: Path, options: RunOptions) -> Path:
    if options.outputs:
        return Path(options.outputs)
    from srelib.config import Workbench

    return Workbench.load(root).outputs_path


@contextlib.contextmanager
def exclusive(lock_file: Path, what: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold ``lock_file`` exclusively, or raise :class:`RunnerBusy` naming the holder.

    The holder's pid and start time are written into the file; the lock itself is the kernel's
    (``flock``), so it is released when its process ends, however it ends.
    """
    import fcntl

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise RunnerBusy(
                        f"{what} is already running for this workbench ({holder}; lock {lock_file}): "
                        "wait for it to finish or stop it"
                    ) from None
                time.sleep(POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` for the block's duration (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stop.set(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Worker:
    """Runs reports one at a time on a kernel it keeps; supervises each against its timeout.

    The report runs on a thread of its own, the one that owns the kernel; the calling thread
    watches the clock and ``stop``, and interrupts (then kills) the kernel when either says so.
    """

    def __init__(self, root: Path, options: RunOptions):
        from srelib.kernels import ReusableKernel

        self.root = root
        self.options = options
        self.kernel = ReusableKernel(max_uses=options.kernel_reuse)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="srelib-report")

    def run(self, job: Job, stop: threading.Event) -> Outcome:
        started = time.monotonic()
        halted: list[str] = []
        future = self._thread.submit(self._execute, job, lambda: halted[0] if halted else None)
        interrupted_at: float | None = None
        killed = False
        while True:
            try:
                return future.result(timeout=POLL_SECONDS)
            except TimeoutError:
                pass
            now = time.monotonic()
            if not halted and stop.is_set():
                halted.append(INTERRUPTED)
            elif not halted and now - started > self.options.timeout:
                halted.append(f"timed out after {self.options.timeout} s")
            if halted and interrupted_at is None:
                interrupted_at = now
                self.kernel.interrupt()
            elif interrupted_at is not None and not killed and now - interrupted_at > GRACE_SECONDS:
                killed = True
                self.kernel.kill()

    def _execute(self, job: Job, halted: Callable[[], str | None]) -> Outcome:
        from srelib.config import Workbench
        from srelib.period import Period
        from srelib.run import RunInterrupted, run_report

        started = time.monotonic()
        options = self.options
        try:
            workbench = Workbench.load(self.root)
            result = run_report(
                workbench,
                job.report,
                Period.parse(job.period, workbench.org.timezone),
                job.team,
                warehouse=Path(options.warehouse) if options.warehouse else None,
                outputs=Path(options.outputs) if options.outputs else None,
                parameters=dict(job.parameters),
                timeout=options.timeout,
                retries=options.retries,
                backoff=options.backoff,
                kernel=self.kernel,
                summary_cache=Path(options.summary_cache) if options.summary_cache else None,
                halted=halted,
            )
        except RunInterrupted as exc:
            return Outcome(job, INTERRUPTED, round(time.monotonic() - started, 2), str(exc))
        except SrelibError as exc:
            return Outcome(job, FAILED, round(time.monotonic() - started, 2), str(exc))
        except Exception as exc:  # a bug or a broken environment: reported, the batch goes on
            return Outcome(job, FAILED, round(time.monotonic() - started, 2), f"{type(exc).__name__}: {exc}")
        return Outcome(job, OK, round(time.monotonic() - started, 2), "", str(result.html))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._thread.submit(self.kernel.close).result(timeout=60)
        self._thread.shutdown(wait=False)


def run_many(
    root: Path,
    jobs: Sequence[Job] | Callable[[], Sequence[Job]],
    workers: int | None = None,
    listener: Listener | None = None,
    options: RunOptions | None = None,
    stop: Stop | None = None,
    executor: str = "local",
    scheduler_address: str | None = None,
    wait_for_lock: float = 0.0,
) -> list[Outcome]:
    """Run ``jobs`` (started in the given order), ``workers`` at a time; outcomes in job order.

    ``jobs`` may be a function, called once the lock is held (what is due depends on what
    another runner just published).

    Holds the workbench's runner lock for the batch (``wait_for_lock`` seconds to get it).
    SIGTERM and SIGINT set ``stop`` while the batch runs; jobs it never started come back as
    "not run" and ``stop.exit_code`` is what a command should exit with.
    """
    listener = listener or Listener()
    options = options or RunOptions()
    stop = stop or Stop()
    if executor not in ("local", "dask"):
        raise UsageError(f"unknown executor {executor!r}: local or dask")
    if executor == "dask" and not scheduler_address:
        raise UsageError("--executor dask needs --scheduler-address tcp://HOST:PORT")
    outputs = outputs_folder(root, options)
    with exclusive(outputs / ".runner.lock", "a report runner", wait_for_lock), stop_on_signals(stop):
        # The lock makes this the only runner: whatever is in .staging was left by a run that
        # was killed outright (SIGKILL, a dead worker) and was never published.
        shutil.rmtree(outputs / ".staging", ignore_errors=True)
        cache = outputs / ".staging" / f"batch-{uuid.uuid4().hex}"
        cache.mkdir(parents=True)
        options = replace(options, summary_cache=str(cache))
        try:
            jobs = list(jobs() if callable(jobs) else jobs)
            listener.begin(len(jobs))
            if not jobs:
                return []
            if executor == "dask":
                assert scheduler_address is not None
                return _run_on_dask(root, jobs, scheduler_address, options, listener, stop)
            workers = min(max(1, workers or default_workers()), len(jobs))
            if workers == 1:
                return _run_here(root, jobs, options, listener, stop)
            return _run_in_processes(root, jobs, workers, options, listener, stop)
        finally:
            # This batch's staging, and a dead worker's. On a Dask cluster, reports already
            # running when the batch was stopped go on and need theirs.
            shutil.rmtree(cache if executor == "dask" else outputs / ".staging", ignore_errors=True)
            with contextlib.suppress(OSError):  # empty once the Dask reports still running are done
                (outputs / ".staging").rmdir()


def _not_run(job: Job) -> Outcome:
    return Outcome(job, NOT_RUN, 0.0, "the batch was stopped before this report started")


def _run_here(root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop) -> list[Outcome]:
    """One worker, in this process (one report, or ``--workers 1``)."""
    worker = Worker(root, options)
    outcomes: list[Outcome] = []
    try:
        for job in jobs:
            if stop.is_set():
                outcomes.append(_not_run(job))
                continue
            listener.started(job)
            outcomes.append(worker.run(job, stop.event))
            listener.finished(outcomes[-1], len(outcomes), len(jobs))
    finally:
        worker.close()
    return outcomes


def _worker_process(root: str, conn: Connection, options: RunOptions) -> None:
    """A worker process: jobs in over ``conn``, outcomes back, until told to stop (None or SIGTERM)."""
    os.setpgrp()  # Ctrl-C in a terminal reaches the runner, which stops its workers in order
    stop = Stop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set(signum))
    worker = Worker(Path(root), options)
    try:
        while not stop.is_set():
            if not conn.poll(POLL_SECONDS):
                continue
            job = conn.recv()
            if job is None:
                break
            conn.send(worker.run(job, stop.event))
    except (EOFError, OSError):  # the runner is gone
        pass
    finally:
        worker.close()


@dataclass
class _Slot:
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection
    job: int | None = None  # index of the running job
    started: float = 0.0


def _run_in_processes(
    root: Path, jobs: list[Job], workers: int, options: RunOptions, listener: Listener, stop: Stop
) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    results: dict[int, Outcome] = {}
    queue = list(range(len(jobs)))
    slots: list[_Slot] = []
    # A worker that neither answers nor dies this long after its report's timeout is killed.
    hard_limit = options.timeout + 2 * GRACE_SECONDS + 60

    def start_slot() -> _Slot:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker_process, args=(str(root), theirs, options), daemon=False)
        process.start()
        theirs.close()
        return _Slot(process, ours)

    def finish(slot: _Slot, outcome: Outcome) -> None:
        assert slot.job is not None
        results[slot.job] = outcome
        slot.job = None
        listener.finished(outcome, len(results), len(jobs))

    slots = [start_slot() for _ in range(workers)]
    stopping_since: float | None = None
    restarts = 0
    try:
        while len(results) < len(jobs):
            if stop.is_set() and stopping_since is None:
                stopping_since = time.monotonic()
                for index in queue:
                    results[index] = _not_run(jobs[index])
                queue.clear()
                for slot in slots:  # running reports are interrupted; idle workers just leave
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(slot.process.pid, signal.SIGTERM)
            for i, slot in enumerate(slots):
                if slot.job is not None or not queue:
                    continue
                if not slot.process.is_alive():  # died while idle (or at start): replaced, within reason
                    restarts += 1
                    if restarts > 2 * workers:
                        why = f"worker processes keep dying (exit code {slot.process.exitcode})"
                        for index in queue:
                            results[index] = Outcome(jobs[index], FAILED, 0.0, why)
                        queue.clear()
                        break
                    slot.conn.close()
                    slots[i] = slot = start_slot()
                slot.job, slot.started = queue.pop(0), time.monotonic()
                listener.started(jobs[slot.job])
                slot.conn.send(jobs[slot.job])
            busy = [s for s in slots if s.job is not None]
            if not busy:
                time.sleep(POLL_SECONDS)
                continue
            ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=POLL_SECONDS)
            for slot in busy:
                if slot.conn in ready:
                    try:
                        finish(slot, slot.conn.recv())
                        continue
                    except (EOFError, OSError):
                        pass
                assert slot.job is not None
                overdue = time.monotonic() - slot.started > hard_limit
                if slot.process.sentinel in ready or overdue or not slot.process.is_alive():
                    if overdue:
                        slot.process.kill()
                    slot.process.join(5)
                    why = (
                        "the worker stopped answering and was killed"
                        if overdue
                        else f"the worker process died (exit code {slot.process.exitcode})"
                    )
                    job = jobs[slot.job]
                    status = INTERRUPTED if stopping_since is not None else FAILED
                    finish(slot, Outcome(job, status, round(time.monotonic() - slot.started, 2), why))
            if stopping_since is not None and time.monotonic() - stopping_since > hard_limit:
                break
    finally:
        for slot in slots:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        for slot in slots:
            slot.process.join(GRACE_SECONDS * 6)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)
            slot.conn.close()
    return [results.get(i) or _not_run(jobs[i]) for i in range(len(jobs))]


# Dask: one Worker (warm kernel and report thread) per thread of each Dask worker process.
_DASK_WORKERS: dict[int, Worker] = {}
_NEVER = threading.Event()


@atexit.register
def _close_dask_workers() -> None:
    for worker in _DASK_WORKERS.values():
        worker.close()


def _dask_task(root: str, job: Job, options: RunOptions) -> Outcome:
    key = threading.get_ident()
    worker = _DASK_WORKERS.get(key)
    if worker is None:
        worker = _DASK_WORKERS[key] = Worker(Path(root), options)
    return worker.run(job, _NEVER)


def _run_on_dask(
    root: Path, jobs: list[Job], address: str, options: RunOptions, listener: Listener, stop: Stop
) -> list[Outcome]:
    try:
        from distributed import Client
    except ImportError as exc:
        raise UsageError("--executor dask needs dask.distributed: pip install 'srelib[dask]'") from exc
    try:
        client = Client(address, timeout="15s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SrelibError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    results: dict[int, Outcome] = {}
    with client:
        batch = uuid.uuid4().hex[:8]
        futures = {}
        for index, job in enumerate(jobs):
            future = client.submit(
                _dask_task, str(root), job, options, key=f"srelib-{batch}-{index}", pure=False, retries=0
            )
            futures[future] = index
            listener.started(job)
        remaining = set(futures)
        while remaining:
            if stop.is_set():  # running reports finish on the cluster (and publish whole); no new ones start
                client.cancel(list(remaining))
                break
            done = [f for f in remaining if f.done()]
            if not done:
                time.sleep(POLL_SECONDS)
            for future in done:
                remaining.discard(future)
                index = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the task failed on the cluster (a lost worker, ...)
                    outcome = Outcome(jobs[index], FAILED, 0.0, f"on the Dask cluster: {type(exc).__name__}: {exc}")
                results[index] = outcome
                listener.finished(outcome, len(results), len(jobs))
    return [results.get(i) or _not_run(jobs[i]) for i in range(len(jobs))]
