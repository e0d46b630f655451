from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import load
from tests.conftest import INCIDENT_COLUMNS, slo_document, write_csv, write_slos

INCIDENT = dict(
    incident_id="I1",
    title="first title",
    service="api",
    severity="SEV2",
    started_at="2026-10-01T10:00:00Z",
    resolved_at="2026-10-01T11:00:00Z",
)
BUCKETS = [
    dict(timestamp=f"2026-10-01T10:{m:02d}:00+00:00", slo="api-availability", good=9, total=10) for m in range(0, 60, 5)
]


def _data(directory: Path, incidents: list[dict], buckets: list[dict]) -> Path:
    write_csv(directory / "incidents.csv", INCIDENT_COLUMNS, incidents)
    write_csv(directory / "sli.csv", ["timestamp", "slo", "good", "total"], buckets)
    write_slos(directory, [slo_document("api-availability", "api", 0.99)])
    return directory


def _ingest(directory: Path, warehouse: Path) -> None:
    dataset = validate_directory(directory)
    load(dataset, warehouse)
    dataset.con.close()


def _contents(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("incidents", "sli", "slos")}


def test_ingesting_the_same_data_twice_changes_nothing(tmp_path):
    data, warehouse = _data(tmp_path / "d", [INCIDENT], BUCKETS), tmp_path / "w.duckdb"
    _ingest(data, warehouse)
    first = _contents(warehouse)
    _ingest(data, warehouse)
    assert _contents(warehouse) == first
    assert len(first["sli"]) == 12


def test_overlapping_data_replaces_rows_by_key(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _ingest(_data(tmp_path / "a", [INCIDENT], BUCKETS), warehouse)
    changed = {**INCIDENT, "title": "corrected title"}
    second = {**INCIDENT, "incident_id": "I2"}
    later = [{**b, "good": 10} for b in BUCKETS[6:]] + [
        dict(timestamp="2026-10-01T11:00:00Z", slo="api-availability", good=1, total=1)
    ]
    _ingest(_data(tmp_path / "b", [changed, second], later), warehouse)
    contents = _contents(warehouse)
    assert [(r[0], r[1]) for r in contents["incidents"]] == [("I1", "corrected title"), ("I2", "first title")]
    assert len(contents["sli"]) == 13  # 6 kept, 6 replaced, 1 new
    assert sum(r[2] for r in contents["sli"]) == 6 * 9 + 6 * 10 + 1


@pytest.mark.parametrize("chunk_rows", [1, 2, 5])
def test_restated_buckets_are_replaced_in_stretches_of_time_whatever_their_number(tmp_path, monkeypatch, chunk_rows):
    """A re-ingest deletes the rows its buckets restate a stretch of time at a time (a year of
    minute buckets restated whole is more than the ingest's memory): every stretch, its last
    moment included, replaces exactly the buckets it restates."""
    from srelib.ingest import warehouse as module

    monkeypatch.setattr(module, "DELETE_CHUNK_ROWS", chunk_rows)
    warehouse = tmp_path / "w.duckdb"
    _ingest(_data(tmp_path / "a", [INCIDENT], BUCKETS), warehouse)
    restated = [{**b, "good": 10} for b in BUCKETS[2:9]]  # 7 buckets: 1 to 7 stretches
    _ingest(_data(tmp_path / "b", [INCIDENT], restated), warehouse)
    sli = _contents(warehouse)["sli"]
    assert len(sli) == len(BUCKETS)
    assert sum(r[2] for r in sli) == (len(BUCKETS) - 7) * 9 + 7 * 10


def test_timestamps_are_stored_in_utc(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _ingest(_data(tmp_path / "a", [{**INCIDENT, "started_at": "2026-10-01T12:00:00+02:00"}], BUCKETS), warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert str(con.execute("SELECT started_at FROM incidents").fetchall()[0][0]) == "2026-10-01 10:00:00"
        assert con.execute("SELECT count(*) FROM ingests").fetchall()[0][0] == 1


def test_a_file_that_is_not_a_warehouse_is_a_clear_error_and_stays_untouched(tmp_path):
    from srelib.errors import UsageError

    target = tmp_path / "w.duckdb"
    target.write_bytes(b"not a database")
    dataset = validate_directory(_data(tmp_path / "a", [INCIDENT], BUCKETS))
    with pytest.raises(UsageError, match="cannot open warehouse"):
        load(dataset, target)
    assert target.read_bytes() == b"not a database"


def test_typed_parquet_streams_into_the_warehouse_and_replaces_by_key(tmp_path):
    data, warehouse = _data(tmp_path / "d", [INCIDENT], BUCKETS), tmp_path / "w.duckdb"
    _ingest(data, warehouse)
    from_csv = _contents(warehouse)
    (data / "sli.csv").unlink()
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT TIMESTAMPTZ '2026-10-01 10:00:00+00' + to_minutes(5 * i) AS timestamp, "
            "'api-availability' AS slo, 9::BIGINT AS good, 10::BIGINT AS total FROM range(12) r(i)) "
            f"TO '{data / 'sli.parquet'}' (FORMAT parquet)"
        )
    _ingest(data, warehouse)
    _ingest(data, warehouse)
    assert _contents(warehouse)["sli"] == from_csv["sli"]


def _reader(warehouse: Path, seconds: float):
    """Another process holding a read-only connection for ``seconds`` (as a dashboard computing)."""
    import subprocess
    import sys
    import time

    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(warehouse)!r}, read_only=True)\n"
        "print('open', flush=True)\n"
        f"time.sleep({seconds})\n"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
    return reader, time.monotonic()


def test_an_ingest_waits_for_readers_to_leave_then_loads(tmp_path):
    import time

    data, warehouse = _data(tmp_path / "d", [INCIDENT], BUCKETS), tmp_path / "w.duckdb"
    _ingest(data, warehouse)
    reader, since = _reader(warehouse, 1)
    try:
        _ingest(data, warehouse)  # waits for the reader's connection to close
        assert time.monotonic() - since >= 0.9
    finally:
        reader.wait(10)
    assert len(_contents(warehouse)["sli"]) == 12


def test_an_ingest_gives_up_on_a_reader_that_stays_with_a_clear_message(tmp_path, monkeypatch):
    from srelib.errors import UsageError

    data, warehouse = _data(tmp_path / "d", [INCIDENT], BUCKETS), tmp_path / "w.duckdb"
    _ingest(data, warehouse)
    before = warehouse.read_bytes()
    monkeypatch.setenv("SRELIB_LOCK_WAIT", "0.5")
    reader, _ = _reader(warehouse, 30)
    try:
        with pytest.raises(UsageError, match=r"for writing \(waited 0.5 s for readers to finish\): .*lock"):
            _ingest(data, warehouse)
    finally:
        reader.kill()
        reader.wait(10)
    assert warehouse.read_bytes() == before


def test_a_lock_wait_that_is_not_a_number_is_refused_clearly(tmp_path, monkeypatch):
    from srelib.errors import UsageError

    data, warehouse = _data(tmp_path / "d", [INCIDENT], BUCKETS), tmp_path / "w.duckdb"
    _ingest(data, warehouse)
    before = warehouse.read_bytes()
    monkeypatch.setenv("SRELIB_LOCK_WAIT", "two minutes")
    with pytest.raises(UsageError, match=r"^SRELIB_LOCK_WAIT must be a number of seconds, not 'two minutes'$"):
        _ingest(data, warehouse)
    assert warehouse.read_bytes() == before
