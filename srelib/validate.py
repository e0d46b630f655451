"""Validation of a data directory: every problem in every file, before anything is written.

Light tables (incidents, deployments, ...) are read by DuckDB as text, checked with pandera
and converted to typed frames. Heavy tables (SLI buckets) never pass through pandas: the
same checks run as SQL in DuckDB. Either way the result is a :class:`Dataset` whose typed
tables sit in an in-memory DuckDB connection, ready for :func:`srelib.warehouse.load`.

Row numbers are CSV line numbers (the header is line 1) or 1-based Parquet row numbers.
No file is required and a file with a header and no rows is valid: it means "nothing in it".
For every table, the first rows of each kind of problem are listed, then a count of the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa

from srelib.errors import InputError, Problem
from srelib.files import file_problem
from srelib.schemas import SLI, TABLES, Column, FileSchema
from srelib.slo_spec import SloCatalogue, data_dir_spec_files, load_slo_files
from srelib.sources.base import Extract, parquet_as_text

EXTENSIONS = (".csv", ".csv.gz", ".parquet")
EXAMPLES_PER_CHECK = 20  # rows listed per (file, column, kind of problem), then a count of the rest
_OFFSET_REGEX = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass
class Dataset:
    """A validated data directory: typed tables ``staged_<name>`` in ``con``, and the SLOs."""

    directory: Path
    con: duckdb.DuckDBPyConnection
    tables: list[str]
    slos: SloCatalogue
    row_counts: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""
    line_items: dict[str, int] = field(default_factory=dict)  # tables of line items: the rows read

    def describe(self) -> str:
        """What was read, for the command's output: ``938 costs (from 1000 line items), 2 incidents``."""
        return ", ".join(
            f"{n} {name}" + (f" (from {self.line_items[name]} line items)" if name in self.line_items else "")
            for name, n in self.row_counts.items()
        )


def find_files(directory: Path) -> tuple[dict[str, Path], list[Path], list[Problem]]:
    """The canonical files present in ``directory``: tables by name, SLO spec files, problems."""
    problems: list[Problem] = []
    tables: dict[str, Path] = {}
    for name in TABLES:
        found = [directory / f"{name}{ext}" for ext in EXTENSIONS if (directory / f"{name}{ext}").is_file()]
        if len(found) > 1:
            problems.append(
                Problem(found[0].name, None, None, f"both {found[0].name} and {found[1].name} exist: keep one")
            )
        elif found:
            tables[name] = found[0]
    return tables, data_dir_spec_files(directory), problems


def validate_directory(directory: Path, extracts: list[Extract] | tuple[Extract, ...] = ()) -> Dataset:
    """Validate every canonical file in ``directory`` and every extract from a vendor source.

    Raise :class:`InputError` listing all problems. A table may come from a canonical file, from
    source extracts (``srelib.sources``), or both; their rows are checked together.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError([Problem(str(directory), None, None, "no such data directory")])
    tables, slo_files, problems = find_files(directory)
    line_items: dict[str, int] = {}
    extracts = [*extracts, *_vendor_files(tables)]
    problems += _read_twice(extracts)
    # A source whose options failed may name no table at all: its problems count all the same.
    problems += [p for e in extracts if e.table not in TABLES and e.table != "slos" for p in e.problems]
    if not tables and not slo_files and not extracts:
        expected = ", ".join(f"{name}.csv" for name in TABLES)
        problems.append(
            Problem(
                str(directory),
                None,
                None,
                f"no data found: expected any of {expected} (or .csv.gz, .parquet), slos.yaml, "
                "or sources in params/sources.yaml",
            )
        )
    slo_files += [f for e in extracts if e.table == "slos" for f in e.spec_files]
    slos = load_slo_files(slo_files, display_root=directory)
    problems += slos.problems
    problems += [p for e in extracts if e.table == "slos" for p in e.problems]
    con = staging_connection()
    staged: list[str] = []
    for name, schema in TABLES.items():
        frames: list[pd.DataFrame] = []
        vendor: dict[str, Extract] = {}
        has_text = False
        only_file = schema.heavy and name in tables and not any(e.table == name for e in extracts)
        if only_file and _stage_typed_parquet(con, schema, tables[name], slos):
            staged.append(name)
            continue
        if name in tables:
            file_problems = _stage_raw(con, schema, tables[name])
            problems += file_problems
            has_text = not file_problems
            if has_text and not schema.heavy:
                frames.append(_text_frame(con, schema))
        for extract in (e for e in extracts if e.table == name):
            problems += _capped_by_kind(extract.problems)
            if not extract.whole or not extract.records:
                continue
            if schema.heavy:
                _stage_extract_text(con, schema, extract, append=has_text)
                has_text = True
            else:
                frames.append(extract.canonical_frame(schema))
                vendor[extract.file] = extract
        if schema.heavy and has_text:
            problems += _check_heavy(con, schema, slos)
            staged.append(name)
        elif frames:
            frame = pd.concat(frames, ignore_index=True)
            problems += _check_light(con, schema, frame, vendor)
            staged.append(name)
            if schema.summed:
                line_items[name] = len(frame)
    if problems:
        con.close()
        raise InputError(problems)
    counts = {name: _scalar(con, f"SELECT count(*) FROM staged_{name}") for name in staged}
    sources = list(tables.values()) + slo_files + [e.path for e in extracts if e.path.is_file()]
    digests = [e.digest for e in extracts if e.digest]
    return Dataset(directory, con, staged, slos, counts, fingerprint(sources, digests), line_items)


def _vendor_files(tables: dict[str, Path]) -> list[Extract]:
    """Canonical files that are a vendor format (``costs``: FOCUS), read by that format's adapter
    (and taken out of ``tables``), so a cloud's export dropped into the data directory reads as delivered."""
    from srelib.sources import ADAPTERS

    extracts = []
    for name, path in list(tables.items()):
        reader = TABLES[name].reader
        if reader is not None:
            extracts.append(ADAPTERS[reader]().read(tables.pop(name), path.name))
    return extracts


