"""The ``srelib`` command line: a thin layer over the Python API (docs/architecture.md, "Command line").

Exit codes: 0 ok; 2 bad input or usage, with a clear message and no traceback; 1 anything
else. Errors become messages here and nowhere else (``SRELIB_DEBUG=1`` shows tracebacks).

Output. Names in the data (SLOs, teams, incident titles, file names) are untrusted, so nothing
printed may carry a terminal control sequence: all text leaves through :func:`say` (click) or a
:class:`TerminalConsole` (rich), both of which show control characters as escapes
(:func:`srelib.errors.printable`); piped or redirected, :func:`printable_output` passes every
write to stdout and stderr through it as well.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
import yaml
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from srelib import __version__
from srelib.config import FOLDER_NAME, FOLDER_NAME_RULE, Workbench, load_yaml, yaml_problem
from srelib.errors import InputError, SrelibError, UsageError, printable

if TYPE_CHECKING:  # the command line starts without pandas and DuckDB; commands import what they use
    from srelib.ingest.sources.base import Extract

LAYOUT = "\n\t"  # the control characters output may hold: lines, and the tabs between columns


def say(text: str, err: bool = False) -> None:
    """Print a line (or lines) on stdout, or stderr: control characters in it are shown, not sent."""
    typer.echo(printable(text, LAYOUT), err=err)


class TerminalConsole(Console):
    """A rich console that sends no control character from what it prints: rich's own styles and
    cursor moves (a progress bar) pass; text is shown :func:`printable`, and a hyperlink (OSC 8,
    which markup in data could ask for) is dropped: the workbench prints none."""

    def render_str(self, text: str, **options: Any) -> Text:
        """Text made printable before rich measures it, so a table stays aligned."""
        return super().render_str(printable(text, LAYOUT), **options)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        """The last step before writing: whatever reached here without :meth:`render_str` (a
        progress bar's description) is made printable too."""
        shown = (
            segment
            if segment.control
            else Segment(
                printable(segment.text, LAYOUT),
                segment.style.update_link(None) if segment.style and segment.style.link else segment.style,
            )
            for segment in buffer
        )
        return super()._render_buffer(shown)


class _PrintableStream(io.TextIOBase):
    """A text stream that writes everything :func:`printable` (lines and tabs kept)."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.stream.write(printable(text, LAYOUT))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "errors", None) or "strict"


@contextmanager
def printable_output() -> Iterator[None]:
    """stdout and stderr, where rich would not style for a terminal (piped, redirected), pass every
    write through :func:`printable`: whatever writes there (click, rich, a bare print, a library's
    warning) sends no control sequence."""
    before = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (s if Console(file=s).is_terminal else _PrintableStream(s) for s in before)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = before


def _team(value: str | None) -> str | None:
    """``--team``: a team's reports are published in outputs/<period>/teams/<team>, so it is a folder name."""
    if value is not None and not FOLDER_NAME.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a team: a team names a folder, so {FOLDER_NAME_RULE}")
    return value


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="SRE Value Workbench: reliability numbers, narratives and reports from operational data.",
)
err = TerminalConsole(stderr=True, highlight=False)

PeriodOpt = Annotated[
    str, typer.Option("--period", help="2026 (year), 2026-Q4 (quarter), 2026-10 (month) or 2026-W43 (ISO week)")
]
TeamOpt = Annotated[str | None, typer.Option("--team", help="one team's incidents and SLOs", callback=_team)]
WarehouseOpt = Annotated[Path | None, typer.Option("--warehouse", help="a DuckDB file other than the one in params/")]
DataOpt = Annotated[Path | None, typer.Option("--data", help="a data directory of canonical files")]
SourcesOpt = Annotated[
    Path | None, typer.Option("--sources", help="vendor exports to read (default: params/sources.yaml, if present)")
]


def _extracts(
    sources: Path | None, workbench: Workbench | None, data_dir: Path, warehouse: Path | None
) -> list[Extract]:
    """Read the sources listed in ``--sources`` or, by default, ``params/sources.yaml``; say what each did."""
    from srelib.ingest.sources import load_config, read_sources

    if sources is not None and not sources.is_file():
        raise UsageError(f"no sources file at {sources}")
    path = sources or (workbench.root / "params" / "sources.yaml" if workbench else None)
    if path is None:
        return []
    root = workbench.root if workbench else Path.cwd()
    extracts = read_sources(load_config(path), root, data_dir, warehouse)
    for extract in extracts:
        for note in extract.notes:
            say(f"{extract.file}: {note}", err=True)
    return extracts


