"""Dashboard views computed ahead: ``srelib dashboard``'s helper process fills the server's
summary cache with every period × team the dashboards' filters offer, at low priority, and
again after each ingest, so that a viewer's filter change only redraws.

See ``docs/dashboards.md`` ("Computed ahead").
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from srelib.config import Workbench
from srelib.ingest.warehouse import connect, latest_fingerprint
from srelib.period import Period
from srelib.serve.dashboards import periods, summaries

PAUSE = 0.2  # seconds between two computations of the warmer: a gap for a writer (an ingest)
POLL = 15.0  # seconds between two looks at the warehouse for a new ingest
ATTEMPTS = 3  # passes over the views of one ingest while some fail (say, an ingest held the warehouse)
NICE = 10  # the warmer's priority (and its session's): a tenth of a busy CPU


def warm(
    wb: Workbench,
    cache: Path,
    keep_going: Callable[[], bool] = lambda: True,
    log: Callable[[str], None] = print,
    poll: float = POLL,
    first_ready: Callable[[], None] = lambda: None,
) -> None:
    """Compute every view the dashboards offer (each period × the organisation and each team)
    into ``cache``: the newest period and its teams, the organisation of each other period
    (newest first), then their teams; then watch the warehouse and start again after each
    ingest, removing the summaries of the earlier one. Runs until ``keep_going()`` is false.

    Each summary is computed on a read-only connection held only while computing, with a pause
    between two, so an ingest waiting for the warehouse gets in within one computation. Views
    that could not be computed (the ingest held the warehouse) are tried again after ``poll``
    seconds, up to ``ATTEMPTS`` passes per ingest. ``first_ready`` is called once, when the
    newest period's views (what a visitor sees and chooses first) are computed the first time.
    """
    views = summaries(wb, cache, background=True)
    teams: list[str | None] = [None, *wb.catalogue.teams]
    tz = wb.org.timezone
    ready_for: str | None = None  # the ingest whose views are all computed
    tried: tuple[str | None, int] = (None, 0)  # the ingest of the last pass, and its passes so far
    while keep_going():
        try:
            with connect(wb.warehouse_path) as con:
                fingerprint = latest_fingerprint(con)
            labels = periods(wb) if fingerprint != ready_for else []
        except Exception as exc:  # the warehouse is being replaced, say: look again later
            log(f"cannot read the warehouse yet: {exc}")
            labels = []
        started, computed = time.monotonic(), set()
        if labels:
            views.keep_only(fingerprint)
        # The newest period (the page's first view) with its teams, then the organisation of
        # every other period (a period change needs it; a team is quick once it is there), then
        # their teams. In memory: one period's summaries at a time.
        batches = [[(p, None)] + ([(p, t) for t in teams[1:]] if i == 0 else []) for i, p in enumerate(labels)]
        batches += [[(p, t) for t in teams] for p in labels[1:]]  # the organisation's is read back first
        for number, batch in enumerate(batches):
            views.forget()
            for label, team in batch:
                if not keep_going():
                    return
                time.sleep(PAUSE)
                try:
                    views.get(Period.parse(label, tz), team)
                    computed.add((label, team))
                except Exception as exc:
                    log(f"cannot compute {label} {team or 'organisation'}: {exc}")
            if number == 0 or number >= len(labels):  # a period with its teams (the page's first one first)
                label = batch[0][0]
                log(f"dashboard views of {label} ready: {sum(view[0] == label for view in computed)} summaries")
            if number == 0:
                first_ready()
                first_ready = lambda: None  # noqa: E731
        if labels:
            tried = (fingerprint, tried[1] + 1 if tried[0] == fingerprint else 1)
            missed = len(labels) * len(teams) - len(computed)
            if missed and tried[1] < ATTEMPTS:  # the views computed are kept: the next pass reads them back
                log(f"{missed} dashboard views not computed yet: trying again in {poll:.0f} s")
            else:
                ready_for = fingerprint
                log(
                    f"dashboard views ready: {len(computed)} summaries ({len(labels)} periods × {len(teams)} scopes) "
                    f"in {time.monotonic() - started:.0f} s" + (f"; {missed} could not be computed" if missed else "")
                )
        deadline = time.monotonic() + poll
        while keep_going() and time.monotonic() < deadline:
            time.sleep(min(1.0, poll))


def warm_in_background(root: Path, cache: Path, parent: int) -> None:
    """:func:`warm` as ``srelib dashboard``'s helper process, until its parent (the server) is
    gone, in a session of its own (Ctrl-C is the server's to handle). The newest period's views
    (the page's first, and the team changes a visitor makes first) are computed at the server's
    own priority, so they are ready within seconds of a first visit; then the helper yields: its
    scheduling group is niced, since Linux shares the CPU between sessions first (autogroups)
    and a nice value alone would not yield to the visitors' kernels. Nice 10 (about a tenth of a
    busy CPU), not 19: an ingest waits for the warehouse while it computes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.setsid()
    wb = Workbench.load(root)
    warm(
        wb,
        cache,
        keep_going=lambda: os.getppid() == parent,
        log=lambda line: print(f"srelib dashboard: {line}", file=sys.stderr, flush=True),
        first_ready=_yield_cpu,
    )


def _yield_cpu() -> None:
    """Run at low priority from now on (a process may always lower its own)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(NICE))
    with contextlib.suppress(OSError):
        os.nice(NICE)