def _read_twice(extracts: list[Extract]) -> list[Problem]:
    """Export files with the same content as another: a stale copy beside the new one, or one file
    given twice (in data/ and as a source), whose rows would otherwise count twice. Only files of
    the same size are hashed (the fingerprint reads every file anyway)."""
    files = [e for e in extracts if e.table != "slos" and e.path.is_file()]
    sizes = Counter(e.path.stat().st_size for e in files)
    seen: dict[str, str] = {}
    problems = []
    for extract in (e for e in files if sizes[e.path.stat().st_size] > 1):
        digest = hashlib.sha256()
        with extract.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        first = seen.setdefault(digest.hexdigest(), extract.file)
        if first != extract.file:
            message = f"the same content as {first}: one export read twice would count twice; remove one"
            problems.append(Problem(extract.file, None, None, message))
    return problems


def staging_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for validation and staging that spills to disk instead of growing.

    ``SRELIB_MEMORY_LIMIT`` (default 2GB) caps DuckDB's memory; larger work spills to a folder
    under the system's temporary directory, so a year of minute buckets ingests on a laptop.
    """
    spill = Path(tempfile.gettempdir()) / "srelib-duckdb"
    spill.mkdir(exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("SRELIB_MEMORY_LIMIT", "2GB"),
        "temp_directory": str(spill),
    }
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # no bar in logs or kernels' output
    return con


def fingerprint(paths: list[Path], extra: list[str] | None = None) -> str:
    """A content hash of the input files (and of data fetched from servers), recorded with every ingest and report."""
    digest = hashlib.sha256()
    for text in sorted(extra or []):
        digest.update(text.encode())
    for path in sorted(paths):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchall()
    return row[0][0] if row else None


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def _row_offset(path: Path) -> int:
    return 1 if _is_parquet(path) else 2


def _stage_raw(con: duckdb.DuckDBPyConnection, schema: FileSchema, path: Path) -> list[Problem]:
    """Read ``path`` as text into ``raw_<name>`` (in file order); report unreadable files and missing columns.

    A file with a header and no rows stages no rows: it is valid and means "nothing in it".
    """
    if reason := file_problem(path):
        return [Problem(path.name, None, None, reason)]
    kind = "Parquet" if _is_parquet(path) else "CSV"
    try:
        source = (
            parquet_as_text(con, path)
            if _is_parquet(path)
            else "SELECT * FROM read_csv(?, all_varchar = true, header = true, hive_partitioning = false)"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{schema.name} AS {source}", [str(path)])
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        return [Problem(path.name, None, None, f"cannot be read as {kind}: {first_line}")]
    present = {r[0] for r in con.execute(f"DESCRIBE raw_{schema.name}").fetchall()}
    missing = [c for c in schema.required if c not in present]
    problems = [Problem(path.name, None if _is_parquet(path) else 1, c, "required column is missing") for c in missing]
    if not problems:
        columns = ", ".join(
            f'"{c.name}"' if c.name in present else f'NULL::VARCHAR AS "{c.name}"' for c in schema.columns
        )
        # Keep file order: rowid follows insertion order, which DuckDB preserves for a scan.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE text_{schema.name} AS "
            f"SELECT ?::VARCHAR AS _file, rowid + {_row_offset(path)} AS _row, {columns} FROM raw_{schema.name}",
            [path.name],
        )
    con.execute(f"DROP TABLE IF EXISTS raw_{schema.name}")
    return problems


# ---- value checks, shared by the pandera (light) and SQL (heavy) paths ----------------------


def _parse_timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _is_timestamp(value: str) -> bool:
    return _parse_timestamp(value) is not None


def _has_offset(value: str) -> bool:
    parsed = _parse_timestamp(value)
    return parsed is None or parsed.tzinfo is not None


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value.strip())
        return True
    except ValueError:
        return False


def _is_count(value: str) -> bool:
    text = value.strip()
    return text.isdigit() or (text.endswith(".0") and text[:-2].isdigit())


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_bool(value: str) -> bool:
    return value.strip().lower() in _TRUE | _FALSE


def _json_object(value: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _is_json_object(value: str) -> bool:
    return _json_object(value) is not None


def _value_checks(column: Column) -> list[pa.Check]:
    checks: list[tuple[Callable[[str], bool], str]] = []
    if column.type == "timestamp":
        checks += [
            (_is_timestamp, "not an ISO 8601 timestamp"),
            (_has_offset, "timestamp has no UTC offset (write 2026-10-03T14:05:00Z or +02:00)"),
        ]
    elif column.type == "date":
        checks.append((_is_date, "not a date (YYYY-MM-DD)"))
    elif column.type == "count":
        checks.append((_is_count, "not a whole number ≥ 0"))
    elif column.type == "number":
        checks.append((_is_number, "not a number"))
        if column.minimum is not None:
            minimum = column.minimum
            checks.append((lambda v: not _is_number(v) or float(v) >= minimum, f"must be ≥ {minimum:g}"))
    elif column.type == "bool":
        checks.append((_is_bool, "not true or false"))
    elif column.type == "object":
        checks.append((_is_json_object, 'not a JSON object (write {"team": "payments"}, or leave it empty)'))
    if column.choices:
        allowed = set(column.choices)
        checks.append((lambda v: v in allowed, f"unknown value: expected one of {', '.join(column.choices)}"))
    return [pa.Check(fn, element_wise=True, error=msg, name=f"{column.name}:{msg}") for fn, msg in checks]


def _to_utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, format="ISO8601", utc=True, errors="coerce").dt.tz_convert(None)


def _pandera_schema(schema: FileSchema) -> tuple[pa.DataFrameSchema, dict[str, str]]:
    frame_checks = []
    check_columns: dict[str, str] = {}
    for order in schema.orderings:
        message = f"{order.later} is before {order.earlier}"

        def in_order(frame: pd.DataFrame, earlier: str = order.earlier, later: str = order.later) -> pd.Series:
            a, b = _to_utc(frame[earlier]), _to_utc(frame[later])
            return ~(a.notna() & b.notna() & (b < a))

        frame_checks.append(pa.Check(in_order, error=message))
        check_columns[message] = order.later
    single_key = schema.key[0] if len(schema.key) == 1 and not schema.summed else None
    columns = {
        c.name: pa.Column(
            None,
            nullable=not c.required,
            unique=c.name == single_key,
            report_duplicates="exclude_first",
            checks=_value_checks(c),
        )
        for c in schema.columns
    }
    unique = list(schema.key) if len(schema.key) > 1 and not schema.summed else None
    return pa.DataFrameSchema(
        columns, checks=frame_checks, unique=unique, report_duplicates="exclude_first"
    ), check_columns


def _message(check: str, column: str | None, value: Any, schema: FileSchema, orderings: set[str]) -> str:
    if check == "not_nullable":
        return "required value is empty"
    if check == "field_uniqueness":
        return f"duplicate {column} {value!r}: already on an earlier row"
    if check == "multiple_fields_uniqueness":
        return f"duplicate row for key ({', '.join(schema.key)}): already on an earlier row"
    if check in orderings:
        return check
    if check.startswith("unknown value"):
        return f"{check} (got {value!r})"
    return f"{check}: {value!r}"


def _text_frame(con: duckdb.DuckDBPyConnection, schema: FileSchema) -> pd.DataFrame:
    """A staged file's text as a frame with its origin: ``_file`` and ``_row`` as users see them."""
    frame = con.execute(f"SELECT * FROM text_{schema.name} ORDER BY _row").df()
    con.execute(f"DROP TABLE text_{schema.name}")
    frame["_row"] = frame["_row"].astype("int64")
    return frame