def _warn(warnings: list[str]) -> None:
    """Settings that are allowed but weaken security, said before anything runs."""
    for warning in warnings:
        err.print(f"warning: {printable(warning)}", markup=False, soft_wrap=True)


def _workbench() -> Workbench:
    return Workbench.find()


@app.command()
def validate(
    directory: Annotated[Path, typer.Argument(help="a data directory of canonical files")],
    sources: SourcesOpt = None,
) -> None:
    """Check every canonical file in DIRECTORY (and the configured vendor exports); list every problem."""
    from srelib.ingest.validate import validate_directory

    workbench = Workbench.find(required=False)
    warehouse = workbench.warehouse_path if workbench else None
    dataset = validate_directory(directory, _extracts(sources, workbench, directory, warehouse), workbench.activities)
    say(f"{directory}: valid ({dataset.describe() or 'no rows'}, {len(dataset.slos.slos)} SLOs)")
    for file, name, reason in dataset.slos.skipped:
        say(f"  skipped {file}: {name}: {reason}")
    dataset.con.close()


@app.command()
def ingest(data: DataOpt = None, warehouse: WarehouseOpt = None, sources: SourcesOpt = None) -> None:
    """Validate a data directory and the configured vendor exports, then load them in one transaction."""
    from srelib.run.refresh import ingest_workbench

    workbench = _workbench()
    directory = data or workbench.data_path
    target = warehouse or workbench.warehouse_path
    say(
        ingest_workbench(
            workbench, directory=directory, target=target, extracts=_extracts(sources, workbench, directory, target)
        )
    )


@app.command()
def metrics(
    period: PeriodOpt,
    team: TeamOpt = None,
    data: DataOpt = None,
    warehouse: WarehouseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the PeriodSummary as one JSON object")] = False,
) -> None:
    """Compute the PeriodSummary for a period (and team)."""
    summary = _summary(period, team, data, warehouse)
    if as_json:
        from srelib.present.policy import with_reasons

        say(json.dumps(with_reasons(summary).model_dump(mode="json"), indent=2))
        return
    from srelib.present import narrative
    from srelib.present.rows import kpi_rows  # not srelib.present.report: no charts, no altair to import

    say(f"{summary.title}{f' · team {team}' if team else ''} ({summary.start} to {summary.end})")
    for row in kpi_rows(summary):
        say(f"  {row['label']:<42} {row['now']:>14}")
    say("")
    say(narrative.render(summary, fmt="text"))


def _summary(period: str, team: str | None, data: Path | None, warehouse: Path | None) -> Any:
    """The PeriodSummary of ``period`` (and ``team``), from a data folder or a warehouse."""
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import connect, in_memory
    from srelib.period import Period
    from srelib.run.programme import run_history
    from srelib.summary import build_summary

    if data is not None and warehouse is not None:
        raise UsageError("give --data or --warehouse, not both")
    workbench = Workbench.find(required=data is None and warehouse is None)
    chosen = Period.parse(period, workbench.org.timezone)
    con = (
        in_memory(validate_directory(data, activities=workbench.activities), workbench.org.timezone)
        if data is not None
        else connect(warehouse or workbench.warehouse_path)
    )
    history = run_history(workbench)  # the reports published so far: the programme's communications
    with con:
        return build_summary(con, workbench, chosen, team, history=history)


@app.command("export")
def export_tables(
    period: PeriodOpt,
    to: Annotated[Path, typer.Option("--to", help="the folder to write the tables into (made if missing)")],
    team: TeamOpt = None,
    data: DataOpt = None,
    warehouse: WarehouseOpt = None,
    formats: Annotated[str, typer.Option("--format", help="csv, parquet or both, comma-separated")] = "csv,parquet",
) -> None:
    """Write the PeriodSummary as tables (CSV and Parquet, one file per section) for finance and BI tools."""
    from srelib.present import export

    asked = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    unknown = [f for f in asked if f not in export.FORMATS]
    if unknown or not asked:
        raise UsageError(f"--format {formats!r}: the formats are {', '.join(export.FORMATS)}")
    if to.exists() and not to.is_dir():
        raise UsageError(f"--to {to}: not a folder")
    summary = _summary(period, team, data, warehouse)
    written = export.write(summary, to, asked)
    tables = len({p.stem for p in written})
    err.print(f"wrote {tables} tables of {summary.title}{f' · team {team}' if team else ''} into {to}", markup=False)
    for path in written:
        say(str(path))


