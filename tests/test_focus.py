"""FOCUS cost exports as clouds deliver them: the FinOps Foundation's sample, gzipped, in parts, tags of every shape."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pytest
import yaml

from srelib.errors import InputError
from srelib.ingest.sources import load_config, read_sources
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import load
from tests.conftest import make_workbench, run_cli, write_csv

SAMPLE = "focus/focus_sample.csv"
# Published with the sample (../shared/conformance/README.md): a plain DuckDB sum of the file.
SAMPLE_EFFECTIVE, SAMPLE_BILLED = 14.9765, 20.5202


def _sources(root: Path, *entries: dict) -> list:
    path = root / "params" / "sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"sources": list(entries)}), encoding="utf-8")
    return read_sources(load_config(path), root)


def _empty_data(root: Path) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    return root / "data"


def _ingest(root: Path, warehouse: Path, *entries: dict) -> dict[str, int]:
    dataset = validate_directory(_empty_data(root), _sources(root, *entries))
    try:
        return load(dataset, warehouse)
    finally:
        dataset.con.close()


def _totals(warehouse: Path) -> tuple[int, float, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows, effective, billed = con.execute(
            """SELECT count(*), sum("EffectiveCost"), sum("BilledCost") FROM costs
               WHERE "ChargePeriodStart" >= '2024-09-01' AND "ChargePeriodStart" < '2024-10-01'"""
        ).fetchall()[0]
    return rows, effective, billed


def _plain_sum(path: Path) -> tuple[float, float]:
    """The independent figure: DuckDB's own reading of the file, summed, nothing of srelib."""
    with duckdb.connect() as con:
        return con.execute(
            "SELECT sum(EffectiveCost), sum(BilledCost) FROM read_csv(?) "
            "WHERE ChargePeriodStart >= '2024-09-01' AND ChargePeriodStart < '2024-10-01'",
            [str(path)],
        ).fetchall()[0]


def test_the_focus_sample_ingests_every_line_item_with_the_files_totals(tmp_path, conformance):
    sample = conformance / SAMPLE
    counts = _ingest(tmp_path, tmp_path / "wh.duckdb", {"kind": "focus", "path": str(sample)})
    rows, effective, billed = _totals(tmp_path / "wh.duckdb")
    plain_effective, plain_billed = _plain_sum(sample)
    assert effective == pytest.approx(plain_effective, abs=1e-9)
    assert billed == pytest.approx(plain_billed, abs=1e-9)
    assert (round(effective, 4), round(billed, 4)) == (SAMPLE_EFFECTIVE, SAMPLE_BILLED)
    # 1,000 line items; those sharing charge period, service, account and tags are one cost row.
    assert counts["costs"] == rows
    with duckdb.connect() as con:
        distinct = con.execute(
            """SELECT count(*) FROM (
                   SELECT DISTINCT ChargePeriodStart, ChargePeriodEnd, BillingCurrency, ServiceName, ServiceCategory,
                          SubAccountName, nullif(Tags, 'NULL')::JSON::VARCHAR
                   FROM read_csv(?, all_varchar = true))""",
            [str(sample)],
        ).fetchall()[0][0]
    assert rows == distinct < 1000


def test_focus_datetimes_without_an_offset_are_read_as_utc(tmp_path, conformance):
    _ingest(tmp_path, tmp_path / "wh.duckdb", {"kind": "focus", "path": str(conformance / SAMPLE)})
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        first, last = con.execute('SELECT min("ChargePeriodStart"), max("ChargePeriodStart") FROM costs').fetchall()[0]
    assert (str(first), str(last)) == ("2024-09-01 00:00:00", "2024-09-30 23:00:00")  # as written: UTC


def test_re_ingesting_the_same_export_changes_nothing(tmp_path, conformance):
    source = {"kind": "focus", "path": str(conformance / SAMPLE)}
    everything = "SELECT * FROM costs ORDER BY ALL"
    _ingest(tmp_path, tmp_path / "wh.duckdb", source)
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        before = con.execute(everything).fetchall()
    _ingest(tmp_path, tmp_path / "wh.duckdb", source)
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute(everything).fetchall() == before


