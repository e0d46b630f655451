"""PagerDuty and Opsgenie exports as the vendors deliver them → canonical incidents, or problems.

The fixtures under ``tests/fixtures/`` follow the vendors' documented answer shapes with values of
our own (field names and nesting as documented; see each test for its source):

- ``pagerduty/analytics_raw_incidents.json``, ``analytics_raw_incident.json``: PagerDuty's REST API
  reference (github.com/PagerDuty/api-schema, ``reference/REST/openapiv3.json``): the responses of
  ``POST /analytics/raw/incidents`` and ``GET /analytics/raw/incidents/{id}``, ``AnalyticsRawIncident``;
- ``pagerduty/rest_incidents.json``, ``rest_incident.json``: the same reference, ``GET /incidents``
  and ``GET /incidents/{id}`` (``Incident``); ``rest_incident.json`` leaves out ``resolved_at``, as
  answers from before that field existed do;
- ``pagerduty/advanced_reporting_incidents.csv``: PagerDuty's knowledge base, "Reporting" →
  "Exporting Advanced Reporting Data to CSV" (the column list), with ``resolved_on`` and ``urgency``
  and the ``+00:00``-style offsets as seen in github.com/jeremiahishere/pagerduty_report_scraper
  (``db/schema.rb``, ``lib/pagerduty_report_scraper/incident_collection.rb``);
- ``pagerduty/basic_report_incidents.csv``: the same page's basic report columns (``#``, Service,
  Opened On, Resolved On, ...); the spelling of its last columns is our guess;
- ``opsgenie/alerts.json``, ``alert.json``: Opsgenie's OpenAPI definitions
  (github.com/opsgenie/opsgenie-oas, ``definitions/alert.yaml``: ``BaseAlert`` in lists, ``Alert``
  with ``entity`` for one alert);
- ``opsgenie/incidents.json``, ``incident.json``: ``GET /v1/incidents`` answers as shown in
  github.com/port-labs/port-docs (Opsgenie integration page, "Incident response data") and typed in
  github.com/K-Phoen/backstage-plugin-opsgenie (``src/types.ts``): ``impactStartDate``,
  ``impactEndDate`` (once impact ended), ``impactedServices`` (service IDs), ``ownerTeam``,
  ``responders``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srelib.errors import InputError
from srelib.ingest.sources import load_config, read_sources
from srelib.ingest.validate import validate_directory
from tests.conftest import CliResult, make_workbench, run_cli

FIXTURES = Path(__file__).parent / "fixtures"
COLUMNS = (
    "incident_id, title, service, team, severity, started_at, detected_at, acknowledged_at, "
    "mitigated_at, resolved_at, customer_impact"
)
NO_OFFSET = "timestamp has no UTC offset (write 2026-10-03T14:05:00Z or +02:00)"
SEVERITIES = "unknown value: expected one of SEV1, SEV2, SEV3, SEV4, SEV5"


def _extracts(root: Path, source: dict) -> list:
    path = root / "params" / "sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    return read_sources(load_config(path), root)


def _source(root: Path, kind: str, fixture: str, name: str, **options: object) -> dict:
    """A source reading a copy of ``fixture`` (or of an edited body) that problems call ``name``."""
    target = root / "exports" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / fixture, target)
    return {"kind": kind, "path": f"exports/{name}", "name": name, **options}


def _edited(root: Path, kind: str, fixture: str, name: str, edit, **options: object) -> dict:
    """A source reading ``fixture``'s JSON after ``edit(body)``."""
    body = json.loads((FIXTURES / fixture).read_text())
    edit(body)
    target = root / "exports" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(body))
    return {"kind": kind, "path": f"exports/{name}", "name": name, **options}


def _rows(root: Path, source: dict) -> list[tuple]:
    (root / "data").mkdir(exist_ok=True)
    dataset = validate_directory(root / "data", _extracts(root, source))
    rows = dataset.con.execute(f"SELECT {COLUMNS} FROM staged_incidents ORDER BY incident_id").fetchall()
    dataset.con.close()
    return [tuple(str(v) if hasattr(v, "isoformat") else v for v in row) for row in rows]


def _problems(root: Path, source: dict) -> list[str]:
    (root / "data").mkdir(exist_ok=True)
    with pytest.raises(InputError) as caught:
        validate_directory(root / "data", _extracts(root, source))
    return [str(p) for p in caught.value.problems]


# ---- PagerDuty: the Analytics API's raw incidents ------------------------------------------------


