"""Fresh data between reports: the scheduler's ingest, and SLO alerts posted when they change.

``params/schedule.yaml`` may say ``ingest: {every: 15m}``: the scheduler then ingests the data
folder and the configured sources (params/sources.yaml: exports re-read, Prometheus fetched
from the bucket after the newest one held) on that cadence, exactly as ``srelib ingest`` does.

After each such ingest, the SRE Workbook's multiwindow burn-rate alerts (srelib.metrics.alerts)
are evaluated at the end of the data: an SLO whose page or ticket alert would fire now is posted
once to the webhook of params/publish.yaml (Slack or Teams), with a link to the SLO explorer
(``explorer_url``), and once more when it clears. What was posted is kept in
``outputs/.alerts.json`` (written whole or not at all), so a restart posts nothing twice, and a
post that failed is tried again at the next ingest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import duckdb

from srelib.config import Workbench
from srelib.files import atomic_write
from srelib.ingest.warehouse import connect
from srelib.metrics.alerts import ALERTS, burn_rates, scaled_factor
from srelib.metrics.scope import Scope
from srelib.metrics.slo import slo_definitions

STATE_FILE = ".alerts.json"


def ingest_workbench(
    workbench: Workbench,
    log: Callable[[str], None] = print,
    directory: Path | None = None,
    target: Path | None = None,
    extracts: list[Any] | None = None,
) -> str:
    """``srelib ingest``: the data folder (``directory``, default the workbench's) and the sources
    (``extracts``, default those params/sources.yaml configures), validated, then loaded into the
    warehouse (``target``, default the workbench's) in one transaction. Returns what was ingested."""
    from srelib.ingest.sources import load_config, read_sources
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import load

    directory, target = directory or workbench.data_path, target or workbench.warehouse_path
    if extracts is None:
        sources = workbench.root / "params" / "sources.yaml"
        extracts = read_sources(load_config(sources), workbench.root, directory, target) if sources.is_file() else []
        for extract in extracts:
            for note in extract.notes:
                log(f"{extract.file}: {note}")
    dataset = validate_directory(directory, extracts, workbench.activities)
    try:
        counts = load(dataset, target, workbench.org.timezone)
    finally:
        dataset.con.close()
    return f"ingested {directory} into {target}: {dataset.describe() or 'no rows'}, {counts['slos']} slos"


@dataclass(frozen=True)
class AlertChange:
    """An SLO's page or ticket alert that started or stopped firing at the end of the data."""

    slo: str
    service: str
    severity: str  # page | ticket
    state: str  # firing | cleared
    at: str  # the end of the data, ISO 8601 UTC
    long_window: str | None = None  # the alert row that fires (firing only)
    short_window: str | None = None
    burn_rate_long: float | None = None
    burn_rate_short: float | None = None
    factor: float | None = None


def firing_now(
    con: duckdb.DuckDBPyConnection, workbench: Workbench, end: datetime
) -> dict[tuple[str, str], AlertChange]:
    """The (SLO, severity) alerts that would fire at ``end`` (naive UTC): both windows of one of
    the Workbook's rows burn at least its factor, scaled to the SLO's window."""
    definitions = slo_definitions(con, Scope(None, workbench.catalogue))
    rates = burn_rates(con, definitions, end)
    firing: dict[tuple[str, str], AlertChange] = {}
    for d in definitions:
        for row in ALERTS:
            factor = scaled_factor(row.factor, d.window_minutes)
            long, short = rates[d.name][row.long_window], rates[d.name][row.short_window]
            key = (d.name, row.severity)
            if long is not None and short is not None and long >= factor and short >= factor and key not in firing:
                firing[key] = AlertChange(
                    d.name, d.service, row.severity, "firing", end.isoformat() + "Z",
                    row.long_window, row.short_window, long, short, factor,
                )  # fmt: skip
    return firing


def alert_changes(workbench: Workbench, now: datetime | None = None) -> list[AlertChange]:
    """What started and stopped firing since the alerts last recorded (``outputs/.alerts.json``,
    :func:`record_alerts`), at the end of the data (``now``: naive UTC; default: the newest SLI
    bucket's start, plus a microsecond so that it counts)."""
    con = connect(workbench.warehouse_path)
    try:
        if now is None:
            newest = con.execute('SELECT max("timestamp") FROM sli').fetchall()[0][0]
            if newest is None:
                return []
            now = newest + timedelta(microseconds=1)
        firing = firing_now(con, workbench, now)
    finally:
        con.close()
    path = workbench.outputs_path / STATE_FILE
    before = _read_state(path)
    changes = [change for key, change in sorted(firing.items()) if key not in before]
    at = now.isoformat() + "Z"
    for key in sorted(before.keys() - firing.keys()):
        slo, severity = key
        changes.append(AlertChange(slo, before[key].get("service", ""), severity, "cleared", at))
    return changes


def record_alerts(workbench: Workbench, changes: Sequence[AlertChange]) -> None:
    """Record ``changes`` as announced (those posted, or all when no webhook is configured): a
    change whose post failed is not recorded, so the next check finds and posts it again. The
    state file is written whole or not at all."""
    path = workbench.outputs_path / STATE_FILE
    state = {f"{slo}|{severity}": value for (slo, severity), value in _read_state(path).items()}
    for change in changes:
        key = f"{change.slo}|{change.severity}"
        if change.state == "firing":
            state[key] = asdict(change)
        else:
            state.pop(key, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(state, indent=2, sort_keys=True) + "\n")


def _read_state(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict):
        return {}
    state = {}
    for key, value in stored.items():
        slo, _, severity = str(key).rpartition("|")
        if slo and isinstance(value, dict):
            state[(slo, severity)] = value
    return state


def explorer_link(explorer_url: str | None, slo: str, period: str | None = None) -> str | None:
    """The SLO explorer's address opened on ``slo`` (and ``period``, a period label), each
    percent-encoded (:mod:`srelib.serve.links` reads them); None without an ``explorer_url``."""
    if not explorer_url:
        return None
    view = [("slo", slo)] + ([("period", period)] if period else [])
    return f"{explorer_url.rstrip('/')}/?{urlencode(view, quote_via=quote)}"
