"""The run history the programme is judged on: what was published when (``outputs/runs.jsonl``)
and what the schedule says is due (``params/schedule.yaml``), for
:func:`srelib.summary.build_summary` (milestones shown by a report, regular communications).

Read whole each time a summary is built: the programme section of a period only counts runs
published before the period's end, so a completed period's figures stay the same as runs are
added (docs/metrics.md, "Programme").
"""

from __future__ import annotations

from datetime import datetime

from srelib.config import Workbench
from srelib.errors import ConfigError
from srelib.metrics.programme import Cadence, Publication, RunHistory
from srelib.run.catalogue import REPORTS, workbench_report
from srelib.run.history import records
from srelib.run.schedule import KINDS, load_schedule


def run_history(workbench: Workbench) -> RunHistory:
    """Every published run (``status: ok``) and every scheduled report, after checking that the
    programme's report evidence names reports the workbench has."""
    check_reports(workbench)
    publications = []
    for run in records(workbench.outputs_path / "runs.jsonl"):
        try:
            finished = datetime.fromisoformat(str(run.get("finished_at")))
        except ValueError:
            continue
        if run.get("status") == "ok" and run.get("report") and run.get("period") and finished.tzinfo is not None:
            publications.append(Publication(str(run["report"]), str(run["period"]), finished))
    schedule = tuple(
        Cadence(entry.report, KINDS[entry.cadence], entry.due_after_days, entry.due_at)
        for entry in load_schedule(workbench).reports
    )
    return RunHistory(tuple(publications), schedule)


def check_reports(workbench: Workbench) -> None:
    """A :class:`ConfigError` for each milestone of ``params/programme.yaml`` shown by a report the
    workbench does not have (a packaged one, or its own ``notebooks/NAME.ipynb``)."""
    found = []
    for key, milestone in workbench.programme.milestones.items():
        for leaf in milestone.evidence.leaves():
            if leaf.report is not None and leaf.report not in REPORTS and not workbench_report(workbench, leaf.report):
                found.append(
                    f"milestones.{key}.evidence: unknown report {leaf.report!r} (reports: {', '.join(REPORTS)})"
                )
    if found:
        raise ConfigError(f"{workbench.root / 'params' / 'programme.yaml'}: {'; '.join(found)}")
