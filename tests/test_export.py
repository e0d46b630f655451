"""``srelib export``: the PeriodSummary as CSV and Parquet tables, each equal to the summary.

Each file is read back (Parquet by DuckDB, CSV as text) and turned back into the summary's
nested form; it must give the summary's own values, exactly, with nothing left out."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from srelib.period import Period
from srelib.present import export
from srelib.present.policy import with_reasons
from srelib.run.summary_cache import SummaryCache
from tests.conftest import ingest_small, make_workbench, run_cli

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def summary(tmp_path: Path):
    workbench = make_workbench(tmp_path, {"api": "platform"})
    incidents = [
        dict(incident_id="I1", title=FORMULA, service="api", severity="SEV1", started_at="2026-10-02T10:00:00Z",
             resolved_at="2026-10-02T11:00:00Z", customer_impact="true"),
        dict(incident_id="I2", title="-1", service="api", severity="SEV3", started_at="2026-10-05T10:00:00Z"),
    ]  # fmt: skip
    ingest_small(workbench, incidents, sli_at="2026-10-02T10:00:00Z")
    return SummaryCache(workbench).get(Period.parse("2026-10", "UTC"), None)


def _nested(row: dict[str, Any]) -> dict[str, Any]:
    """A row back in the summary's nested form: dotted columns as objects, JSON text parsed."""
    found: dict[str, Any] = {}
    for column, value in row.items():
        if value is None:
            continue  # a column another row has
        if isinstance(value, str) and value[:1] in "[{":
            value = json.loads(value)
        *path, leaf = column.split(".")
        place = found
        for key in path:
            place = place.setdefault(key, {})
        place[leaf] = value
    return found


def _pruned(value: Any) -> Any:
    """Without null leaves (a table has a cell for every column) nor the objects they leave empty."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v != {} or value[k] == {}}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _section(name: str, rows: list[dict[str, Any]], data: dict[str, Any]) -> tuple[Any, Any]:
    """(what the table holds, what the summary holds) for the table ``name``."""
    if name == "period":
        return _nested(rows[0]), {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    section = data[name]
    if isinstance(section, list):
        shown = [row["value"] if set(row) == {"value"} else _nested(row) for row in rows]
        return shown, section
    if all(isinstance(v, dict) for v in section.values()) and "name" in rows[0]:
        return {row["name"]: _nested({k: v for k, v in row.items() if k != "name"}) for row in rows}, section
    return _nested(rows[0]), section


def test_every_table_is_the_summary_exactly_in_parquet_and_csv(summary, tmp_path: Path):
    data = with_reasons(summary).model_dump(mode="json")
    written = export.write(summary, tmp_path / "out")
    names = sorted({p.stem for p in written})
    sections = {k for k, v in data.items() if isinstance(v, (dict, list)) and v}
    assert set(names) == sections | {"period"}  # every section with content, and no other
    for name in names:
        frame = duckdb.sql(f"SELECT * FROM '{tmp_path / 'out' / name}.parquet'").df()
        rows = [{k: (None if _missing(v) else _plain(v)) for k, v in r.items()} for r in frame.to_dict("records")]
        shown, expected = _section(name, rows, data)
        assert _pruned(shown) == _pruned(expected), name
        with (tmp_path / "out" / f"{name}.csv").open(encoding="utf-8", newline="") as file:
            text_rows = list(csv.DictReader(file))
        assert len(text_rows) == len(rows), name
        for typed, text in zip(rows, text_rows, strict=True):
            for column, value in typed.items():
                assert _as_csv(value) == text[column], (name, column)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("<NA>", "NaT")


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return f"'{value}"
    return repr(value) if isinstance(value, float) else str(value)


def test_a_formula_in_the_data_is_shown_in_a_spreadsheet_not_run(summary, tmp_path: Path):
    export.write(summary, tmp_path, ("csv",))
    titles = [row["title"] for row in csv.DictReader((tmp_path / "notable_incidents.csv").open(encoding="utf-8"))]
    assert titles == [f"'{FORMULA}"]  # the open SEV3 is not notable; its title would read '-1
    assert not list(tmp_path.glob("*.parquet"))  # csv only: no Parquet


def test_srelib_export_writes_the_tables_and_refuses_an_unknown_format(tmp_path: Path):
    workbench = make_workbench(tmp_path / "wb", {"api": "platform"})
    incident = dict(incident_id="I1", service="api", severity="SEV2", started_at="2026-10-02T10:00:00Z")
    ingest_small(workbench, [incident], sli_at="2026-10-02T10:00:00Z")
    done = run_cli(workbench.root, "export", "--period", "2026-10", "--to", str(tmp_path / "tables"))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and str(tmp_path / "tables" / "slos.parquet") in done.stdout.splitlines()
    bad = run_cli(workbench.root, "export", "--period", "2026-10", "--to", str(tmp_path / "t2"), "--format", "xlsx")
    assert bad.returncode == 2 and "the formats are csv, parquet" in bad.stderr
    assert not (tmp_path / "t2").exists()