def _stage_extract_text(con: duckdb.DuckDBPyConnection, schema: FileSchema, extract: Extract, append: bool) -> None:
    """Add a source extract's rows to ``text_<name>``, the heavy path's text table, with their origin."""
    frame = extract.canonical_frame(schema)
    columns = ", ".join(f'"{c.name}"::VARCHAR AS "{c.name}"' for c in schema.columns)
    con.register("extract_frame", frame)
    verb = f"INSERT INTO text_{schema.name}" if append else f"CREATE OR REPLACE TEMP TABLE text_{schema.name} AS"
    con.execute(f"{verb} SELECT _file::VARCHAR AS _file, _row::BIGINT AS _row, {columns} FROM extract_frame")
    con.unregister("extract_frame")


def _check_light(
    con: duckdb.DuckDBPyConnection,
    schema: FileSchema,
    frame: pd.DataFrame,
    vendor: dict[str, Extract] | None = None,
) -> list[Problem]:
    """Check text rows with pandera and stage them typed as ``staged_<name>``.

    ``frame`` holds the canonical columns as text plus each row's origin (``_file``, ``_row``);
    ``vendor`` holds, per file, the source extract it came from, so a problem in a vendor export
    names the vendor's column (:meth:`~srelib.sources.base.Extract.vendor_column`).
    """
    frame = frame.reset_index(drop=True)
    files, rows = frame.pop("_file"), frame.pop("_row")
    for c in schema.columns:  # trim surrounding blanks; empty text counts as missing
        frame[c.name] = (
            frame[c.name]
            .astype("object")
            .map(
                lambda v: (
                    None if v is None or (isinstance(v, float) and pd.isna(v)) or not str(v).strip() else str(v).strip()
                )
            )
        )
    pandera_schema, check_columns = _pandera_schema(schema)
    found: dict[tuple[str, str | None, str], set[Problem]] = {}  # (file, column, check) → problems
    try:
        pandera_schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples(index=False):
            index = None if pd.isna(case.index) else int(case.index)
            file = files.iloc[index] if index is not None else str(files.iloc[0])
            row = None if index is None else int(rows.iloc[index])
            column = check_columns.get(str(case.check), case.column)
            source = (vendor or {}).get(file)
            shown = source.vendor_column(row, column) if source and column else column
            value = None if pd.isna(case.failure_case) else case.failure_case
            message = _message(str(case.check), column, value, schema, set(check_columns))
            found.setdefault((file, shown, str(case.check)), set()).add(Problem(file, row, shown, message))
    if found:
        return [
            p
            for (_, _, check), group in sorted(found.items())
            for p in _capped(group, _check_title(check, next(iter(group))))
        ]
    typed = _typed_frame(frame, schema)
    con.register("typed_frame", typed)
    columns = ", ".join(
        # Ordered: the same line items always add up to the same last digit, so re-ingesting changes nothing.
        f'sum("{c.name}" ORDER BY "{c.name}") AS "{c.name}"' if c.name in schema.summed else f'"{c.name}"'
        for c in schema.columns
    )
    group = " GROUP BY ALL" if schema.summed else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE staged_{schema.name} AS SELECT {columns} FROM (SELECT "
        + ", ".join(f'CAST("{c.name}" AS {c.sql_type}) AS "{c.name}"' for c in schema.columns)
        + f" FROM typed_frame){group}"
    )
    con.unregister("typed_frame")
    return []


