"""SLI roll-ups kept at ingest (issue 19): what the SLO figures read instead of the raw buckets.

The raw ``sli`` table holds a bucket per SLO and minute (105M rows for 200 SLOs over a year);
no figure needs that grain. ``sli_rollup`` holds one row per SLO and 15-minute block of UTC
(``"timestamp"``: the block's start), summed over the SLO's buckets that *start* in the block
and are not taken out by a correction (:mod:`srelib.ingest.corrections`: corrected buckets
are left out before rolling up, so every figure read from the roll-up is corrected):

- ``good``, ``total``, ``buckets``: the sums of good and total events and the number of buckets;
- for a time-sliced SLO (Timeslices, RatioTimeslices) whose slice divides 15 minutes (1, 3, 5,
  15 minutes...): ``slices`` (slices with traffic), ``good_slices`` (good ÷ total ≥ the SLO's
  ``time_slice_target``) and ``ratio_sum`` (Σ good ÷ total, DECIMAL(38, 12) as the raw path
  sums it), with the ``slice_seconds`` and ``slice_target`` they were computed with. A slice
  that divides 15 minutes never straddles a block, so these add up exactly over any blocks.

**Exact by construction.** Every real UTC offset is a whole number of quarter hours (+05:30,
+05:45 and summer time included), so every period, rolling window and local day starts and
ends on a block boundary, and a sum over blocks is the sum over the buckets: the same integers
and the same exact decimals, whatever the grouping. A reader checks that its span is aligned
(:func:`aligned`) and that the warehouse has current roll-ups (:func:`available`), and otherwise
reads the raw buckets; so does a time-sliced SLO whose slice does not divide 15 minutes.

**Kept at ingest, in the ingest's transaction** (:func:`refresh`): the blocks of the staged SLI
buckets, the blocks whose corrected buckets changed (a correction added, changed or removed, or
a repeating window's new occurrences) and every block of an SLO whose slice or slice target
changed are summed again from the raw table; a warehouse without current roll-ups (made by an
earlier srelib) gets all of them. The org's time zone plays no part (blocks are UTC), so a change
of time zone needs no rebuild, and a change of definitions is found by the ingest that brings it.

**The 5-minute grid** (``sli_grid``): good and total per SLO and 5-minute block of UTC, the
corrected buckets left out the same way, kept by the same ingest over the same blocks. It is
what the burn rates and multiwindow alerts read (their windows and 5-minute evaluation steps
are whole 5-minute blocks), and the middle of each incident's span when the error budget policy
measures the budget an incident consumed (the minutes before its first whole block and after
its last come from the buckets).

The data quality figures (coverage counts every bucket, corrected or not, and finds gaps
between buckets) read the buckets.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from srelib.ingest.corrections import BUCKETS_TABLE
from srelib.ingest.sql import slice_sums_sql, time_slice_sql

ROLLUP = "sli_rollup"
BLOCK_SECONDS = 900
VERSION = "2"  # meta key 'sli_rollup': a warehouse whose roll-ups are of another version is rebuilt
GRID = "sli_grid"
GRID_SECONDS = 300
GRID_COLUMNS = (("slo", "VARCHAR"), ("timestamp", "TIMESTAMP"), ("good", "HUGEINT"), ("total", "HUGEINT"))
COLUMNS = (
    ("slo", "VARCHAR"),
    ("timestamp", "TIMESTAMP"),
    ("good", "HUGEINT"),
    ("total", "HUGEINT"),
    ("buckets", "BIGINT"),
    ("slice_seconds", "INTEGER"),
    ("slice_target", "DOUBLE"),
    ("slices", "BIGINT"),
    ("good_slices", "BIGINT"),
    ("ratio_sum", "DECIMAL(38, 12)"),
)
_EPOCH = datetime(1970, 1, 1)


def sliced_in_blocks(seconds: int | None) -> bool:
    """Whether a time slice of ``seconds`` lies within one 15-minute block (it divides 15 minutes)."""
    return seconds is not None and 0 < seconds <= BLOCK_SECONDS and BLOCK_SECONDS % seconds == 0


def aligned(*moments: datetime, seconds: int = BLOCK_SECONDS) -> bool:
    """Whether every one of ``moments`` (naive UTC) is the start of a block of ``seconds`` (by
    default a 15-minute block of the roll-up; :data:`GRID_SECONDS` for the 5-minute grid)."""
    return all((m - _EPOCH).total_seconds() % seconds == 0 for m in moments)


def available(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has roll-ups of this version (an earlier srelib's has none until it is
    ingested again)."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = ?", [ROLLUP]).fetchall()
    except duckdb.CatalogException:
        return False
    return bool(row) and row[0][0] == VERSION


def snapshot_corrected(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Keep the corrected buckets as they were before the ingest re-expands the corrections, so
    :func:`refresh` sums again exactly the blocks whose corrections changed."""
    con.execute('CREATE OR REPLACE TEMP TABLE rollup_corrected_before (slo VARCHAR, "timestamp" TIMESTAMP)')
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?", [catalog, BUCKETS_TABLE]
    ).fetchall()[0][0]
    if exists:
        con.execute(f'INSERT INTO rollup_corrected_before SELECT slo, "timestamp" FROM {catalog}.{BUCKETS_TABLE}')


