"""The run history, ``outputs/runs.jsonl``: one JSON line per run, appended under a lock.

Each line says when a run started and finished, what ran (report, period, team, subject),
with which parameters, how long it took, how it ended (ok, failed, interrupted), the package
versions and the input fingerprint. The schedule reads it to redo runs that failed last time;
the portal to show each report's last run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from srelib.present.portal import RunKey


def run_key(run: dict[str, Any]) -> RunKey:
    return (run.get("report", ""), run.get("period", ""), run.get("team"), (run.get("subject") or {}).get("name"))


def records(log: Path) -> Iterator[dict[str, Any]]:
    """Each JSON object line of a ``.jsonl`` log; a line cut short by a crash is skipped."""
    if not log.is_file():
        return
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            yield record


def last_runs(outputs: Path) -> dict[RunKey, dict[str, Any]]:
    """The latest line of ``runs.jsonl`` for each (report, period, team, subject)."""
    return {run_key(run): run for run in records(outputs / "runs.jsonl")}