def test_a_gzipped_export_reads_like_the_plain_one(tmp_path, conformance):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "focus.csv.gz").write_bytes(gzip.compress((conformance / SAMPLE).read_bytes()))
    _ingest(tmp_path, tmp_path / "wh.duckdb", {"kind": "focus", "path": "exports/focus.csv.gz"})
    _, effective, billed = _totals(tmp_path / "wh.duckdb")
    assert (round(effective, 4), round(billed, 4)) == (SAMPLE_EFFECTIVE, SAMPLE_BILLED)


def _split_into_parts(sample: Path, folder: Path) -> None:
    """The sample as a cloud delivers a month: gzipped CSV and Parquet parts under a partition folder,
    beside a manifest and a marker file."""
    lines = sample.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    parts = folder / "data" / "BILLING_PERIOD=2024-09"
    parts.mkdir(parents=True)
    (parts / "part-00001.csv.gz").write_bytes(gzip.compress("".join([header, *body[:400]]).encode()))
    (parts / "part-00002.csv").write_text("".join([header, *body[400:700]]), encoding="utf-8")
    (folder / "third.csv").write_text("".join([header, *body[700:]]), encoding="utf-8")
    with duckdb.connect() as con:
        third = con.read_csv(str(folder / "third.csv"))
        third.write_parquet(str(parts / "part-00003.parquet"))
    (folder / "third.csv").unlink()
    (folder / "metadata").mkdir()
    (folder / "metadata" / "Manifest.json").write_text('{"reportName": "focus"}', encoding="utf-8")
    (parts / "_SUCCESS").write_text("", encoding="utf-8")


def test_a_folder_of_export_parts_is_one_source(tmp_path, conformance):
    _split_into_parts(conformance / SAMPLE, tmp_path / "exports" / "focus")
    extracts = _sources(tmp_path, {"kind": "focus", "path": "exports/focus"})
    assert [e.file for e in extracts] == [
        "exports/focus/data/BILLING_PERIOD=2024-09/part-00001.csv.gz",
        "exports/focus/data/BILLING_PERIOD=2024-09/part-00002.csv",
        "exports/focus/data/BILLING_PERIOD=2024-09/part-00003.parquet",
    ]
    assert [len(e.records) for e in extracts] == [400, 300, 300]
    _ingest(tmp_path, tmp_path / "wh.duckdb", {"kind": "focus", "path": "exports/focus"})
    _, effective, billed = _totals(tmp_path / "wh.duckdb")
    assert (round(effective, 4), round(billed, 4)) == (SAMPLE_EFFECTIVE, SAMPLE_BILLED)


def test_a_problem_in_one_part_names_that_part_and_its_row(tmp_path, conformance):
    _split_into_parts(conformance / SAMPLE, tmp_path / "exports" / "focus")
    part = tmp_path / "exports" / "focus" / "data" / "BILLING_PERIOD=2024-09" / "part-00002.csv"
    with part.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[2]["ChargePeriodStart"] = "Sept 2024"  # CSV line 4
    write_csv(part, list(rows[0]), rows)
    with pytest.raises(InputError) as caught:
        validate_directory(_empty_data(tmp_path), _sources(tmp_path, {"kind": "focus", "path": "exports/focus"}))
    found = [str(p) for p in caught.value.problems]
    assert found == [
        "exports/focus/data/BILLING_PERIOD=2024-09/part-00002.csv:4:ChargePeriodStart: "
        "not an ISO 8601 timestamp: 'Sept 2024'"
    ]


def test_an_empty_folder_is_a_problem(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "manifest.json").write_text("{}")
    extracts = _sources(tmp_path, {"kind": "focus", "path": "exports"})
    assert [str(p) for e in extracts for p in e.problems] == ["exports::: folder has no .csv, .csv.gz, .parquet files"]


