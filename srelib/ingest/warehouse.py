"""The embedded DuckDB warehouse: one file, one table per canonical input, loaded in one transaction.

Re-ingesting a row with the same key replaces it (``incident_id``; ``(slo, timestamp)``;
``deploy_id``; ...), so ingesting the same data twice leaves the warehouse as after the
first time. Cost rows are replaced by what an export covers (per account, its charge periods'
range): see ``FileSchema.replaced_by``. Timestamps are stored as naive UTC; periods convert
their boundaries to UTC.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from srelib import __version__
from srelib.errors import UsageError
from srelib.ingest import corrections, rollups
from srelib.ingest.schemas import TABLES
from srelib.ingest.specs import SloSpec

if TYPE_CHECKING:  # reading the warehouse needs none of validation's sources
    from srelib.ingest.validate import Dataset

SCHEMA_VERSION = 1
DELETE_CHUNK_ROWS = 10_000_000  # staged rows a re-ingest's DELETE matches at once (see _delete_matching)

SLO_COLUMNS = (
    ("name", "VARCHAR"),
    ("service", "VARCHAR"),
    ("team", "VARCHAR"),
    ("display_name", "VARCHAR"),
    ("description", "VARCHAR"),
    ("target", "DOUBLE"),
    ("budgeting_method", "VARCHAR"),
    ("window_duration", "VARCHAR"),
    ("window_rolling", "BOOLEAN"),
    ("window_minutes", "DOUBLE"),
    ("time_slice_target", "DOUBLE"),
    ("time_slice_seconds", "INTEGER"),
    ("indicator_kind", "VARCHAR"),
    ("source", "VARCHAR"),
    ("spec", "JSON"),
)


def ddl(catalog: str) -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS {catalog}.{s.name} ("
        + ", ".join(f'"{c.name}" {c.sql_type}' for c in s.columns)
        + ")"
        for s in TABLES.values()
    ]
    # A warehouse made by an earlier srelib gains the columns added to a table since (all optional).
    statements += [
        f'ALTER TABLE {catalog}.{s.name} ADD COLUMN IF NOT EXISTS "{c.name}" {c.sql_type}'
        for s in TABLES.values()
        for c in s.columns
    ]
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {catalog}.slos (" + ", ".join(f"{n} {t}" for n, t in SLO_COLUMNS) + ")"
    )
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {catalog}.ingests (ingested_at TIMESTAMP, "
        "data_dir VARCHAR, fingerprint VARCHAR, row_counts JSON, srelib_version VARCHAR)"
    )
    statements.append(f"CREATE TABLE IF NOT EXISTS {catalog}.meta (key VARCHAR, value VARCHAR)")
    return statements


def _slo_row(slo: SloSpec) -> list[object]:
    return [
        slo.name,
        slo.service,
        slo.team,
        slo.display_name,
        slo.description,
        slo.target,
        slo.budgeting_method,
        slo.time_window.duration,
        slo.time_window.is_rolling,
        slo.time_window.minutes,
        slo.time_slice_target,
        slo.time_slice_seconds,
        slo.indicator_kind,
        slo.source,
        json.dumps(asdict(slo), default=str),
    ]


LOCK_WAIT_SECONDS = 120.0


def _attach_for_writing(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Attach ``target`` read-write. Readers (report runs, dashboards) hold the file only while
    they compute, so a writer that finds it in use waits for a gap, up to ``SRELIB_LOCK_WAIT``
    seconds (default 120), before giving up with a clear message."""
    setting = os.environ.get("SRELIB_LOCK_WAIT", str(LOCK_WAIT_SECONDS))
    try:
        wait = float(setting)
    except ValueError:
        raise UsageError(f"SRELIB_LOCK_WAIT must be a number of seconds, not {setting!r}") from None
    deadline = time.monotonic() + wait
    while True:
        try:
            con.execute("ATTACH ? AS wh", [str(target)])
            return
        except duckdb.Error as exc:  # locked by another process, not a DuckDB file, no permission...
            first = str(exc).splitlines()[0]
            if "lock" not in first.lower() or time.monotonic() >= deadline:
                waited = f" (waited {wait:g} s for readers to finish)" if "lock" in first.lower() else ""
                raise UsageError(f"cannot open warehouse {target} for writing{waited}: {first}") from exc
            time.sleep(0.1)


