"""Vendor exports → canonical rows; problems are reported in the vendor's own file, row and column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srelib.errors import InputError
from srelib.ingest.sources import ADAPTERS, load_config, read_sources
from srelib.ingest.sources.base import read_records, to_iso
from srelib.ingest.validate import validate_directory
from tests.conftest import INCIDENT_COLUMNS, make_workbench, run_cli, slo_document, write_csv, write_slos


def _data_without_incidents(directory: Path) -> Path:
    write_csv(
        directory / "sli.csv",
        ["timestamp", "slo", "good", "total"],
        [dict(timestamp="2026-10-01T10:00:00Z", slo="checkout-availability", good=9, total=10)],
    )
    write_slos(directory, [slo_document("checkout-availability", "checkout", 0.99)])
    return directory


def _sources(root: Path, *entries: dict) -> list:
    path = root / "params" / "sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"sources": list(entries)}), encoding="utf-8")
    return read_sources(load_config(path), root)


PAGERDUTY = {
    "data": [
        {
            "id": "Q1ABC",
            "incident_number": 101,
            "description": "Checkout errors",
            "status": "resolved",
            "urgency": "high",
            "priority_name": "P1",
            "created_at": "2026-10-03T10:00:00Z",
            "resolved_at": "2026-10-03T11:30:00Z",
            "seconds_to_first_ack": 300,
            "seconds_to_resolve": 5400,
            "service_name": "checkout",
            "team_name": "payments",
            "major": True,
        },
        {
            "id": "Q2DEF",
            "incident_number": 102,
            "description": "Slow search",
            "status": "triggered",
            "urgency": "low",
            "priority_name": None,
            "created_at": "2026-10-04T08:00:00+02:00",
            "resolved_at": None,
            "seconds_to_first_ack": None,
            "seconds_to_resolve": None,
            "service_name": "search",
            "team_name": "search",
            "major": False,
        },
    ]
}


def test_pagerduty_json_becomes_canonical_incidents(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "pd.json").write_text(json.dumps(PAGERDUTY))
    extracts = _sources(tmp_path, {"kind": "pagerduty", "path": "exports/pd.json", "major_means_customer_impact": True})
    dataset = validate_directory(_data_without_incidents(tmp_path / "data"), extracts)
    rows = dataset.con.execute(
        "SELECT incident_id, title, service, team, severity, started_at, acknowledged_at, resolved_at, "
        "customer_impact FROM staged_incidents ORDER BY incident_id"
    ).fetchall()
    assert [r[:5] for r in rows] == [
        ("Q1ABC", "Checkout errors", "checkout", "payments", "SEV1"),
        ("Q2DEF", "Slow search", "search", "search", "SEV4"),
    ]
    first, second = rows
    assert (str(first[5]), str(first[6]), str(first[7]), first[8]) == (
        "2026-10-03 10:00:00",
        "2026-10-03 10:05:00",
        "2026-10-03 11:30:00",
        True,
    )
    assert (str(second[5]), second[7]) == ("2026-10-04 06:00:00", None)  # +02:00 stored as UTC; still open


def test_pagerduty_problems_name_the_vendor_row_and_column(tmp_path):
    bad = {"data": [dict(PAGERDUTY["data"][0], priority_name="P9", created_at="last tuesday")]}
    (tmp_path / "pd.json").write_text(json.dumps(bad))
    extracts = _sources(tmp_path, {"kind": "pagerduty", "path": "pd.json"})
    with pytest.raises(InputError) as caught:
        validate_directory(_data_without_incidents(tmp_path / "data"), extracts)
    found = [str(p) for p in caught.value.problems]
    assert "pd.json:1:created_at: not an ISO 8601 timestamp: 'last tuesday'" in found
    assert any(p.startswith("pd.json:1:priority_name: unknown value") and "'P9'" in p for p in found)


def test_opsgenie_export_with_epoch_milliseconds(tmp_path):
    alerts = [
        {
            "tinyId": "42",
            "message": "DB failover",
            "status": "closed",
            "priority": "P2",
            "createdAt": 1790000000000,
            "teams": [{"name": "payments"}],
            "tags": ["service:ledger"],
            "report": {"ackTime": 120000, "closeTime": 3600000},
        }
    ]
    (tmp_path / "og.json").write_text(json.dumps(alerts))
    dataset = validate_directory(
        _data_without_incidents(tmp_path / "data"), _sources(tmp_path, {"kind": "opsgenie", "path": "og.json"})
    )
    row = dataset.con.execute(
        "SELECT incident_id, service, team, severity, started_at, acknowledged_at, resolved_at FROM staged_incidents"
    ).fetchall()[0]
    assert row[:4] == ("42", "ledger", "payments", "SEV2")
    assert [str(t) for t in row[4:]] == ["2026-09-21 14:13:20", "2026-09-21 14:15:20", "2026-09-21 15:13:20"]


def test_generic_csv_with_column_map_format_and_time_zone(tmp_path):
    write_csv(
        tmp_path / "jira.csv",
        ["Key", "Summary", "Component", "Priority", "Created", "Resolved"],
        [
            dict(
                Key="OPS-1",
                Summary="Login down",
                Component="auth",
                Priority="Highest",
                Created="03/Oct/26 9:15 AM",
                Resolved="03/Oct/26 10:45 AM",
            ),
            dict(Key="OPS-2", Summary="Typo", Component="auth", Priority="Low", Created="04/Oct/26 2:00 PM"),
        ],
    )
    extracts = _sources(
        tmp_path,
        {
            "kind": "generic",
            "path": "jira.csv",
            "table": "incidents",
            "columns": {
                "incident_id": "Key",
                "title": "Summary",
                "service": "Component",
                "severity": "Priority",
                "started_at": "Created",
                "resolved_at": "Resolved",
            },
            "values": {"severity": {"Highest": "SEV1", "High": "SEV2", "Medium": "SEV3", "Low": "SEV4"}},
            "timestamp_format": "%d/%b/%y %I:%M %p",
            "timezone": "Europe/Berlin",
        },
    )
    dataset = validate_directory(_data_without_incidents(tmp_path / "data"), extracts)
    rows = dataset.con.execute(
        "SELECT incident_id, severity, started_at, resolved_at FROM staged_incidents ORDER BY 1"
    ).fetchall()
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        ("OPS-1", "SEV1", "2026-10-03 07:15:00"),
        ("OPS-2", "SEV4", "2026-10-04 12:00:00"),
    ]
    assert rows[1][3] is None


def test_generic_naive_timestamps_without_a_time_zone_are_reported(tmp_path):
    write_csv(
        tmp_path / "sn.csv",
        ["number", "short_description", "cmdb_ci", "priority", "opened_at"],
        [dict(number="INC001", short_description="x", cmdb_ci="api", priority="SEV3", opened_at="2026-10-03 09:15:00")],
    )
    extracts = _sources(
        tmp_path,
        {
            "kind": "generic",
            "path": "sn.csv",
            "columns": {
                "incident_id": "number",
                "title": "short_description",
                "service": "cmdb_ci",
                "severity": "priority",
                "started_at": "opened_at",
            },
        },
    )
    with pytest.raises(InputError) as caught:
        validate_directory(_data_without_incidents(tmp_path / "data"), extracts)
    assert [str(p) for p in caught.value.problems] == [
        "sn.csv:2:opened_at: timestamp has no UTC offset (write 2026-10-03T14:05:00Z or +02:00): '2026-10-03 09:15:00'"
    ]


def test_bad_sources_file(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - kind: zendesk\n    path: x.csv\n  - path: y.csv\n")
    with pytest.raises(InputError) as caught:
        load_config(path)
    found = [str(p) for p in caught.value.problems]
    assert any("sources[0].kind: unknown kind 'zendesk'" in p for p in found)
    assert any("sources[1].kind" in p and "required" in p.lower() for p in found)


def test_ingest_reads_params_sources_yaml(tmp_path):
    make_workbench(tmp_path, {"checkout": "payments", "search": "search"})
    (tmp_path / "pd.json").write_text(json.dumps(PAGERDUTY))
    (tmp_path / "params" / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [{"kind": "pagerduty", "path": "pd.json"}]})
    )
    data = _data_without_incidents(tmp_path / "data")
    result = run_cli(tmp_path, "ingest", "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert "2 incidents" in result.stdout


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(max_size=40),
    st.one_of(st.none(), st.sampled_from(["%d/%m/%Y", "%H:%M", "%Y"])),
    st.one_of(st.none(), st.just("Europe/Berlin")),
)
def test_timestamp_conversion_never_raises(value, fmt, tz):
    result = to_iso(value, fmt, tz)
    assert result is None or isinstance(result, str)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_hostile_files_give_problems_not_crashes(tmp_path, content):
    for name in ("x.csv", "x.json", "x.parquet", "x.csv.gz", "x.json.gz"):
        (tmp_path / name).write_bytes(content)
        found = read_records(tmp_path / name, name)
        assert len(found.records) == len(found.rows)
        assert all(p.file == name for p in found.problems)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "created_at", "priority_name", "service_name", "status", "seconds_to_first_ack"]),
            st.one_of(st.none(), st.text(max_size=12), st.integers(), st.floats()),
            max_size=6,
        ),
        max_size=5,
    )
)
def test_random_pagerduty_records_are_validated_not_crashed(tmp_path, records):
    (tmp_path / "pd.json").write_text(json.dumps(records))
    extracts = _sources(tmp_path, {"kind": "pagerduty", "path": "pd.json"})
    data = _data_without_incidents(tmp_path / "data")
    try:
        validate_directory(data, extracts)
    except InputError as exc:
        assert all(p.file in ("pd.json", "sli.csv", "slos.yaml", "incidents.csv") for p in exc.problems)


def test_every_example_in_the_data_sources_guide_is_a_valid_sources_file(tmp_path):
    import re

    guide = (Path(__file__).resolve().parents[1] / "docs" / "data-sources.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", guide, re.S)
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        path = tmp_path / f"sources-{i}.yaml"
        path.write_text(block)
        configs = load_config(path)
        assert configs and all(c.kind in ADAPTERS for c in configs)
    assert {c.kind for i in range(len(blocks)) for c in load_config(tmp_path / f"sources-{i}.yaml")} == set(ADAPTERS)


def test_focus_export_becomes_costs(tmp_path):
    columns = [
        "BillingPeriodStart",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BilledCost",
        "EffectiveCost",
        "BillingCurrency",
        "ServiceName",
        "ServiceCategory",
        "SubAccountName",
        "Tags",
        "ProviderName",
    ]
    write_csv(
        tmp_path / "focus-2026-10.csv",
        columns,
        [
            dict(
                BillingPeriodStart="2026-10-01T00:00:00Z",
                ChargePeriodStart="2026-10-02T00:00:00Z",
                ChargePeriodEnd="2026-10-03T00:00:00Z",
                BilledCost="12.50",
                EffectiveCost="10.00",
                BillingCurrency="USD",
                ServiceName="Amazon EC2",
                ServiceCategory="Compute",
                SubAccountName="payments-prod",
                Tags='{"team": "payments"}',
                ProviderName="AWS",
            ),
            dict(
                BillingPeriodStart="2026-10-01T00:00:00Z",
                ChargePeriodStart="2026-10-03T00:00:00Z",
                ChargePeriodEnd="2026-10-02T00:00:00Z",
                BilledCost="1",
                EffectiveCost="cheap",
                BillingCurrency="USD",
                ServiceName="Amazon S3",
                ServiceCategory="Storage",
                SubAccountName="payments-prod",
                Tags="{}",
                ProviderName="AWS",
            ),
        ],
    )
    extracts = _sources(tmp_path, {"kind": "focus", "path": "focus-2026-10.csv"})
    with pytest.raises(InputError) as caught:
        validate_directory(_with_incidents(tmp_path), extracts)
    assert sorted(str(p) for p in caught.value.problems) == [
        "focus-2026-10.csv:3:ChargePeriodEnd: ChargePeriodEnd is before ChargePeriodStart",
        "focus-2026-10.csv:3:EffectiveCost: not a number: 'cheap'",
    ]


def _with_incidents(root: Path) -> Path:

    data = _data_without_incidents(root / "data")
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, [])
    (data / "incidents.csv").write_text(
        ",".join(INCIDENT_COLUMNS) + "\nI1,t,checkout,,SEV3,2026-10-01T00:00:00Z,,,,,,,\n"
    )
    return data


def test_valid_focus_rows_are_staged_with_their_costs(tmp_path):
    columns = ["ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "EffectiveCost", "ServiceName", "Tags", "x"]
    write_csv(
        tmp_path / "focus.csv",
        columns,
        [
            dict(
                ChargePeriodStart="2026-10-02T00:00:00Z",
                ChargePeriodEnd="2026-10-03T00:00:00Z",
                BilledCost="12.5",
                EffectiveCost="10",
                ServiceName="Amazon EC2",
                Tags='{"team": "payments"}',
                x="ignored",
            )
        ],
    )
    dataset = validate_directory(_with_incidents(tmp_path), _sources(tmp_path, {"kind": "focus", "path": "focus.csv"}))
    rows = dataset.con.execute('SELECT "ChargePeriodStart", "EffectiveCost", "BilledCost", "Tags" FROM staged_costs')
    assert [(str(r[0]), r[1], r[2], r[3]) for r in rows.fetchall()] == [
        ("2026-10-02 00:00:00", 10.0, 12.5, '{"team": "payments"}')
    ]


def test_a_generic_source_with_a_table_that_does_not_exist_is_a_problem(tmp_path):
    write_csv(tmp_path / "x.csv", ["a"], [{"a": "1"}])
    extracts = _sources(tmp_path, {"kind": "generic", "path": "x.csv", "table": "bogus"})
    with pytest.raises(InputError) as caught:
        validate_directory(_data_without_incidents(tmp_path / "data"), extracts)
    assert [str(p) for p in caught.value.problems] == [
        "x.csv::table: Value error, 'bogus' is not a table a generic source can fill"
    ]


def test_problems_an_adapter_finds_are_capped_per_kind(tmp_path):
    alerts = [{"tinyId": str(i), "message": "m", "priority": "P3", "createdAt": 1790000000000} for i in range(30)]
    (tmp_path / "og.json").write_text(json.dumps(alerts))
    with pytest.raises(InputError) as caught:
        validate_directory(
            _data_without_incidents(tmp_path / "data"), _sources(tmp_path, {"kind": "opsgenie", "path": "og.json"})
        )
    found = [str(p) for p in caught.value.problems]
    assert len(found) == 21 and found[0].startswith("og.json:1:entity, tags: no service:")
    assert found[-1].startswith("og.json::entity, tags: no service:") and found[-1].endswith(
        ": 10 more rows like the ones above"
    )


def test_control_characters_in_names_and_values_never_reach_the_terminal(tmp_path):
    make_workbench(tmp_path, {"checkout": "payments"})
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "\x1b]0;owned\x07\x1b[31m.json").write_text(
        json.dumps([{"id": "\x1b[2J", "created_at": "\x1b[31mnow", "urgency": "high", "service_name": "x"}])
    )
    (tmp_path / "params" / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [{"kind": "pagerduty", "path": "exports"}]})
    )
    (tmp_path / "data").mkdir()
    result = run_cli(tmp_path, "validate", "data")
    assert result.returncode == 2
    assert "\x1b" not in result.stderr + result.stdout and "\x07" not in result.stderr
    assert "exports/\\x1b]0;owned\\x07\\x1b[31m.json:1:created_at: not an ISO 8601 timestamp" in result.stderr


def test_a_git_lfs_pointer_in_place_of_the_slo_specs_is_named(tmp_path):
    (tmp_path / "slos.yaml").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n")
    with pytest.raises(InputError) as caught:
        validate_directory(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "slos.yaml::: a Git LFS pointer, not the data: fetch the real file (git lfs pull) and try again"
    ]


def test_options_a_source_does_not_use_are_refused(tmp_path):
    (tmp_path / "specs").mkdir()
    write_slos(tmp_path / "specs", [slo_document("checkout-availability", "checkout", 0.99)])
    extracts = _sources(tmp_path, {"kind": "openslo", "path": "specs", "timezone": "UTC"})
    assert [str(p) for e in extracts for p in e.problems] == [
        "specs::timezone: unknown option for an openslo source (it takes none besides path and name)"
    ]


def test_a_duration_too_large_for_any_calendar_is_a_problem_not_a_crash(tmp_path):
    record = dict(PAGERDUTY["data"][0], seconds_to_first_ack=1e308)
    (tmp_path / "pd.json").write_text(json.dumps([record]))
    extracts = _sources(tmp_path, {"kind": "pagerduty", "path": "pd.json"})
    assert [str(p) for e in extracts for p in e.problems] == [
        "pd.json:1:seconds_to_first_ack: too large: it puts the acknowledgement past the year 9999: '1e+308'"
    ]


@pytest.mark.parametrize("zone", ["Europe", "Mars/Olympus_Mons"])
def test_a_timezone_option_that_is_no_zone_is_a_problem(tmp_path, zone):
    (tmp_path / "pd.json").write_text(json.dumps(PAGERDUTY))
    extracts = _sources(tmp_path, {"kind": "pagerduty", "path": "pd.json", "timezone": zone})
    assert [str(p) for e in extracts for p in e.problems] == [
        f"pd.json::timezone: Value error, unknown time zone {zone!r} (an IANA name such as Europe/Berlin)"
    ]


def test_a_json_export_with_a_number_python_will_not_read_is_a_problem(tmp_path):
    (tmp_path / "pd.json").write_text('[{"id": ' + "9" * 5000 + "}]")
    extracts = _sources(tmp_path, {"kind": "pagerduty", "path": "pd.json"})
    assert [p.message.split(":")[0] for e in extracts for p in e.problems] == ["invalid JSON"]