def _capped(problems: Iterable[Problem], kind: str) -> list[Problem]:
    """The first rows with one kind of problem, then a count of the rest (as for heavy tables)."""
    ordered = sorted(problems, key=lambda p: (p.row or 0, p.message))
    if len(ordered) <= EXAMPLES_PER_CHECK:
        return ordered
    first = ordered[0]
    more = len(ordered) - EXAMPLES_PER_CHECK
    return [
        *ordered[:EXAMPLES_PER_CHECK],
        Problem(first.file, None, first.column, f"{kind}: {more} more rows like the ones above", more=True),
    ]


_SHOWN_VALUE = re.compile(r": (?:'.*'|\".*\")$")


def _capped_by_kind(problems: list[Problem]) -> list[Problem]:
    """An adapter's problems capped per (file, column, kind): the kind is the message without the
    value shown at its end (``not a number of seconds: 'abc'``)."""
    groups: dict[tuple[str, str | None, str], list[Problem]] = {}
    for problem in problems:
        kind = _SHOWN_VALUE.sub("", problem.message)
        groups.setdefault((problem.file, problem.column, kind), []).append(problem)
    return [p for (_, _, kind), group in groups.items() for p in _capped(group, kind)]


def _check_title(check: str, example: Problem) -> str:
    """A kind of problem without any row's own value: ``not a number`` for ``not a number: 'cheap'``."""
    if check == "not_nullable":
        return "required value is empty"
    if check in ("field_uniqueness", "multiple_fields_uniqueness"):
        return example.message.split(": already on")[0].split(" '")[0]
    return check


