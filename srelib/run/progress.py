"""How a batch of report runs shows itself: a rich progress bar while it runs, a table at the end.

Names and messages come from data (teams, SLOs, errors quoting them): they are escaped for
rich's console markup, so ``[red]`` or ``[link=…]`` in a name shows as written.

On a terminal, stderr gets a progress bar (reports done out of all, the ones running now,
elapsed time) and stdout a closing table of what ran, how long it took and how it ended.
Piped or redirected, stderr gets one line per finished report and stdout one tab-separated
line per report (status, report, period and key, seconds, message) for scripts to read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from srelib.run.batch import OK, Job, LineListener, Listener, Outcome

STYLES = {"ok": "green", "failed": "bold red", "interrupted": "yellow", "not run": "dim"}


class RichListener(Listener):
    """A progress bar: done/total, elapsed time, and which reports are running now."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = progress.add_task("starting", total=None)
        self.running: list[str] = []

    def begin(self, total: int) -> None:
        self.progress.update(self.task, total=total, description="nothing to run" if not total else "running")

    def started(self, job: Job) -> None:
        self.running.append(job.label)
        self._describe()

    def finished(self, outcome: Outcome, done: int, total: int) -> None:
        if outcome.job.label in self.running:
            self.running.remove(outcome.job.label)
        if outcome.status != OK:
            style = STYLES.get(outcome.status, "")
            line = f"[{style}]{outcome.status}[/] {escape(f'{outcome.job.label}: {outcome.message}')}"
            self.progress.console.print(line, highlight=False)
        self.progress.update(self.task, completed=done, total=total)
        self._describe()

    def _describe(self) -> None:
        shown = ", ".join(self.running[:3]) + (f" and {len(self.running) - 3} more" if len(self.running) > 3 else "")
        self.progress.update(self.task, description=shown or "finishing")


@contextmanager
def progress_listener(console: Console) -> Iterator[Listener]:
    if not console.is_terminal:
        yield LineListener(lambda line: console.print(line, markup=False, soft_wrap=True, highlight=False))
        return
    with Progress(
        SpinnerColumn(),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),  # report labels name teams and SLOs: data
        console=console,
    ) as progress:
        yield RichListener(progress)


def outcome_table(outcomes: Sequence[Outcome]) -> Table:
    table = Table(title="Report runs", title_justify="left")
    for name, justify in (("Status", "left"), ("Report", "left"), ("Period", "left"), ("For", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("Seconds", justify="right")
    table.add_column("Message", overflow="fold")
    for o in outcomes:
        about = o.job.team or next(iter(o.job.parameters.values()), "")
        cells = (o.job.report, o.job.period, about, f"{o.seconds:.1f}", o.message or (o.html or ""))
        table.add_row(f"[{STYLES.get(o.status, '')}]{o.status}[/]", *map(escape, cells))  # data: never markup
    return table


def tally(outcomes: Sequence[Outcome]) -> str:
    """ "20 published, 1 failed" (and how many were interrupted or never started, if any)."""
    counts = {status: sum(o.status == status for o in outcomes) for status in STYLES}
    text = f"{counts['ok']} published, {counts['failed']} failed"
    extra = [f"{counts[s]} {s}" for s in ("interrupted", "not run") if counts[s]]
    return ", ".join([text, *extra])


def print_outcomes(outcomes: Sequence[Outcome], out: Console, err: Console, single: bool = False) -> None:
    """The closing table (terminal) or tab-separated lines (pipe) on ``out``; the tally on ``err``.

    ``single``: the one report a user named, which says how it went in a sentence instead (its
    HTML path is the command's output).
    """
    if single and len(outcomes) == 1:
        o = outcomes[0]
        if o.status == OK:
            err.print(f"{o.job.label}: published in {o.seconds:.1f} s", markup=False, soft_wrap=True)
        else:
            err.print(f"error: {o.message or o.status}", markup=False, soft_wrap=True)
        return
    if out.is_terminal:
        out.print(outcome_table(outcomes))
    else:
        for o in outcomes:
            what = o.job.label.replace(" ", "\t", 1)  # report<TAB>period (team, SLO or initiative)
            print(f"{o.status}\t{what}\t{o.seconds:.1f} s\t{o.message}".rstrip(), file=out.file, flush=True)
    err.print(tally(outcomes), markup=False, soft_wrap=True)