def test_pagerduty_analytics_answer_reads_times_in_its_time_zone(tmp_path):
    source = _source(
        tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", major_means_customer_impact=True
    )
    assert _rows(tmp_path, source) == [
        # resolved_at as given; acknowledged = created_at + seconds_to_first_ack
        ("Q1CHK01", "Checkout errors above 5%", "checkout", "payments", "SEV1", "2026-10-03 10:00:00", None,
         "2026-10-03 10:05:00", None, "2026-10-03 11:30:00", True),
        # no priority: severity from urgency; resolved_at empty: created_at + seconds_to_resolve
        ("Q2SRC02", "Search latency p99 over 2s", "search", None, "SEV4", "2026-10-04 08:00:00", None,
         "2026-10-04 08:02:00", None, "2026-10-04 08:40:00", False),
        # priority named as in PagerDuty's own examples (SEV-2); triggered: still open
        ("Q3LDG03", "Ledger replication lag", "ledger", "payments", "SEV2", "2026-10-05 23:30:00", None,
         None, None, None, False),
    ]  # fmt: skip


def test_pagerduty_answer_time_zone_wins_over_the_option_and_says_so(tmp_path):
    def pacific(body):
        body["time_zone"] = "America/Los_Angeles"

    source = _edited(
        tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", pacific, timezone="Europe/Berlin"
    )
    rows = _rows(tmp_path, source)
    assert [(r[0], r[5], r[7], r[9]) for r in rows] == [
        ("Q1CHK01", "2026-10-03 17:00:00", "2026-10-03 17:05:00", "2026-10-03 18:30:00"),  # PDT is UTC-7
        ("Q2SRC02", "2026-10-04 15:00:00", "2026-10-04 15:02:00", "2026-10-04 15:40:00"),
        ("Q3LDG03", "2026-10-06 06:30:00", None, None),
    ]
    extract = _extracts(tmp_path, source)[0]
    assert extract.notes == [
        "timestamps without an offset read in the answer's time_zone America/Los_Angeles, "
        "not in the timezone option Europe/Berlin"
    ]


def test_pagerduty_unknown_time_zone_in_the_answer_is_a_problem(tmp_path):
    def martian(body):
        body["time_zone"] = "Mars/Olympus_Mons"

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", martian)
    assert _problems(tmp_path, source) == [
        "pd.json::time_zone: unknown time zone 'Mars/Olympus_Mons' in the answer (an IANA name such as Etc/UTC)"
    ]


def test_pagerduty_answer_without_time_zone_uses_the_option_else_is_reported(tmp_path):
    def first_only_no_zone(body):
        del body["time_zone"]
        body["data"] = body["data"][:1]

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", first_only_no_zone)
    # Nothing computed from a time that is not known: no acknowledgement reported with a made-up value.
    assert _problems(tmp_path, source) == [
        f"pd.json:1:created_at: {NO_OFFSET}: '2026-10-03T10:00:00'",
        f"pd.json:1:resolved_at: {NO_OFFSET}: '2026-10-03T11:30:00'",
    ]
    rows = _rows(tmp_path, dict(source, timezone="Europe/Berlin"))
    assert [(r[0], r[5], r[7], r[9]) for r in rows] == [
        ("Q1CHK01", "2026-10-03 08:00:00", "2026-10-03 08:05:00", "2026-10-03 09:30:00")
    ]


def test_pagerduty_single_analytics_incident(tmp_path):
    source = _source(tmp_path, "pagerduty", "pagerduty/analytics_raw_incident.json", "pd.json")
    assert _rows(tmp_path, source) == [
        ("Q4PAY04", "Card payments declined", "checkout", "payments", "SEV1", "2026-10-07 14:00:00", None,
         "2026-10-07 14:00:45", None, "2026-10-07 14:20:00", None),
    ]  # fmt: skip


def test_pagerduty_severity_problem_names_the_column_it_came_from(tmp_path):
    def two_unknown(body):
        first, second = body["data"][:2]
        first["priority_name"] = "P9"
        second["urgency"] = "medium"  # no priority_name: the severity comes from urgency
        body["data"] = [first, second]

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", two_unknown)
    assert _problems(tmp_path, source) == [
        f"pd.json:1:priority_name: {SEVERITIES} (got 'P9')",
        f"pd.json:2:urgency: {SEVERITIES} (got 'medium')",
    ]


def test_pagerduty_computed_times_are_reported_under_the_seconds_they_came_from(tmp_path):
    def bad_seconds(body):
        first, second, third = (dict(r) for r in body["data"])
        first["seconds_to_first_ack"] = "abc"
        second["seconds_to_first_ack"] = -60
        third.update(status="resolved", seconds_to_resolve="soon")
        body["data"] = [first, second, third]

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", bad_seconds)
    assert _problems(tmp_path, source) == [
        "pd.json:1:seconds_to_first_ack: not a number of seconds: 'abc'",
        "pd.json:2:seconds_to_first_ack: negative, which puts the acknowledgement before created_at: '-60'",
        "pd.json:3:seconds_to_resolve: not a number of seconds: 'soon'",
    ]


