"""FOCUS cost exports (FinOps Open Cost and Usage Specification 1.0–1.2), CSV or Parquet → costs.

A FOCUS export already speaks the canonical cost columns (``ChargePeriodStart`` inclusive,
``ChargePeriodEnd`` exclusive, ``EffectiveCost`` for savings, ``BilledCost`` kept, ...), so the
adapter reads any file name, keeps the columns the workbench uses and ignores the rest. Tags
arrive as JSON text (CSV) or a map (Parquet); both are stored as JSON text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from srelib.errors import Problem
from srelib.schemas import COSTS
from srelib.sources import register
from srelib.sources.base import Adapter, Extract, read_records, to_iso


def _tags(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


@register
class Focus(Adapter):
    kind = "focus"
    table = "costs"

    def read(self, path: Path, file: str) -> Extract:
        records, rows, problems = read_records(path, file)
        extract = Extract(self.table, path, file, rows=rows, problems=problems)
        present = set(records[0]) if records else set()
        for column in COSTS.required:
            if records and column not in present:
                extract.problems.append(Problem(file, 1, column, "required FOCUS column is missing"))
        for record in records:
            canonical = {c.name: record.get(c.name) for c in COSTS.columns}
            for column in ("ChargePeriodStart", "ChargePeriodEnd"):
                canonical[column] = to_iso(canonical[column])
            canonical["Tags"] = _tags(canonical["Tags"])
            extract.records.append(canonical)
        extract.columns = {c.name: c.name for c in COSTS.columns}
        return extract
