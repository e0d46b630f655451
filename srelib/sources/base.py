"""What every source adapter produces: an :class:`Extract` of canonical rows that remember where they came from.

An adapter reads one vendor export (PagerDuty, Opsgenie, a Jira CSV...) and maps it onto a
canonical table, as text. Validation then checks those rows exactly like a canonical file's,
and reports each problem at the vendor file's row and under the vendor's column name.
"""

from __future__ import annotations

import codecs
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from srelib.errors import Problem
from srelib.schemas import FileSchema
from srelib.slo_spec import SloCatalogue


@dataclass
class Extract:
    """Canonical rows (text) read from one vendor file."""

    table: str
    path: Path
    file: str  # how problems name the file
    rows: list[int] = field(default_factory=list)  # the vendor row of each record
    records: list[dict[str, Any]] = field(default_factory=list)  # canonical column → text
    columns: dict[str, str] = field(default_factory=dict)  # canonical column → vendor column
    problems: list[Problem] = field(default_factory=list)
    spec_files: list[Path] = field(default_factory=list)  # SLO spec sources: the YAML files to read
    digest: str = ""  # for data fetched from a server (no file to hash): a hash of what was fetched
    notes: list[str] = field(default_factory=list)  # what the adapter did, for the command's output

    def canonical_frame(self, schema: FileSchema) -> pd.DataFrame:
        frame = pd.DataFrame(
            {c.name: [_text(r.get(c.name)) for r in self.records] for c in schema.columns}, dtype="object"
        )
        frame["_row"] = self.rows
        frame["_file"] = self.file
        return frame


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class SourceContext:
    """What an adapter may need besides its options: where the workbench and its warehouse are,
    and the SLO specs (a Prometheus source runs their queries)."""

    root: Path
    warehouse: Path | None = None
    slos: SloCatalogue = field(default_factory=SloCatalogue)


class Adapter(ABC):
    """One kind of source. Subclasses set ``kind`` and ``table`` and implement :meth:`read`.

    ``path`` is the export's path (absolute) for file sources and None for server sources
    (``needs_path = False``), which read their address from the options.
    """

    kind: ClassVar[str]
    table: ClassVar[str]
    needs_path: ClassVar[bool] = True

    def __init__(self, options: dict[str, Any], context: SourceContext | None = None):
        self.options = options
        self.context = context or SourceContext(Path.cwd())

    @abstractmethod
    def read(self, path: Path, file: str) -> Extract: ...


def read_records(path: Path, file: str) -> tuple[list[dict[str, Any]], list[int], list[Problem]]:
    """Records of a CSV, Parquet or JSON export, with their row numbers as users count them.

    CSV rows are line numbers (the header is line 1); JSON rows are 1-based positions in the
    record list (a bare list, or the list under ``data``, ``incidents``, ``alerts`` or ``items``).
    """
    suffix = path.suffix.lower()
    if not path.is_file():
        return [], [], [Problem(file, None, None, "no such file")]
    raw_head = path.read_bytes()[:8192]
    if suffix != ".parquet":
        if not raw_head.strip():
            return [], [], [Problem(file, None, None, "empty file")]
        if b"\x00" in raw_head:
            return [], [], [Problem(file, None, None, "binary file, expected text")]
        try:
            codecs.decode(path.read_bytes(), "utf-8")
        except UnicodeDecodeError as exc:
            return [], [], [Problem(file, None, None, f"not UTF-8 text (invalid byte at offset {exc.start})")]
    if suffix == ".json":
        return _json_records(path, file)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        source = (
            "SELECT * FROM read_csv(?, all_varchar = true, header = true)"
            if suffix == ".csv"
            else "SELECT COLUMNS(*)::VARCHAR FROM read_parquet(?)"
        )
        try:
            frame = con.execute(source, [str(path)]).df()
        except duckdb.Error as exc:
            return [], [], [Problem(file, None, None, f"cannot be read: {str(exc).strip().splitlines()[0]}")]
    offset = 2 if suffix == ".csv" else 1
    records = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]
    return records, [i + offset for i in range(len(records))], []


def _json_records(path: Path, file: str) -> tuple[list[dict[str, Any]], list[int], list[Problem]]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return [], [], [Problem(file, exc.lineno, None, f"invalid JSON: {exc.msg}")]
    if isinstance(body, dict):
        body = next((body[k] for k in ("data", "incidents", "alerts", "items") if isinstance(body.get(k), list)), None)
    if not isinstance(body, list):
        return [], [], [Problem(file, None, None, "expected a list of records (or one under data/incidents/alerts)")]
    problems = [
        Problem(file, i, None, "record is not an object") for i, r in enumerate(body, 1) if not isinstance(r, dict)
    ]
    records = [r for r in body if isinstance(r, dict)]
    rows = [i for i, r in enumerate(body, 1) if isinstance(r, dict)]
    return records, rows, problems


def to_iso(value: Any, timestamp_format: str | None = None, timezone: str | None = None) -> Any:
    """A vendor timestamp as ISO 8601 with an offset; unparseable or offset-less values pass through
    unchanged, so validation reports them where they are."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        parsed = datetime.strptime(text, timestamp_format) if timestamp_format else datetime.fromisoformat(text)
    except ValueError:
        return text
    if parsed.tzinfo is None:
        if timezone is None:
            return text
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.isoformat()


def after(start: str | None, amount: Any, seconds_per_unit: float = 1.0) -> Any:
    """``start`` plus ``amount`` units (seconds by default) as ISO 8601.

    An amount that is not a number passes through as text, so validation reports it where it is.
    """
    if start is None or amount is None or str(amount).strip() == "":
        return None
    try:
        moment = datetime.fromisoformat(str(start))
        return (moment + timedelta(seconds=float(amount) * seconds_per_unit)).isoformat()
    except (TypeError, ValueError):
        return str(amount)


def lookup(record: dict[str, Any], *names: str) -> tuple[str | None, Any]:
    """The first of ``names`` present in ``record`` (case, spaces and underscores ignored): (name, value)."""
    folded = {_fold(k): k for k in record}
    for name in names:
        key = folded.get(_fold(name))
        if key is not None:
            return key, record[key]
    return None, None


def _fold(name: str) -> str:
    return name.lower().replace(" ", "").replace("_", "").replace("-", "")