def test_pagerduty_record_without_id_or_severity_is_a_problem_naming_its_row(tmp_path):
    def holes(body):
        body["data"][1].update(id=None, incident_number=None)
        body["data"][2].update(priority_name=None, urgency="")

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", holes)
    assert _problems(tmp_path, source) == [
        "pd.json:2:id: no incident id: this record has no id or incident_number",
        "pd.json:3:priority_name: no severity: priority_name and urgency are both empty",
    ]


# ---- PagerDuty: the REST API's incidents ---------------------------------------------------------


def test_pagerduty_rest_incidents(tmp_path):
    source = _source(tmp_path, "pagerduty", "pagerduty/rest_incidents.json", "pd.json")
    assert _rows(tmp_path, source) == [
        # resolved: PagerDuty empties acknowledgements, so no acknowledgement time
        ("PT4CHK1", "Checkout API 5xx", "checkout", "payments", "SEV1", "2026-10-10 09:15:00", None,
         None, None, "2026-10-10 10:00:00", None),
        # no priority: urgency; the first of two acknowledgements; still open
        ("PT4SRC2", "Search index stale", "search", None, "SEV4", "2026-10-11 14:00:00", None,
         "2026-10-11 14:05:00", None, None, None),
    ]  # fmt: skip


def test_pagerduty_single_rest_incident_without_resolved_at(tmp_path):
    source = _source(tmp_path, "pagerduty", "pagerduty/rest_incident.json", "pd.json")
    assert _rows(tmp_path, source) == [
        ("PT4LDG3", "Ledger writes failing", "ledger", "payments", "SEV2", "2026-10-12 22:40:00", None,
         None, None, "2026-10-12 23:25:00", None),
    ]  # fmt: skip


def test_pagerduty_rest_problems_name_the_nested_field(tmp_path):
    def nested(body):
        body["incidents"][0]["priority"]["summary"] = "Urgent"
        body["incidents"][1]["acknowledgements"][1]["at"] = "yesterday"
        body["incidents"][1]["created_at"] = "2026-10-11 soon"

    source = _edited(tmp_path, "pagerduty", "pagerduty/rest_incidents.json", "pd.json", nested)
    assert _problems(tmp_path, source) == [
        f"pd.json:1:priority.summary: {SEVERITIES} (got 'Urgent')",
        "pd.json:2:acknowledgements[1].at: not an ISO 8601 timestamp: 'yesterday'",
        "pd.json:2:created_at: not an ISO 8601 timestamp: '2026-10-11 soon'",
    ]


# ---- PagerDuty: the web app's incident CSV -------------------------------------------------------


def test_pagerduty_advanced_reporting_csv(tmp_path):
    source = _source(tmp_path, "pagerduty", "pagerduty/advanced_reporting_incidents.csv", "incidents.csv")
    assert _rows(tmp_path, source) == [
        ("Q1CHK05", "Checkout errors above 5%", "checkout", None, "SEV2", "2026-10-14 08:00:00", None,
         "2026-10-14 08:04:00", None, "2026-10-14 08:45:00", None),
        ("Q2SRC06", "Search latency p99 over 2s, EU", "search", None, "SEV4", "2026-10-15 01:10:00", None,
         None, None, "2026-10-15 01:40:00", None),
        ("Q3LDG07", "Ledger replication lag", "ledger", None, "SEV2", "2026-10-16 16:00:00", None,
         "2026-10-16 16:10:00", None, None, None),
    ]  # fmt: skip


def test_pagerduty_csv_problems_name_line_and_column(tmp_path):
    text = (FIXTURES / "pagerduty/advanced_reporting_incidents.csv").read_text()
    lines = text.splitlines()
    lines[2] = lines[2].replace(",,1800,", ",n/a,1800,")  # line 3: seconds_to_first_ack
    lines[3] = lines[3].replace("+02:00", "")  # line 4: no offset, no time zone
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "incidents.csv").write_text("\n".join(lines) + "\n")
    source = {"kind": "pagerduty", "path": "exports/incidents.csv", "name": "incidents.csv"}
    assert _problems(tmp_path, source) == [  # every problem at once: a bad row does not hide the others'
        "incidents.csv:3:seconds_to_first_ack: not a number of seconds: 'n/a'",
        f"incidents.csv:4:created_on: {NO_OFFSET}: '2026-10-16T18:00:00'",
    ]
    lines[2] = text.splitlines()[2]
    (tmp_path / "exports" / "incidents.csv").write_text("\n".join(lines) + "\n")
    assert _problems(tmp_path, source) == [f"incidents.csv:4:created_on: {NO_OFFSET}: '2026-10-16T18:00:00'"]
    rows = _rows(tmp_path, dict(source, timezone="Europe/Berlin"))  # CSV exports are in the account's zone
    assert [(r[0], r[5], r[7]) for r in rows][2] == ("Q3LDG07", "2026-10-16 16:00:00", "2026-10-16 16:10:00")


