"""What should have been published by now, and producing exactly that (``srelib due`` / ``run-due``).

``params/schedule.yaml`` lists the reports, each with a cadence (weekly, monthly, quarterly, yearly),
when a period's report falls due (a number of days after the period ends, at a time of day in
the org time zone) and how many past periods must exist (``history``). Which reports are one
per team, SLO or initiative is the catalogue's to say (:mod:`srelib.run.catalogue`). A
(report, period, fan-out key) is *due* when its due time has passed and it is missing, last
failed, or was rendered from inputs other than the warehouse's latest ingest (the manifest
records the input fingerprint). ``run-due`` produces the due runs, oldest
first; a failing report never stops the others; run again, nothing is due.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from srelib.config import Workbench, load_yaml, yaml_problem
from srelib.errors import ConfigError, UsageError
from srelib.ingest.specs import parse_duration
from srelib.period import Period, zone
from srelib.run.batch import Job, Outcome
from srelib.run.catalogue import (
    FORMATS,
    REPORTS,
    FanOut,
    ReportSpec,
    Run,
    Subjects,
    expand,
    find_report,
    offering,
    workbench_report,
)
from srelib.run.history import last_runs

Format = Literal["html", "slides", "pdf", "markdown"]  # srelib.run.catalogue.FORMATS
KINDS = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}


class ScheduledReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: str
    cadence: Literal["weekly", "monthly", "quarterly", "yearly"] = "monthly"
    due_after_days: int = Field(default=1, ge=0, le=60, description="days after the period ends")
    due_at: time = Field(default=time(6, 0), description="time of day, org time zone")
    fan_out: FanOut | None = Field(
        default=None, description="team: one report per team of a report that is not one already (the catalogue's)"
    )
    history: int = Field(default=3, ge=1, le=120, description="how many past periods must exist")
    formats: list[Format] = Field(
        default_factory=lambda: list[Format](["html"]),
        description="what to publish: the page (always), slides (the report's deck), pdf (each page printed), "
        "markdown (for the wiki and the blog, with the charts as images)",
    )

    @field_validator("fan_out", mode="before")
    @classmethod
    def _singular(cls, value: object) -> object:
        """``teams``, ``slos``, ``initiatives``: the spelling this file documented before the catalogue's."""
        plural = {"teams": "team", "slos": "slo", "initiatives": "initiative"}
        return plural.get(value, value) if isinstance(value, str) else value


class Retention(BaseModel):
    """How many periods of each kind stay published; older period folders are removed by run-due."""

    model_config = ConfigDict(extra="forbid")
    weeks: int | None = Field(default=None, ge=1, description="None: keep every week")
    months: int | None = Field(default=None, ge=1)
    quarters: int | None = Field(default=None, ge=1)
    years: int | None = Field(default=None, ge=1)
    failed_days: int | None = Field(default=None, ge=1, description="days a failed notebook is kept")


class IngestSchedule(BaseModel):
    """``ingest: {every: 15m}``: the scheduler ingests the data folder and sources this often."""

    model_config = ConfigDict(extra="forbid")
    every: str = Field(description="a duration of at least a minute: 15m, 1h")

    @field_validator("every")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            seconds = parse_duration(value).total_seconds()
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a duration such as 15m or 1h") from exc
        if seconds < 60:
            raise ValueError(f"{value!r}: ingest at least a minute apart")
        return value

    @property
    def minutes(self) -> float:
        return parse_duration(self.every).total_seconds() / 60


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reports: list[ScheduledReport] = Field(default_factory=list)
    ingest: IngestSchedule | None = Field(
        default=None, description="srelib scheduler: ingest this often, and post SLO alerts that change"
    )
    retention: Retention = Field(default_factory=Retention)
    recheck_minutes: int | None = Field(
        default=60, ge=1, le=7 * 24 * 60, description="srelib scheduler: how often to redo stale or failed reports"
    )


@dataclass(frozen=True)
class DueRun:
    report: str
    period: Period
    team: str | None
    parameters: dict[str, str]
    reason: str  # "missing", "failed last time", "inputs changed" or "formats missing"
    due_at: datetime
    formats: tuple[str, ...] = ("html",)

    @property
    def about(self) -> str:
        return self.team or next(iter(self.parameters.values()), "")


