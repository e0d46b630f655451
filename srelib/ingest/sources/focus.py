"""FOCUS cost exports (FinOps Open Cost and Usage Specification 1.0–1.2), CSV or Parquet → costs.

A FOCUS export already speaks the canonical cost columns (``ChargePeriodStart`` inclusive,
``ChargePeriodEnd`` exclusive, ``EffectiveCost`` for savings, ``BilledCost`` kept, ...), so the
adapter reads any file name, keeps the columns the workbench uses and ignores the rest. As
clouds deliver them:

- Datetimes are UTC (FOCUS 1.0, "Date/Time Format"), often written without an offset
  (``2024-09-18 22:00:00``): they are read as UTC (the ``timezone`` option says otherwise).
- Rows are line items: many share a service, account and tags and differ by resource. They are
  kept as parts of one cost row per (charge period, currency, service, category, account, tags),
  whose costs are their sums (:data:`srelib.ingest.schemas.COSTS`), so re-ingesting an export is
  idempotent.
- ``NULL`` written as text (as the FOCUS sample data does) is an empty value.
- ``Tags`` arrive as JSON text (CSV) or a map or struct (Parquet); both are stored as a JSON
  object, and anything else is reported.
- Exports arrive gzipped (``.csv.gz``) and split into parts: a folder is one source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from srelib.errors import Problem
from srelib.ingest.schemas import COSTS
from srelib.ingest.sources import register
from srelib.ingest.sources.base import Adapter, ExportOptions, Extract, read_records, to_iso


class FocusOptions(ExportOptions):
    timezone: str | None = "UTC"  # FOCUS datetimes are UTC


def _value(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip().upper() == "NULL" else value


def _tags(value: Any) -> Any:
    """Tags as JSON text; a map (dict) becomes JSON, anything else is left for validation to judge."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


@register
class Focus(Adapter):
    kind = "focus"
    table = "costs"
    Options = FocusOptions
    formats = (".csv", ".csv.gz", ".parquet")  # not the manifests (.json) beside a cloud's export parts

    def read(self, path: Path, file: str) -> Extract:
        options = self.options
        assert isinstance(options, FocusOptions)
        found = read_records(path, file)
        extract = Extract(self.table, path, file, rows=found.rows, problems=found.problems)
        present = set(found.records[0]) if found.records else set()
        for column in COSTS.required:
            if found.records and column not in present:
                extract.problems.append(Problem(file, None, column, "required FOCUS column is missing"))
        for record in found.records:
            canonical = {c.name: _value(record.get(c.name)) for c in COSTS.columns}
            for column in ("ChargePeriodStart", "ChargePeriodEnd"):
                canonical[column] = to_iso(canonical[column], timezone=options.timezone)
            canonical["Tags"] = _tags(canonical["Tags"])
            extract.records.append(canonical)
        extract.columns = {c.name: c.name for c in COSTS.columns}
        return extract
