"""PagerDuty incidents → canonical incidents, from the shapes PagerDuty delivers.

Read as they come (JSON may be gzipped; a folder of parts is one source):

- the Analytics API's raw incidents (``POST /analytics/raw/incidents``: ``{"data": [...],
  "time_zone": "Etc/UTC", ...}``; one incident, ``GET /analytics/raw/incidents/{id}``:
  ``{"data": {...}, "time_zone": ...}``), whose ``created_at``/``resolved_at`` carry no offset and
  are in the answer's ``time_zone``;
- the REST API's incidents (``GET /incidents``: ``{"incidents": [...]}``; ``GET /incidents/{id}``:
  ``{"incident": {...}}``), whose references are nested (``service.summary``, ``priority.summary``,
  ``teams[0].summary``, ``acknowledgements[].at``);
- the web app's Advanced Reporting incident CSV (Analytics → Reports → Download CSV,
  ``incidents.csv``: ``id``, ``incident_number``, ``description``, ``service_name``, ``created_on``,
  ``resolved_on``, ``seconds_to_first_ack``, ``seconds_to_resolve``, ``urgency``, ...), whose
  timestamps are in the account's time zone.

Column names are matched ignoring case, spaces and underscores (``Created On`` = ``created_on``).

- started_at = ``created_at`` (``created_on``); detected_at stays empty (PagerDuty knows when it
  was told, not when impact began, so it does not pretend detection took no time);
- acknowledged_at = created_at + ``seconds_to_first_ack``, or the first of the REST answer's
  ``acknowledgements``;
- resolved_at = ``resolved_at`` (``resolved_on``), or created_at + ``seconds_to_resolve``, or
  (REST answers without ``resolved_at``) ``last_status_change_at``; resolved incidents only;
- severity from ``priority_name`` (REST: ``priority.summary``) through ``severity_map``, else from
  ``urgency``; an unmapped value is reported under the column it came from, never guessed;
- customer_impact = ``major`` when ``major_means_customer_impact: true``.

Timestamps without an offset are read in the answer's ``time_zone`` when it names one (the answer
describes its own data, and one source may mix answers with CSV exports that name none), else in
the ``timezone`` option, else reported. A problem names the column the value came from: a
computed acknowledgement with a bad ``seconds_to_first_ack`` is reported under that column with
its own value; a value left empty (or out) is reported under the column it would come from: the
first of its columns the record has, else the first the export's shape uses (the Analytics
answer's ``service_name``, the REST answer's ``service``). A time computed past the year 9999 is a
problem under the seconds it was computed from. A record with a problem found here is left out of
the rows passed to validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from srelib.errors import Problem
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

DEFAULT_SEVERITY = {
    **{f"P{i}": f"SEV{i}" for i in range(1, 6)},
    **{f"SEV-{i}": f"SEV{i}" for i in range(1, 6)},  # the priority names PagerDuty's own examples use
    "high": "SEV2",
    "low": "SEV4",
}
ID_COLUMNS = ("id", "incident_number", "Incident ID", "#")
CREATED_COLUMNS = ("created_at", "created_on", "Opened On")
RESOLVED_COLUMNS = ("resolved_at", "resolved_on")
# Where each value may come from, in the order looked at; the first column each shape of answer uses
# (CSV exports have every column on every row).
TITLE_COLUMNS = ("title", "description", "summary")
SERVICE_COLUMNS = ("service_name", "service")
TEAM_COLUMNS = ("team_name", "teams", "team")
SEVERITY_COLUMNS = ("priority_name", "priority", "urgency")
FIRST_ANALYTICS = {"title": "description", "service": "service_name", "team": "team_name", "severity": "priority_name"}
FIRST_REST = {"title": "title", "service": "service", "team": "teams", "severity": "priority"}
# Fields only the REST API's incidents carry (Analytics answers and CSV exports flatten references).
REST_FIELDS = ("self", "html_url", "incident_key", "acknowledgements", "last_status_change_at")


class PagerDutyOptions(ExportOptions):
    severity_map: dict[str, str] = Field(default_factory=dict)
    major_means_customer_impact: bool = False
    # The severity of every incident of an export that carries none (the basic Incidents report):
    # said by the team, never guessed.
    severity: Literal["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"] | None = None


@register
class PagerDuty(Adapter):
    kind = "pagerduty"
    table = "incidents"
    Options = PagerDutyOptions

    def read(self, path: Path, file: str) -> Extract:
        options = self.options
        assert isinstance(options, PagerDutyOptions)
        found = read_records(path, file)
        extract = Extract(self.table, path, file, problems=list(found.problems))
        known, zone = self._zone(found.meta, file, extract)
        if not known:
            return extract
        severity_map = {**DEFAULT_SEVERITY, **options.severity_map}
        without = not any(lookup(r, *SEVERITY_COLUMNS)[0] for r in found.records)
        if found.records and without and options.severity is None:
            extract.problems.append(
                Problem(
                    file,
                    None,
                    None,
                    "no severity: this export has no priority_name, priority or urgency column (PagerDuty's "
                    "basic Incidents report has none); export the Advanced Reporting CSV or the Analytics API "
                    "answer, which carry urgency, or give this source a severity: (SEV1 to SEV5) for all its incidents",
                )
            )
            return extract
        first = FIRST_REST if any(_rest(r) for r in found.records) else FIRST_ANALYTICS
        for row, record in zip(found.rows, found.records, strict=True):
            fixed = options.severity if without else None  # the export has none: the one the team gave
            extract.add(row, _map(record, zone, severity_map, options.major_means_customer_impact, first, fixed))
        return extract

    def _zone(self, meta: dict[str, Any], file: str, extract: Extract) -> tuple[bool, str | None]:
        """Whether the zone of offset-less timestamps is known, and which: the answer's ``time_zone``,
        else the ``timezone`` option (None: such timestamps are reported by validation)."""
        assert isinstance(self.options, PagerDutyOptions)
        option = self.options.timezone
        named = meta.get("time_zone")
        if blank(named):
            return True, option
        try:
            ZoneInfo(str(named))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder (Europe), a name too long
            message = f"unknown time zone {named!r} in the answer (an IANA name such as Etc/UTC)"
            extract.problems.append(Problem(file, None, "time_zone", message))
            return False, None
        if option is not None and option != named:
            extract.notes.append(
                f"timestamps without an offset read in the answer's time_zone {named}, "
                f"not in the timezone option {option}"
            )
        return True, str(named)


def _rest(record: dict[str, Any]) -> bool:
    """Whether ``record`` is one of the REST API's incidents (``type: incident``, nested references)."""
    _, kind = lookup(record, "type")
    _, service = lookup(record, "service")
    return kind == "incident" or isinstance(service, dict) or any(lookup(record, f)[0] for f in REST_FIELDS)