def load_schedule(workbench: Workbench) -> Schedule:
    path = workbench.root / "params" / "schedule.yaml"
    if not path.is_file():
        return Schedule()
    try:
        return Schedule.model_validate(load_yaml(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: {yaml_problem(exc) if isinstance(exc, yaml.YAMLError) else _errors(exc)}") from exc


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def scheduled_spec(entry: ScheduledReport, workbench: Workbench | None = None) -> ReportSpec:
    """The spec of a scheduled report (the catalogue's, else the workbench's own notebook, e.g.
    from ``srelib new-report``), one per team if the entry says so."""
    spec = REPORTS.get(entry.report) or (workbench_report(workbench, entry.report) if workbench else None)
    if spec is None:
        raise ConfigError(f"params/schedule.yaml: unknown report {entry.report!r}")
    for fmt, edition in (("slides", "slide deck"), ("markdown", "Markdown edition")):
        if fmt in entry.formats and not spec.offers(fmt):
            raise ConfigError(
                f"params/schedule.yaml: {entry.report} has no {edition} (formats: {fmt}): "
                f"the reports with one are {', '.join(offering(fmt))}"
            )
    if entry.fan_out is None or entry.fan_out == spec.fan_out:
        return spec
    if entry.fan_out == "team" and spec.fan_out is None:
        return replace(spec, fan_out="team")
    own = f"one report per {spec.fan_out}" if spec.fan_out else "one report per period"
    raise ConfigError(
        f"params/schedule.yaml: {entry.report} is {own}; fan_out: {entry.fan_out} does not apply (leave it out)"
    )


def due_runs(workbench: Workbench, now: datetime | None = None) -> list[DueRun]:
    """Every scheduled (report, period, key) that should exist at ``now`` and does not, oldest first."""
    from srelib.ingest.warehouse import connect, latest_fingerprint
    from srelib.run.report import report_folder

    schedule = load_schedule(workbench)
    specs = [(entry, scheduled_spec(entry, workbench)) for entry in schedule.reports]
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tz = workbench.org.timezone
    with connect(workbench.warehouse_path) as con:
        current = latest_fingerprint(con)
    subjects = Subjects.of(workbench)
    last = {key: run.get("status") for key, run in last_runs(workbench.outputs_path).items()}
    found = []
    for entry, spec in specs:
        kind = KINDS[entry.cadence]
        latest = Period.containing(kind, now.astimezone(zone(tz)).date(), tz).previous()
        periods = []
        for period in latest.trailing(entry.history + 1):  # the newest may not be due yet
            due = datetime.combine(period.end.date() + timedelta(days=entry.due_after_days), entry.due_at, zone(tz))
            if due <= now:
                periods.append((period, due))
        for period, due in periods[-entry.history :]:
            formats = _formats(entry.formats)
            for run in expand(spec, period, subjects):
                folder = report_folder(workbench.outputs_path, period, run.team, run.subject)
                key = (run.report, period.label, run.team, run.subject[1] if run.subject else None)
                if last.get(key) == "failed":
                    reason: str | None = "failed last time"
                else:
                    reason = _why_due(folder, run.report, current, list(spec.files(formats)))
                if reason:
                    found.append(DueRun(run.report, period, run.team, run.parameters, reason, due, formats))
    found.sort(key=lambda r: (r.period.end_utc, r.due_at, r.report, r.about))
    return found


def _why_due(folder: Path, report: str, fingerprint: str | None, keys: list[str] | None = None) -> str | None:
    """Why a published report must run again, if it must; ``keys`` are the manifest's keys of the
    files the schedule asks for (html, slides, pdf, slides_pdf)."""
    manifest = folder / "manifest.json"
    try:
        entry = json.loads(manifest.read_text(encoding="utf-8"))["reports"][report]
    except (OSError, KeyError, json.JSONDecodeError):
        return "missing"
    if entry.get("status") != "ok" or not (folder / entry.get("html", "")).is_file():
        return "failed last time"
    if fingerprint is not None and entry.get("input_fingerprint") != fingerprint:
        return "inputs changed"
    if any(not entry.get(key) or not (folder / entry[key]).is_file() for key in keys or []):
        return "formats missing"
    return None


def run_due(workbench: Workbench, now: datetime | None = None, **batch: Any) -> list[Outcome]:
    """Produce every due run, oldest first; a failure is recorded and the rest go on.

    What is due is decided once the runner lock is held, so a runner that waited for another
    does not redo its work. ``batch``: the options of :func:`srelib.run.batch.run_many`.
    """
    from srelib.run.batch import run_many

    outcomes = run_many(workbench.root, lambda: due_jobs(workbench, now), **batch)
    apply_retention(workbench, now)
    return outcomes


def apply_retention(workbench: Workbench, now: datetime | None = None) -> list[str]:
    """Remove published period folders older than ``retention`` keeps (and failed notebooks
    older than ``failed_days``); returns what was removed, relative to outputs.

    A folder is renamed out of the way first (one atomic step: readers see it whole or not at
    all), then deleted; the index is rewritten without it.
    """
    import shutil
    import uuid

    from srelib.files import locked
    from srelib.present.portal import write_index

    retention = load_schedule(workbench).retention
    keep = {"week": retention.weeks, "month": retention.months, "quarter": retention.quarters, "year": retention.years}
    if not any(keep.values()) and retention.failed_days is None:
        return []
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tz = workbench.org.timezone
    outputs = workbench.outputs_path
    doomed: list[Path] = []
    for base in (outputs, outputs / "_failed"):
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            try:
                period = Period.parse(folder.name, tz)
            except (UsageError, ValueError):
                continue  # not a period folder
            count = keep.get(period.kind)
            if count is None:
                continue
            oldest_kept = Period.containing(period.kind, now.astimezone(zone(tz)).date(), tz).shift(-count)
            if period.end <= oldest_kept.start:
                doomed.append(folder)
    if retention.failed_days is not None and (outputs / "_failed").is_dir():
        cutoff = (now - timedelta(days=retention.failed_days)).timestamp()
        doomed += [p for p in (outputs / "_failed").rglob("*.ipynb") if p.stat().st_mtime < cutoff]
    removed = []
    with locked(outputs / ".lock"):
        for path in dict.fromkeys(doomed):
            if not path.exists():
                continue
            aside = outputs / f".removed-{uuid.uuid4().hex}"
            path.rename(aside)
            shutil.rmtree(aside) if aside.is_dir() else aside.unlink()
            removed.append(path.relative_to(outputs).as_posix())
        if removed:
            write_index(outputs, workbench.org, last_runs(outputs))
    return removed


def due_jobs(workbench: Workbench, now: datetime | None = None) -> list[Job]:
    return [Job(r.report, r.period.label, r.team, dict(r.parameters), r.formats) for r in due_runs(workbench, now)]


def period_jobs(
    workbench: Workbench,
    period: Period,
    reports: list[str] | None = None,
    team: str | None = None,
    parameters: dict[str, str] | None = None,
    formats: tuple[str, ...] | None = None,
) -> list[Job]:
    """The runs of ``reports`` for ``period`` (None: every report scheduled for that kind of
    period), each fan-out report once per team, SLO or initiative unless one is given;
    ``formats`` for every run (None: the schedule's for a scheduled report, else the page)."""
    if reports is None:
        kind = {v: k for k, v in KINDS.items()}[period.kind]
        entries = [e for e in load_schedule(workbench).reports if e.cadence == kind]
        specs = [(spec, formats or _formats(e.formats)) for e in entries for spec in [scheduled_spec(e, workbench)]]
        specs = [(s, tuple(f for f in chosen if s.offers(f))) for s, chosen in specs]
        if not specs:
            raise UsageError(f"params/schedule.yaml schedules no report for {period.kind}s: name the reports to run")
    else:
        # a batch asked for slides (or Markdown) gets the decks (Markdown) of the reports that have one
        found = [find_report(workbench, name) for name in reports]
        specs = [(s, tuple(f for f in formats or ("html",) if s.offers(f))) for s in found]
    subjects = Subjects.of(workbench)
    runs: list[tuple[Run, tuple[str, ...]]] = [
        (run, chosen) for spec, chosen in specs for run in expand(spec, period, subjects, team, parameters)
    ]
    return [Job(r.report, r.period.label, r.team, dict(r.parameters), chosen) for r, chosen in runs]


def _formats(asked: Sequence[str]) -> tuple[str, ...]:
    """A schedule entry's formats in the catalogue's order, the page always among them."""
    return tuple(f for f in FORMATS if f in asked or f == "html")
