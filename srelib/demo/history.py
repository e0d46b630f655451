"""The demo organisation's publishing record before today: Northwind Commerce has run the workbench
since its SRE programme began, so ``outputs/runs.jsonl`` holds the reports it published each period
(the programme's milestones shown by a report, and its regular communications, are judged on them:
docs/metrics.md, "Programme").

The record follows ``params/schedule.yaml``: every scheduled report of every period from the
programme's start to the month before the demo's last, published two hours before it fell due, but
for the executive summary, which started a month after the plan said (a milestone met late), and
one newsletter that went out two days late. Each line says ``"source": "demo history"``: these runs
left no folder behind (the portal lists published folders only), and the demo writes them once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from srelib.config import Workbench
from srelib.files import locked
from srelib.metrics.programme import due_reports
from srelib.period import Period, zone
from srelib.run.history import records
from srelib.run.programme import run_history

SOURCE = "demo history"
EXECUTIVE_FROM_MONTH = 7  # the plan has executive reporting start by the end of month 6
LATE_NEWSLETTER_MONTH = 5  # the programme month whose newsletter went out two days late


def earlier_runs(workbench: Workbench, end: Period) -> list[dict[str, Any]]:
    """The runs.jsonl lines of every scheduled report that fell due before ``end``'s last month
    was over, from the programme's start (none without a programme_start)."""
    start = workbench.org.programme_start
    if start is None:
        return []
    tz = end.timezone
    since = datetime.combine(start, time(0), zone(tz))
    lines = []
    for cadence, period, due in due_reports(run_history(workbench).schedule, since, end.end, start, tz):
        month = (period.first_day.year - start.year) * 12 + period.first_day.month - start.month + 1
        if cadence.report == "executive_summary" and month < EXECUTIVE_FROM_MONTH:
            continue
        late = cadence.report == "newsletter" and month == LATE_NEWSLETTER_MONTH
        finished = due + timedelta(days=2) if late else due - timedelta(hours=2)
        lines.append(
            {
                "report": cadence.report,
                "period": period.label,
                "team": None,
                "subject": None,
                "started_at": (finished - timedelta(minutes=1)).astimezone(UTC).isoformat(timespec="seconds"),
                "finished_at": finished.astimezone(UTC).isoformat(timespec="seconds"),
                "status": "ok",
                "source": SOURCE,
            }
        )
    return lines


def write_earlier_runs(workbench: Workbench, end: Period) -> int:
    """Add the demo's earlier runs to ``outputs/runs.jsonl``, once; returns how many lines were added."""
    outputs: Path = workbench.outputs_path
    if any(r.get("source") == SOURCE for r in records(outputs / "runs.jsonl")):
        return 0
    lines = earlier_runs(workbench, end)
    outputs.mkdir(parents=True, exist_ok=True)
    with locked(outputs / ".runs.lock"), (outputs / "runs.jsonl").open("a", encoding="utf-8") as log:
        log.writelines(json.dumps(line, sort_keys=True) + "\n" for line in lines)
    return len(lines)
