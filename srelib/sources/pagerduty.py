"""PagerDuty incidents: the Analytics "raw incidents" fields, as JSON or CSV → canonical incidents.

Fields read: ``id``, ``incident_number``, ``description`` (or ``title``/``summary``),
``status``, ``urgency``, ``priority_name``, ``created_at``, ``resolved_at``,
``seconds_to_first_ack``, ``seconds_to_resolve``, ``service_name``, ``team_name``, ``major``.

- started_at = created_at (PagerDuty knows when it was told, not when impact began, so
  detected_at stays empty rather than pretending detection took no time);
- acknowledged_at = created_at + seconds_to_first_ack;
- resolved_at = resolved_at, or created_at + seconds_to_resolve, for resolved incidents only;
- severity from ``priority_name`` through ``severity_map`` (default P1→SEV1 … P5→SEV5), else
  from ``urgency`` (high→SEV2, low→SEV4); an unmapped value is reported, not guessed;
- customer_impact = ``major`` when ``major_means_customer_impact: true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from srelib.sources import register
from srelib.sources.base import Adapter, Extract, SourceOptions, after, lookup, read_records, to_iso

DEFAULT_SEVERITY = {"P1": "SEV1", "P2": "SEV2", "P3": "SEV3", "P4": "SEV4", "P5": "SEV5", "high": "SEV2", "low": "SEV4"}


class PagerDutyOptions(SourceOptions):
    severity_map: dict[str, str] = Field(default_factory=dict)
    major_means_customer_impact: bool = False


def _summary(value: Any) -> Any:
    """PagerDuty's REST API nests references ({"summary": ...}); Analytics flattens them."""
    return value.get("summary") or value.get("name") if isinstance(value, dict) else value


@register
class PagerDuty(Adapter):
    kind = "pagerduty"
    table = "incidents"
    Options = PagerDutyOptions

    def read(self, path: Path, file: str) -> Extract:
        found = read_records(path, file)
        records, rows, problems = found.records, found.rows, found.problems
        options = self.options
        assert isinstance(options, PagerDutyOptions)
        severity_map = {**DEFAULT_SEVERITY, **options.severity_map}
        impact_from_major = options.major_means_customer_impact
        extract = Extract(self.table, path, file, rows=rows, problems=problems)
        columns: dict[str, str] = {}
        for record in records:
            id_col, incident_id = lookup(record, "id", "incident_number")
            title_col, title = lookup(record, "description", "title", "summary")
            service_col, service = lookup(record, "service_name", "service")
            team_col, team = lookup(record, "team_name", "team", "teams")
            priority_col, priority = lookup(record, "priority_name", "priority")
            urgency_col, urgency = lookup(record, "urgency")
            created_col, created = lookup(record, "created_at")
            _, status = lookup(record, "status")
            resolved_col, resolved = lookup(record, "resolved_at")
            ack_col, ack_seconds = lookup(record, "seconds_to_first_ack")
            ttr_col, ttr_seconds = lookup(record, "seconds_to_resolve")
            major_col, major = lookup(record, "major")
            priority, team = _summary(priority), _summary(team[0] if isinstance(team, list) and team else team)
            severity_col, severity = (priority_col, priority) if priority not in (None, "") else (urgency_col, urgency)
            started = to_iso(created)
            is_resolved = status is None or str(status).lower() == "resolved"
            resolved_at = to_iso(resolved) if resolved not in (None, "") else after(started, ttr_seconds)
            extract.records.append(
                {
                    "incident_id": incident_id,
                    "title": title,
                    "service": _summary(service),
                    "team": team,
                    "severity": severity_map.get(str(severity), severity) if severity is not None else None,
                    "started_at": started,
                    "acknowledged_at": after(started, ack_seconds),
                    "resolved_at": resolved_at if is_resolved else None,
                    "customer_impact": major if impact_from_major else None,
                }
            )
            for canonical, vendor in (
                ("incident_id", id_col),
                ("title", title_col),
                ("service", service_col),
                ("team", team_col),
                ("severity", severity_col),
                ("started_at", created_col),
                ("acknowledged_at", ack_col),
                ("resolved_at", resolved_col or ttr_col),
                ("customer_impact", major_col),
            ):
                if vendor:
                    columns.setdefault(canonical, vendor)
        extract.columns = columns
        return extract
