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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from srelib.config import Workbench
from srelib.errors import ConfigError, UsageError
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


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reports: list[ScheduledReport] = Field(default_factory=list)


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
    from srelib.warehouse import connect

    schedule = load_schedule(workbench)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    tz = workbench.org.timezone
    with connect(workbench.warehouse_path) as con:
        fingerprint = con.execute("SELECT fingerprint FROM ingests ORDER BY ingested_at DESC LIMIT 1").fetchall()
        slos = [r[0] for r in con.execute("SELECT name FROM slos ORDER BY name").fetchall()]
    current = fingerprint[0][0] if fingerprint else None
    keys: dict[str | None, list[tuple[str | None, dict[str, str]]]] = {
        None: [(None, {})],
        "teams": [(team, {}) for team in workbench.catalogue.teams],
        "slos": [(None, {"slo": name}) for name in slos],
        "initiatives": [(None, {"initiative": i.name}) for i in workbench.initiatives.initiatives],
    }
    last = _last_runs(workbench.outputs_path / "runs.jsonl")
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


def _last_runs(log: Path) -> dict[tuple[str, str, str | None, str | None], str]:
    """The status of each (report, period, team, subject) in its latest line of ``runs.jsonl``."""
    result: dict[tuple[str, str, str | None, str | None], str] = {}
    if not log.is_file():
        return result
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            run = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash says nothing
        subject = (run.get("subject") or {}).get("name")
        result[(run.get("report"), run.get("period"), run.get("team"), subject)] = run.get("status", "")
    return result


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


def run_due(
    workbench: Workbench,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda line: None,
    workers: int | None = None,
) -> list[Outcome]:
    """Produce every due run, oldest first, ``workers`` at a time; a failure is recorded and the rest go on."""
    from srelib.runner import run_many

    runs = due_runs(workbench, now)
    jobs = [Job(r.report, r.period.label, r.team, dict(r.parameters)) for r in runs]
    return run_many(workbench.root, jobs, workers, progress)


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