def load(dataset: Dataset, target: Path | None, timezone: str = "UTC") -> dict[str, int]:
    """Load a validated dataset into the warehouse file ``target`` (None: into ``dataset.con``'s memory).

    Everything happens in one transaction: either all tables are updated or none is. The SLO
    corrections' windows are rebuilt in it, repeated in ``timezone`` (the org's; see
    :mod:`srelib.ingest.corrections`), and the SLI roll-ups brought up to date
    (:mod:`srelib.ingest.rollups`).
    """
    con = dataset.con
    catalog = "memory"
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        _attach_for_writing(con, target)
        catalog = "wh"
    try:
        con.execute("BEGIN TRANSACTION")
        for statement in ddl(catalog):
            con.execute(statement)
        for name in dataset.tables:
            schema = TABLES[name]
            table, staged = f"{catalog}.{name}", f"staged_{name}"
            if schema.replaced_by:
                _delete_covered(con, table, staged, *schema.replaced_by)
            elif schema.key:
                _delete_matching(con, table, staged, schema.key, schema.identity)
            columns = ", ".join(f'"{c.name}"' for c in schema.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}")
        slo_rows = [_slo_row(s) for s in dataset.slos.slos]
        if slo_rows:
            con.execute(f"DELETE FROM {catalog}.slos WHERE name IN (SELECT unnest(?))", [[r[0] for r in slo_rows]])
            con.executemany(f"INSERT INTO {catalog}.slos VALUES ({', '.join('?' * len(SLO_COLUMNS))})", slo_rows)
        rollups.snapshot_corrected(con, catalog)
        corrections.expand(con, catalog, timezone)
        rollups.refresh(con, catalog, "staged_sli" if "sli" in dataset.tables else None)
        counts = {**dataset.row_counts, "slos": len(slo_rows)}
        con.execute(f"DELETE FROM {catalog}.meta WHERE key = 'schema_version'")
        con.execute(f"INSERT INTO {catalog}.meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        con.execute(
            f"INSERT INTO {catalog}.ingests VALUES (?, ?, ?, ?, ?)",
            [
                datetime.now(UTC).replace(tzinfo=None),
                str(dataset.directory.resolve()),
                dataset.fingerprint,
                json.dumps(counts),
                __version__,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        if target is not None:
            con.execute("DETACH wh")
    return counts


def _delete_covered(con: duckdb.DuckDBPyConnection, table: str, staged: str, group: str, time: str) -> None:
    """Delete the rows of ``table`` that the staged rows cover: per ``group`` value (a cloud account),
    every row whose ``time`` lies within that group's staged time range. A cost export restated
    with other tags, or without a service, replaces the earlier one whole; other accounts and
    other periods are untouched."""
    con.execute(f"""
        DELETE FROM {table} t WHERE EXISTS (
            SELECT 1 FROM (SELECT "{group}" AS grp, min("{time}") AS lo, max("{time}") AS hi
                           FROM {staged} GROUP BY ALL) s
            WHERE t."{group}" IS NOT DISTINCT FROM s.grp AND t."{time}" BETWEEN s.lo AND s.hi)""")


def _delete_matching(
    con: duckdb.DuckDBPyConnection, table: str, staged: str, key: tuple[str, ...], identity: str | None = None
) -> None:
    """Delete the rows of ``table`` whose key is in ``staged``: re-ingesting replaces, never duplicates.
    With an ``identity`` column (FileSchema.identity), rows that both give it match on it alone.

    Tables keyed by time (SLI buckets) are first narrowed to the staged time range, so appending
    a new month to a year of buckets does not compare it with the whole year.
    """
    match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in key)
    if identity is not None:
        given = f't."{identity}" IS NOT NULL AND s."{identity}" IS NOT NULL'
        match = f'CASE WHEN {given} THEN t."{identity}" = s."{identity}" ELSE {match} END'

    if "timestamp" in key:
        span = f'SELECT min("timestamp"), max("timestamp"), count(*) FROM {staged}'
        low, high, rows = con.execute(span).fetchall()[0]
        if low is None:
            return
        overlap = f'{table} t WHERE t."timestamp" BETWEEN ? AND ?'
        if not con.execute(f"SELECT count(*) FROM {overlap}", [low, high]).fetchall()[0][0]:
            return
        # In stretches of time of at most DELETE_CHUNK_ROWS staged rows each (if spread evenly):
        # the staged rows a DELETE matches against are held in memory, and a year of minute
        # buckets restated whole (105M rows) is more than the ingest's memory limit.
        chunks = max(1, -(-rows // DELETE_CHUNK_ROWS))
        step = (high - low) / chunks
        for i in range(chunks):
            start, end = low + step * i, high if i == chunks - 1 else low + step * (i + 1)
            last = i == chunks - 1  # its stretch includes its end; the others stop just before it
            within = '"timestamp" >= ? AND ' + ('"timestamp" <= ?' if last else '"timestamp" < ?')
            con.execute(
                f"DELETE FROM {table} t WHERE t.{within} "
                f"AND EXISTS (SELECT 1 FROM {staged} s WHERE s.{within} AND {match})",
                [start, end, start, end],
            )
    elif con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {staged} s WHERE {match})")


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing warehouse file."""
    if not path.is_file():
        raise UsageError(f"no warehouse at {path}: run `srelib ingest` (or `srelib demo`) first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise UsageError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from exc
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # no bar in kernels, logs or a dashboard's output
    return con


def latest_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The input fingerprint of the warehouse's latest ingest (None: nothing ingested yet)."""
    row = con.execute("SELECT fingerprint FROM ingests ORDER BY ingested_at DESC LIMIT 1").fetchall()
    return row[0][0] if row else None


def in_memory(dataset: Dataset, timezone: str = "UTC") -> duckdb.DuckDBPyConnection:
    """Load a validated dataset into its own in-memory connection (``--data DIR``) and return it."""
    load(dataset, None, timezone)
    return dataset.con
