"""Run a report: summary → papermill → nbconvert → atomic publish into ``outputs/<period>/``.

The PeriodSummary is computed once, written as ``summary.json``, and handed to the notebook,
so the report shows exactly the numbers in the JSON beside it. Everything is produced in a
staging folder of the run's own first; only a fully rendered report is published, by swapping
its folder for a copy with the new files and manifest in one step (:func:`srelib.files.replace_folder`),
so a failed, interrupted or killed run never replaces or damages an earlier good one, and a
reader sees the folder whole, old or new, at every moment. A failed notebook (with papermill's
error banner) is kept under ``outputs/_failed/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbclient.exceptions import DeadKernelError

from srelib import __version__
from srelib.config import Workbench
from srelib.errors import ReportError, RunInterrupted, UsageError
from srelib.files import atomic_write, locked, replace_folder, undo_interrupted_replace
from srelib.period import Period
from srelib.present.policy import with_reasons
from srelib.present.portal import write_index
from srelib.present.render import to_html
from srelib.resources import notebooks_dir
from srelib.run.catalogue import FORMATS, ReportSpec, find_report, offering, subject_of
from srelib.run.control import owned_folder, remove_abandoned
from srelib.run.history import last_runs
from srelib.run.kernels import ENGINE, ReusableKernel
from srelib.run.summary_cache import shared_summary
from srelib.summary import PeriodSummary

INTERRUPTED = "interrupted"
KERNEL = "python3"
STANDARD_PARAMETERS = ("period", "team", "warehouse", "summary_path", "workbench")


@dataclass(frozen=True)
class RunResult:
    report: str
    period: str
    team: str | None
    html: Path
    duration_seconds: float
    others: tuple[Path, ...] = ()  # the deck, PDFs, Markdown and its images beside the page, when asked for


def notebook_path(workbench: Workbench, spec: ReportSpec) -> Path:
    """The workbench's own copy of a report notebook wins over the packaged one."""
    own = workbench.root / "notebooks" / spec.notebook
    return own if own.is_file() else notebooks_dir() / spec.notebook


def report_folder(outputs: Path, period: Period, team: str | None, subject: tuple[str, str] | None = None) -> Path:
    """``outputs/<period>[/teams/<team>][/<kind>s/<key>]``: one folder per published scope."""
    folder = outputs / period.label
    folder = folder / "teams" / team if team else folder
    return folder / f"{subject[0]}s" / subject[1] if subject else folder


def _versions() -> dict[str, str]:
    names = ("duckdb", "pandas", "altair", "vl-convert-python", "papermill", "nbconvert", "ipykernel")
    return {"python": platform.python_version(), "srelib": __version__, **{n: version(n) for n in names}}


