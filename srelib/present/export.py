"""The PeriodSummary as tables for finance and BI tools: one CSV (and Parquet) file per section.

``srelib export --period P [--team T] --to DIR`` writes what ``summary.json`` holds, as tables
a spreadsheet or a BI tool reads without parsing JSON:

- ``period``: the summary's own fields (period, kind, title, start, end, time zone, team, org,
  when and from which ingest it was computed), one row;
- a section keyed by name (``slos``, ``slo_budgets``, ``error_budget_policy``, ``team_figures``,
  ``initiatives``, ``slo_specs``): one row per name, its first column ``name``;
- a list (``trend``, ``spend``, ``notable_incidents``, ``teams``): one row per item;
- any other section (``incidents``, ``reliability``, ``delivery``, ``value``, ...): one row.

Nested fields become columns named by their path (``mttr_minutes.median``); a list inside a row is
kept as JSON text. Every value is the summary's own, unrounded (CSV writes floats so that they
read back exactly). In CSV only, a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'`` so that a spreadsheet shows it instead of running it as a
formula (OWASP, "CSV injection"); Parquet keeps every value as it is.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from srelib.present.policy import with_reasons
from srelib.summary import PeriodSummary

FORMATS = ("csv", "parquet")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _flat(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested object as one row: a column per leaf, named by its path; lists as JSON text."""
    row: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            row.update(_flat(item, f"{name}."))
        elif isinstance(item, (dict, list)):
            row[name] = json.dumps(item, sort_keys=True, ensure_ascii=False)
        else:
            row[name] = item
    return row


def tables(summary: PeriodSummary) -> dict[str, pd.DataFrame]:
    """The summary's sections as tables (see the module's docstring), by file name."""
    data = with_reasons(summary).model_dump(mode="json")  # as summary.json has it
    found = {"period": _typed([{k: v for k, v in data.items() if not isinstance(v, (dict, list))}])}
    for key, value in data.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            rows = [{"name": name, **_flat(item)} for name, item in value.items()]
        elif isinstance(value, dict) and value:
            rows = [_flat(value)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            rows = [_flat(item) for item in value]
        elif isinstance(value, list) and value:
            rows = [{"value": item} for item in value]
        else:
            continue  # null or empty: no table
        found[key] = _typed(rows)
    return found


def _typed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a table, each column typed as the summary's values are: whole numbers stay whole
    (``Int64``) and true/false stays boolean where some rows have none, rather than becoming floats."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = {}
    for name in names:
        raw = [row.get(name) for row in rows]
        values = [v for v in raw if v is not None]
        if values and all(isinstance(v, bool) for v in values):
            dtype = "boolean"
        elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            dtype = "Int64"
        elif values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dtype = "float64"
        else:
            dtype = "string" if all(v is None or isinstance(v, str) for v in raw) else "object"
        columns[name] = pd.Series(raw, dtype=dtype)
    return pd.DataFrame(columns)


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    def cell(value: Any) -> Any:
        return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value

    return frame.apply(lambda column: column.map(cell) if column.dtype in (object, "string") else column)


def write(summary: PeriodSummary, folder: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write every table into ``folder`` as ``NAME.csv`` and ``NAME.parquet``; each file appears
    whole (written beside it, then renamed), so a reader never opens half a file."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with duckdb.connect() as con:
        for name, frame in tables(summary).items():
            if "csv" in formats:
                written.append(_whole(folder / f"{name}.csv", lambda p, f=frame: _csv(f, p)))
            if "parquet" in formats:
                written.append(_whole(folder / f"{name}.parquet", lambda p, f=frame: _parquet(con, f, p)))
    return written


def _csv(frame: pd.DataFrame, path: Path) -> None:
    _spreadsheet_safe(frame).to_csv(path, index=False, float_format=None, lineterminator="\n")


def _parquet(con: Any, frame: pd.DataFrame, path: Path) -> None:
    con.register("section", frame)
    try:
        quoted = str(path).replace("'", "''")  # an operator's path, never data
        con.execute(f"COPY section TO '{quoted}' (FORMAT PARQUET)")
    finally:
        con.unregister("section")


def _whole(path: Path, make: Any) -> Path:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        make(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