def _parameters(values: list[str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise UsageError(f"-p {item!r}: expected name=value")
        try:
            parsed[name] = load_yaml(value) if value else ""
        except yaml.YAMLError as exc:
            raise UsageError(f"-p {item!r}: the value is {yaml_problem(exc)}") from exc
    return parsed


WorkersOpt = Annotated[int | None, typer.Option("--workers", "-j", min=1, help="reports run at once (default: cores)")]
TimeoutOpt = Annotated[int, typer.Option("--timeout", min=1, help="seconds one report may run before it is stopped")]
ExecutorOpt = Annotated[
    str, typer.Option("--executor", help="local (worker processes here) or dask (an existing Dask cluster)")
]
AddressOpt = Annotated[
    str | None, typer.Option("--scheduler-address", help="the Dask scheduler, tcp://HOST:PORT (with --executor dask)")
]
WaitOpt = Annotated[
    float, typer.Option("--wait", min=0, help="seconds to wait for another runner to finish (default: refuse at once)")
]


NotifyOpt = Annotated[
    bool,
    typer.Option("--notify/--no-notify", help="announce the runs as params/publish.yaml says (webhook, newsletter)"),
]


def _batch(
    jobs: Any,
    workers: int | None,
    options: Any,
    executor: str = "local",
    address: str | None = None,
    wait: float = 0.0,
    notify: bool = False,
    single: bool = False,
) -> list[Any]:
    """Run a batch with a progress bar (or lines, when stderr is not a terminal); close with a
    table (or tab-separated lines, when stdout is not a terminal); announce it if asked. Exit 1
    if any report failed or a delivery failed, 130/143 when stopped by Ctrl-C/SIGTERM."""
    from srelib.run.batch import OK, Listener, Stop, run_many
    from srelib.run.progress import print_outcomes, progress_listener

    workbench = _workbench()
    publish = None
    if notify:
        from srelib.run.notify import load_config

        publish = load_config(workbench)  # a mistake in it (or a missing secret) stops us before any run
        _warn(publish.warnings)
    stop = Stop()
    with progress_listener(err) as listener:
        outcomes = run_many(
            workbench.root,
            jobs,
            workers,
            Listener() if single else listener,
            options,
            stop,
            executor=executor,
            scheduler_address=address,
            wait_for_lock=wait,
        )
    print_outcomes(outcomes, TerminalConsole(highlight=False), err, single)
    if stop.is_set():
        raise typer.Exit(stop.exit_code)
    delivered = True
    if publish is not None and publish.configured and outcomes:
        from srelib.errors import DeliveryError
        from srelib.run.notify import announce

        try:
            for line in announce(workbench, outcomes, publish):
                err.print(line, markup=False, soft_wrap=True)
        except DeliveryError as exc:
            err.print(f"error: {exc}", markup=False, soft_wrap=True)
            delivered = False
    if any(o.status != OK for o in outcomes) or not delivered:
        raise typer.Exit(1)
    return outcomes


@app.command()
def run(
    period: PeriodOpt,
    report: Annotated[
        list[str] | None,
        typer.Argument(help="report names (none: every report params/schedule.yaml has for this kind of period)"),
    ] = None,
    team: TeamOpt = None,
    warehouse: WarehouseOpt = None,
    outputs: Annotated[Path | None, typer.Option("--outputs", help="the outputs folder")] = None,
    parameter: Annotated[
        list[str] | None, typer.Option("-p", "--parameter", help="name=value, passed to the notebook")
    ] = None,
    workers: WorkersOpt = None,
    timeout: TimeoutOpt = 600,
    executor: ExecutorOpt = "local",
    scheduler_address: AddressOpt = None,
    wait: WaitOpt = 0.0,
    notify: Annotated[
        bool, typer.Option("--notify", help="announce the runs as params/publish.yaml says (webhook, newsletter)")
    ] = False,
    formats: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="what to publish, comma-separated: html (always), slides (the QBR's, executive summary's "
            "and annual review's deck), pdf (each page printed by Chromium), markdown (the monthly report's "
            "and case studies', with chart images, for the wiki); default: html, or the schedule's",
        ),
    ] = None,
) -> None:
    """Execute report notebooks for a period and publish them into outputs/<period>/.

    Several reports (or none named: the schedule's reports for that kind of period, fan-out
    reports once per team, SLO or initiative) run in parallel. One report prints the path of
    its HTML.
    """
    from srelib.period import Period
    from srelib.run.batch import Job, RunOptions
    from srelib.run.schedule import period_jobs

    workbench = _workbench()
    chosen = Period.parse(period, workbench.org.timezone)
    parameters = {k: str(v) for k, v in _parameters(parameter or []).items()}
    options = RunOptions(
        timeout=timeout,
        warehouse=str(warehouse.resolve()) if warehouse else None,
        outputs=str(outputs.resolve()) if outputs else None,
    )
    from srelib.run.report import check_request, parse_formats

    asked = parse_formats(formats) if formats is not None else None
    if report and len(report) == 1:
        check_request(workbench, report[0], chosen, team, parameters, asked or ("html",))  # exit 2, not a failed run
        jobs = [Job(report[0], chosen.label, team, parameters, asked or ("html",))]
    else:
        jobs = period_jobs(workbench, chosen, list(report) if report else None, team, parameters, asked)
        if any("pdf" in job.formats for job in jobs):
            from srelib.present import pdf

            if pdf.browser() is None:
                raise UsageError(pdf.missing())
    single = bool(report) and len(jobs) == 1  # one report named: its HTML path is the output
    outcomes = _batch(jobs, workers, options, executor, scheduler_address, wait, notify, single)
    if single and outcomes[0].html:
        say(outcomes[0].html)


