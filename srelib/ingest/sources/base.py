"""What every source adapter produces: an :class:`Extract` of canonical rows that remember where they came from.

An adapter reads one vendor export (PagerDuty, Opsgenie, a Jira CSV...) and maps it onto a
canonical table, as text. Validation then checks those rows exactly like a canonical file's,
and reports each problem at the vendor file's row and under the vendor's column name.
"""

from __future__ import annotations

import gzip
import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from srelib.errors import Problem
from srelib.files import file_problem
from srelib.ingest.schemas import FileSchema
from srelib.ingest.specs import SloCatalogue


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
    # Per record, the vendor columns of values whose column differs from record to record (a
    # severity from priority_name, else urgency): problems name the column the value came from.
    record_columns: list[dict[str, str]] = field(default_factory=list)
    _row_index: dict[int, int] | None = field(default=None, init=False, repr=False, compare=False)

    def add(self, row: int, mapped: Mapped) -> None:
        """Add one vendor record as mapped, or, when it has problems, those problems instead."""
        if mapped.problems:
            self.problems += [Problem(self.file, row, column, message) for column, message in mapped.problems]
            return
        self.rows.append(row)
        self.records.append(mapped.values)
        self.record_columns.append(mapped.columns)
        for canonical, column in mapped.columns.items():
            self.columns.setdefault(canonical, column)

    @property
    def whole(self) -> bool:
        """Whether nothing is wrong with the file as a whole or a whole column (problems without a
        row): then its records are validated even when the adapter left some out for their problems."""
        return all(p.row is not None for p in self.problems)

    def vendor_column(self, row: int | None, column: str) -> str:
        """The vendor's name of a canonical ``column`` at vendor ``row`` (the canonical name if none)."""
        if self.record_columns and row is not None:
            if self._row_index is None:
                self._row_index = {r: i for i, r in enumerate(self.rows)}
            index = self._row_index.get(row)
            if index is not None and index < len(self.record_columns) and column in self.record_columns[index]:
                return self.record_columns[index][column]
        return self.columns.get(column, column)

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


class SourceOptions(BaseModel):
    """The options of a source in ``params/sources.yaml``, besides ``kind``, ``path`` and ``name``;
    each adapter declares its own. An option the adapter does not use is refused by name: a typo,
    or an option meant for another kind of source, must not be ignored silently."""

    model_config = ConfigDict(extra="forbid")


class ExportOptions(SourceOptions):
    """What every export file source (PagerDuty, Opsgenie, FOCUS, generic) takes."""

    timezone: str | None = None  # IANA zone of timestamps written without a UTC offset

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
                raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)") from None
        return value


class Adapter(ABC):
    """One kind of source. Subclasses set ``kind`` and ``table`` and implement :meth:`read`.

    ``path`` is the export's path (absolute) for file sources and None for server sources
    (``needs_path = False``), which read their address from the options. ``Options`` is the
    adapter's options model; ``formats`` are the file suffixes it reads, which is also what it
    takes from a folder of export parts.
    """

    kind: ClassVar[str]
    table: ClassVar[str]
    needs_path: ClassVar[bool] = True
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    formats: ClassVar[tuple[str, ...]] = (".csv", ".csv.gz", ".parquet", ".json", ".json.gz")

    def __init__(self, options: SourceOptions | None = None, context: SourceContext | None = None):
        self.options = options if options is not None else self.Options()
        self.context = context or SourceContext(Path.cwd())

    @classmethod
    def parse_options(cls, raw: dict[str, Any], file: str) -> tuple[SourceOptions | None, list[Problem]]:
        """The validated options, or the problems with them (each naming the option)."""
        try:
            return cls.Options.model_validate(raw), []
        except ValidationError as exc:
            known = ", ".join(sorted(cls.Options.model_fields))
            problems = []
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or None
                if err["type"] == "extra_forbidden":
                    takes = f"known options: {known}" if known else "it takes none besides path and name"
                    message = f"unknown option for {_article(cls.kind)} {cls.kind} source ({takes})"
                else:
                    message = err["msg"]
                problems.append(Problem(file, None, where, message))
            return None, problems

    @abstractmethod
    def read(self, path: Path, file: str) -> Extract: ...


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def export_files(path: Path, formats: tuple[str, ...]) -> list[Path]:
    """The export files at ``path``: the file itself, or every file of a folder (and its sub-folders)
    whose name ends with one of ``formats``, in name order.

    Cloud exports arrive split into parts (``part-00001.csv.gz``...), often beside manifests and
    markers (``manifest.json``, ``_SUCCESS``); hidden files and names starting with ``_`` are left out.
    """
    if not path.is_dir():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        and p.name.lower().endswith(formats)
    )


@dataclass
class Records:
    """What an export file holds: its records, the row number of each as users count them, the
    problems that kept it from being read, and for JSON the answer's other top-level fields."""

    records: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


JSON_LISTS = ("data", "incidents", "alerts", "items", "log_entries")
JSON_SINGLE = ("incident", "alert", "data")