FOCUS_COLUMNS = ["ChargePeriodStart", "ChargePeriodEnd", "EffectiveCost", "BilledCost", "ServiceName", "Tags"]


def _focus_row(**values: object) -> dict:
    return {
        "ChargePeriodStart": "2026-10-02 00:00:00",
        "ChargePeriodEnd": "2026-10-03 00:00:00",
        "EffectiveCost": "10",
        "BilledCost": "12",
        "ServiceName": "Amazon EC2",
        "Tags": '{"team": "payments"}',
        **values,
    }


def test_tags_are_stored_as_json_objects_or_empty(tmp_path):
    write_csv(
        tmp_path / "focus.csv",
        FOCUS_COLUMNS,
        [
            _focus_row(Tags="NULL", ServiceName="a"),
            _focus_row(Tags="", ServiceName="b"),
            _focus_row(Tags='{"team": "payments", "env": "prod"}', ServiceName="c"),
            _focus_row(Tags='{"env": "prod", "team": "payments"}', ServiceName="c"),  # the same tags: one row
        ],
    )
    _ingest(tmp_path, tmp_path / "wh.duckdb", {"kind": "focus", "path": "focus.csv"})
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        rows = con.execute('SELECT "ServiceName", "Tags", "EffectiveCost" FROM costs ORDER BY 1').fetchall()
    assert rows == [("a", None, 10.0), ("b", None, 10.0), ("c", '{"env": "prod", "team": "payments"}', 20.0)]


def test_tags_that_are_not_a_json_object_are_reported_where_they_are(tmp_path):
    write_csv(
        tmp_path / "focus.csv",
        FOCUS_COLUMNS,
        [_focus_row(Tags="team=payments"), _focus_row(Tags='["payments"]', ServiceName="x")],
    )
    with pytest.raises(InputError) as caught:
        validate_directory(_empty_data(tmp_path), _sources(tmp_path, {"kind": "focus", "path": "focus.csv"}))
    message = 'not a JSON object (write {"team": "payments"}, or leave it empty)'
    assert [str(p) for p in caught.value.problems] == [
        f"focus.csv:2:Tags: {message}: 'team=payments'",
        f"focus.csv:3:Tags: {message}: '[\"payments\"]'",
    ]