NowOpt = Annotated[
    str | None, typer.Option("--now", help="pretend it is this moment (ISO 8601 with offset), e.g. to plan ahead")
]


def _now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--now {text!r} is not an ISO 8601 timestamp") from exc
    if moment.tzinfo is None:
        raise UsageError(f"--now {text!r} has no UTC offset (write 2026-11-02T07:00:00+00:00)")
    return moment


@app.command()
def due(now: NowOpt = None) -> None:
    """List every scheduled report (params/schedule.yaml) that should exist and does not, or is stale."""
    from srelib.run.schedule import due_runs

    runs = due_runs(_workbench(), _now(now))
    for r in runs:
        about = f" ({r.about})" if r.about else ""
        say(f"{r.report}\t{r.period.label}{about}\t{r.reason}\tdue {r.due_at.isoformat(timespec='minutes')}")
    err.print(f"{len(runs)} report(s) due", soft_wrap=True)


@app.command("run-due")
def run_due_command(
    now: NowOpt = None,
    workers: WorkersOpt = None,
    timeout: TimeoutOpt = 600,
    executor: ExecutorOpt = "local",
    scheduler_address: AddressOpt = None,
    wait: WaitOpt = 0.0,
    notify: NotifyOpt = True,
) -> None:
    """Produce every due report, oldest first; exit 1 when any failed (the others are still published).

    Then announce them as params/publish.yaml says, if it exists (--no-notify: do not).
    """
    from srelib.run.batch import RunOptions
    from srelib.run.schedule import apply_retention, due_jobs

    workbench = _workbench()
    moment = _now(now)
    for removed in apply_retention(workbench, moment):
        err.print(f"removed outputs/{removed} (retention, params/schedule.yaml)", markup=False, soft_wrap=True)
    jobs = lambda: due_jobs(workbench, moment)  # noqa: E731 - what is due is decided under the runner lock
    _batch(jobs, workers, RunOptions(timeout=timeout), executor, scheduler_address, wait, notify)


@app.command()
def scheduler(
    workers: WorkersOpt = None,
    timeout: TimeoutOpt = 600,
    notify: NotifyOpt = True,
) -> None:
    """Run until stopped (SIGTERM, Ctrl-C): produce each scheduled report when it falls due
    (cron triggers from params/schedule.yaml, org time zone), catch up at start, log each run."""
    from srelib.run.batch import RunOptions
    from srelib.run.daemon import Daemon

    workbench = _workbench()
    after: Any = lambda outcomes: None  # noqa: E731
    if notify:
        from srelib.run.notify import announce, load_config

        publish = load_config(workbench)  # checked now: a daemon should not find out at 06:00
        _warn(publish.warnings)
        if publish.configured:

            def after(outcomes: list[Any]) -> None:
                for line in announce(workbench, outcomes, publish):
                    err.print(line, markup=False, soft_wrap=True)

    daemon = Daemon(
        workbench,
        workers,
        RunOptions(timeout=timeout),
        log=lambda line: err.print(line, markup=False, soft_wrap=True, highlight=False),
        after_batch=after,
    )
    raise typer.Exit(daemon.serve())


