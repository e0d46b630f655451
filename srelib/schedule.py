"""What should have been published by now, and producing exactly that (``srelib due`` / ``run-due``).

``params/schedule.yaml`` lists the reports, each with a cadence (weekly, monthly, quarterly),
when a period's report falls due (a number of days after the period ends, at a time of day in
the org time zone), a fan-out (per team, per SLO, per initiative) and how many past periods
must exist (``history``). A (report, period, fan-out key) is *due* when its due time has passed
and it is missing, last failed, or was rendered from inputs other than the warehouse's latest
ingest (the manifest records the input fingerprint). ``run-due`` produces the due runs, oldest
first; a failing report never stops the others; run again, nothing is due.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from srelib.config import Workbench
from srelib.errors import ConfigError, UsageError
from srelib.history import last_runs
from srelib.period import Period, zone
from srelib.runner import Job, Outcome

KINDS = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}


class ScheduledReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: str
    cadence: Literal["weekly", "monthly", "quarterly"] = "monthly"
    due_after_days: int = Field(default=1, ge=0, le=60, description="days after the period ends")
    due_at: time = Field(default=time(6, 0), description="time of day, org time zone")
    fan_out: Literal["teams", "slos", "initiatives"] | None = None
    history: int = Field(default=3, ge=1, le=120, description="how many past periods must exist")


class Retention(BaseModel):
    """How many periods of each kind stay published; older period folders are removed by run-due."""

    model_config = ConfigDict(extra="forbid")
    weeks: int | None = Field(default=None, ge=1, description="None: keep every week")
    months: int | None = Field(default=None, ge=1)
    quarters: int | None = Field(default=None, ge=1)
    failed_days: int | None = Field(default=None, ge=1, description="days a failed notebook is kept")


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reports: list[ScheduledReport] = Field(default_factory=list)
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
    reason: str  # "missing", "failed last time" or "inputs changed"
    due_at: datetime

    @property
    def about(self) -> str:
        return self.team or next(iter(self.parameters.values()), "")


def load_schedule(workbench: Workbench) -> Schedule:
    path = workbench.root / "params" / "schedule.yaml"
    if not path.is_file():
        return Schedule()
    try:
        return Schedule.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(
            f"{path}: {str(exc).splitlines()[0] if isinstance(exc, yaml.YAMLError) else _errors(exc)}"
        ) from exc


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def due_runs(workbench: Workbench, now: datetime | None = None) -> list[DueRun]:
    """Every scheduled (report, period, key) that should exist at ``now`` and does not, oldest first."""
    from srelib.run import REPORTS, report_folder
    from srelib.warehouse import connect, latest_fingerprint

    schedule = load_schedule(workbench)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tz = workbench.org.timezone
    with connect(workbench.warehouse_path) as con:
        current = latest_fingerprint(con)
        slos = [r[0] for r in con.execute("SELECT name FROM slos ORDER BY name").fetchall()]
    keys: dict[str | None, list[tuple[str | None, dict[str, str]]]] = {
        None: [(None, {})],
        "teams": [(team, {}) for team in workbench.catalogue.teams],
        "slos": [(None, {"slo": name}) for name in slos],
        "initiatives": [(None, {"initiative": i.name}) for i in workbench.initiatives.initiatives],
    }
    last = {key: run.get("status") for key, run in last_runs(workbench.outputs_path).items()}
    found = []
    for entry in schedule.reports:
        if entry.report not in REPORTS:
            raise ConfigError(f"params/schedule.yaml: unknown report {entry.report!r}")
        kind = KINDS[entry.cadence]
        latest = Period.containing(kind, now.astimezone(zone(tz)).date(), tz).previous()
        periods = []
        for period in latest.trailing(entry.history + 1):  # the newest may not be due yet
            due = datetime.combine(period.end.date() + timedelta(days=entry.due_after_days), entry.due_at, zone(tz))
            if due <= now:
                periods.append((period, due))
        for period, due in periods[-entry.history :]:
            for team, parameters in keys[entry.fan_out]:
                subject = next(iter(parameters.items()), None)
                folder = report_folder(workbench.outputs_path, period, team, subject)
                key = (entry.report, period.label, team, subject[1] if subject else None)
                reason = "failed last time" if last.get(key) == "failed" else _why_due(folder, entry.report, current)
                if reason:
                    found.append(DueRun(entry.report, period, team, parameters, reason, due))
    found.sort(key=lambda r: (r.period.end_utc, r.due_at, r.report, r.about))
    return found


def _why_due(folder: Path, report: str, fingerprint: str | None) -> str | None:
    manifest = folder / "manifest.json"
    try:
        entry = json.loads(manifest.read_text(encoding="utf-8"))["reports"][report]
    except (OSError, KeyError, json.JSONDecodeError):
        return "missing"
    if entry.get("status") != "ok" or not (folder / entry.get("html", "")).is_file():
        return "failed last time"
    if fingerprint is not None and entry.get("input_fingerprint") != fingerprint:
        return "inputs changed"
    return None


def run_due(workbench: Workbench, now: datetime | None = None, **batch: Any) -> list[Outcome]:
    """Produce every due run, oldest first; a failure is recorded and the rest go on.

    What is due is decided once the runner lock is held, so a runner that waited for another
    does not redo its work. ``batch``: the options of :func:`srelib.runner.run_many`.
    """
    from srelib.runner import run_many

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
    from srelib.portal import write_index

    retention = load_schedule(workbench).retention
    keep = {"week": retention.weeks, "month": retention.months, "quarter": retention.quarters}
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
            write_index(outputs, workbench.org)
    return removed


def due_jobs(workbench: Workbench, now: datetime | None = None) -> list[Job]:
    return [Job(r.report, r.period.label, r.team, dict(r.parameters)) for r in due_runs(workbench, now)]


def period_jobs(
    workbench: Workbench,
    period: Period,
    reports: list[str] | None = None,
    team: str | None = None,
    parameters: dict[str, str] | None = None,
) -> list[Job]:
    """The runs of ``reports`` for ``period`` (None: every report scheduled for that kind of
    period), each fan-out report once per team, SLO or initiative unless one is given."""
    from srelib.run import REPORTS, workbench_report
    from srelib.warehouse import connect

    parameters = dict(parameters or {})
    if reports is None:
        kind = {v: k for k, v in KINDS.items()}[period.kind]
        reports = [e.report for e in load_schedule(workbench).reports if e.cadence == kind]
        if not reports:
            raise UsageError(f"params/schedule.yaml schedules no report for {period.kind}s: name the reports to run")
    with connect(workbench.warehouse_path) as con:
        slos = [r[0] for r in con.execute("SELECT name FROM slos ORDER BY name").fetchall()]
    jobs = []
    for name in reports:
        spec = REPORTS.get(name) or workbench_report(workbench, name)
        if spec is None:
            raise UsageError(f"unknown report {name!r}: known reports are {', '.join(sorted(REPORTS))}")
        fan_out = spec.fan_out
        if fan_out == "team" and team is None:
            jobs += [Job(name, period.label, t, dict(parameters)) for t in workbench.catalogue.teams]
        elif fan_out == "slo" and "slo" not in parameters:
            jobs += [Job(name, period.label, team, {**parameters, "slo": s}) for s in slos]
        elif fan_out == "initiative" and "initiative" not in parameters:
            initiatives = workbench.initiatives.initiatives
            jobs += [Job(name, period.label, team, {**parameters, "initiative": i.name}) for i in initiatives]
        else:
            jobs.append(Job(name, period.label, team, dict(parameters)))
    return jobs
