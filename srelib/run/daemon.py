"""``srelib scheduler``: the long-running daemon that keeps the published reports up to date.

APScheduler fires one cron trigger per scheduled report, in the org time zone, at the moment
its periods fall due (a monthly report due 1 day after the period at 06:00 fires at 06:00 on
the 2nd of each month). Each firing runs :func:`srelib.run.schedule.run_due`, which produces
everything due, not only that report: after downtime the first firing catches up. The daemon
also runs it once at start, and every ``recheck_minutes`` (params/schedule.yaml) to redo
reports whose inputs changed since they were rendered (a new ingest) or that failed.

One scheduler per workbench (``outputs/.scheduler.lock``); its runs take the runner lock like
any runner, waiting while a manual ``srelib run`` holds it. SIGTERM or Ctrl-C stops it cleanly:
no new run starts, running reports are interrupted, nothing is half-written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from srelib.config import Workbench
from srelib.period import zone
from srelib.run.batch import OK, RunOptions
from srelib.run.control import Stop, exclusive
from srelib.run.schedule import ScheduledReport, load_schedule, run_due, scheduled_spec

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOCK_WAIT_SECONDS = 6 * 3600  # a scheduled run waits this long for a manual runner to finish


def trigger_for(entry: ScheduledReport, timezone: str) -> BaseTrigger:
    """The cron trigger that fires when ``entry``'s periods fall due.

    Periods end at midnight (org time zone) on a Monday (weeks), the 1st (months), the 1st of
    January, April, July or October (quarters) or 1 January (years); the report is due
    ``due_after_days`` later at ``due_at``. When that day cannot be written as one cron day (a
    monthly report due 30 days after its month, a yearly one due after 28 February), the trigger
    fires daily at ``due_at``: run-due only produces what is due.
    """
    tz = zone(timezone)
    days, hour, minute = entry.due_after_days, entry.due_at.hour, entry.due_at.minute
    if entry.cadence == "weekly" and days < 7:
        return CronTrigger(day_of_week=DAYS[days], hour=hour, minute=minute, timezone=tz)
    if entry.cadence == "monthly" and days < 28:
        return CronTrigger(day=1 + days, hour=hour, minute=minute, timezone=tz)
    if entry.cadence == "quarterly" and days < 28:
        return CronTrigger(month="1,4,7,10", day=1 + days, hour=hour, minute=minute, timezone=tz)
    if entry.cadence == "yearly" and days < 59:  # 1 January + 58 days is 28 February in every year
        month, day = (1, 1 + days) if days < 31 else (2, days - 30)
        return CronTrigger(month=month, day=day, hour=hour, minute=minute, timezone=tz)
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


@dataclass
class Daemon:
    workbench: Workbench
    workers: int | None = None
    options: RunOptions | None = None
    log: Callable[[str], None] = print
    after_batch: Callable[[list[Any]], None] = lambda outcomes: None  # e.g. announce what was published

    def __post_init__(self) -> None:
        self.stop = Stop()
        self.busy = threading.Lock()
        self.scheduler = BlockingScheduler(
            timezone=zone(self.workbench.org.timezone),
            executors={"default": {"type": "threadpool", "max_workers": 1}},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 24 * 3600},
        )

    def tick(self, why: str) -> None:
        """Produce whatever is due now (one batch at a time)."""
        if self.stop.is_set():
            return
        with self.busy:
            self._say(f"{why}: checking what is due")
            try:
                outcomes = run_due(
                    self.workbench,
                    workers=self.workers,
                    options=self.options,
                    stop=self.stop,
                    wait_for_lock=LOCK_WAIT_SECONDS,
                )
            except Exception as exc:  # one bad batch (a busy lock, a config error) never stops the daemon
                self._say(f"{why}: could not run: {exc}")
                return
            for o in outcomes:
                self._say(f"  {o.status}\t{o.job.label}\t{o.seconds:.1f} s\t{o.message}".rstrip())
            failed = sum(o.status != OK for o in outcomes)
            self._say(f"{why}: {len(outcomes) - failed} published, {failed} not published")
            if outcomes and not self.stop.is_set():
                try:
                    self.after_batch(outcomes)
                except Exception as exc:
                    self._say(f"{why}: could not announce the runs: {exc}")

    def refresh(self, why: str) -> None:
        """Ingest the data folder and sources (params/schedule.yaml ``ingest``), then post the SLO
        alerts that started or stopped firing (srelib.run.refresh); one batch at a time."""
        if self.stop.is_set():
            return
        from srelib.run.notify import load_config, post_alerts
        from srelib.run.refresh import alert_changes, ingest_workbench, record_alerts

        with self.busy:
            try:
                self._say(f"{why}: {ingest_workbench(self.workbench, log=lambda line: self._say(f'{why}: {line}'))}")
                changes = alert_changes(self.workbench)
            except Exception as exc:  # bad data or a source down: said, and the next tick tries again
                self._say(f"{why}: could not ingest: {exc}")
                return
            if not changes:
                return
            try:
                sent, problems = post_alerts(self.workbench, changes, load_config(self.workbench))
                record_alerts(self.workbench, sent)  # what failed is posted at the next ingest
            except Exception as exc:
                self._say(f"{why}: could not post the SLO alerts: {exc}")
                return
            for problem in problems:
                self._say(f"{why}: could not post an SLO alert (tried again at the next ingest): {problem}")
            self._say(f"{why}: posted {len(sent)} alert change(s)")

    def serve(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit code (0 after a clean stop)."""
        schedule = load_schedule(self.workbench)
        outputs = self.workbench.outputs_path
        with exclusive(outputs / ".scheduler.lock", "a scheduler"):
            triggers: list[tuple[str, BaseTrigger]] = []
            for entry in schedule.reports:
                fan_out = scheduled_spec(entry, self.workbench).fan_out
                per = f", per {fan_out}" if fan_out else ""
                name = f"{entry.report} ({entry.cadence}{per})"
                triggers.append((name, trigger_for(entry, self.workbench.org.timezone)))
            if schedule.recheck_minutes:
                triggers.append(("recheck", IntervalTrigger(minutes=schedule.recheck_minutes)))
            for name, trigger in triggers:
                self.scheduler.add_job(self.tick, trigger, args=[name], id=name, name=name, replace_existing=True)
            if schedule.ingest is not None:
                name = f"ingest every {schedule.ingest.every}"
                every = IntervalTrigger(minutes=schedule.ingest.minutes)
                self.scheduler.add_job(self.refresh, every, args=[name], id="ingest", name=name, replace_existing=True)
            self.scheduler.add_job(
                self.tick, "date", args=["start-up catch-up"], id="catch-up", name="start-up catch-up"
            )
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
            self._say(f"scheduler started for {self.workbench.root} ({len(triggers)} triggers)")
            for job in self.scheduler.get_jobs():
                upcoming = job.trigger.get_next_fire_time(None, datetime.now(UTC))
                self._say(f"  {job.name}: next at {upcoming.isoformat(timespec='minutes') if upcoming else 'never'}")
            self.scheduler.start()  # returns once _on_signal shuts it down
            with self.busy:  # the batch that was running has stopped
                pass
            self._say(f"scheduler stopped ({signal.Signals(self.stop.signum or signal.SIGTERM).name})")
        return 0

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stop.set(signum)
        self.scheduler.shutdown(wait=False)

    def _say(self, line: str) -> None:
        self.log(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}")