def run_report(
    workbench: Workbench,
    report: str,
    period: Period,
    team: str | None = None,
    warehouse: Path | None = None,
    outputs: Path | None = None,
    parameters: dict[str, Any] | None = None,
    timeout: int | None = 600,
    retries: int = 2,
    backoff: float = 1.0,
    kernel: ReusableKernel | None = None,
    summary_cache: Path | None = None,
    halted: Callable[[], str | None] = lambda: None,
    formats: tuple[str, ...] = ("html",),
) -> RunResult:
    """Run one report and publish it.

    A kernel that dies is restarted up to ``retries`` times, ``backoff`` seconds later and
    doubling; a cell that fails or runs past ``timeout`` seconds is not retried (it would fail
    again). ``kernel`` is a warm kernel to reuse (default: a fresh one for this run);
    ``summary_cache`` a folder where runs of one batch share each period's summary; ``halted``
    says why the run was stopped from outside ("interrupted", "timed out after …"), if it was;
    ``formats`` what to publish besides the page: "slides" (the report's deck) and "pdf" (each
    page printed by Chromium, :mod:`srelib.present.pdf`).
    """
    warehouse = warehouse or workbench.warehouse_path
    outputs = outputs or workbench.outputs_path
    spec, source, declared = check_request(workbench, report, period, team, parameters, formats)
    extra = dict(parameters or {})
    subject = subject_of(spec, team, extra)
    started = time.monotonic()
    started_at = datetime.now(UTC)
    summary = shared_summary(workbench, warehouse, period, team, summary_cache)
    if subject and subject[0] == "slo" and subject[1] not in summary.slos:
        raise UsageError(f"no SLO {subject[1]!r} in scope: known SLOs are {', '.join(sorted(summary.slos))}")
    if subject and subject[0] == "initiative" and subject[1] not in {i.name for i in workbench.initiatives.initiatives}:
        names = ", ".join(i.name for i in workbench.initiatives.initiatives) or "none (params/initiatives.yaml)"
        raise UsageError(f"no initiative {subject[1]!r}: known initiatives are {names}")
    owned = kernel is None
    kernel = kernel or ReusableKernel(max_uses=1)
    with contextlib.ExitStack() as finish:
        # This process's own staging folder: nobody else removes it while this process lives.
        staging = finish.enter_context(owned_folder(outputs / ".staging"))
        if owned:
            finish.callback(kernel.close)
        summary_file = staging / "summary.json"
        worded = with_reasons(summary)  # the policy's reasons in words, as summary.json has them
        worded.write(summary_file)
        executed = staging / spec.notebook
        values = {
            "period": period.label,
            "team": team,
            "warehouse": str(warehouse.resolve()),
            "summary_path": str(summary_file.resolve()),
            **({"workbench": str(workbench.root)} if "workbench" in declared else {}),
            **extra,
        }

        def record() -> dict[str, Any]:
            """What the run log says about any run of this report."""
            return {
                "report": spec.name,
                "title": spec.title,
                "period": period.label,
                "team": team,
                "subject": None if subject is None else {"kind": subject[0], "name": subject[1]},
                "started_at": started_at.isoformat(timespec="seconds"),
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "duration_seconds": round(time.monotonic() - started, 2),
                "parameters": {k: v for k, v in values.items() if k != "summary_path"},
                "input_fingerprint": summary.input_fingerprint,
                "versions": _versions(),
            }

        attempts = 0
        try:
            while True:  # a kernel that dies (killed, out of memory) gets another go, after a pause
                attempts += 1
                if halted() == INTERRUPTED:  # stopped while its summary was computed: no kernel for it
                    raise RunInterrupted(f"{report} for {period.label} was stopped before it started")
                try:
                    papermill.execute_notebook(
                        str(source),
                        str(executed),
                        parameters=values,
                        engine_name=ENGINE,
                        km=kernel.ready(source.parent),
                        kc=kernel.client,
                        kernel_name=KERNEL,
                        progress_bar=False,
                        request_save_on_cell_execute=False,
                        execution_timeout=timeout,
                    )
                    break
                except DeadKernelError:
                    kernel.discard()
                    if attempts > retries or halted():
                        raise
                    time.sleep(backoff * 2 ** (attempts - 1))
        except Exception as exc:
            kernel.discard()  # whatever state the failure left never reaches the next report
            stopped = halted()
            if stopped == INTERRUPTED:
                _log_run(outputs, {**record(), "status": INTERRUPTED, "attempts": attempts})
                raise RunInterrupted(f"{report} for {period.label} was interrupted; nothing was published") from exc
            failed = _keep_failed(outputs, period, team, spec, executed, subject)
            if stopped:
                where = f" in cell {exc.exec_count}" if isinstance(exc, papermill.PapermillExecutionError) else ""
                reason = f"{stopped}{where}"
            elif isinstance(exc, papermill.PapermillExecutionError):
                where = f" in cell {exc.exec_count}" if exc.exec_count else ""
                reason = f"{exc.ename}{where}: {exc.evalue}"
            elif isinstance(exc, DeadKernelError):
                reason = f"the kernel died {attempts} times ({exc})"
            else:
                lines = str(exc).strip().splitlines()
                reason = lines[-1] if lines else type(exc).__name__
            kept = failed.relative_to(outputs).as_posix() if failed else None
            _log_run(
                outputs,
                {**record(), "status": "failed", "attempts": attempts, "error": reason, "failed_notebook": kept},
            )
            with locked(outputs / ".lock"):
                write_index(outputs, workbench.org, last_runs(outputs))  # the index shows the failure
            raise ReportError(
                f"{report} for {period.label} failed: {reason}{f'; the failed notebook is {failed}' if failed else ''}"
            ) from exc
        folder = report_folder(outputs, period, team, subject)
        executed_nb = nbformat.read(executed, as_version=4)
        # The notebook kept for audit must re-run as published (JupyterLab, papermill, any cwd):
        # it names the summary.json published beside it, not this staging copy that is renamed there.
        _record_parameters(executed_nb, {**values, "summary_path": str((folder / "summary.json").resolve())})
        nbformat.write(executed_nb, executed)
        files = spec.files(formats)
        try:
            if spec.email:
                html, text = _email_parts(executed_nb, report)
                (staging / f"{spec.name}.txt").write_text(text, encoding="utf-8")
                files["text"] = f"{spec.name}.txt"
            else:
                scope = "-".join(part for part in (team, subject[1] if subject else None) if part)
                html = to_html(executed_nb, workbench.org, spec.title, f"{spec.name}-{period.label}-{scope}".strip("-"))
            (staging / files["html"]).write_text(html, encoding="utf-8")
            images = _render_formats(workbench, spec, worded, staging, files, extra)
        except ReportError as exc:  # nothing is published: the earlier report, if any, stays whole
            failure = {"status": "failed", "attempts": attempts, "error": str(exc), "failed_notebook": None}
            _log_run(outputs, {**record(), **failure})
            with locked(outputs / ".lock"):
                write_index(outputs, workbench.org, last_runs(outputs))
            raise
        published = [*files.values(), *images, spec.notebook, "summary.json"]
        entry = {
            **record(),
            "title": spec.title,
            "status": "ok",
            **{key: name for key, name in files.items() if key != "text"},
            **({"images": images} if images else {}),
            "notebook": spec.notebook,
            "attempts": attempts,
        }
        for key in ("period", "team", "subject"):  # the manifest says these once, for its folder
            entry.pop(key)
        with locked(outputs / ".lock"):
            if halted() == INTERRUPTED:  # the batch was stopped, or its runner is gone, since it ran
                _log_run(outputs, {**record(), "status": INTERRUPTED, "attempts": attempts})
                raise RunInterrupted(f"{report} for {period.label} was interrupted; nothing was published")
            stale = [name for name in [*spec.files(FORMATS).values(), *_images(folder, spec)] if name not in published]
            _publish(
                outputs,
                staging,
                folder,
                published,
                lambda tree: _update_manifest(tree, period, team, entry, subject),
                stale,
            )
            _log_run(
                outputs,
                {**record(), **entry, "folder": folder.relative_to(outputs).as_posix()},
            )
            write_index(outputs, workbench.org, last_runs(outputs))
        others = tuple(folder / name for key, name in files.items() if key not in ("html", "text"))
        others += tuple(folder / name for name in images)
        return RunResult(spec.name, period.label, team, folder / files["html"], entry["duration_seconds"], others)


