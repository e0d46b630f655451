"""Validation of a data directory: every problem in every file, before anything is written.

Every table is read by DuckDB as text and checked against one table of rules
(:mod:`srelib.ingest.rules`), by one of two backends: light tables (incidents, deployments, ...)
in pandas, then converted to typed frames; heavy tables (SLI buckets) in DuckDB's SQL, so they
never pass through pandas. Both backends report a broken rule with the same words. Either
way the result is a :class:`Dataset` whose typed tables sit in an in-memory DuckDB connection,
ready for :func:`srelib.ingest.warehouse.load`.

Row numbers are CSV line numbers (the header is line 1) or 1-based Parquet row numbers.
No file is required and a file with a header and no rows is valid: it means "nothing in it".
For every table, the first rows of each kind of problem are listed, then a count of the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from srelib.config import Activities
from srelib.errors import InputError, Problem
from srelib.files import file_problem
from srelib.ingest import corrections
from srelib.ingest.rules import RRULE_SQL_FUNCTION, TRUE, Rule, is_rrule, json_object, rules, to_utc
from srelib.ingest.schemas import SLI, TABLES, Column, FileSchema, configured_tables
from srelib.ingest.sources.base import Extract, parquet_as_text
from srelib.ingest.specs import SloCatalogue, data_dir_spec_files, load_slo_files

EXTENSIONS = (".csv", ".csv.gz", ".parquet")
EXAMPLES_PER_CHECK = 20  # rows listed per (file, column, kind of problem), then a count of the rest


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


def validate_directory(
    directory: Path, extracts: list[Extract] | tuple[Extract, ...] = (), activities: Activities | None = None
) -> Dataset:
    """Validate every canonical file in ``directory`` and every extract from a vendor source.

    Raise :class:`InputError` listing all problems. A table may come from a canonical file, from
    source extracts (``srelib.ingest.sources``), or both; their rows are checked together.
    ``activities``: the workbench's ``params/activities.yaml``, whose kinds an ``engagement`` row
    may name (default: the seed strategy's kinds).
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
    slo_names = frozenset(slos.by_name())
    con = staging_connection()
    staged: list[str] = []
    for name, schema in configured_tables(activities).items():
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
                stage_text(con, schema, extract.canonical_frame(schema), append=has_text)
                has_text = True
            else:
                frames.append(extract.canonical_frame(schema))
                vendor[extract.file] = extract
        if schema.heavy and has_text:
            problems += check_with_sql(con, schema, slo_names)
            staged.append(name)
        elif frames:
            frame = pd.concat(frames, ignore_index=True)
            problems += check_with_pandas(con, schema, frame, vendor, slo_names)
            if name in ("corrections", "annotations"):  # both name an SLO, or a service with SLOs
                problems += corrections.unknown_services(frame, slos)
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
    from srelib.ingest.sources import ADAPTERS

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
    # The SQL backend checks a recurrence rule with the pandas backend's own function.
    con.create_function(RRULE_SQL_FUNCTION, lambda v: not is_rrule(v), ["VARCHAR"], "BOOLEAN")  # type: ignore[list-item]
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


def _text_frame(con: duckdb.DuckDBPyConnection, schema: FileSchema) -> pd.DataFrame:
    """A staged file's text as a frame with its origin: ``_file`` and ``_row`` as users see them."""
    frame = con.execute(f"SELECT * FROM text_{schema.name} ORDER BY _row").df()
    con.execute(f"DROP TABLE text_{schema.name}")
    frame["_row"] = frame["_row"].astype("int64")
    return frame


def stage_text(con: duckdb.DuckDBPyConnection, schema: FileSchema, frame: pd.DataFrame, append: bool) -> None:
    """Add text rows with their origin (``_file``, ``_row``) to ``text_<name>``, the SQL backend's text table."""
    columns = ", ".join(f'"{c.name}"::VARCHAR AS "{c.name}"' for c in schema.columns)
    con.register("extract_frame", frame)
    verb = f"INSERT INTO text_{schema.name}" if append else f"CREATE OR REPLACE TEMP TABLE text_{schema.name} AS"
    con.execute(f"{verb} SELECT _file::VARCHAR AS _file, _row::BIGINT AS _row, {columns} FROM extract_frame")
    con.unregister("extract_frame")


def check_with_pandas(
    con: duckdb.DuckDBPyConnection,
    schema: FileSchema,
    frame: pd.DataFrame,
    vendor: dict[str, Extract] | None = None,
    slos: frozenset[str] = frozenset(),
) -> list[Problem]:
    """The pandas backend: check text rows against :func:`~srelib.ingest.rules.rules` and stage them
    typed as ``staged_<name>``.

    ``frame`` holds the canonical columns as text plus each row's origin (``_file``, ``_row``);
    ``vendor`` holds, per file, the source extract it came from, so a problem in a vendor export
    names the vendor's column (:meth:`~srelib.ingest.sources.base.Extract.vendor_column`);
    ``slos`` are the names of the SLOs in the specs.
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
        if c.aliases:  # an alias reads as the value it names (`pairing` is a cross_team_pairing)
            frame[c.name] = frame[c.name].replace(dict(c.aliases))
    found: dict[tuple[str, str, str], list[Problem]] = {}  # (file, column shown, kind) → problems
    for rule in rules(schema):
        bad = rule.bad(frame, slos)
        if not bad.any():
            continue
        broken = frame[bad]
        values = rule.shown(broken) if rule.shown else broken[rule.column]
        for index, value in values.items():
            file, row = str(files.iloc[index]), int(rows.iloc[index])
            source = (vendor or {}).get(file)
            shown = source.vendor_column(row, rule.column) if source else rule.column
            found.setdefault((file, shown, rule.kind), []).append(Problem(file, row, shown, rule.text(value)))
    if found:
        return [p for (_, _, kind), group in sorted(found.items()) for p in _capped(group, kind)]
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


def _capped(problems: Iterable[Problem], kind: str, total: int | None = None) -> list[Problem]:
    """The first rows with one kind of problem, then a count of the rest (of ``total``, when only
    the first rows were fetched)."""
    ordered = sorted(problems, key=lambda p: (p.row or 0, p.message))
    total = len(ordered) if total is None else total
    if total <= EXAMPLES_PER_CHECK:
        return ordered[:EXAMPLES_PER_CHECK]
    first = ordered[0]
    more = total - EXAMPLES_PER_CHECK
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


def _typed_frame(frame: pd.DataFrame, schema: FileSchema) -> pd.DataFrame:
    typed = pd.DataFrame(index=frame.index)
    for c in schema.columns:
        values = frame[c.name]
        if c.type == "timestamp":
            typed[c.name] = to_utc(values)
        elif c.type == "date":
            typed[c.name] = pd.to_datetime(values, format="ISO8601", errors="coerce")
        elif c.type in ("count", "number"):
            typed[c.name] = pd.to_numeric(values, errors="coerce")
        elif c.type == "object":  # one spelling per object, so equal tags are equal keys
            typed[c.name] = values.map(
                lambda v: None if v is None or pd.isna(v) else json.dumps(json_object(v), sort_keys=True),
                na_action=None,
            ).astype("object")
        elif c.type == "bool":
            typed[c.name] = values.map(
                lambda v: None if v is None or pd.isna(v) else v.lower() in TRUE, na_action=None
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
    # One scan: rows, rows with any problem, the SLO names (checked against the specs here rather
    # than per row) and the distinct keys. Buckets on whole minutes (nearly every export) are
    # counted exactly with a bitmap of the day's minutes per SLO and day, a few MB for a year of
    # 200 SLOs; otherwise by a hash of each key, which needs a hash table of every row (5 s of
    # the 6 s scan of 105M rows), and where a hash collision only sends the file down the exact
    # text path. A duplicate key shows as fewer distinct keys than rows.
    per_day = 'epoch_us("timestamp") // 86400000000'
    rows, bad, off_grid, minutes, names = con.execute(
        f"""
        SELECT sum(n), sum(bad), sum(off_grid), sum(minutes), list(DISTINCT slo)
        FROM (
            SELECT slo, count(*) AS n,
                   count(*) FILTER (WHERE "timestamp" IS NULL OR slo IS NULL OR good IS NULL OR total IS NULL
                                    OR good < 0 OR total < 0 OR good > total) AS bad,
                   count(*) FILTER (WHERE epoch_us("timestamp") % 60000000 <> 0 OR epoch_us("timestamp") < 0)
                       AS off_grid,
                   bit_count(bitstring_agg(
                       CASE WHEN epoch_us("timestamp") >= 0
                            THEN (epoch_us("timestamp") % 86400000000 // 60000000)::INTEGER END, 0, 1439))
                       AS minutes
            FROM read_parquet(?, hive_partitioning = false)
            GROUP BY slo, {per_day})
        """,
        [str(path)],
    ).fetchone() or (0, 0, 0, 0, [])
    if not rows or bad or not set(names) <= set(slos.by_name()):
        return False
    if off_grid:
        minutes = con.execute(
            'SELECT count(DISTINCT hash(slo, "timestamp")) FROM read_parquet(?, hive_partitioning = false)',
            [str(path)],
        ).fetchall()[0][0]
    if minutes != rows:
        return False
    quoted = str(path).replace("'", "''")
    # epoch_us → naive UTC is plain arithmetic: no time-zone lookup per row.
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW staged_sli AS
        SELECT make_timestamp(epoch_us("timestamp")) AS "timestamp", slo,
               good::BIGINT AS good, total::BIGINT AS total
        FROM read_parquet('{quoted}', hive_partitioning = false)""")
    return True


_SQL_CASTS = {
    "timestamp": "timezone('UTC', CAST({v} AS TIMESTAMPTZ))",
    "date": "CAST({v} AS DATE)",
    "count": "CAST(CAST({v} AS DOUBLE) AS BIGINT)",
    "number": "CAST({v} AS DOUBLE)",
    "bool": f"lower({{v}}) IN ({', '.join(repr(t) for t in TRUE)})",
    "text": "{v}",
    "object": "{v}",  # as written: heavy tables hold no objects
    "rrule": "{v}",
}


def check_with_sql(con: duckdb.DuckDBPyConnection, schema: FileSchema, slos: frozenset[str]) -> list[Problem]:
    """The SQL backend: check ``text_<name>`` against :func:`~srelib.ingest.rules.rules` in DuckDB and
    stage it typed as ``staged_<name>``; the rows never pass through pandas.

    The rules on values run on the text; the rules ``after_cast`` on the typed table, once every
    value has its type (so a table with bad values lists those only).
    """
    text, table = f"text_{schema.name}", f"staged_{schema.name}"
    names = [f'"{c.name}"' for c in schema.columns]
    trimmed = ", ".join(
        _aliased(c, f"NULLIF(trim({n}), '')") + f" AS {n}" for c, n in zip(schema.columns, names, strict=True)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {text} AS SELECT _file, _row, {trimmed} FROM {text}")
    checks = rules(schema)
    problems = _run_sql_rules(con, text, [r for r in checks if not r.after_cast])
    if problems:
        con.execute(f"DROP TABLE {text}")
        return problems
    casts = [_SQL_CASTS[c.type].replace("{v}", n) for c, n in zip(schema.columns, names, strict=True)]
    typed = ", ".join(f"{cast} AS {n}" for cast, n in zip(casts, names, strict=True))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT _file, _row, {typed} FROM {text}")
    con.execute(f"DROP TABLE {text}")
    con.execute("CREATE OR REPLACE TEMP TABLE known_slos (name VARCHAR)")
    if slos:
        con.executemany("INSERT INTO known_slos VALUES (?)", [[n] for n in sorted(slos)])
    problems = _run_sql_rules(con, table, [r for r in checks if r.after_cast])
    con.execute(f"ALTER TABLE {table} DROP COLUMN _row")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _file")
    return problems


def _aliased(column: Column, value: str) -> str:
    """SQL: ``value`` with each of the column's aliases read as the value it names."""
    if not column.aliases:
        return value
    cases = " ".join(
        "WHEN '{}' THEN '{}'".format(alias.replace("'", "''"), name.replace("'", "''"))
        for alias, name in column.aliases
    )
    return f"CASE {value} {cases} ELSE {value} END"


def _run_sql_rules(con: duckdb.DuckDBPyConnection, table: str, checks: list[Rule]) -> list[Problem]:
    """The first rows that break each rule in ``table`` (whose rows carry ``_file`` and ``_row``), per file,
    then a count of the rest."""
    problems: list[Problem] = []
    for rule in checks:
        shown = rule.shown_sql or f'"{rule.column}"'
        rows = con.execute(
            f"SELECT _file, _row, v, count(*) OVER (PARTITION BY _file) FROM "
            f"(SELECT _file, _row, {shown} AS v, ({rule.sql}) AS bad FROM {table}) WHERE bad "
            "QUALIFY row_number() OVER (PARTITION BY _file ORDER BY _row) <= ? ORDER BY _file, _row",
            [EXAMPLES_PER_CHECK],
        ).fetchall()
        found: dict[str, list[Problem]] = {}
        totals: dict[str, int] = {}
        for file, row, value, total in rows:
            found.setdefault(file, []).append(Problem(file, int(row), rule.column, rule.text(value)))
            totals[file] = total
        problems += [p for file, group in found.items() for p in _capped(group, rule.kind, totals[file])]
    return problems