def test_pagerduty_basic_report_csv_is_refused_for_want_of_a_severity(tmp_path):
    source = _source(tmp_path, "pagerduty", "pagerduty/basic_report_incidents.csv", "basic.csv")
    assert _problems(tmp_path, source) == [
        "basic.csv::: no severity: this export has no priority_name, priority or urgency column (PagerDuty's "
        "basic Incidents report has none); export the Advanced Reporting CSV or the Analytics API answer, "
        "which carry urgency, or give this source a severity: (SEV1 to SEV5) for all its incidents"
    ]


def test_pagerduty_unknown_options_are_refused_by_name(tmp_path):
    source = _source(
        tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json",
        severity_mapp={"P1": "SEV1"}, timezone="Mars/Olympus_Mons",
    )  # fmt: skip
    assert _problems(tmp_path, source) == [
        "pd.json::severity_mapp: unknown option for a pagerduty source "
        "(known options: major_means_customer_impact, severity, severity_map, timezone)",
        "pd.json::timezone: Value error, unknown time zone 'Mars/Olympus_Mons' (an IANA name such as Europe/Berlin)",
    ]


# ---- Opsgenie: alerts ----------------------------------------------------------------------------

TEAM_ID = "bcd1b4d2-44b8-5a45-919c-1594804dce5f"
TEAM_NAMES = {TEAM_ID: "payments"}
CHECKOUT_ID = "7f77fe45-fabb-55e7-b336-3328f00e512c"
REPORTING_ID = "cd115105-65c9-58e0-9ae4-855759ab49a2"
NO_SERVICE = (
    "set `service:` for this source in params/sources.yaml, or `service_tag:` to the tag key that names the service"
)