def _map(
    record: dict[str, Any],
    zone: str | None,
    severity_map: dict[str, str],
    impact_from_major: bool,
    first: dict[str, str],
    fixed_severity: str | None = None,
) -> Mapped:
    mapped = Mapped()
    id_column, incident_id = lookup(record, *ID_COLUMNS)
    id_column = id_column or ID_COLUMNS[0]
    if blank(incident_id):
        mapped.problems.append((id_column, "no incident id: this record has no id or incident_number"))
    mapped.set("incident_id", incident_id, id_column)
    mapped.set("title", *_value(record, TITLE_COLUMNS, first["title"]))
    mapped.set("service", *_value(record, SERVICE_COLUMNS, first["service"]))
    mapped.set("team", *_value(record, TEAM_COLUMNS, first["team"]))
    if fixed_severity is not None:
        mapped.set("severity", fixed_severity, None)
    else:
        mapped.set("severity", *_severity(record, severity_map, mapped, first["severity"]))
    created_column, created = lookup(record, *CREATED_COLUMNS)
    created_column = created_column or CREATED_COLUMNS[0]
    started = to_iso(created, None, zone)
    mapped.set("started_at", started, created_column)
    start = (started, created_column)
    mapped.set("acknowledged_at", *_acknowledged(record, start, mapped))
    _, status = lookup(record, "status")
    resolved, resolved_column = _resolved(record, start, zone, status, mapped)
    if status is None or str(status).lower() == "resolved":
        mapped.set("resolved_at", resolved, resolved_column)
    if impact_from_major:
        major_column, major = lookup(record, "major")
        mapped.set("customer_impact", major, major_column)
    return mapped