def check_request(
    workbench: Workbench,
    report: str,
    period: Period,
    team: str | None,
    parameters: dict[str, Any] | None,
    formats: tuple[str, ...] = ("html",),
) -> tuple[ReportSpec, Path, dict[str, Any]]:
    """The report's spec, notebook and declared parameters, or a :class:`UsageError` saying
    what is wrong with the request (before anything runs)."""
    spec = find_report(workbench, report)
    if period.kind not in spec.period_kinds:
        raise UsageError(f"{report} is not produced for {period.kind}s")
    check_formats(spec, formats)
    source = notebook_path(workbench, spec)
    extra = dict(parameters or {})
    declared = papermill.inspect_notebook(str(source))
    unknown = sorted(set(extra) - set(declared))
    if unknown:
        raise UsageError(f"{report} has no parameter {', '.join(unknown)}: it takes {', '.join(declared)}")
    clash = sorted(set(extra) & set(STANDARD_PARAMETERS))
    if clash:
        raise UsageError(f"set {', '.join(clash)} with its own option, not with -p")
    subject_of(spec, team, extra)
    return spec, source, declared


def parse_formats(text: str) -> tuple[str, ...]:
    """``html,slides,pdf`` → the formats, in the catalogue's order; a :class:`UsageError` naming
    an unknown one. The page (html) is always published."""
    asked = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in asked if part not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format {', '.join(map(repr, unknown))}: formats are {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in asked or f == "html")


def check_formats(spec: ReportSpec, formats: tuple[str, ...]) -> None:
    """A :class:`UsageError` when ``spec`` cannot be published in ``formats`` here."""
    from srelib.present import pdf

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format {', '.join(map(repr, unknown))}: formats are {', '.join(FORMATS)}")
    if "slides" in formats and not spec.deck:
        raise UsageError(f"{spec.name} has no slide deck: the reports with one are {', '.join(offering('slides'))}")
    if "markdown" in formats and not spec.markdown:
        with_one = ", ".join(offering("markdown"))
        raise UsageError(f"{spec.name} has no Markdown edition: the reports with one are {with_one}")
    if "pdf" in formats and pdf.browser() is None:
        raise UsageError(pdf.missing())


