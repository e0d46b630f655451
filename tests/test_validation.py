"""Bad input: every problem as file:row:column: message, exit code 2, warehouse untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from srelib.errors import InputError
from srelib.ingest.validate import validate_directory
from tests.conftest import INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos

GOOD_INCIDENT = dict(
    incident_id="I1",
    title="t",
    service="api",
    team="platform",
    severity="SEV2",
    started_at="2026-10-01T10:00:00Z",
    resolved_at="2026-10-01T11:00:00Z",
)
SLO_HEAD = "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\n"
SLI_COLUMNS = ["timestamp", "slo", "good", "total"]
GOOD_BUCKET = dict(timestamp="2026-10-01T10:00:00Z", slo="api-availability", good=99, total=100)


def dataset(directory: Path, incidents=None, sli=None, slos=None) -> Path:
    write_csv(directory / "incidents.csv", INCIDENT_COLUMNS, incidents if incidents is not None else [GOOD_INCIDENT])
    write_csv(directory / "sli.csv", SLI_COLUMNS, sli if sli is not None else [GOOD_BUCKET])
    write_slos(directory, slos if slos is not None else [slo_document("api-availability", "api", 0.99)])
    return directory


def problems(directory: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        validate_directory(directory)
    return [str(p) for p in caught.value.problems]


def test_valid_directory_passes(tmp_path):
    result = validate_directory(dataset(tmp_path))
    assert result.row_counts == {"incidents": 1, "sli": 1}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"started_at": "yesterday"}, "incidents.csv:2:started_at: not an ISO 8601 timestamp: 'yesterday'"),
        ({"started_at": "2026-10-01T10:00:00"}, "incidents.csv:2:started_at: timestamp has no UTC offset"),
        ({"resolved_at": "2026-10-01T09:00:00Z"}, "incidents.csv:2:resolved_at: resolved_at is before started_at"),
        ({"severity": "SEV9"}, "incidents.csv:2:severity: unknown value: expected one of SEV1, SEV2, SEV3, SEV4, SEV5"),
        ({"severity": ""}, "incidents.csv:2:severity: required value is empty"),
        ({"customer_impact": "maybe"}, "incidents.csv:2:customer_impact: not true or false: 'maybe'"),
        (
            {"detected_at": "2026-10-01T10:05:00Z", "acknowledged_at": "2026-10-01T10:01:00Z"},
            "incidents.csv:2:acknowledged_at: acknowledged_at is before detected_at",
        ),
    ],
)
def test_incident_problems_name_file_row_and_column(tmp_path, change, expected):
    found = problems(dataset(tmp_path, incidents=[{**GOOD_INCIDENT, **change}]))
    assert any(p.startswith(expected) for p in found), found


def test_duplicate_incident_ids_point_at_the_repeat(tmp_path):
    found = problems(dataset(tmp_path, incidents=[GOOD_INCIDENT, GOOD_INCIDENT]))
    assert found == ["incidents.csv:3:incident_id: duplicate incident_id 'I1': already on an earlier row"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"good": "1.5"}, "sli.csv:2:good: not a whole number ≥ 0: '1.5'"),
        ({"good": "-3"}, "sli.csv:2:good: not a whole number ≥ 0: '-3'"),
        ({"total": "lots"}, "sli.csv:2:total: not a whole number ≥ 0: 'lots'"),
        ({"good": "101"}, "sli.csv:2:good: good is greater than total: '101 > 100'"),
        ({"slo": "nope"}, "sli.csv:2:slo: unknown SLO: not defined in the SLO specs: 'nope'"),
        ({"timestamp": "2026-10-01 10:00"}, "sli.csv:2:timestamp: timestamp has no UTC offset"),
        ({"timestamp": "soon"}, "sli.csv:2:timestamp: not an ISO 8601 timestamp: 'soon'"),
    ],
)
def test_sli_problems_are_found_in_sql(tmp_path, change, expected):
    found = problems(dataset(tmp_path, sli=[{**GOOD_BUCKET, **change}]))
    assert any(p.startswith(expected) for p in found), found


def test_duplicate_sli_bucket(tmp_path):
    found = problems(dataset(tmp_path, sli=[GOOD_BUCKET, GOOD_BUCKET]))
    assert found == ["sli.csv:3:timestamp: duplicate bucket for this slo and timestamp: already on an earlier row"]


def test_many_bad_rows_are_listed_with_a_count_of_the_rest(tmp_path):
    bad = [{**GOOD_BUCKET, "timestamp": f"2026-10-01T10:{m:02d}:00Z", "good": "x"} for m in range(50)]
    found = problems(dataset(tmp_path, sli=bad))
    assert len([p for p in found if p.startswith("sli.csv:") and "not a whole number" in p]) == 21
    assert "sli.csv::good: not a whole number ≥ 0: 30 more rows like the ones above" in found


def test_missing_columns_are_problems_but_no_file_is_required(tmp_path):
    write_csv(tmp_path / "incidents.csv", ["incident_id", "title"], [{"incident_id": "I1"}])
    assert problems(tmp_path) == [
        "incidents.csv:1:service: required column is missing",
        "incidents.csv:1:severity: required column is missing",
        "incidents.csv:1:started_at: required column is missing",
    ]


def test_a_data_directory_with_nothing_in_it_says_what_it_expected(tmp_path):
    (tmp_path / "data").mkdir()
    found = problems(tmp_path / "data")
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'data'}::: no data found: expected any of incidents.csv, sli.csv")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file: expected a header row"),
        (b"\x00\x01\x02binary", "binary file, expected CSV text"),
        ("incident_id,service\nI1,caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_unreadable_files(tmp_path, content, expected):
    dataset(tmp_path)
    (tmp_path / "incidents.csv").write_bytes(content)
    found = problems(tmp_path)
    assert any(p.startswith(f"incidents.csv::: {expected}") for p in found), found


def test_every_problem_in_every_file_is_listed(tmp_path):
    found = problems(
        dataset(
            tmp_path,
            incidents=[{**GOOD_INCIDENT, "severity": "P1"}],
            sli=[{**GOOD_BUCKET, "good": "many"}],
            slos=[slo_document("api-availability", "api", 1.5)],
        )
    )
    assert {p.split(":")[0] for p in found} == {"incidents.csv", "sli.csv", "slos.yaml"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: [unclosed\n", "slos.yaml::: invalid YAML"),
        ("apiVersion: openslo/v9\nkind: SLO\n", "slos.yaml:1:apiVersion: unsupported version 'openslo/v9'"),
        ("apiVersion: openslo/v1\nkind: Banana\n", "slos.yaml:1:kind: unsupported openslo/v1 kind 'Banana'"),
        (
            "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec: {service: api, objectives: []}\n",
            "slos.yaml:1:spec.objectives: SLO has no objectives",
        ),
        (
            SLO_HEAD + "spec: {service: api, objectives: [{target: 99.9}]}\n",
            "slos.yaml:1:spec.objectives[0].target: 99.9 is out of range",
        ),
        (
            SLO_HEAD + "spec: {service: api, objectives: [{targetPercent: 0}]}\n",
            "slos.yaml:1:spec.objectives[0].targetPercent: 0 is out of range",
        ),
        (
            "---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec: {objectives: [{target: 0.9}]}\n",
            "slos.yaml:1:spec.service: required field is missing",
        ),
    ],
)
def test_slo_spec_problems(tmp_path, text, expected):
    dataset(tmp_path)
    (tmp_path / "slos.yaml").write_text(text, encoding="utf-8")
    found = problems(tmp_path)
    assert any(p.startswith(expected) for p in found), found


def test_parquet_with_wrong_types(tmp_path):
    import duckdb

    dataset(tmp_path)
    (tmp_path / "sli.csv").unlink()
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT TIMESTAMPTZ '2026-10-01 10:00:00+00' AS timestamp, 'api-availability' AS slo, "
            f"'plenty' AS good, 100 AS total) TO '{tmp_path / 'sli.parquet'}' (FORMAT parquet)"
        )
    assert problems(tmp_path) == ["sli.parquet:1:good: not a whole number ≥ 0: 'plenty'"]


def _typed_parquet(directory: Path, rows: str) -> Path:
    """sli.parquet with typed columns (the fast path), from a VALUES list of (timestamp, slo, good, total)."""
    import duckdb

    (directory / "sli.csv").unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"COPY (SELECT ts::TIMESTAMPTZ AS timestamp, slo, good::BIGINT AS good, total::BIGINT AS total "
            f"FROM (VALUES {rows}) v(ts, slo, good, total)) TO '{directory / 'sli.parquet'}' (FORMAT parquet)"
        )
    return directory / "sli.parquet"


@pytest.mark.parametrize(
    "stamps",
    [
        # the same minute of the day on other days, and the last minute of a day: no duplicate
        ["2026-10-01T10:00:00Z", "2026-10-02T10:00:00Z", "2026-10-01T23:59:00Z", "2026-10-02T00:00:00Z"],
        # off the minute grid, a second apart: no duplicate
        ["2026-10-01T10:00:00Z", "2026-10-01T10:00:01Z", "2026-10-01T10:00:59Z"],
    ],
)
def test_typed_parquet_without_duplicates_is_staged_whole(tmp_path, stamps):
    dataset(tmp_path)
    values = ", ".join(f"('{t}', 'api-availability', 1, 4)" for t in stamps)
    _typed_parquet(tmp_path, values)
    staged = validate_directory(tmp_path)
    kind = staged.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'staged_sli'")
    assert kind.fetchall() == [("VIEW",)] and staged.row_counts["sli"] == len(stamps)


def test_typed_parquet_is_staged_without_copying_and_equals_the_csv_path(tmp_path):
    rows = [
        dict(timestamp="2026-10-01T10:00:00Z", slo="api-availability", good=99, total=100),
        dict(timestamp="2026-10-01T12:01:00+02:00", slo="api-availability", good=0, total=0),
        dict(timestamp="2026-10-01T10:02:00Z", slo="api-availability", good=7, total=7),
    ]
    csv_dir, parquet_dir = tmp_path / "csv", tmp_path / "parquet"
    csv_dir.mkdir(), parquet_dir.mkdir()
    via_csv = validate_directory(dataset(csv_dir, sli=rows))
    dataset(parquet_dir)
    values = ", ".join(f"('{r['timestamp']}', '{r['slo']}', {r['good']}, {r['total']})" for r in rows)
    _typed_parquet(parquet_dir, values)
    via_parquet = validate_directory(parquet_dir)
    kind = via_parquet.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'staged_sli'")
    assert kind.fetchall() == [("VIEW",)]  # streamed from the file at load time
    query = 'SELECT "timestamp", slo, good, total FROM staged_sli ORDER BY ALL'
    assert via_parquet.con.execute(query).fetchall() == via_csv.con.execute(query).fetchall()
    assert via_parquet.row_counts["sli"] == 3


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            "('2026-10-01 10:00:00+00', 'api-availability', 5, 4)",
            ["sli.parquet:1:good: good is greater than total: '5 > 4'"],
        ),
        (
            "('2026-10-01 10:00:00+00', 'api-availability', 1, 4), "
            "('2026-10-01 10:00:00+00', 'api-availability', 2, 4)",
            ["sli.parquet:2:timestamp: duplicate bucket for this slo and timestamp: already on an earlier row"],
        ),
        (  # off the minute grid: counted by key hashes, not the minutes' bitmap
            "('2026-10-01 10:00:30+00', 'api-availability', 1, 4), "
            "('2026-10-01 10:00:00+00', 'api-availability', 1, 4), "
            "('2026-10-01 10:00:30+00', 'api-availability', 2, 4)",
            ["sli.parquet:3:timestamp: duplicate bucket for this slo and timestamp: already on an earlier row"],
        ),
        (  # before 1970: the same
            "('1969-12-31 23:59:00+00', 'api-availability', 1, 4), "
            "('1969-12-31 23:59:00+00', 'api-availability', 2, 4)",
            ["sli.parquet:2:timestamp: duplicate bucket for this slo and timestamp: already on an earlier row"],
        ),
        (
            "('2026-10-01 10:00:00+00', 'nope', 1, 4)",
            ["sli.parquet:1:slo: unknown SLO: not defined in the SLO specs: 'nope'"],
        ),
        ("('2026-10-01 10:00:00+00', 'api-availability', -1, 4)", ["sli.parquet:1:good: not a whole number ≥ 0: '-1'"]),
        ("(NULL, 'api-availability', 1, 4)", ["sli.parquet:1:timestamp: required value is empty"]),
    ],
)
def test_problems_in_typed_parquet_are_listed_with_their_rows(tmp_path, values, expected):
    dataset(tmp_path)
    _typed_parquet(tmp_path, values)
    assert problems(tmp_path) == expected


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_input_exits_2_and_leaves_the_warehouse_as_it_was(tmp_path):
    workbench = make_workbench(tmp_path, {"api": "platform"})
    good = dataset(tmp_path / "good")
    assert run_cli(tmp_path, "ingest", "--data", str(good)).returncode == 0
    before = _digest(workbench.warehouse_path)
    bad = dataset(tmp_path / "bad", incidents=[{**GOOD_INCIDENT, "incident_id": "I2", "started_at": "nope"}])
    result = run_cli(tmp_path, "ingest", "--data", str(bad))
    assert result.returncode == 2
    assert "incidents.csv:2:started_at: not an ISO 8601 timestamp: 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(workbench.warehouse_path) == before
    result = run_cli(tmp_path, "validate", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("1 problem(s) found; nothing was written.")


# ---- one rule table, two backends -------------------------------------------------------------

_VALID_TEXT = {
    "text": "a",
    "timestamp": "2026-10-01T10:00:00Z",
    "date": "2026-10-01",
    "count": "9",
    "number": "1",
    "bool": "true",
    "object": '{"team": "a"}',
    "rrule": "FREQ=WEEKLY;BYDAY=SU",
}


def _valid_row(schema) -> dict[str, str]:
    row = {c.name: c.choices[0] if c.choices else _VALID_TEXT[c.type] for c in schema.columns}
    for ordering in schema.orderings:  # strictly ordered: an hour either side of the other times
        if ordering.strict:
            row[ordering.earlier], row[ordering.later] = "2026-10-01T09:00:00Z", "2026-10-01T11:00:00Z"
    return row


def _every_rule():
    from srelib.ingest.rules import rules
    from srelib.ingest.schemas import TABLES

    return [
        pytest.param(schema, rule, id=f"{schema.name}:{rule.column}:{rule.kind}")
        for schema in TABLES.values()
        for rule in rules(schema)
    ]


@pytest.fixture(scope="module")
def staging():
    """One staging connection for the rule-by-rule tests: each replaces the table it checks."""
    from srelib.ingest.validate import staging_connection

    con = staging_connection()
    yield con
    con.close()


@pytest.mark.parametrize(("schema", "rule"), _every_rule())
def test_the_pandas_and_sql_backends_report_each_rule_with_the_same_problems(schema, rule, staging):
    """Every rule in the table, broken by its own example rows, gives the same problems whether the
    rows are checked in pandas (light tables) or in DuckDB's SQL (heavy tables)."""
    import pandas as pd

    from srelib.ingest.validate import check_with_pandas, check_with_sql, stage_text

    rows = [{**_valid_row(schema), **change} for change in rule.example]
    frame = pd.DataFrame(rows, dtype="object").assign(_file="t.csv", _row=range(2, len(rows) + 2))
    slos = frozenset({"a"})
    con = staging
    by_pandas = check_with_pandas(con, schema, frame.copy(), slos=slos)
    stage_text(con, schema, frame, append=False)
    by_sql = check_with_sql(con, schema, slos)
    assert by_pandas, f"the example rows of {rule.kind!r} break no rule"
    assert all(p.message.startswith(rule.kind) for p in by_pandas), by_pandas  # this rule's problems only
    assert sorted(map(str, by_sql)) == sorted(map(str, by_pandas))