def _typed_frame(frame: pd.DataFrame, schema: FileSchema) -> pd.DataFrame:
    typed = pd.DataFrame(index=frame.index)
    for c in schema.columns:
        values = frame[c.name]
        if c.type == "timestamp":
            typed[c.name] = _to_utc(values)
        elif c.type == "date":
            typed[c.name] = pd.to_datetime(values, format="ISO8601", errors="coerce")
        elif c.type in ("count", "number"):
            typed[c.name] = pd.to_numeric(values, errors="coerce")
        elif c.type == "object":  # one spelling per object, so equal tags are equal keys
            typed[c.name] = values.map(
                lambda v: None if v is None or pd.isna(v) else json.dumps(_json_object(v), sort_keys=True),
                na_action=None,
            ).astype("object")
        elif c.type == "bool":
            typed[c.name] = values.map(
                lambda v: None if v is None or pd.isna(v) else v.lower() in _TRUE, na_action=None
            ).astype("boolean")
        else:
            typed[c.name] = values.astype("object").where(values.notna(), None)
    return typed


# ---- heavy tables: the same checks as SQL ----------------------------------------------------

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def _stage_typed_parquet(con: duckdb.DuckDBPyConnection, schema: FileSchema, path: Path, slos: SloCatalogue) -> bool:
    """The fast path for a typed SLI Parquet file: validate it in one scan and stage it as a view.

    When the file's columns already have the right types (``timestamp`` with time zone, ``slo``
    text, integer counts), every check is one aggregate over the file, and the staged table is a
    view that streams the file into the warehouse: the rows are never copied before the insert
    and never pass through pandas. Returns False when the file is not such a file or has any
    problem; the text path then lists each problem with its row.
    """
    assert schema is SLI
    if path.suffix != ".parquet" or file_problem(path):  # the text path reports what is wrong
        return False
    try:
        types = dict(
            con.execute(
                "SELECT column_name, column_type "
                "FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false))",
                [str(path)],
            ).fetchall()
        )
    except duckdb.Error:
        return False
    if (
        types.get("timestamp") != "TIMESTAMP WITH TIME ZONE"
        or types.get("slo") != "VARCHAR"
        or types.get("good") not in _INTEGER_TYPES
        or types.get("total") not in _INTEGER_TYPES
    ):
        return False
    # One scan: rows, rows with any problem, distinct keys (a duplicate key shows as fewer
    # distinct key hashes than rows; a hash collision only sends the file down the exact text
    # path) and the SLO names, checked against the specs here rather than per row.
    rows, bad, distinct_keys, names = con.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE "timestamp" IS NULL OR slo IS NULL OR good IS NULL OR total IS NULL
                                OR good < 0 OR total < 0 OR good > total),
               count(DISTINCT hash(slo, "timestamp")),
               list(DISTINCT slo)
        FROM read_parquet(?, hive_partitioning = false)
        """,
        [str(path)],
    ).fetchone() or (0, 0, 0, [])
    if rows == 0 or bad or distinct_keys != rows or not set(names) <= set(slos.by_name()):
        return False
    quoted = str(path).replace("'", "''")
    # epoch_us → naive UTC is plain arithmetic: no time-zone lookup per row.
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW staged_sli AS
        SELECT make_timestamp(epoch_us("timestamp")) AS "timestamp", slo,
               good::BIGINT AS good, total::BIGINT AS total
        FROM read_parquet('{quoted}', hive_partitioning = false)""")
    return True