def _render_formats(
    workbench: Workbench,
    spec: ReportSpec,
    summary: PeriodSummary,
    staging: Path,
    files: dict[str, str],
    parameters: dict[str, Any],
) -> list[str]:
    """Write the deck, the PDFs and the Markdown that ``files`` names into ``staging``, beside the
    page; the names of the Markdown's chart images written with it."""
    images: list[str] = []
    if "markdown" in files:
        from srelib.present import markdown

        try:
            post = markdown.post(summary, spec.name, spec.title, workbench.org.name, spec.name, **parameters)
        except Exception as exc:  # a chart vl-convert cannot draw, say: the run fails whole, nothing published
            raise ReportError(f"the Markdown edition of {spec.name} could not be written: {exc}") from exc
        (staging / files["markdown"]).write_text(post.text, encoding="utf-8")
        for figure in post.figures:
            (staging / figure.name).write_bytes(figure.png)
            images.append(figure.name)
    if "slides" in files:
        from srelib.present import deck

        page = deck.to_html(summary, spec.name, spec.title, workbench.org)
        (staging / files["slides"]).write_text(page, encoding="utf-8")
    if "pdf" in files:
        from srelib.present import pdf

        pdf.to_pdf(staging / files["html"], staging / files["pdf"])
        if "slides_pdf" in files:
            pdf.to_pdf(staging / files["slides"], staging / files["slides_pdf"])
    return images


def _images(folder: Path, spec: ReportSpec) -> list[str]:
    """The chart images of ``spec``'s Markdown edition published in ``folder`` (``NAME-N.png``)."""
    pattern = re.compile(rf"{re.escape(spec.name)}-\d+\.png")
    return sorted(p.name for p in folder.glob(f"{spec.name}-*.png") if pattern.fullmatch(p.name))


def _log_run(outputs: Path, entry: dict[str, Any]) -> None:
    """One line per run in ``outputs/runs.jsonl``: when, what, parameters, how long, status, versions."""
    outputs.mkdir(parents=True, exist_ok=True)
    with locked(outputs / ".runs.lock"), (outputs / "runs.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, sort_keys=True) + "\n")


def _email_parts(notebook: nbformat.NotebookNode, report: str) -> tuple[str, str]:
    """The HTML and text parts an e-mail report's notebook displayed (``srelib.present.mail.display``;
    ``newsletter``: the mark of notebooks executed before other e-mail reports existed)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            marks = output.get("metadata", {}).get("srelib", {})
            if marks.get("email") or marks.get("newsletter"):
                return output["data"]["text/html"], output["data"]["text/plain"]
    raise ReportError(
        f"{report} displayed no e-mail: call report.{report}(summary) (srelib.present.mail.display) in the notebook"
    )


def _record_parameters(notebook: nbformat.NotebookNode, values: dict[str, Any]) -> None:
    """Make ``values`` the parameters an executed notebook records: the cell papermill injected
    and the metadata papermill keeps (what a re-run of the notebook uses)."""
    from papermill.translators import translate_parameters

    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = translate_parameters(KERNEL, "python", values, "Parameters")
    notebook.metadata.papermill["parameters"] = values


def _publish(
    outputs: Path,
    staging: Path,
    folder: Path,
    names: list[str],
    manifest: Callable[[Path], None],
    stale: list[str] | None = None,
) -> None:
    """Replace ``folder`` in one step (:func:`replace_folder`) by a copy holding the files ``names``
    from ``staging``, without the files ``stale`` (an earlier run's deck or PDF this run did not
    make: they would disagree with the new page), and the manifest that ``manifest(copy)``
    updates; under the publish lock.

    A swap that a process killed outright left half done (only where the file system cannot
    exchange folders) is undone first, so that this copy is never made from a missing folder.
    """
    remove_abandoned(outputs / ".staging", salvage=undo_interrupted_replace)

    def change(copy: Path) -> None:
        for name in names:
            os.replace(staging / name, copy / name)
        for name in stale or []:
            (copy / name).unlink(missing_ok=True)
        manifest(copy)

    replace_folder(folder, staging, change)


def _update_manifest(
    folder: Path, period: Period, team: str | None, entry: dict[str, Any], subject: tuple[str, str] | None = None
) -> None:
    path = folder / "manifest.json"
    manifest: dict[str, Any] = {
        "period": period.label,
        "title": period.title,
        "team": team,
        "subject": None if subject is None else {"kind": subject[0], "name": subject[1]},
        "reports": {},
    }
    if path.is_file():
        with contextlib.suppress(json.JSONDecodeError):  # a damaged manifest is rebuilt from this run on
            manifest["reports"] = json.loads(path.read_text(encoding="utf-8")).get("reports", {})
    manifest["reports"][entry["report"]] = entry
    atomic_write(path, json.dumps(manifest, indent=2) + "\n")


def _keep_failed(
    outputs: Path,
    period: Period,
    team: str | None,
    spec: ReportSpec,
    executed: Path,
    subject: tuple[str, str] | None = None,
) -> Path | None:
    if not executed.is_file():
        return None
    target = report_folder(outputs / "_failed", period, team, subject) / spec.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(executed, target)
    return target