def test_opsgenie_alerts(tmp_path):
    source = _source(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", team_names=TEAM_NAMES)
    assert _rows(tmp_path, source) == [
        # service from the tag service:checkout; team from the team responder; report.* in milliseconds
        ("1791", "Checkout 5xx above 2%", "checkout", "payments", "SEV2", "2026-10-03 10:00:00", None,
         "2026-10-03 10:02:30", None, "2026-10-03 11:00:00", None),
        # only a user responder: no team; still open
        ("1792", "Search p99 latency over 2s", "search", None, "SEV3", "2026-10-04 08:00:00", None,
         "2026-10-04 08:03:00", None, None, None),
    ]  # fmt: skip


def test_opsgenie_created_at_as_epoch_milliseconds(tmp_path):
    def epoch(body):
        body["data"][0]["createdAt"] = 1790000000000
        body["data"][1]["createdAt"] = "1790000000000"

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", epoch)
    rows = _rows(tmp_path, source)
    assert [(r[0], r[5], r[7], r[9]) for r in rows] == [
        ("1791", "2026-09-21 14:13:20", "2026-09-21 14:15:50", "2026-09-21 15:13:20"),
        ("1792", "2026-09-21 14:13:20", "2026-09-21 14:16:20", None),
    ]


def test_opsgenie_alert_without_a_service_says_where_it_looked_and_how_to_set_one(tmp_path):
    source = _source(tmp_path, "opsgenie", "opsgenie/alert.json", "og.json")
    assert _problems(tmp_path, source) == [
        f"og.json:1:entity, tags: no service: this alert has no entity and no service:<name> tag; {NO_SERVICE}"
    ]
    assert _rows(tmp_path, dict(source, service="postgres"))[0][:3] == ("1793", "Disk 95% full on db-3", "postgres")


def test_opsgenie_service_tag_option_names_the_tag(tmp_path):
    def component(body):
        body["data"]["tags"] = ["prod", "component:postgres"]

    source = _edited(tmp_path, "opsgenie", "opsgenie/alert.json", "og.json", component)
    assert _problems(tmp_path, source)[0].startswith("og.json:1:entity, tags: no service:")
    row = _rows(tmp_path, dict(source, service_tag="component"))[0]
    # a team responder's ID not in team_names is kept as is, like an unmapped service ID
    assert row == ("1793", "Disk 95% full on db-3", "postgres", TEAM_ID, "SEV4", "2026-10-05 02:00:00", None,
                   None, None, "2026-10-05 02:30:00", None)  # fmt: skip


def test_opsgenie_report_times_are_reported_under_report(tmp_path):
    def bad_report(body):
        body["data"][0]["report"]["ackTime"] = "soon"
        body["data"][1].update(status="closed", report={"closeTime": -5})

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", bad_report)
    assert _problems(tmp_path, source) == [
        "og.json:1:report.ackTime: not a number of milliseconds: 'soon'",
        "og.json:2:report.closeTime: negative, which puts the close before createdAt: '-5'",
    ]


def test_opsgenie_record_without_id_is_a_problem_naming_its_row(tmp_path):
    def anonymous(body):
        for key in ("tinyId", "id", "alias"):
            body["data"][1].pop(key)

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", anonymous)
    assert _problems(tmp_path, source) == ["og.json:2:tinyId: no incident id: this record has no tinyId, id or alias"]


def test_opsgenie_timezone_option_applies_to_offsetless_times(tmp_path):
    def local(body):
        body["data"][0]["createdAt"] = "2026-10-03 12:00:00"

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", local)
    assert _problems(tmp_path, source) == [f"og.json:1:createdAt: {NO_OFFSET}: '2026-10-03 12:00:00'"]
    rows = _rows(tmp_path, dict(source, timezone="Europe/Berlin"))
    assert (rows[0][5], rows[0][7], rows[0][9]) == ("2026-10-03 10:00:00", "2026-10-03 10:02:30", "2026-10-03 11:00:00")


# ---- Opsgenie: incidents -------------------------------------------------------------------------


def test_opsgenie_incidents_use_impact_start_end_and_impacted_services(tmp_path):
    source = _source(
        tmp_path, "opsgenie", "opsgenie/incidents.json", "og.json",
        service_names={CHECKOUT_ID: "checkout"}, team_names=TEAM_NAMES,
    )  # fmt: skip
    assert _rows(tmp_path, source) == [
        # impact began 9 minutes before Opsgenie knew: started = impact start, detected = createdAt;
        # the impact ended and the incident is resolved: mitigated = resolved = impactEndDate
        ("31", "Card payments declined", "checkout", "payments", "SEV1", "2026-10-07 13:58:00",
         "2026-10-07 14:07:00", None, "2026-10-07 15:02:00", "2026-10-07 15:02:00", None),
        # impact start = createdAt: no detection delay known; an unmapped service ID is kept as is
        ("32", "Reporting pipeline delayed", REPORTING_ID, None, "SEV3", "2026-10-08 09:00:00", None,
         None, None, None, None),
    ]  # fmt: skip


def test_opsgenie_single_incident_without_a_service(tmp_path):
    source = _source(tmp_path, "opsgenie", "opsgenie/incident.json", "og.json")
    assert _problems(tmp_path, source) == [
        "og.json:1:impactedServices, tags: no service: this incident has no impactedServices "
        f"and no service:<name> tag; {NO_SERVICE}"
    ]
    assert _rows(tmp_path, dict(source, service="status-page")) == [
        ("33", "Status page unreachable", "status-page", None, "SEV2", "2026-10-09 20:00:00", None,
         None, "2026-10-09 20:35:00", "2026-10-09 20:35:00", None),
    ]  # fmt: skip


def test_opsgenie_open_incident_whose_impact_ended_stays_open(tmp_path):
    def ended(body):
        body["data"][1]["impactEndDate"] = "2026-10-08T09:40:00.000Z"

    source = _edited(tmp_path, "opsgenie", "opsgenie/incidents.json", "og.json", ended)
    row = _rows(tmp_path, source)[1]
    assert (row[0], row[8], row[9]) == ("32", "2026-10-08 09:40:00", None)


def test_opsgenie_unknown_options_are_refused_by_name(tmp_path):
    source = _source(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", servce="checkout")
    assert _problems(tmp_path, source) == [
        "og.json::servce: unknown option for an opsgenie source "
        "(known options: service, service_names, service_tag, severity_map, team_names, timezone)"
    ]


# ---- end to end ----------------------------------------------------------------------------------


def test_ingest_reads_the_analytics_answer_and_a_bad_export_leaves_the_warehouse_untouched(tmp_path):
    make_workbench(tmp_path, {"checkout": "payments", "search": "search", "ledger": "payments"})
    (tmp_path / "data").mkdir()
    export = tmp_path / "exports" / "pagerduty.json"
    export.parent.mkdir()
    shutil.copyfile(FIXTURES / "pagerduty/analytics_raw_incidents.json", export)
    (tmp_path / "params" / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [{"kind": "pagerduty", "path": "exports/pagerduty.json"}]})
    )

    def ingest() -> CliResult:
        return run_cli(tmp_path, "ingest")

    result = ingest()
    assert result.returncode == 0, result.stderr
    assert "3 incidents" in result.stdout
    warehouse = tmp_path / "warehouse" / "test.duckdb"
    before = warehouse.read_bytes()

    body = json.loads(export.read_text())
    body["data"][1]["seconds_to_first_ack"] = "abc"
    export.write_text(json.dumps(body))
    result = ingest()
    assert result.returncode == 2
    assert "exports/pagerduty.json:2:seconds_to_first_ack: not a number of seconds: 'abc'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert warehouse.read_bytes() == before


# ---- numbers and times out of range --------------------------------------------------------------

NOT_A_TIMESTAMP = "not a timestamp (ISO 8601 or epoch milliseconds)"


