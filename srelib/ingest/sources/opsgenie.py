"""Opsgenie alerts and incidents (API answers as JSON, or a CSV export) → canonical incidents.

Read as they come: the Alert API's list (``GET /v2/alerts``: ``{"data": [...]}``) and one alert
(``GET /v2/alerts/{id}``: ``{"data": {...}}``), the Incident API's list (``GET /v1/incidents``) and
one incident (``GET /v1/incidents/{id}``), or a bare list. Field names are matched ignoring case,
spaces and underscores (``createdAt``, ``Created At``).

- incident_id = ``tinyId`` (else ``id``, ``alias``); title = ``message``; severity from
  ``priority`` (P1→SEV1 … P5→SEV5, ``severity_map`` to override);
- started_at = ``impactStartDate`` when an incident has one (impact start, as the canonical
  started_at means), else ``createdAt``; detected_at = ``createdAt`` when it is later than the
  impact start (Opsgenie was told after impact began), else empty. Timestamps are ISO 8601 or
  epoch milliseconds;
- acknowledged_at = ``acknowledgedAt``, else createdAt + ``report.ackTime`` (milliseconds);
- mitigated_at = ``impactEndDate`` (the impact ended); resolved_at = ``closedAt``/``resolvedAt``,
  else for an incident ``impactEndDate``, else createdAt + ``report.closeTime``; only for closed or
  resolved records (an open one stays open even when its impact ended);
- team = ``ownerTeam``, else the first team of ``teams`` / ``responders`` (IDs through
  ``team_names``);
- service = the ``service`` option, else the first of ``impactedServices`` (service IDs), else
  ``entity``, else the tag ``<service_tag>:<name>`` (``service:checkout``); the value found goes
  through ``service_names`` (service ID → name). A record where none is found is reported, saying
  where the adapter looked and how to set one.

A value left empty (or out) is reported under the field it would come from (``priority``,
``createdAt``...). Epoch milliseconds past the year 9999, and a createdAt plus ``report.*`` past
it, are problems under their field with the value, not tracebacks. A record with a problem found
here is left out of the rows passed to validation.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import Field

from srelib.ingest.sources import register
from srelib.ingest.sources.base import (
    Adapter,
    ExportOptions,
    Extract,
    Mapped,
    after,
    blank,
    lookup,
    moment,
    read_records,
    to_iso,
)

DEFAULT_SEVERITY = {f"P{i}": f"SEV{i}" for i in range(1, 6)}
ID_COLUMNS = ("tinyId", "id", "alias")
EPOCH_MS_FROM = 10**11  # a number this large is epoch milliseconds (1973 onwards), not seconds


class OpsgenieOptions(ExportOptions):
    severity_map: dict[str, str] = Field(default_factory=dict)
    service: str | None = None  # one service for every record of this export
    service_tag: str = "service"  # the tag <service_tag>:<name> names a record's service
    service_names: dict[str, str] = Field(default_factory=dict)  # service ID (impactedServices) → name
    team_names: dict[str, str] = Field(default_factory=dict)  # team ID (responders, teams) → name


@register
class Opsgenie(Adapter):
    kind = "opsgenie"
    table = "incidents"
    Options = OpsgenieOptions

    def read(self, path: Path, file: str) -> Extract:
        found = read_records(path, file)
        extract = Extract(self.table, path, file, problems=list(found.problems))
        for row, record in zip(found.rows, found.records, strict=True):
            extract.add(row, self._map(record))
        return extract

    def _map(self, record: dict[str, Any]) -> Mapped:
        options = self.options
        assert isinstance(options, OpsgenieOptions)
        zone = options.timezone
        mapped = Mapped()
        nested = record.get("report")
        report: dict[str, Any] = nested if isinstance(nested, dict) else {}
        is_incident = any(lookup(record, name)[0] for name in ("impactStartDate", "impactedServices", "ownerTeam"))

        id_column, incident_id = lookup(record, *ID_COLUMNS)
        if blank(incident_id):
            mapped.problems.append(
                (id_column or ID_COLUMNS[0], "no incident id: this record has no tinyId, id or alias")
            )
        mapped.set("incident_id", incident_id, id_column)
        title_column, title = lookup(record, "message", "title")
        mapped.set("title", title, title_column or "message")
        priority_column, priority = lookup(record, "priority")
        severity_map = {**DEFAULT_SEVERITY, **options.severity_map}
        severity = None if priority is None else severity_map.get(str(priority), priority)
        mapped.set("severity", severity, priority_column or "priority")
        mapped.set("team", *_team(record, options.team_names, "ownerTeam" if is_incident else "teams"))
        mapped.set("service", *self._service(record, is_incident, mapped))
        timestamp = partial(_timestamp, zone=zone, mapped=mapped)

        created_column, created = lookup(record, "createdAt")
        created_column = created_column or "createdAt"
        created_at = timestamp(created, created_column)
        impact_column, impact_start = lookup(record, "impactStartDate")
        if impact_column is not None and not blank(impact_start):
            started_at = timestamp(impact_start, impact_column)
            mapped.set("started_at", started_at, impact_column)
            if _later(created_at, started_at):
                mapped.set("detected_at", created_at, created_column)
        else:
            mapped.set("started_at", created_at, created_column)
        created_start = (created_at, created_column)

        ack_column, ack_at = lookup(record, "acknowledgedAt")
        if ack_column is not None and not blank(ack_at):
            mapped.set("acknowledged_at", timestamp(ack_at, ack_column), ack_column)
        else:
            column, amount = _report(record, report, "ackTime")
            mapped.set(
                "acknowledged_at",
                after(created_start, amount, column, "the acknowledgement", mapped, "milliseconds"),
                column,
            )

        end_column, impact_end = lookup(record, "impactEndDate")
        impact_ended = None if end_column is None or blank(impact_end) else timestamp(impact_end, end_column)
        mapped.set("mitigated_at", impact_ended, end_column)
        status_column, status = lookup(record, "status")
        if status is None or str(status).lower() in ("closed", "resolved"):
            close_column, closed_at = lookup(record, "closedAt", "resolvedAt")
            if close_column is not None and not blank(closed_at):
                mapped.set("resolved_at", timestamp(closed_at, close_column), close_column)
            elif impact_ended is not None:
                mapped.set("resolved_at", impact_ended, end_column)
            else:
                column, amount = _report(record, report, "closeTime")
                closed = after(created_start, amount, column, "the close", mapped, "milliseconds")
                mapped.set("resolved_at", closed, column or status_column)
        return mapped

    def _service(self, record: dict[str, Any], is_incident: bool, mapped: Mapped) -> tuple[Any, str | None]:
        options = self.options
        assert isinstance(options, OpsgenieOptions)
        if options.service:
            return options.service, None
        services_column, services = lookup(record, "impactedServices")
        entity_column, entity = lookup(record, "entity")
        tags_column, tags = lookup(record, "tags")
        tagged = _tagged(tags, options.service_tag)
        for value, column in (
            (_first(services), f"{services_column}[0]"),
            (entity, entity_column),
            (tagged, tags_column),
        ):
            if not blank(value):
                return options.service_names.get(str(value), value), column
        what, looked = ("incident", ["impactedServices", "tags"]) if is_incident else ("alert", ["entity", "tags"])
        tag = f"{options.service_tag}:<name>"
        mapped.problems.append(
            (
                ", ".join(looked),
                f"no service: this {what} has no {looked[0]} and no {tag} tag; set `service:` for this source in "
                f"params/sources.yaml, or `service_tag:` to the tag key that names the service",
            )
        )
        return None, None


def _first(value: Any) -> Any:
    """The first item of a list, or of a comma-separated text (CSV exports), or the value itself."""
    if isinstance(value, list):
        return value[0] if value else None
    if isinstance(value, str) and "," in value:
        return value.split(",")[0].strip()
    return value


def _tagged(tags: Any, key: str) -> str | None:
    """The name in the tag ``<key>:<name>``, from a list of tags or a comma-separated text."""
    items = tags if isinstance(tags, list) else str(tags or "").split(",")
    for tag in items:
        name, sep, value = str(tag).strip().partition(":")
        if sep and name.strip().lower() == key.lower() and value.strip():
            return value.strip()
    return None


def _team(record: dict[str, Any], team_names: dict[str, str], absent: str) -> tuple[Any, str]:
    """``ownerTeam``, else the first team among ``teams`` / ``responders`` (a responder may be a user).

    Without one: None, and the first of those fields the record has, else ``absent``.
    """
    present, owner = lookup(record, "ownerTeam")
    if present is not None and not blank(owner):
        return team_names.get(str(owner), owner), present
    for name in ("teams", "responders", "team", "owner team"):
        column, value = lookup(record, name)
        if column is None:
            continue
        present = present or column
        items = value if isinstance(value, list) else [_first(value)]
        for index, item in enumerate(items):
            if isinstance(item, dict):
                if item.get("type") not in (None, "team"):
                    continue
                key = next((k for k in ("name", "id") if not blank(item.get(k))), None)
                if key:
                    where = f"{column}[{index}].{key}" if isinstance(value, list) else column
                    return team_names.get(str(item[key]), item[key]), where
            elif not blank(item):
                return team_names.get(str(item), item), f"{column}[{index}]" if isinstance(value, list) else column
    return None, present or absent


def _report(record: dict[str, Any], report: dict[str, Any], name: str) -> tuple[str | None, Any]:
    """``report.<name>`` (the Alert API nests it), else a top-level ``<name>`` column."""
    column, value = lookup(report, name)
    if column is not None:
        return f"report.{column}", value
    return lookup(record, name)


def _timestamp(value: Any, column: str, zone: str | None, mapped: Mapped) -> Any:
    """ISO 8601 text (offset-less ones in ``zone``), or epoch milliseconds as Opsgenie's webhooks and
    some exports give; anything else passes through for validation to report.

    Epoch milliseconds no date can hold (past the year 9999) are a problem under ``column``.
    """
    text = None if value is None else str(value).strip()
    digits = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (isinstance(value, float) and not math.isfinite(value)) or value < EPOCH_MS_FROM:
            return text  # not epoch milliseconds: validation reports it
    elif text and text.isascii() and text.isdigit():  # not "²²²", which int() refuses
        digits = text
    else:
        return to_iso(value, None, zone)
    try:
        millis = value if digits is None else int(digits)
        if millis < EPOCH_MS_FROM:
            return to_iso(value, None, zone)
        return datetime.fromtimestamp(millis / 1000, UTC).isoformat()
    except (OverflowError, ValueError, OSError):  # past the year 9999; int() of over 4300 digits
        mapped.problems.append((column, f"not a timestamp (ISO 8601 or epoch milliseconds): {text!r}"))
        return None


def _later(created: Any, started: Any) -> bool:
    a, b = moment(created), moment(started)
    return a is not None and b is not None and a > b