def _value(record: dict[str, Any], names: tuple[str, ...], absent: str) -> tuple[Any, str]:
    """The first of ``names`` with a value, and the column it came from: REST references are nested
    (``{"summary": ...}``, a list of them for teams), Analytics and CSV exports flatten them.

    Without a value: None, and the first of ``names`` the record has (left empty), else ``absent``
    (the first the export's shape uses), for validation to name.
    """
    present = None
    for name in names:
        column, value = lookup(record, name)
        if column is None:
            continue
        present = present or column
        if isinstance(value, list):
            value, column = (value[0], f"{column}[0]") if value else (None, column)
        if isinstance(value, dict):
            key = next((k for k in ("summary", "name") if not blank(value.get(k))), None)
            value, column = (value[key], f"{column}.{key}") if key else (None, column)
        if not blank(value):
            return value, column
    return None, present or absent


def _severity(
    record: dict[str, Any], severity_map: dict[str, str], mapped: Mapped, absent: str
) -> tuple[Any, str | None]:
    value, column = _value(record, SEVERITY_COLUMNS, absent)
    if value is None:
        looked = [c for c in (lookup(record, n)[0] for n in SEVERITY_COLUMNS) if c]
        if not looked:
            mapped.problems.append((absent, "no severity: this record has no priority_name, priority or urgency"))
        else:
            names = " and ".join([", ".join(looked[:-1]), looked[-1]] if len(looked) > 1 else looked)
            verb = ("is", "are both", "are all")[len(looked) - 1]
            mapped.problems.append((looked[0], f"no severity: {names} {verb} empty"))
        return None, column
    return severity_map.get(str(value), value), column


def _acknowledged(record: dict[str, Any], start: tuple[Any, str], mapped: Mapped) -> tuple[Any, str | None]:
    column, acknowledgements = lookup(record, "acknowledgements")
    if isinstance(acknowledgements, list):  # REST: who acknowledged when; empty once resolved
        times = [(a.get("at"), i) for i, a in enumerate(acknowledgements) if isinstance(a, dict)]
        times = [(at, i) for at, i in times if not blank(at)]
        for at, i in times:  # the first one cannot be told: validation reports the value that is not a time
            if moment(at) is None:
                return at, f"{column}[{i}].at"
        if times:
            first, index = min((moment(at), i) for at, i in times)
            assert first is not None
            return first.isoformat(), f"{column}[{index}].at"
    column, seconds = lookup(record, "seconds_to_first_ack")
    return after(start, seconds, column, "the acknowledgement", mapped, "seconds"), column


def _resolved(
    record: dict[str, Any], start: tuple[Any, str], zone: str | None, status: Any, mapped: Mapped
) -> tuple[Any, str | None]:
    column, resolved = lookup(record, *RESOLVED_COLUMNS)
    if not blank(resolved):
        return to_iso(resolved, None, zone), column
    seconds_column, seconds = lookup(record, "seconds_to_resolve")
    if not blank(seconds):
        return after(start, seconds, seconds_column, "the resolution", mapped, "seconds"), seconds_column
    change_column, changed = lookup(record, "last_status_change_at")
    if str(status).lower() == "resolved" and not blank(changed):  # REST answers before resolved_at existed
        return to_iso(changed, None, zone), change_column
    return None, column