@pytest.mark.parametrize("shape", ["MAP(VARCHAR, VARCHAR)", "STRUCT"])
def test_parquet_map_and_struct_tags_become_json_and_team_metrics_read_them(tmp_path, shape):
    tags = (
        "MAP {'team': 'payments', 'env': 'prod'}" if shape.startswith("MAP") else "{'team': 'payments', 'env': 'prod'}"
    )
    path = tmp_path / "focus.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (SELECT TIMESTAMPTZ '2026-10-02 00:00:00+00' AS ChargePeriodStart,
                             TIMESTAMPTZ '2026-10-03 00:00:00+00' AS ChargePeriodEnd,
                             10.5::DOUBLE AS EffectiveCost, 12.0::DOUBLE AS BilledCost,
                             'Amazon EC2' AS ServiceName, {tags} AS Tags
                      UNION ALL
                      SELECT TIMESTAMPTZ '2026-10-02 00:00:00+00', TIMESTAMPTZ '2026-10-03 00:00:00+00', 1.0, 1.0,
                             'Amazon S3', NULL)
                TO '{path}' (FORMAT parquet)"""
        )
    make_workbench(tmp_path, {"checkout": "payments"})
    (tmp_path / "params" / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [{"kind": "focus", "path": "focus.parquet"}]})
    )
    (tmp_path / "data").mkdir()
    ingest = run_cli(tmp_path, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    with duckdb.connect(str(tmp_path / "warehouse" / "test.duckdb"), read_only=True) as con:
        assert con.execute('SELECT "Tags" FROM costs ORDER BY "ServiceName"').fetchall() == [
            ('{"env": "prod", "team": "payments"}',),
            (None,),
        ]
    metrics = run_cli(tmp_path, "metrics", "--period", "2026-10", "--team", "payments", "--json")
    assert metrics.returncode == 0, metrics.stderr
    costs = json.loads(metrics.stdout)["value"]["costs"]
    assert (costs["effective_cost"], costs["by_service"]) == (10.5, {"Amazon EC2": 10.5})


def test_a_git_lfs_pointer_is_named_for_what_it_is(tmp_path):
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
    )
    (tmp_path / "focus.parquet").write_text(pointer)
    extracts = _sources(tmp_path, {"kind": "focus", "path": "focus.parquet"})
    assert [str(p) for e in extracts for p in e.problems] == [
        "focus.parquet::: a Git LFS pointer, not the data: fetch the real file (git lfs pull) and try again"
    ]


def test_problems_in_a_cost_file_are_capped_per_kind(tmp_path):
    write_csv(
        tmp_path / "focus.csv", FOCUS_COLUMNS, [_focus_row(EffectiveCost="n/a", ServiceName=f"s{i}") for i in range(50)]
    )
    with pytest.raises(InputError) as caught:
        validate_directory(_empty_data(tmp_path), _sources(tmp_path, {"kind": "focus", "path": "focus.csv"}))
    found = [str(p) for p in caught.value.problems]
    assert len(found) == 21
    assert found[0] == "focus.csv:2:EffectiveCost: not a number: 'n/a'"
    assert found[-1] == "focus.csv::EffectiveCost: not a number: 30 more rows like the ones above"


def test_unknown_options_are_refused_by_name(tmp_path):
    write_csv(tmp_path / "focus.csv", FOCUS_COLUMNS, [_focus_row()])
    extracts = _sources(tmp_path, {"kind": "focus", "path": "focus.csv", "currency": "EUR"})
    assert [str(p) for e in extracts for p in e.problems] == [
        "focus.csv::currency: unknown option for a focus source (known options: timezone)"
    ]


def test_the_ingest_command_refuses_a_bad_export_and_leaves_the_warehouse_as_it_was(tmp_path, conformance):
    make_workbench(tmp_path, {"checkout": "payments"})
    (tmp_path / "data").mkdir()
    sources = tmp_path / "params" / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{"kind": "focus", "path": str(conformance / SAMPLE)}]}))
    run = lambda: run_cli(tmp_path, "ingest")  # noqa: E731
    assert run().returncode == 0
    warehouse = tmp_path / "warehouse" / "test.duckdb"
    before = warehouse.read_bytes()
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    sources.write_text(yaml.safe_dump({"sources": [{"kind": "focus", "path": "broken.csv.gz"}]}))
    result = run()
    assert result.returncode == 2
    assert result.stderr.startswith("broken.csv.gz::: not a readable gzip file")
    assert "Traceback" not in result.stderr
    assert warehouse.read_bytes() == before


@pytest.mark.parametrize("name", ["costs.csv", "costs.csv.gz"])
def test_the_canonical_cost_file_is_read_as_focus(tmp_path, conformance, name):
    """data/costs.csv is a FOCUS export (docs/architecture.md): dropped in as delivered, it reads like the adapter's."""
    content = (conformance / SAMPLE).read_bytes()
    (tmp_path / name).write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    dataset = validate_directory(tmp_path)
    try:
        assert dataset.describe() == "938 costs (from 1000 line items)"
        load(dataset, tmp_path / "wh.duckdb")
    finally:
        dataset.con.close()
    _, effective, billed = _totals(tmp_path / "wh.duckdb")
    assert (round(effective, 4), round(billed, 4)) == (SAMPLE_EFFECTIVE, SAMPLE_BILLED)


def _cost_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            'SELECT "SubAccountName", CAST("ChargePeriodStart" AS DATE), "Tags", "EffectiveCost" '
            "FROM costs ORDER BY ALL"
        ).fetchall()