def test_opsgenie_epoch_milliseconds_out_of_range_are_problems_not_tracebacks(tmp_path):
    values = [10**20, "99999999999999999999", 1e16, 1e300, 10**400, "²²²"]

    def huge(body):
        body["data"] = [dict(body["data"][0], tinyId=str(i), createdAt=v) for i, v in enumerate(values, 1)]

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", huge)
    assert _problems(tmp_path, source) == [
        f"og.json:1:createdAt: {NOT_A_TIMESTAMP}: '100000000000000000000'",
        f"og.json:2:createdAt: {NOT_A_TIMESTAMP}: '99999999999999999999'",
        f"og.json:3:createdAt: {NOT_A_TIMESTAMP}: '1e+16'",
        f"og.json:4:createdAt: {NOT_A_TIMESTAMP}: '1e+300'",
        f"og.json:5:createdAt: {NOT_A_TIMESTAMP}: '{10**400}'",
        # a digit, but not an ASCII one: not epoch milliseconds, so validation reports it as text
        "og.json:6:createdAt: not an ISO 8601 timestamp: '²²²'",
    ]


@pytest.mark.parametrize("column", ["impactStartDate", "acknowledgedAt", "impactEndDate", "closedAt"])
def test_opsgenie_every_epoch_time_out_of_range_is_a_problem_under_its_column(tmp_path, column):
    def huge(body):
        body["data"][0][column] = "99999999999999999999"
        body["data"] = body["data"][:1]

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", huge)
    assert _problems(tmp_path, source) == [f"og.json:1:{column}: {NOT_A_TIMESTAMP}: '99999999999999999999'"]


def test_opsgenie_report_times_past_the_year_9999_are_problems_under_report(tmp_path):
    def late(body):
        body["data"][0]["createdAt"] = "9999-12-31T23:59:00Z"
        body["data"][1].update(createdAt="9999-12-31T23:59:00Z", status="closed", report={"closeTime": 1e300})

    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", late)
    assert _problems(tmp_path, source) == [
        "og.json:1:report.ackTime: too large: it puts the acknowledgement past the year 9999: '150000'",
        "og.json:1:report.closeTime: too large: it puts the close past the year 9999: '3600000'",
        "og.json:2:report.closeTime: too large: it puts the close past the year 9999: '1e+300'",
    ]


def test_pagerduty_seconds_past_the_year_9999_are_problems_under_the_seconds(tmp_path):
    def late(body):
        first, second = body["data"][:2]
        first["created_at"] = "9999-12-31T23:59:00"
        second.update(created_at="9999-12-31T23:59:00", seconds_to_first_ack=1e300)
        body["data"] = [first, second]

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", late)
    assert _problems(tmp_path, source) == [
        "pd.json:1:seconds_to_first_ack: too large: it puts the acknowledgement past the year 9999: '300'",
        "pd.json:2:seconds_to_first_ack: too large: it puts the acknowledgement past the year 9999: '1e+300'",
        "pd.json:2:seconds_to_resolve: too large: it puts the resolution past the year 9999: '2400'",
    ]


@pytest.mark.parametrize("zone", ["Europe", "x" * 300])
def test_pagerduty_answer_time_zone_that_is_no_zone_file_is_a_problem(tmp_path, zone):
    def odd(body):
        body["time_zone"] = zone

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", odd)
    assert _problems(tmp_path, source) == [
        f"pd.json::time_zone: unknown time zone {zone!r} in the answer (an IANA name such as Etc/UTC)"
    ]


# ---- problems about empty values name the vendor's column ----------------------------------------


GONE = object()  # a field left out of the record


def _first_only(listed: str, index: int = 0, **changes: object):
    """An edit keeping only record ``index`` under ``listed``, with ``changes`` (GONE: the field removed)."""

    def edit(body):
        record = body[listed][index]
        for key, value in changes.items():
            if value is GONE:
                record.pop(key, None)
            else:
                record[key] = value
        body[listed] = [record]

    return edit


def _analytics_first(**changes: object):
    return _first_only("data", **changes)


def _rest_first(**changes: object):
    return _first_only("incidents", **changes)


EMPTY = "required value is empty"


@pytest.mark.parametrize(
    "fixture, edit, expected",
    [
        # present and empty: that column
        ("analytics_raw_incidents.json", _analytics_first(service_name=""), f"service_name: {EMPTY}"),
        ("analytics_raw_incidents.json", _analytics_first(created_at=" "), f"created_at: {EMPTY}"),
        ("rest_incidents.json", _rest_first(service={"id": "PSVC001", "type": "service_reference"}),
         f"service: {EMPTY}"),
        ("rest_incidents.json", _rest_first(service=[]), f"service: {EMPTY}"),
        # absent: the first column the export format uses
        ("analytics_raw_incidents.json", _analytics_first(service_name=GONE), f"service_name: {EMPTY}"),
        ("analytics_raw_incidents.json", _analytics_first(created_at=GONE), f"created_at: {EMPTY}"),
        ("rest_incidents.json", _rest_first(service=GONE), f"service: {EMPTY}"),
        ("rest_incidents.json", _rest_first(created_at=GONE), f"created_at: {EMPTY}"),
        ("analytics_raw_incidents.json", _analytics_first(id=GONE, incident_number=GONE),
         "id: no incident id: this record has no id or incident_number"),
    ],
)  # fmt: skip
def test_pagerduty_empty_value_is_reported_under_the_vendor_column(tmp_path, fixture, edit, expected):
    source = _edited(tmp_path, "pagerduty", f"pagerduty/{fixture}", "pd.json", edit)
    assert _problems(tmp_path, source) == [f"pd.json:1:{expected}"]