def read_records(path: Path, file: str) -> Records:
    """Records of a CSV, Parquet or JSON export (CSV and JSON may be gzipped: ``.csv.gz``, ``.json.gz``).

    CSV rows are line numbers (the header is line 1); JSON rows are 1-based positions in the
    record list: a bare list, the list under ``data``, ``incidents``, ``alerts``, ``items`` or
    ``log_entries``, or one record under ``incident``, ``alert`` or ``data`` (a single object as
    the vendors' "get one" APIs answer). A file with a header and no rows holds no records.
    Parquet maps, structs and lists arrive as JSON text.
    """
    if reason := file_problem(path):
        return Records(problems=[Problem(file, None, None, reason)])
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return _json_records(path, file)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        try:
            if name.endswith(".parquet"):
                frame = con.execute(parquet_as_text(con, path), [str(path)]).df()
            else:
                frame = con.execute(
                    "SELECT * FROM read_csv(?, all_varchar = true, header = true, hive_partitioning = false)",
                    [str(path)],
                ).df()
        except duckdb.Error as exc:
            return Records(problems=[Problem(file, None, None, f"cannot be read: {str(exc).strip().splitlines()[0]}")])
    offset = 1 if name.endswith(".parquet") else 2
    records = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]
    return Records(records, [i + offset for i in range(len(records))])


def parquet_as_text(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """A query (its one parameter: the path) reading ``path`` with every column as text: nested
    values (maps, structs, lists) as JSON, so a Parquet ``MAP`` of tags arrives as
    ``{"team": "payments"}``, not DuckDB's ``{team=payments}``."""
    # Never hive partitioning: a folder named severity=SEV5 must not overwrite a column's values.
    columns = con.execute("DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(path)]).fetchall()
    nested = ("MAP(", "STRUCT(", "UNION(")
    parts = []
    for column, kind, *_ in columns:
        name = '"' + str(column).replace('"', '""') + '"'
        text = f"to_json({name})::VARCHAR" if kind.startswith(nested) or kind.endswith("]") else f"{name}::VARCHAR"
        parts.append(f"{text} AS {name}")
    return f"SELECT {', '.join(parts)} FROM read_parquet(?, hive_partitioning = false)"


def _json_records(path: Path, file: str) -> Records:
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            body = json.load(handle)
    except json.JSONDecodeError as exc:
        return Records(problems=[Problem(file, exc.lineno, None, f"invalid JSON: {exc.msg}")])
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return Records(problems=[Problem(file, None, None, f"invalid JSON: {exc}")])
    meta: dict[str, Any] = {}
    if isinstance(body, dict):
        meta = body
        listed = next((k for k in JSON_LISTS if isinstance(body.get(k), list)), None)
        single = next((k for k in JSON_SINGLE if isinstance(body.get(k), dict)), None)
        body = body[listed] if listed else [body[single]] if single else None
        meta = {k: v for k, v in meta.items() if k not in (listed, single)}
    if not isinstance(body, list):
        expected = "a list of records, or one under " + ", ".join(dict.fromkeys(JSON_LISTS + JSON_SINGLE))
        return Records(problems=[Problem(file, None, None, f"expected {expected}")])
    problems = [
        Problem(file, i, None, "record is not an object") for i, r in enumerate(body, 1) if not isinstance(r, dict)
    ]
    records = [r for r in body if isinstance(r, dict)]
    rows = [i for i, r in enumerate(body, 1) if isinstance(r, dict)]
    return Records(records, rows, problems, meta)


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


def to_date(value: Any, date_format: str | None = None, timestamp_format: str | None = None) -> Any:
    """A vendor date as ISO 8601 (``2026-10-20``): read with ``date_format``, else as a timestamp
    in ``timestamp_format`` whose day it is (Jira writes a due date as ``20/Oct/26 12:00 AM`` in
    some exports and ``20/Oct/26`` in others); what does not parse passes through unchanged, so
    validation reports it where it is."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return None
    text = str(value).strip()
    for fmt in (f for f in (date_format, timestamp_format) if f):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


@dataclass
class Mapped:
    """One vendor record as canonical values, the vendor column of each, and what is wrong with it
    (``(vendor column, message)``; an adapter leaves a record with problems out of its rows)."""

    values: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str | None, str]] = field(default_factory=list)

    def set(self, canonical: str, value: Any, column: str | None) -> None:
        self.values[canonical] = value
        if column:
            self.columns[canonical] = column


def blank(value: Any) -> bool:
    """None, NaN or only blanks: a value the export left empty."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def moment(text: Any) -> datetime | None:
    """``text`` as an aware datetime, or None (not a timestamp, or no offset)."""
    try:
        parsed = datetime.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


UNIT_SECONDS = {"seconds": 1.0, "milliseconds": 0.001}


def after(start: tuple[Any, str], amount: Any, column: str | None, what: str, mapped: Mapped, unit: str) -> Any:
    """``start`` (a timestamp and the column it came from) plus ``amount`` ``unit`` as ISO 8601.

    A duration that is not a number, or is negative, is a problem under ``column`` (the column the
    duration came from, with its own value), never a made-up timestamp. Nothing when the start is
    unusable: validation reports the start itself.
    """
    if blank(amount) or column is None:
        return None
    text = str(amount).strip()
    try:
        count = float(text) if not isinstance(amount, bool) else math.nan
    except ValueError:
        count = math.nan
    if not math.isfinite(count):
        mapped.problems.append((column, f"not a number of {unit}: {text!r}"))
        return None
    if count < 0:
        mapped.problems.append((column, f"negative, which puts {what} before {start[1]}: {text!r}"))
        return None
    begun = moment(start[0])
    if begun is None:
        return None
    try:
        return (begun + timedelta(seconds=count * UNIT_SECONDS[unit])).isoformat()
    except OverflowError:
        mapped.problems.append((column, f"too large: it puts {what} past the year 9999: {text!r}"))
        return None


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