def test_a_restated_export_replaces_what_it_covers_and_leaves_other_accounts_and_months(tmp_path):
    def export(name: str, *rows: dict) -> dict:
        write_csv(tmp_path / name, [*FOCUS_COLUMNS, "SubAccountName"], list(rows))
        return {"kind": "focus", "path": name}

    warehouse = tmp_path / "wh.duckdb"
    october = dict(SubAccountName="prod", ChargePeriodStart="2026-10-02 00:00:00")
    _ingest(tmp_path, warehouse, export("a.csv", _focus_row(**october, Tags='{"team": "a"}')))
    _ingest(tmp_path, warehouse, export("b.csv", _focus_row(SubAccountName="dev", Tags="")))  # another account
    _ingest(
        tmp_path,
        warehouse,
        export("c.csv", _focus_row(SubAccountName="prod", ChargePeriodStart="2026-11-02 00:00:00", ChargePeriodEnd="")),
    )  # a later month
    # The October export of prod again, its tags restated: it replaces the first one, not adds to it.
    _ingest(tmp_path, warehouse, export("d.csv", _focus_row(**october, Tags='{"team": "b"}')))
    assert [(r[0], str(r[1]), r[2], r[3]) for r in _cost_rows(warehouse)] == [
        ("dev", "2026-10-02", None, 10.0),
        ("prod", "2026-10-02", '{"team": "b"}', 10.0),
        ("prod", "2026-11-02", '{"team": "payments"}', 10.0),
    ]


def test_the_same_export_twice_in_one_ingest_is_refused_not_counted_twice(tmp_path, conformance):
    folder = tmp_path / "exports" / "BILLING_PERIOD=2024-09"
    (folder / "exec1").mkdir(parents=True)
    (folder / "exec2").mkdir()
    (folder / "exec1" / "part-1.csv").write_bytes((conformance / SAMPLE).read_bytes())
    (folder / "exec2" / "part-1.csv").write_bytes((conformance / SAMPLE).read_bytes())  # a stale delivery kept
    with pytest.raises(InputError) as caught:
        validate_directory(_empty_data(tmp_path), _sources(tmp_path, {"kind": "focus", "path": "exports"}))
    assert [str(p) for p in caught.value.problems] == [
        "exports/BILLING_PERIOD=2024-09/exec2/part-1.csv::: the same content as "
        "exports/BILLING_PERIOD=2024-09/exec1/part-1.csv: one export read twice would count twice; remove one"
    ]


@pytest.mark.parametrize("part", ["part.csv", "part.parquet"])
def test_folder_names_never_become_column_values(tmp_path, conformance, part):
    """DuckDB reads key=value folders as columns unless told not to: EffectiveCost=0/ must not zero the costs."""
    folder = tmp_path / "exports" / "EffectiveCost=0" / "ServiceName=x"
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        sample = con.read_csv(str(conformance / SAMPLE))
        sample.write_csv(str(folder / part)) if part.endswith(".csv") else sample.write_parquet(str(folder / part))
    _ingest(tmp_path, tmp_path / "wh.duckdb", {"kind": "focus", "path": "exports"})
    _, effective, billed = _totals(tmp_path / "wh.duckdb")
    assert (round(effective, 4), round(billed, 4)) == (SAMPLE_EFFECTIVE, SAMPLE_BILLED)
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM costs WHERE \"ServiceName\" = 'x'").fetchall() == [(0,)]


def test_a_file_name_duckdb_would_read_as_a_pattern_is_refused(tmp_path):
    write_csv(tmp_path / "focus[1].csv", FOCUS_COLUMNS, [_focus_row()])
    write_csv(tmp_path / "focus1.csv", FOCUS_COLUMNS, [_focus_row(), _focus_row(ServiceName="y")])
    extracts = _sources(tmp_path, {"kind": "focus", "path": "focus[1].csv"})
    assert [str(p) for e in extracts for p in e.problems] == [
        "focus[1].csv::: the path has one of * ? [ ] { }, which would be read as a pattern of files: rename it"
    ]