def test_pagerduty_service_name_null_is_reported_under_service_name(tmp_path):
    def null(body):
        body["data"][0]["service_name"] = None
        body["data"] = body["data"][:1]

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", null)
    assert _problems(tmp_path, source) == [f"pd.json:1:service_name: {EMPTY}"]


def test_pagerduty_record_without_any_severity_column_names_the_formats_first(tmp_path):
    def no_severity(listed):
        def edit(body):
            body[listed][1] = {
                k: v for k, v in body[listed][1].items() if k not in ("priority_name", "priority", "urgency")
            }

        return edit

    analytics = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", no_severity("data"))
    message = "no severity: this record has no priority_name, priority or urgency"
    assert _problems(tmp_path, analytics) == [f"pd.json:2:priority_name: {message}"]
    rest = _edited(tmp_path, "pagerduty", "pagerduty/rest_incidents.json", "pd.json", no_severity("incidents"))
    assert _problems(tmp_path, rest) == [f"pd.json:2:priority: {message}"]


def test_pagerduty_optional_empty_values_remember_their_vendor_column(tmp_path):
    def empty(body):
        body["data"][0].update(description=None, team_name="")
        body["data"][1].pop("description")
        body["data"][1].pop("team_name")

    source = _edited(tmp_path, "pagerduty", "pagerduty/analytics_raw_incidents.json", "pd.json", empty)
    extract = _extracts(tmp_path, source)[0]
    assert [(extract.vendor_column(row, "title"), extract.vendor_column(row, "team")) for row in (1, 2)] == [
        ("description", "team_name"),
        ("description", "team_name"),
    ]
    rest_edit = _rest_first(title=GONE, summary=GONE, teams=[])
    rest = _edited(tmp_path, "pagerduty", "pagerduty/rest_incidents.json", "pd.json", rest_edit)
    extract = _extracts(tmp_path, rest)[0]
    assert (extract.vendor_column(1, "title"), extract.vendor_column(1, "team")) == ("title", "teams")


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"priority": GONE}, f"priority: {EMPTY}"),
        ({"priority": ""}, f"priority: {EMPTY}"),
        ({"createdAt": GONE}, f"createdAt: {EMPTY}"),
        ({"createdAt": None}, f"createdAt: {EMPTY}"),
        ({"createdAt": ""}, f"createdAt: {EMPTY}"),
        ({"tinyId": "", "id": GONE, "alias": GONE}, "tinyId: no incident id: this record has no tinyId, id or alias"),
    ],
)
def test_opsgenie_empty_value_is_reported_under_the_vendor_column(tmp_path, changes, expected):
    source = _edited(tmp_path, "opsgenie", "opsgenie/alerts.json", "og.json", _first_only("data", **changes))
    assert _problems(tmp_path, source) == [f"og.json:1:{expected}"]


def test_opsgenie_optional_empty_values_remember_their_vendor_column(tmp_path):
    def columns(fixture: str, edit) -> tuple[str, str]:
        extract = _extracts(tmp_path, _edited(tmp_path, "opsgenie", f"opsgenie/{fixture}", "og.json", edit))[0]
        return extract.vendor_column(1, "title"), extract.vendor_column(1, "team")

    # absent: the first the format uses (an alert's teams, an incident's ownerTeam)
    assert columns("alerts.json", _first_only("data", message=GONE, responders=GONE)) == ("message", "teams")
    assert columns("incidents.json", _first_only("data", 1, ownerTeam=GONE, responders=GONE))[1] == "ownerTeam"
    # present and empty (a responder that is a user names no team): the first of them
    assert columns("alerts.json", _first_only("data", message="", responders=[], teams=[])) == ("message", "teams")
    assert columns("alerts.json", _first_only("data", 1)) == ("message", "responders")
    assert columns("incidents.json", _first_only("data", 1)) == ("message", "ownerTeam")


def test_pagerduty_rest_resolution_from_last_status_change_is_ordered_under_that_column(tmp_path):
    def early(body):
        body["incident"]["last_status_change_at"] = "2026-10-12T22:00:00Z"  # before created_at 22:40

    source = _edited(tmp_path, "pagerduty", "pagerduty/rest_incident.json", "pd.json", early)
    assert _problems(tmp_path, source) == ["pd.json:1:last_status_change_at: resolved_at is before started_at"]


