"""Many report runs at once: one process per run, ``workers`` at a time.

Each job runs :func:`srelib.run.run_report` in a fresh process (``spawn``): its own kernel over
IPC sockets (parallel kernels on TCP race for ports), its own read-only warehouse connection.
Publishing is already safe between processes (staging folders, atomic renames, a file lock
around the manifest, index and run log), so parallel runs cannot corrupt anything. A job that
fails is reported and the others go on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from srelib.errors import SrelibError


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
    status: str  # "ok" or "failed"
    seconds: float
    message: str = ""


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _run_one(root: str, job: Job) -> tuple[str, float, str]:
    from srelib.config import Workbench
    from srelib.period import Period
    from srelib.run import run_report

    started = time.monotonic()
    workbench = Workbench.load(Path(root))
    try:
        run_report(
            workbench,
            job.report,
            Period.parse(job.period, workbench.org.timezone),
            job.team,
            parameters=dict(job.parameters),
        )
    except SrelibError as exc:
        return "failed", round(time.monotonic() - started, 2), str(exc)
    return "ok", round(time.monotonic() - started, 2), ""


def run_many(
    root: Path, jobs: Sequence[Job], workers: int | None = None, progress: Callable[[str], None] = lambda line: None
) -> list[Outcome]:
    """Run ``jobs`` (in the given order of start), ``workers`` at a time; outcomes in job order."""
    workers = max(1, workers or default_workers())
    if workers == 1 or len(jobs) <= 1:
        outcomes = []
        for i, job in enumerate(jobs, start=1):
            progress(f"[{i}/{len(jobs)}] {job.label}")
            status, seconds, message = _run_one(str(root), job)
            outcomes.append(Outcome(job, status, seconds, message))
        return outcomes
    results: dict[int, Outcome] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        pending: dict[Future[tuple[str, float, str]], int] = {}
        for index, job in enumerate(jobs):
            pending[pool.submit(_run_one, str(root), job)] = index
        done_count = 0
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                job = jobs[index]
                try:
                    status, seconds, message = future.result()
                except Exception as exc:  # a worker that died (killed kernel, out of memory...)
                    status, seconds, message = "failed", 0.0, f"{type(exc).__name__}: {exc}"
                results[index] = Outcome(job, status, seconds, message)
                done_count += 1
                progress(f"[{done_count}/{len(jobs)}] {job.label}: {status} in {seconds:.1f} s")
    return [results[i] for i in range(len(jobs))]
