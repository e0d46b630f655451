"""Any CSV, Parquet or JSON export (Jira, ServiceNow, incident.io...) mapped by configuration.

Options (``params/sources.yaml``)::

    kind: generic
    path: exports/jira-incidents.csv
    table: incidents                 # which canonical table the rows become
    columns: {incident_id: Key, title: Summary, severity: Priority, started_at: Created}
    values: {severity: {Highest: SEV1, High: SEV2}}   # vendor value → canonical value
    constants: {team: payments}      # a fixed value for a column the export lacks
    timestamp_format: "%d/%b/%y %I:%M %p"   # strptime; default ISO 8601
    date_format: "%d/%b/%y"          # for date columns (an action's due date); default: the
                                     # timestamp format's date, else ISO 8601 (YYYY-MM-DD)
    timezone: Europe/Berlin          # for timestamps written without an offset
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from srelib.errors import Problem
from srelib.ingest.schemas import TABLES
from srelib.ingest.sources import register
from srelib.ingest.sources.base import Adapter, ExportOptions, Extract, read_records, to_date, to_iso


class GenericOptions(ExportOptions):
    table: str = "incidents"
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    timestamp_format: str | None = None
    date_format: str | None = None

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in TABLES or TABLES[value].heavy:
            raise ValueError(f"{value!r} is not a table a generic source can fill")
        return value


@register
class Generic(Adapter):
    kind = "generic"
    table = "incidents"

    Options = GenericOptions

    def read(self, path: Path, file: str) -> Extract:
        options = self.options
        assert isinstance(options, GenericOptions)
        schema = TABLES[options.table]
        found = read_records(path, file)
        records = found.records
        extract = Extract(options.table, path, file, rows=found.rows, problems=found.problems)
        unknown = sorted(set(options.columns) - {c.name for c in schema.columns})
        for name in unknown:
            extract.problems.append(Problem(file, None, name, f"not a column of {options.table}"))
        mapping = {c.name: options.columns.get(c.name, c.name) for c in schema.columns}
        present = set(records[0]) if records else set()
        for c in schema.columns:
            if c.required and records and mapping[c.name] not in present and c.name not in options.constants:
                extract.problems.append(Problem(file, None, mapping[c.name], "required column is missing"))
        extract.columns = mapping
        for record in records:
            extract.records.append(
                {c.name: self._value(record, c.name, c.type, mapping[c.name], options) for c in schema.columns}
            )
        return extract

    @staticmethod
    def _value(record: dict[str, Any], column: str, kind: str, source: str, options: GenericOptions) -> Any:
        value = record.get(source, options.constants.get(column))
        if value is not None and column in options.values:
            value = options.values[column].get(str(value).strip(), value)
        if kind == "timestamp":
            return to_iso(value, options.timestamp_format, options.timezone)
        if kind == "date":
            return to_date(value, options.date_format, options.timestamp_format)
        return value