# ---- hostile records -----------------------------------------------------------------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
)
FIELDS = {
    "pagerduty": ["id", "incident_number", "created_at", "created_on", "resolved_at", "priority_name", "priority",
                  "urgency", "service", "teams", "status", "seconds_to_first_ack", "seconds_to_resolve",
                  "acknowledgements", "last_status_change_at", "major"],
    "opsgenie": ["tinyId", "id", "message", "createdAt", "priority", "status", "tags", "entity", "teams",
                 "responders", "ownerTeam", "impactStartDate", "impactEndDate", "impactedServices", "report",
                 "closedAt"],
}  # fmt: skip


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(FIELDS)),
    st.data(),
    st.one_of(st.none(), st.text(max_size=20), st.integers()),
)
def test_hostile_records_give_problems_not_tracebacks(tmp_path, kind, data, time_zone):
    records = data.draw(
        st.lists(st.dictionaries(st.sampled_from(FIELDS[kind]), VALUES, max_size=8), max_size=4), label="records"
    )
    (tmp_path / "answer.json").write_text(json.dumps({"data": records, "time_zone": time_zone}))
    extracts = _extracts(tmp_path, {"kind": kind, "path": "answer.json"})
    (tmp_path / "data").mkdir(exist_ok=True)
    try:
        validate_directory(tmp_path / "data", extracts).con.close()
    except InputError as exc:
        assert all(p.file == "answer.json" for p in exc.problems)


# Numbers and times at and past the ends of what datetime holds, in every field a time is read or
# computed from: each a problem at its row and column, never a traceback.
EXTREMES = st.one_of(
    st.integers(),
    st.floats(),
    st.sampled_from([10**11, 10**14, 10**15, 10**20, 10**308, 10**400, -(10**400), 1e16, 1e300, 1.7e308, -1e308]),
    st.from_regex(r"\A[0-9²³¹٣]{1,25}\Z"),
    st.sampled_from(["0001-01-01T00:00:00Z", "0001-01-01T00:00:00", "0001-01-01T00:00:00-12:00",
                     "9999-12-31T23:59:59Z", "9999-12-31T23:59:59", "9999-12-31T23:59:59.999999+14:00",
                     "9999-12-31T23:59:59-12:00", "2026-10-03T10:00:00Z", "1e308", "-0", ""]),
)  # fmt: skip
TIME_FIELDS = {
    "pagerduty": ["created_at", "resolved_at", "seconds_to_first_ack", "seconds_to_resolve", "last_status_change_at",
                  "acknowledgements"],
    "opsgenie": ["createdAt", "impactStartDate", "impactEndDate", "acknowledgedAt", "closedAt", "ackTime",
                 "closeTime", "report"],
}  # fmt: skip
BASE = {
    "pagerduty": {"service_name": "checkout", "urgency": "high", "status": "resolved"},
    "opsgenie": {"entity": "checkout", "priority": "P1", "status": "closed"},
}


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(TIME_FIELDS)),
    st.data(),
    st.sampled_from([None, "Etc/UTC", "Pacific/Kiritimati", "Etc/GMT+12"]),
)
def test_extreme_numbers_and_times_give_problems_not_tracebacks(tmp_path, kind, data, zone):
    fields = st.dictionaries(st.sampled_from(TIME_FIELDS[kind]), EXTREMES, min_size=1, max_size=5)
    drawn = data.draw(st.lists(fields, min_size=1, max_size=3), label="records")
    records = []
    for i, values in enumerate(drawn, 1):
        record = {**BASE[kind], "id" if kind == "pagerduty" else "tinyId": f"R{i}", **values}
        if "acknowledgements" in record:  # PagerDuty REST: a list of {"at": ...}
            record["acknowledgements"] = [{"at": record["acknowledgements"]}]
        if "report" in record:  # Opsgenie alerts: report.ackTime, report.closeTime
            record["report"] = {"ackTime": record["report"], "closeTime": record["report"]}
        records.append(record)
    (tmp_path / "answer.json").write_text(json.dumps({"data": records}))
    options = {"timezone": zone} if zone else {}
    extracts = _extracts(tmp_path, {"kind": kind, "path": "answer.json", **options})
    (tmp_path / "data").mkdir(exist_ok=True)
    try:
        validate_directory(tmp_path / "data", extracts).con.close()
    except InputError as exc:
        assert all(p.file == "answer.json" and p.row is not None and p.column for p in exc.problems), exc.problems


def test_pagerduty_basic_report_csv_reads_with_the_severity_the_team_gives_it(tmp_path):
    source = _source(tmp_path, "pagerduty", "pagerduty/basic_report_incidents.csv", "basic.csv")
    rows = _rows(tmp_path, dict(source, severity="SEV3"))
    assert rows and {r[4] for r in rows} == {"SEV3"}
    assert rows[0][:3] == ("1208", None, "checkout")