@app.command()
def dashboard(
    name: Annotated[
        str, typer.Argument(help="a notebook of notebooks/dashboards/: executive, team, slo_explorer")
    ] = "executive",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="the port to listen on")] = 8866,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="the address to bind (default: this machine only; 0.0.0.0: every interface, needs --token)"
        ),
    ] = "127.0.0.1",
    token: Annotated[bool, typer.Option("--token", help="require a random token (printed in the URL)")] = False,
    no_token: Annotated[
        bool,
        typer.Option("--no-token", help="serve another --host without a token: a reverse proxy authenticates"),
    ] = False,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="another name the server answers to (a reverse proxy's; repeatable)"),
    ] = None,
    pool_size: Annotated[
        int, typer.Option("--pool-size", min=0, max=16, help="preheated kernels kept ready (0: none)")
    ] = 1,
    max_kernels: Annotated[
        int,
        typer.Option("--max-kernels", min=1, max=500, help="pages served at once (~350 MB each); more: retry later"),
    ] = 20,
    cull_idle: Annotated[
        int,
        typer.Option("--cull-idle", min=1, help="seconds before the kernel of a closed page is shut down"),
    ] = 180,
    warm: Annotated[
        bool,
        typer.Option(
            "--warm/--no-warm",
            help="compute every period × team the filters offer ahead, at low priority (--no-warm: when first chosen)",
        ),
    ] = True,
) -> None:
    """Serve a live dashboard with voila: read-only, sources hidden, offline charts, preheated kernels."""
    from srelib.serve.server import serve

    serve(
        _workbench(),
        name,
        port,
        host,
        token,
        pool_size,
        no_token=no_token,
        allow_hosts=allow_host or [],
        max_kernels=max_kernels,
        cull_idle=cull_idle,
        warm=warm,
    )


@app.command("new-report")
def new_report(
    name: Annotated[str, typer.Argument(help="the report's name: lower case, digits and _ (e.g. capacity_review)")],
    title: Annotated[str | None, typer.Option("--title", help="how readers see it (default: from the name)")] = None,
) -> None:
    """Scaffold notebooks/NAME.ipynb with the standard structure; `srelib run NAME` then publishes it."""
    from srelib.run.scaffold import new_report as scaffold

    workbench = _workbench()
    path = scaffold(workbench, name, title)
    say(f"created {path}; open it in JupyterLab, then: srelib run {name} --period <period>", err=True)
    say(str(path))


@app.command()
def demo(
    data_only: Annotated[
        Path | None, typer.Option("--data-only", help="only write the demo data files into this folder")
    ] = None,
    end_month: Annotated[
        str | None, typer.Option("--end-month", help="last month of demo data (default: the latest complete month)")
    ] = None,
    months: Annotated[int, typer.Option("--months", min=3, max=60, help="months of demo data")] = 18,
    reports: Annotated[int, typer.Option("--reports", min=1, max=12, help="how many recent months to report on")] = 3,
    workers: WorkersOpt = None,
) -> None:
    """Seeded demo org → validate → warehouse → the whole report catalogue → prints outputs/index.html."""
    from srelib.demo import organisation as demo_data
    from srelib.period import Period

    if data_only is not None:
        end = Period.parse(end_month) if end_month else None
        counts = demo_data.generate(data_only, end, months)
        say(f"wrote demo data into {data_only}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        return
    workbench = _workbench()
    end = Period.parse(end_month, workbench.org.timezone) if end_month else None
    index = demo_data.run(
        workbench, end, months, reports, progress=lambda line: err.print(line, markup=False), workers=workers
    )
    say(str(index))


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="the folder to make a workbench of (default: here)")] = Path(),
) -> None:
    """Start a workbench for your own data: commented params/, an empty data/, params/sources.yaml
    with one example per kind of export."""
    from srelib.run.scaffold import init_workbench

    created = init_workbench(directory)
    root = directory.resolve()
    for path in created:
        say(f"created {path.relative_to(root)}", err=True)
    where = "" if root == Path.cwd().resolve() else f"cd {directory}\n  "
    say(
        f"""workbench ready in {root}. Next:
  {where}# put canonical files in data/ (incidents.csv, sli.csv, slos.yaml, ... any you have)
  # or point params/sources.yaml at your vendor exports (PagerDuty, Opsgenie, FOCUS, ...)
  srelib validate data
  srelib ingest
  srelib run monthly_reliability --period <a month of your data, e.g. 2026-10>""",
        err=True,
    )


@app.command("version")
def show_version() -> None:
    """Print the srelib version."""
    say(__version__)


def main() -> None:
    with printable_output():
        _main()


def _main() -> None:
    debug = os.environ.get("SRELIB_DEBUG") == "1"
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit's code here instead of raising it
        if isinstance(code, int) and code:
            sys.exit(code)
    except InputError as exc:
        err.print(exc.report(), markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except SrelibError as exc:
        if debug:
            raise
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:  # click's usage errors (missing option, bad value...)
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        err.print(f"error: {type(exc).__name__}: {exc} (SRELIB_DEBUG=1 shows the traceback)", markup=False)
        sys.exit(1)
