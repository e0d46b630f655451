"""How a batch's reports are run: one class per executor, chosen by name from a registry.

- ``local`` (:class:`WorkerProcesses`): ``workers`` processes (default: cores), started with
  ``spawn`` in their own process group, each running one report at a time on a kernel it keeps
  warm (:mod:`srelib.run.kernels`); a worker process that dies is replaced, and one whose runner
  dies (``kill -9`` included) dies with it, kernel and all. With one worker, the reports run in
  this process (:class:`InThisProcess`).
- ``dask`` (:class:`DaskCluster`): the same jobs on an existing Dask distributed cluster, whose
  workers see the workbench folder (a shared file system) and have srelib. A task whose runner
  is gone (its batch folder's lock is free) is interrupted and publishes nothing.

Each job runs on a :class:`Worker`, which interrupts (then kills) its kernel when the report
runs past its timeout or the batch is stopped. Another executor is one class and one
:func:`register` line, as papermill's engines.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from srelib.errors import RunInterrupted, SrelibError, UsageError
from srelib.run.batch import FAILED, INTERRUPTED, OK, Job, Listener, Outcome, RunOptions, not_run
from srelib.run.control import POLL_SECONDS, Flag, OwnerGone, Stop, die_with_parent, watch_parent

GRACE_SECONDS = 5.0  # after an interrupt, how long a cell has to stop before its kernel is killed


class Worker:
    """Runs reports one at a time on a kernel it keeps; supervises each against its timeout.

    The report runs on a thread of its own, the one that owns the kernel; the calling thread
    watches the clock and ``stop``, and interrupts (then kills) the kernel when either says so.
    """

    def __init__(self, root: Path, options: RunOptions):
        from srelib.run.kernels import ReusableKernel

        self.root = root
        self.options = options
        self.kernel = ReusableKernel(max_uses=options.kernel_reuse)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="srelib-report")

    def run(self, job: Job, stop: Flag) -> Outcome:
        started = time.monotonic()
        halted: list[str] = []

        def why() -> str | None:
            """Why the report was stopped, if it was; asked once more before it publishes, so that
            a report of a stopped batch, or of a runner that is gone, never publishes."""
            return halted[0] if halted else (INTERRUPTED if stop.is_set() else None)

        future = self._thread.submit(self._execute, job, why)
        interrupted_at: float | None = None
        killed: set[int | None] = set()  # a kernel still starting (no pid yet) is killed once it has one
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
            elif interrupted_at is not None and now - interrupted_at > GRACE_SECONDS and self.kernel.pid not in killed:
                killed.add(self.kernel.pid)
                self.kernel.kill()

    def _execute(self, job: Job, halted: Callable[[], str | None]) -> Outcome:
        from srelib.config import Workbench
        from srelib.period import Period
        from srelib.run.report import run_report

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
                formats=job.formats,
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


class Executor:
    """A way to run a batch's jobs (started in the given order); :meth:`run` returns their
    outcomes in job order, "not run" for the jobs it never started because ``stop`` was set."""

    def __init__(self, workers: int | None = None, scheduler_address: str | None = None):
        self.workers = workers
        self.scheduler_address = scheduler_address

    def run(self, root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop) -> list[Outcome]:
        raise NotImplementedError


class InThisProcess(Executor):
    """One worker, in this process (one report, or ``--workers 1``)."""

    def run(self, root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop) -> list[Outcome]:
        worker = Worker(root, options)
        outcomes: list[Outcome] = []
        try:
            for job in jobs:
                if stop.is_set():
                    outcomes.append(not_run(job))
                    continue
                listener.started(job)
                outcomes.append(worker.run(job, stop))
                listener.finished(outcomes[-1], len(outcomes), len(jobs))
        finally:
            worker.close()
        return outcomes


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _worker_process(root: str, conn: Connection, options: RunOptions, runner: int) -> None:
    """A worker process: jobs in over ``conn``, outcomes back, until told to stop (None or SIGTERM)
    or its runner ``runner`` is gone (then it dies at once, and its kernel with it)."""
    die_with_parent(runner)  # killed outright, the runner takes its workers along: none publishes after it
    os.setpgrp()  # Ctrl-C in a terminal reaches the runner, which stops its workers in order
    stop = Stop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set(signum))
    threading.Thread(target=watch_parent, args=(runner, stop), daemon=True).start()
    worker = Worker(Path(root), options)
    try:
        while not stop.is_set():
            if not conn.poll(POLL_SECONDS):
                continue
            job = conn.recv()
            if job is None:
                break
            conn.send(worker.run(job, stop))
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


class WorkerProcesses(Executor):
    """``workers`` local processes (default: cores), each with a warm kernel; one worker runs here."""

    def run(self, root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop) -> list[Outcome]:
        workers = min(max(1, self.workers or default_workers()), len(jobs))
        if workers == 1:  # no process to start for one report at a time
            return InThisProcess().run(root, jobs, options, listener, stop)
        return self._run(root, jobs, workers, options, listener, stop)

    @staticmethod
    def _run(
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
            process = context.Process(
                target=_worker_process, args=(str(root), theirs, options, os.getpid()), daemon=False
            )
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
                        results[index] = not_run(jobs[index])
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
        return [results.get(i) or not_run(jobs[i]) for i in range(len(jobs))]


# Dask: one Worker (warm kernel and report thread) per thread of each Dask worker process.
_DASK_WORKERS: dict[int, Worker] = {}
_NEVER = threading.Event()  # a batch without a folder of its own (called directly) has no runner to lose


@atexit.register
def _close_dask_workers() -> None:
    for worker in _DASK_WORKERS.values():
        worker.close()


def _dask_task(root: str, job: Job, options: RunOptions) -> Outcome:
    key = threading.get_ident()
    worker = _DASK_WORKERS.get(key)
    if worker is None:
        worker = _DASK_WORKERS[key] = Worker(Path(root), options)
    # A runner killed outright cannot cancel a running task: the task stops when its batch's
    # folder (owned by the runner, on the shared file system) has no owner any more.
    runner_gone = OwnerGone(Path(options.summary_cache)) if options.summary_cache else _NEVER
    return worker.run(job, runner_gone)


class DaskCluster(Executor):
    """The jobs as tasks on the Dask distributed cluster at ``scheduler_address``."""

    def __init__(self, workers: int | None = None, scheduler_address: str | None = None):
        if not scheduler_address:
            raise UsageError("--executor dask needs --scheduler-address tcp://HOST:PORT")
        super().__init__(workers, scheduler_address)

    def run(self, root: Path, jobs: list[Job], options: RunOptions, listener: Listener, stop: Stop) -> list[Outcome]:
        try:
            import dask
            from distributed import Client
        except ImportError as exc:
            raise UsageError("--executor dask needs dask.distributed: pip install 'srelib[dask]'") from exc
        address = self.scheduler_address
        try:  # connecting gives up after Dask's own connect timeout (distributed.comm.timeouts.connect)
            client = Client(address, timeout=dask.config.get("distributed.comm.timeouts.connect"), set_as_default=False)
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
                if stop.is_set():  # no new report starts; running ones see the batch gone and stop (OwnerGone)
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
                        why = f"on the Dask cluster: {type(exc).__name__}: {exc}"
                        outcome = Outcome(jobs[index], FAILED, 0.0, why)
                    results[index] = outcome
                    listener.finished(outcome, len(results), len(jobs))
        return [results.get(i) or not_run(jobs[i]) for i in range(len(jobs))]


EXECUTORS: dict[str, type[Executor]] = {}


def register(name: str, executor: type[Executor]) -> None:
    EXECUTORS[name] = executor


def executor(name: str, workers: int | None = None, scheduler_address: str | None = None) -> Executor:
    """The executor registered as ``name``, set up (or a :class:`UsageError` saying what is missing)."""
    kind = EXECUTORS.get(name)
    if kind is None:
        raise UsageError(f"unknown executor {name!r}: {' or '.join(EXECUTORS)}")
    return kind(workers, scheduler_address)


register("local", WorkerProcesses)
register("dask", DaskCluster)