def refresh(con: duckdb.DuckDBPyConnection, catalog: str, staged_sli: str | None, rebuild: bool = False) -> None:
    """Bring ``{catalog}.sli_rollup`` up to date after the ingest's rows and corrections are in
    (see the module's docstring); ``staged_sli``: the staged SLI table of this ingest, if any."""
    table, grid = f"{catalog}.{ROLLUP}", f"{catalog}.{GRID}"
    for name, columns in ((table, COLUMNS), (grid, GRID_COLUMNS)):
        listed = ", ".join(f'"{column}" {sql_type}' for column, sql_type in columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({listed})")
    current = con.execute(f"SELECT value FROM {catalog}.meta WHERE key = ?", [ROLLUP]).fetchall()
    if rebuild or not current or current[0][0] != VERSION:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"DELETE FROM {grid}")
        _insert(con, catalog, "true", [])
        con.execute(f"DELETE FROM {catalog}.meta WHERE key = ?", [ROLLUP])
        con.execute(f"INSERT INTO {catalog}.meta VALUES (?, ?)", [ROLLUP, VERSION])
        return
    # SLOs whose time slices changed since their blocks were summed: all their blocks again
    # (their grid, which has no slices, stays).
    redefined = [
        name
        for (name,) in con.execute(f"""
            SELECT DISTINCT r.slo FROM {table} r JOIN {catalog}.slos d ON d.name = r.slo
            WHERE r.slice_seconds IS DISTINCT FROM {_slice_seconds("d")}
               OR r.slice_target IS DISTINCT FROM {_slice_target("d")}""").fetchall()
    ]
    if redefined:
        con.execute(f"DELETE FROM {table} WHERE list_contains(?::VARCHAR[], slo)", [redefined])
        _insert(con, catalog, "list_contains(?::VARCHAR[], s.slo)", [redefined], grid=False)
    block = f'time_bucket(INTERVAL {BLOCK_SECONDS} SECOND, "timestamp")'
    # The staged buckets' SLOs, over the blocks from the staged buckets' first to their last:
    # two range-filtered statements (summing a block again from the buckets is always right).
    slos, low, high = [], None, None
    if staged_sli is not None:
        slos, low, high = con.execute(
            f"SELECT list(DISTINCT slo), min({block}), max({block}) FROM {staged_sli} "
            "WHERE NOT list_contains(?::VARCHAR[], slo)",
            [redefined],
        ).fetchall()[0]
    if low is not None:
        con.execute(
            f'DELETE FROM {table} WHERE list_contains(?::VARCHAR[], slo) AND "timestamp" BETWEEN ? AND ?',
            [slos, low, high],
        )
        con.execute(
            f"""DELETE FROM {grid} WHERE list_contains(?::VARCHAR[], slo)
                AND "timestamp" >= ? AND "timestamp" < ? + INTERVAL {BLOCK_SECONDS} SECOND""",
            [slos, low, high],
        )
        _insert(
            con,
            catalog,
            f"""list_contains(?::VARCHAR[], s.slo)
                AND s."timestamp" >= ? AND s."timestamp" < ? + INTERVAL {BLOCK_SECONDS} SECOND""",
            [slos, low, high],
        )
    # The blocks whose corrected buckets changed, other than those just summed.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE rollup_affected AS
            SELECT DISTINCT slo, {block} AS block FROM (
                (SELECT slo, "timestamp" FROM rollup_corrected_before
                 EXCEPT SELECT slo, "timestamp" FROM {catalog}.{BUCKETS_TABLE})
                UNION ALL
                (SELECT slo, "timestamp" FROM {catalog}.{BUCKETS_TABLE}
                 EXCEPT SELECT slo, "timestamp" FROM rollup_corrected_before))
            WHERE NOT list_contains(?::VARCHAR[], slo)
              AND NOT (list_contains(?::VARCHAR[], slo) AND {block} BETWEEN ? AND ?)""",
        [redefined, slos or [], low, high],
    )
    low, high = con.execute("SELECT min(block), max(block) FROM rollup_affected").fetchall()[0]
    if low is None:
        return
    con.execute(f"""
        DELETE FROM {table} r WHERE r."timestamp" BETWEEN ? AND ?
            AND EXISTS (SELECT 1 FROM rollup_affected a WHERE a.slo = r.slo AND a.block = r."timestamp")""",
                [low, high])  # fmt: skip
    con.execute(f"""
        DELETE FROM {grid} g WHERE g."timestamp" >= ? AND g."timestamp" < ? + INTERVAL {BLOCK_SECONDS} SECOND
            AND EXISTS (SELECT 1 FROM rollup_affected a WHERE a.slo = g.slo
                        AND a.block = time_bucket(INTERVAL {BLOCK_SECONDS} SECOND, g."timestamp"))""",
                [low, high])  # fmt: skip
    _insert(
        con,
        catalog,
        f"""s."timestamp" >= ? AND s."timestamp" < ? + INTERVAL {BLOCK_SECONDS} SECOND
            AND EXISTS (SELECT 1 FROM rollup_affected a WHERE a.slo = s.slo
                        AND a.block = time_bucket(INTERVAL {BLOCK_SECONDS} SECOND, s."timestamp"))""",
        [low, high],
    )


def _slice_seconds(d: str) -> str:
    """SQL: the slice (seconds) a roll-up row of the SLO ``d`` (an alias of ``slos``) is summed
    with: its slice when the SLO is time-sliced and the slice divides 15 minutes, else NULL."""
    return (
        f"CASE WHEN {d}.budgeting_method <> 'Occurrences' AND {d}.time_slice_seconds > 0 "
        f"AND {BLOCK_SECONDS} % {d}.time_slice_seconds = 0 THEN {d}.time_slice_seconds END"
    )


def _slice_target(d: str) -> str:
    return f"CASE WHEN {_slice_seconds(d)} IS NOT NULL THEN {d}.time_slice_target END"


def _insert(con: duckdb.DuckDBPyConnection, catalog: str, where: str, params: list[object], grid: bool = True) -> None:
    """Sum the raw buckets of ``{catalog}.sli`` (alias ``s``) matching ``where``, less the
    corrected ones, into their blocks (and, with ``grid``, into the 5-minute grid's)."""
    block = f'epoch_us("timestamp") // {BLOCK_SECONDS * 1_000_000}'  # its number: cheaper to group by
    corrected = con.execute(f"SELECT EXISTS (SELECT 1 FROM {catalog}.{BUCKETS_TABLE})").fetchall()[0][0]
    less_corrected = (
        f'ANTI JOIN {catalog}.{BUCKETS_TABLE} x ON x.slo = s.slo AND x."timestamp" = s."timestamp"'
        if corrected
        else ""  # no correction: nothing to leave out, no join to make
    )
    con.execute(
        f"""
        INSERT INTO {catalog}.{ROLLUP}
        WITH b AS (
            SELECT s.slo, s."timestamp", s.good, s.total FROM {catalog}.sli s {less_corrected}
            WHERE {where}
        ), d AS (
            SELECT name, {_slice_seconds("s")} AS seconds, {_slice_target("s")} AS target FROM {catalog}.slos s
        ), blocks AS (
            SELECT slo, {block} AS block, sum(good) AS good, sum(total) AS total, count(*) AS buckets
            FROM b GROUP BY ALL
        ), slices AS (
            SELECT b.slo, any_value(d.seconds) AS seconds, any_value(d.target) AS slice_target,
                   make_timestamp({time_slice_sql("d.seconds")} * d.seconds * 1000000) AS "timestamp",
                   sum(b.good) AS good, sum(b.total) AS total
            FROM b JOIN d ON d.name = b.slo WHERE d.seconds IS NOT NULL
            GROUP BY b.slo, {time_slice_sql("d.seconds")}, d.seconds
        ), sliced AS (
            SELECT slo, {block} AS block, any_value(seconds) AS seconds, any_value(slice_target) AS target,
                   {slice_sums_sql("slice_target")}
            FROM slices GROUP BY ALL
        )
        SELECT k.slo, make_timestamp(k.block * {BLOCK_SECONDS * 1_000_000}), k.good, k.total, k.buckets,
               d.seconds, d.target,
               coalesce(c.slices, CASE WHEN d.seconds IS NOT NULL THEN 0 END),
               coalesce(c.good_slices, CASE WHEN d.seconds IS NOT NULL THEN 0 END),
               coalesce(c.ratio_sum, CASE WHEN d.seconds IS NOT NULL THEN 0 END)
        FROM blocks k LEFT JOIN d ON d.name = k.slo LEFT JOIN sliced c USING (slo, block)""",
        params,
    )
    if grid:
        con.execute(
            f"""
            INSERT INTO {catalog}.{GRID}
            SELECT slo, make_timestamp(block * {GRID_SECONDS * 1_000_000}), good, total FROM (
                SELECT s.slo, epoch_us(s."timestamp") // {GRID_SECONDS * 1_000_000} AS block,
                       sum(s.good) AS good, sum(s.total) AS total
                FROM {catalog}.sli s {less_corrected} WHERE {where} GROUP BY ALL)""",
            params,
        )
