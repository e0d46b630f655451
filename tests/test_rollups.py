"""SLI roll-ups kept at ingest (issue 19): every figure read from them is the one the raw buckets
give, and an ingest keeps them exactly what a rebuild from scratch would be.

The data: four SLOs over seven weeks of 1-minute buckets (hash-made, so every block differs):
Occurrences, Timeslices of 5 minutes, RatioTimeslices of 1 minute, and Timeslices of 7 minutes
(which does not divide 15 minutes: read from the buckets), with a one-off correction and a weekly
repeating one. A copy of the warehouse without current roll-ups reads the raw buckets: the two
summaries must be equal, figure for figure, for months, weeks, quarters and years, for the
organisation and a team, in UTC, Europe/Berlin (a DST change inside), Asia/Kolkata (+05:30) and
Asia/Kathmandu (+05:45)."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from srelib.config import Workbench
from srelib.ingest import rollups
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import connect, load
from srelib.metrics import policy
from srelib.metrics.scope import Scope
from srelib.metrics.slo import slo_definitions
from srelib.period import Period
from srelib.summary import build_summary
from tests.conftest import INCIDENT_COLUMNS, make_workbench, slo_document, write_csv, write_slos

CORRECTION_COLUMNS = ["slo", "service", "start", "end", "rrule", "reason", "kind"]
SLOS = [
    slo_document("api-availability", "api", 0.99),
    slo_document("api-latency", "api", 0.999, "Timeslices", timeSliceTarget=0.95, timeSliceWindow="5m"),
    slo_document("web-ratio", "web", 0.99, "RatioTimeslices", timeSliceTarget=0.9, timeSliceWindow="1m"),
    slo_document("web-odd", "web", 0.99, "Timeslices", timeSliceTarget=0.9, timeSliceWindow="7m"),
]
# Spans off the 5-minute grid at either end, within one block, on it at one end, open, and over
# a correction: the budget each consumed is summed from the grid's whole blocks and the buckets'.
INCIDENTS = [
    ("I1", "api", "2026-10-02T09:58:30Z", "2026-10-02T10:03:10Z"),
    ("I2", "api", "2026-10-05T10:00:00Z", "2026-10-05T10:04:00Z"),
    ("I3", "api", "2026-10-06T10:01:00Z", "2026-10-06T10:04:00Z"),
    ("I4", "web", "2026-10-07T03:17:20Z", "2026-10-07T09:45:00Z"),
    ("I5", "web", "2026-10-20T22:02:00Z", ""),
    ("I6", "api", "2026-10-02T10:00:00Z", "2026-10-02T12:01:00Z"),
    ("I7", "web", "2026-09-30T23:59:00Z", "2026-10-01T00:06:00Z"),
]
CORRECTIONS = [
    dict(slo="api-availability", start="2026-10-02T10:07:00Z", end="2026-10-02T12:52:00Z", kind="false_positive"),
    dict(service="web", start="2026-09-27T01:30:00+02:00", end="2026-09-27T02:30:00+02:00", rrule="FREQ=WEEKLY"),
]


def _sli(path: Path, first: str, days: int, salt: int = 0) -> None:
    """1-minute buckets of every SLO from ``first`` (UTC) for ``days`` days, as Parquet."""
    with duckdb.connect() as con:
        con.execute(f"""
            COPY (
                SELECT strftime(TIMESTAMP '{first}' + to_minutes(m), '%Y-%m-%dT%H:%M:%SZ') AS "timestamp", slo,
                       greatest(0, t - CASE WHEN hash(m // 40, slo, {salt}) % 9 = 0 THEN (hash(m, slo) % 100)::BIGINT
                                            ELSE (hash(m, slo, {salt}) % 3)::BIGINT END) AS good,
                       t AS total
                FROM range({days * 1440}) r(m),
                     (VALUES ('api-availability'), ('api-latency'), ('web-ratio'), ('web-odd')) s(slo),
                     LATERAL (SELECT CASE WHEN hash(m, slo, 7) % 31 = 0 THEN 0
                                          ELSE 20 + (hash(m, slo) % 80)::BIGINT END AS t)
            ) TO '{path}' (FORMAT parquet)""")


def _ingest(workbench: Workbench, data: Path) -> None:
    dataset = validate_directory(data)
    try:
        load(dataset, workbench.warehouse_path, workbench.org.timezone)
    finally:
        dataset.con.close()


def _data(root: Path, first: str, days: int, corrections: list[dict], slos: list[dict] = SLOS, salt: int = 0) -> Path:
    data = root / f"data-{first[:10]}-{salt}"
    data.mkdir(parents=True)
    _sli(data / "sli.parquet", first, days, salt)
    write_slos(data, slos)
    write_csv(data / "corrections.csv", CORRECTION_COLUMNS, corrections)
    incidents = [
        dict(incident_id=i, title="outage", service=service, severity="SEV2", started_at=start, resolved_at=end)
        for i, service, start, end in INCIDENTS
    ]
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, incidents if salt == 0 else [])
    return data


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> tuple[Workbench, Workbench]:
    """The workbench (with roll-ups) and a copy of it whose warehouse has none current."""
    root = tmp_path_factory.mktemp("rollups")
    workbench = make_workbench(root / "rolled", {"api": "platform", "web": "web"})
    _ingest(workbench, _data(root, "2026-09-20 00:00:00", 49, CORRECTIONS))
    raw_root = root / "raw"
    shutil.copytree(workbench.root, raw_root)
    raw = Workbench.load(raw_root)
    with duckdb.connect(str(raw.warehouse_path)) as con:
        con.execute("DELETE FROM meta WHERE key = ?", [rollups.ROLLUP])
    return workbench, raw


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> None:
    """One clock for both summaries: a quarter or year still going is measured so far."""
    monkeypatch.setattr("srelib.period.now_utc", lambda: datetime(2026, 11, 20, 12))


def _summary(workbench: Workbench, label: str, timezone: str, team: str | None):
    moved = dataclasses.replace(workbench, org=workbench.org.model_copy(update={"timezone": timezone}))
    con = connect(workbench.warehouse_path)
    try:
        assert rollups.available(con) == (workbench.root.name == "rolled")
        summary = build_summary(con, moved, Period.parse(label, timezone), team)
    finally:
        con.close()
    return summary.model_dump(exclude={"generated_at"})


@pytest.mark.parametrize(
    "label, timezone, team",
    [
        ("2026-10", "UTC", None),
        ("2026-10", "Europe/Berlin", None),  # summer time ends on 25 October
        ("2026-10", "Asia/Kolkata", "web"),
        ("2026-W41", "Asia/Kathmandu", None),
        ("2026-Q4", "Europe/Berlin", "platform"),
        ("2026", "Asia/Kolkata", None),
    ],
)
def test_figures_from_the_roll_ups_are_those_of_the_raw_buckets(warehouses, label, timezone, team):
    rolled, raw = warehouses
    ours, theirs = _summary(rolled, label, timezone, team), _summary(raw, label, timezone, team)
    assert ours["slos"]["api-latency" if team != "web" else "web-ratio"]["total"] > 0  # data were read
    fired = [a for b in ours["slo_budgets"].values() for a in b["alerts"] if a["fired_minutes"]]
    assert fired  # alerts were evaluated on the 5-minute grid, and some fired
    assert ours == theirs


def test_the_roll_up_sums_the_blocks_less_the_corrected_buckets(warehouses):
    rolled, _ = warehouses
    with duckdb.connect(str(rolled.warehouse_path), read_only=True) as con:
        by_hand = con.execute("""
            SELECT sum(good), sum(total), count(*) FROM sli
            WHERE slo = 'api-availability' AND "timestamp" >= '2026-10-02 10:00' AND "timestamp" < '2026-10-02 10:15'
              AND "timestamp" < '2026-10-02 10:07'""").fetchall()[0]  # 10:07 on: corrected
        block = con.execute(f"""
            SELECT good, total, buckets, slice_seconds FROM {rollups.ROLLUP}
            WHERE slo = 'api-availability' AND "timestamp" = '2026-10-02 10:00'""").fetchall()[0]
        assert block == (*by_hand, None) and by_hand[2] == 7
        # a block wholly corrected has no row; a 7-minute slice is not summed into blocks
        assert not con.execute(
            f"SELECT * FROM {rollups.ROLLUP} WHERE slo = 'api-availability' AND \"timestamp\" = '2026-10-02 11:00'"
        ).fetchall()
        widths = dict(con.execute(f"SELECT DISTINCT slo, slice_seconds FROM {rollups.ROLLUP}").fetchall())
        assert widths == {"api-availability": None, "api-latency": 300, "web-ratio": 60, "web-odd": None}


@pytest.mark.parametrize("label", ["2026-10", "2026-W40", "2026-Q4"])
def test_the_budget_each_incident_consumed_is_the_one_the_buckets_give(warehouses, label):
    found = []
    for workbench in warehouses:
        con = connect(workbench.warehouse_path)
        try:
            definitions = slo_definitions(con, Scope(catalogue=workbench.catalogue))
            found.append(policy._incident_shares(con, definitions, Period.parse(label)))
        finally:
            con.close()
    ours, theirs = found
    assert ours == theirs
    started_in = {"I1", "I6", "I7"} if label == "2026-W40" else {f"I{i}" for i in range(1, 7)}
    assert {s.incident_id for s in ours} == started_in
    assert all(s.budget_share > 0 for s in ours if s.incident_id != "I6")  # I6: the correction took most of it


def _table(workbench: Workbench, table: str = rollups.ROLLUP) -> list[tuple]:
    with duckdb.connect(str(workbench.warehouse_path), read_only=True) as con:
        return con.execute(f'SELECT * FROM {table} ORDER BY slo, "timestamp"').fetchall()


def test_each_ingest_keeps_the_roll_ups_those_of_a_rebuild(tmp_path: Path):
    """Appending, restating buckets, changing corrections and an SLO's slice: the roll-up kept by
    each ingest equals the one rebuilt from all the data."""
    workbench = make_workbench(tmp_path / "kept", {"api": "platform", "web": "web"})
    _ingest(workbench, _data(tmp_path, "2026-09-20 00:00:00", 14, CORRECTIONS[:1]))
    # the next two weeks, the last day of the first restated, and another repeating correction
    _ingest(workbench, _data(tmp_path, "2026-10-03 00:00:00", 14, CORRECTIONS, salt=1))
    # the corrections changed again (one removed), and api-latency's slices are now 1 minute
    resliced = [SLOS[0], slo_document("api-latency", "api", 0.999, "Timeslices", timeSliceTarget=0.9,
                                      timeSliceWindow="1m"), *SLOS[2:]]  # fmt: skip
    data = tmp_path / "data-restated"
    data.mkdir()
    write_slos(data, resliced)
    write_csv(data / "corrections.csv", CORRECTION_COLUMNS, CORRECTIONS[1:])
    _ingest(workbench, data)
    kept, grid = _table(workbench), _table(workbench, rollups.GRID)
    with duckdb.connect(str(workbench.warehouse_path)) as con:
        con.execute("BEGIN TRANSACTION")
        rollups.refresh(con, con.execute("SELECT current_database()").fetchall()[0][0], None, rebuild=True)
        con.execute("COMMIT")
    assert kept == _table(workbench)
    assert grid == _table(workbench, rollups.GRID) and len(grid) > 2.9 * len(kept)  # ~3 grid blocks per block
    assert {r[5] for r in kept if r[0] == "api-latency"} == {60}
