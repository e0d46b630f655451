"""Opsgenie alert or incident exports (API JSON or the CSV export) → canonical incidents.

Field names are matched ignoring case, spaces and underscores (``createdAt``, ``Created At``).
- incident_id = ``tinyId`` (or ``id``/``alias``); title = ``message``; severity from
  ``priority`` (P1→SEV1 … P5→SEV5, ``severity_map`` to override);
- started_at = ``createdAt`` (ISO 8601, or epoch milliseconds);
- acknowledged_at / resolved_at = createdAt + ``report.ackTime`` / ``report.closeTime``
  (milliseconds, as Opsgenie reports them), or ``acknowledgedAt`` / ``closedAt`` when given;
- team = the first of ``teams`` / ``responders`` / ``owner team``; service = the ``service``
  option, else ``entity``, else the tag ``service:<name>``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from srelib.sources import register
from srelib.sources.base import Adapter, Extract, SourceOptions, after, lookup, read_records, to_iso

DEFAULT_SEVERITY = {f"P{i}": f"SEV{i}" for i in range(1, 6)}
MS = 0.001  # Opsgenie reports durations in milliseconds


class OpsgenieOptions(SourceOptions):
    severity_map: dict[str, str] = Field(default_factory=dict)
    service: str | None = None  # one service for every record of this export


def _timestamp(value: Any) -> Any:
    """ISO 8601 text, or epoch milliseconds as Opsgenie's API and exports often give."""
    text = None if value is None else str(value).strip()
    if text and text.isdigit() and len(text) >= 12:
        return datetime.fromtimestamp(int(text) / 1000, UTC).isoformat()
    return to_iso(value)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return value.get("name") or value.get("id")
    if isinstance(value, str) and "," in value:
        return value.split(",")[0].strip()
    return value


def _service_from_tags(tags: Any) -> str | None:
    items = tags if isinstance(tags, list) else str(tags or "").split(",")
    for tag in items:
        key, sep, value = str(tag).strip().partition(":")
        if sep and key.lower() == "service" and value:
            return value
    return None


@register
class Opsgenie(Adapter):
    kind = "opsgenie"
    table = "incidents"
    Options = OpsgenieOptions

    def read(self, path: Path, file: str) -> Extract:
        found = read_records(path, file)
        records, rows, problems = found.records, found.rows, found.problems
        options = self.options
        assert isinstance(options, OpsgenieOptions)
        severity_map = {**DEFAULT_SEVERITY, **options.severity_map}
        fixed_service = options.service
        extract = Extract(self.table, path, file, rows=rows, problems=problems)
        columns: dict[str, str] = {}
        for record in records:
            nested = record.get("report")
            report: dict[str, Any] = nested if isinstance(nested, dict) else {}
            id_col, incident_id = lookup(record, "tinyId", "id", "alias")
            title_col, title = lookup(record, "message", "title")
            priority_col, priority = lookup(record, "priority")
            created_col, created = lookup(record, "createdAt")
            ack_col, ack_at = lookup(record, "acknowledgedAt")
            close_col, closed_at = lookup(record, "closedAt", "resolvedAt")
            ack_ms_col, ack_ms = lookup({**record, **report}, "ackTime")
            close_ms_col, close_ms = lookup({**record, **report}, "closeTime")
            status_col, status = lookup(record, "status")
            team_col, team = lookup(record, "teams", "responders", "team")
            entity_col, entity = lookup(record, "entity")
            tags_col, tags = lookup(record, "tags")
            started = _timestamp(created)
            closed = _timestamp(closed_at) if closed_at not in (None, "") else after(started, close_ms, MS)
            is_closed = status is None or str(status).lower() in ("closed", "resolved")
            service = fixed_service or entity or _service_from_tags(tags)
            extract.records.append(
                {
                    "incident_id": incident_id,
                    "title": title,
                    "team": _first(team),
                    "service": service,
                    "severity": severity_map.get(str(priority), priority) if priority is not None else None,
                    "started_at": started,
                    "acknowledged_at": _timestamp(ack_at)
                    if ack_at not in (None, "")
                    else after(started, ack_ms, 0.001),
                    "resolved_at": closed if is_closed else None,
                }
            )
            for canonical, vendor in (
                ("incident_id", id_col),
                ("title", title_col),
                ("team", team_col),
                ("service", entity_col or tags_col),
                ("severity", priority_col),
                ("started_at", created_col),
                ("acknowledged_at", ack_col or ack_ms_col),
                ("resolved_at", close_col or close_ms_col or status_col),
            ):
                if vendor:
                    columns.setdefault(canonical, vendor)
        extract.columns = columns
        return extract
