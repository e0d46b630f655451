"""A batch of report runs: its jobs, their outcomes, who is told as it goes, and :func:`run_many`.

How a batch runs (:func:`run_many`; how its jobs are run is an executor's, :mod:`srelib.run.executors`):

- **One runner per workbench.** The batch holds ``outputs/.runner.lock``
  (:func:`srelib.run.control.exclusive`); a second runner is refused with a clear message (or
  waits, when asked to). Publishing is safe between processes
  anyway (staging folders, report folders swapped whole, a file lock around that, the index and
  the run log).
- **Workers.** ``workers`` processes (default: cores), started with ``spawn`` in their own
  process group. Each runs one report at a time on a kernel it keeps warm and reuses
  (:mod:`srelib.run.kernels`), so a report costs its own work, not a kernel start and imports.
- **Killed outright** (``kill -9``, out of memory): the workers and their kernels die with the
  runner (:func:`srelib.run.control.die_with_parent`), so nothing publishes once its lock is
  gone. Each staging folder is its process's, under a lock of its own: the next runner removes
  only those whose owner is gone (:func:`srelib.run.control.clean_staging`), never one in use.
- **One summary per period.** Runs of a batch share each (period, team) summary through a
  cache folder (:mod:`srelib.run.summary_cache`): the first run that needs it computes it, the
  others read it.
- **Per-report timeout.** A report running past ``timeout`` seconds is interrupted (then its
  kernel killed), recorded as failed, and its notebook kept under ``outputs/_failed/``.
- **Failures stay local.** A failed report, a dead kernel (retried with back-off by
  :func:`srelib.run.report.run_report`) or a dead worker process (replaced) never stops the others.
- **Clean stop.** SIGTERM or Ctrl-C: no new report starts; running ones are interrupted, their
  kernels shut down, nothing is published half-written, and earlier reports stay intact.
- **Scale-out.** ``executor="dask"`` sends the same jobs to an existing Dask distributed
  cluster; its workers must see the workbench folder (a shared file system) and have srelib.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from srelib.run.control import Stop, clean_staging, exclusive, owned_folder, stop_on_signals

OK, FAILED, INTERRUPTED, NOT_RUN = "ok", "failed", "interrupted", "not run"


@dataclass(frozen=True)
class Job:
    report: str
    period: str  # a period label: 2026-10, 2026-Q3, 2026-W43
    team: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    formats: tuple[str, ...] = ("html",)  # what to publish: the page, and "slides" or "pdf" besides

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


def outputs_folder(root: Path, options: RunOptions) -> Path:
    if options.outputs:
        return Path(options.outputs)
    from srelib.config import Workbench

    return Workbench.load(root).outputs_path


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
    from srelib.run.executors import executor as executor_named  # executors run this module's jobs

    listener = listener or Listener()
    options = options or RunOptions()
    stop = stop or Stop()
    runner = executor_named(executor, workers, scheduler_address)  # a mistake is refused before the lock
    outputs = outputs_folder(root, options)
    with exclusive(outputs / ".runner.lock", "a report runner", wait_for_lock), stop_on_signals(stop):
        clean_staging(outputs)  # what runs killed outright left; never a folder a live process uses
        try:
            with owned_folder(outputs / ".staging", prefix="batch-") as cache:
                options = replace(options, summary_cache=str(cache))
                jobs = list(jobs() if callable(jobs) else jobs)
                listener.begin(len(jobs))
                if not jobs:
                    return []
                return runner.run(root, jobs, options, listener, stop)
        finally:
            clean_staging(outputs)  # a worker process that died mid-report left its folder


def not_run(job: Job) -> Outcome:
    """The outcome of a job the batch never started, because it was stopped first."""
    return Outcome(job, NOT_RUN, 0.0, "the batch was stopped before this report started")