def _sql_value_checks(column: Column) -> list[tuple[str, str]]:
    """(SQL condition that is TRUE for a bad non-null value, message) for one column."""
    v = f'trim("{column.name}")'
    if column.type == "timestamp":
        return [
            (f"TRY_CAST({v} AS TIMESTAMPTZ) IS NULL", "not an ISO 8601 timestamp"),
            (
                f"TRY_CAST({v} AS TIMESTAMPTZ) IS NOT NULL AND NOT regexp_matches({v}, '{_OFFSET_REGEX}')",
                "timestamp has no UTC offset (write 2026-10-03T14:05:00Z or +02:00)",
            ),
        ]
    if column.type == "count":
        return [(f"NOT regexp_full_match({v}, '\\d+(\\.0)?')", "not a whole number ≥ 0")]
    return []


def _check_heavy(con: duckdb.DuckDBPyConnection, schema: FileSchema, slos: SloCatalogue) -> list[Problem]:
    assert schema is SLI, "only the SLI table is validated in SQL"
    table = f"text_{schema.name}"
    checks: list[tuple[str | None, str, str, str]] = []  # (column, condition, message, value expr)
    for column in schema.columns:
        if column.required:
            checks.append(
                (
                    column.name,
                    f'"{column.name}" IS NULL OR trim("{column.name}") = \'\'',
                    "required value is empty",
                    "NULL",
                )
            )
        for condition, message in _sql_value_checks(column):
            checks.append((column.name, f'"{column.name}" IS NOT NULL AND ({condition})', message, f'"{column.name}"'))
    problems = _run_sql_checks(con, table, checks)
    if problems:
        return problems
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_sli AS
        SELECT _file, _row, timezone('UTC', CAST(trim("timestamp") AS TIMESTAMPTZ)) AS "timestamp",
               trim(slo) AS slo, CAST(CAST(trim(good) AS DOUBLE) AS BIGINT) AS good,
               CAST(CAST(trim(total) AS DOUBLE) AS BIGINT) AS total
        FROM {table}""")
    con.execute(f"DROP TABLE {table}")
    known = sorted(slos.by_name())
    con.execute("CREATE OR REPLACE TEMP TABLE known_slos (name VARCHAR)")
    if known:
        con.executemany("INSERT INTO known_slos VALUES (?)", [[n] for n in known])
    later_checks: list[tuple[str | None, str, str, str]] = [
        ("good", "good > total", "good is greater than total", "good::VARCHAR || ' > ' || total::VARCHAR"),
        ("slo", "slo NOT IN (SELECT name FROM known_slos)", "unknown SLO: not defined in the SLO specs", "slo"),
        (
            "timestamp",
            'count(*) OVER (PARTITION BY slo, "timestamp" ORDER BY _file, _row ROWS UNBOUNDED PRECEDING) > 1',
            "duplicate bucket for this slo and timestamp: already on an earlier row",
            "slo",
        ),
    ]
    problems = _run_sql_checks(con, "staged_sli", later_checks, window=True)
    con.execute("ALTER TABLE staged_sli DROP COLUMN _row")
    con.execute("ALTER TABLE staged_sli DROP COLUMN _file")
    return problems


def _run_sql_checks(
    con: duckdb.DuckDBPyConnection,
    table: str,
    checks: list[tuple[str | None, str, str, str]],
    window: bool = False,
) -> list[Problem]:
    """Run each (column, condition, message, value) check over ``table``'s rows (which carry ``_file`` and ``_row``)."""
    problems: list[Problem] = []
    for column, condition, message, value in checks:
        if window:
            source = f"SELECT _file, _row, {value} AS v, ({condition}) AS bad FROM {table}"
            where = "bad"
        else:
            source, where = f"SELECT _file, _row, {value} AS v FROM {table} WHERE {condition}", "true"
        rows = con.execute(
            f"SELECT _file, _row, v, count(*) OVER (PARTITION BY _file) FROM ({source}) WHERE {where} "
            "QUALIFY row_number() OVER (PARTITION BY _file ORDER BY _row) <= ? ORDER BY _file, _row",
            [EXAMPLES_PER_CHECK],
        ).fetchall()
        totals: dict[str, int] = {}
        for file, row, v, total in rows:
            shown = "" if v is None or message.startswith(("duplicate", "required")) else f": {v!r}"
            problems.append(Problem(file, int(row), column, f"{message}{shown}"))
            totals[file] = total
        for file, total in totals.items():
            if total > EXAMPLES_PER_CHECK:
                more = total - EXAMPLES_PER_CHECK
                problems.append(
                    Problem(file, None, column, f"{message}: {more} more rows like the ones above", more=True)
                )
    return problems
