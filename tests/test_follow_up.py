"""Post-incident follow-up and production readiness: golden values computed by hand.

October 2026 (UTC unless a test says otherwise): the period is [2026-10-01, 2026-11-01). Each
expected number says how it was counted from the rows below.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from srelib.config import Workbench
from srelib.errors import InputError
from srelib.ingest.sources import load_config, read_sources
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.metrics.follow_up import deadline, follow_up, title_fingerprint
from srelib.metrics.scope import Scope
from srelib.period import Period
from srelib.summary import build_summary
from tests.conftest import INCIDENT_COLUMNS, run_cli, write_csv

SERVICES = {
    "api": {"team": "platform", "tier": 1},
    "login": {"team": "identity", "tier": 1},
    "search": {"team": "search", "tier": 1},
    "ledger": {"team": "payments", "tier": 2},
}


def _incident(incident_id: str, service: str, severity: str, started: str, **more: object) -> dict[str, object]:
    return dict(incident_id=incident_id, service=service, severity=severity, started_at=started, **more)


INCIDENTS = [
    # The period's SEV1/SEV2 incidents: P1 has its postmortem; P2's was due on 15 October (resolved
    # 10 October 01:00 + 5 days) and is missing; P3's is due on 3 November (pending); P4 is open.
    _incident(
        "P1",
        "api",
        "SEV1",
        "2026-10-02T10:00:00Z",
        resolved_at="2026-10-02T12:00:00Z",
        title="API 502 errors after deploy #41",
        cause="bad deploy",
        postmortem_url="https://wiki.example.com/pm/P1",
    ),
    _incident(
        "P2",
        "login",
        "SEV2",
        "2026-10-10T00:00:00Z",
        resolved_at="2026-10-10T01:00:00Z",
        title="Sign-in failing",
        cause="Expired certificate ",
    ),
    _incident("P3", "search", "SEV2", "2026-10-29T00:00:00Z", resolved_at="2026-10-29T02:00:00Z", cause="capacity"),
    _incident("P4", "api", "SEV1", "2026-10-30T00:00:00Z", title="Gateway timeouts", cause="network"),
    # P5 repeats P1 by its title (502 and 503, #41 and #57 differ only in digits); causes differ.
    _incident(
        "P5",
        "api",
        "SEV3",
        "2026-10-20T00:00:00Z",
        resolved_at="2026-10-20T01:00:00Z",
        title="api 503 errors after deploy #57",
        cause="capacity",
    ),
    # Earlier incidents. E1: 56 days before P2, the same cause: P2 repeats it.
    _incident(
        "E1", "login", "SEV2", "2026-08-15T00:00:00Z", resolved_at="2026-08-15T02:00:00Z", cause="expired certificate"
    ),
    # E2: 150 days before P3 with the same cause: outside the 90-day window, no repeat.
    _incident("E2", "search", "SEV3", "2026-06-01T00:00:00Z", resolved_at="2026-06-01T01:00:00Z", cause="capacity"),
    # Incidents after launches (below).
    _incident("E3", "api", "SEV4", "2026-04-15T00:00:00Z", resolved_at="2026-04-15T01:00:00Z"),
    _incident("E4", "api", "SEV4", "2026-05-09T23:59:00Z", resolved_at="2026-05-10T01:00:00Z"),
    _incident("E5", "search", "SEV4", "2026-06-30T23:59:59Z", resolved_at="2026-07-01T01:00:00Z"),
    _incident("E6", "search", "SEV4", "2026-07-01T00:00:00Z", resolved_at="2026-07-01T01:00:00Z"),
    _incident("E7", "search", "SEV4", "2026-06-15T00:00:00Z", resolved_at="2026-06-15T01:00:00Z"),
]

ACTION_COLUMNS = ["incident_id", "action", "owner", "due", "created_at", "closed_at", "action_id", "team", "url"]


def _action(incident_id: str, action: str, due: str | None, closed_at: str | None = None, **more: object):
    return dict(incident_id=incident_id, action=action, due=due, closed_at=closed_at, owner="ana", **more)


ACTIONS = [
    _action("P1", "Add canary for api deploys", "2026-10-20", "2026-10-20T23:59:59Z"),  # on time (deadline 21 Oct)
    _action("P1", "Alert on 5xx ratio", "2026-10-15", "2026-10-16T00:00:00Z"),  # late: closed at the deadline
    _action("P1", "Runbook for rollback", "2026-10-31"),  # open; its deadline is the period end: overdue, 0 days
    _action("P1", "Load test api", "2026-11-01"),  # open, not due yet
    _action("E1", "Automate cert renewal", "2026-09-01", "2026-10-12T00:00:00Z"),  # late; open when P2 started
    _action("E1", "Postmortem review", "2026-09-10", "2026-09-09T00:00:00Z"),  # closed before the period
    _action("P2", "Monitor cert expiry", None),  # open, no due date
    _action("X-99", "Orphan action", "2026-10-01", team="platform"),  # unknown incident; overdue 30 days
    _action("P3", "Fix search capacity", "2026-11-20", created_at="2026-11-02T00:00:00Z"),  # not created yet
]

ENGAGEMENT_COLUMNS = ["date", "kind", "title", "team", "reached", "audience", "service"]
ENGAGEMENT = [
    dict(date="2026-03-01", kind="production_readiness_review", title="PRR api", reached=6, service="api"),
    dict(date="2026-10-31", kind="production_readiness_review", title="PRR login", reached=5, service="login"),
    dict(date="2026-11-01", kind="production_readiness_review", title="PRR search", reached=5, service="search"),
    dict(date="2026-04-01", kind="architecture_review", title="Ledger design", reached=4, service="ledger"),
    dict(date="2026-10-05", kind="workshop", title="SLO workshop", team="search", reached=10, audience=12),
]

LAUNCH_COLUMNS = ["launch_id", "service", "launched_at", "title", "team"]
LAUNCHES = [
    # Compared (window closed between 1 Nov 2025 and 1 Nov 2026):
    dict(launch_id="L1", service="api", launched_at="2026-04-10T09:00:00Z", title="API v2"),  # reviewed; E3, E4
    dict(launch_id="L2", service="ledger", launched_at="2026-05-01T00:00:00Z"),  # reviewed (architecture); none
    dict(launch_id="L3", service="search", launched_at="2026-06-01T00:00:00Z"),  # not reviewed; E2, E7, E5 (not E6)
    dict(launch_id="L7", service="search", launched_at="2026-09-15T00:00:00Z"),  # not reviewed; none
    # Window closed on 1 October 2025, before the year compared: left out.
    dict(launch_id="L4", service="login", launched_at="2025-09-01T00:00:00Z"),
    # Launched in the period, windows still open: L6's PRR is 218 days old (> 180), L5's came after it.
    dict(launch_id="L6", service="api", launched_at="2026-10-05T12:00:00Z", title="API v3"),  # P5, P4 so far
    dict(launch_id="L5", service="login", launched_at="2026-10-20T00:00:00Z", title="Passkeys"),
]


def _workbench(root: Path, timezone: str = "UTC", follow_up: dict | None = None) -> Workbench:
    params = root / "params"
    params.mkdir(parents=True, exist_ok=True)
    org = {"name": "Test Org", "timezone": timezone, "warehouse": "warehouse/test.duckdb", "data": "data"}
    (params / "org.yaml").write_text(yaml.safe_dump(org), encoding="utf-8")
    (params / "services.yaml").write_text(yaml.safe_dump({"services": SERVICES}), encoding="utf-8")
    if follow_up is not None:
        (params / "follow_up.yaml").write_text(yaml.safe_dump(follow_up), encoding="utf-8")
    return Workbench.load(root)


def _data(directory: Path) -> Path:
    write_csv(directory / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    write_csv(directory / "actions.csv", ACTION_COLUMNS, ACTIONS)
    write_csv(directory / "engagement.csv", ENGAGEMENT_COLUMNS, ENGAGEMENT)
    write_csv(directory / "launches.csv", LAUNCH_COLUMNS, LAUNCHES)
    return directory


_SUMMARIES: dict[tuple, object] = {}


def _summary(tmp_path: Path, team: str | None = None, timezone: str = "UTC", follow_up: dict | None = None):
    """October's summary of the workbench and data written in ``tmp_path``: computed once per
    distinct params and data (summaries are immutable; most tests read the same one)."""
    workbench = _workbench(tmp_path, timezone, follow_up)
    data = _data(tmp_path / "data")
    files = sorted(p for folder in (tmp_path / "params", data) for p in folder.rglob("*") if p.is_file())
    key = (team, timezone, tuple((p.relative_to(tmp_path).as_posix(), p.read_bytes()) for p in files))
    if key not in _SUMMARIES:
        with in_memory(validate_directory(data)) as con:
            _SUMMARIES[key] = build_summary(con, workbench, Period.parse("2026-10", timezone), team)
    return _SUMMARIES[key]


# ---- postmortems -------------------------------------------------------------------------------


def test_postmortem_completion_counts_done_and_missing_not_pending(tmp_path):
    p = _summary(tmp_path).follow_up.postmortems
    # required: P1, P2, P3, P4 (SEV1/SEV2 started in October); done P1; missing P2; pending P3, P4
    assert (p.required, p.done, p.missing, p.pending) == (4, 1, 1, 2)
    assert p.completion == 0.5  # 1 ÷ (1 + 1)
    assert {i.incident_id: i.status for i in p.incidents} == {
        "P1": "done",
        "P2": "missing",
        "P3": "pending",
        "P4": "pending",
    }
    assert [i.due_at for i in p.incidents] == [
        "2026-10-07T12:00:00Z",
        "2026-10-15T01:00:00Z",
        "2026-11-03T02:00:00Z",
        None,  # still open: not due yet
    ]


def test_an_incident_over_the_budget_share_needs_a_postmortem_whatever_its_severity(tmp_path):
    workbench = _workbench(tmp_path)
    with in_memory(validate_directory(_data(tmp_path / "data"))) as con:
        figures = follow_up(
            con,
            Period.parse("2026-10"),
            Scope(None, workbench.catalogue),
            workbench.policy,
            workbench.follow_up,
            ["P5"],
        )
    p5 = next(i for i in figures.postmortems.incidents if i.incident_id == "P5")
    # SEV3, resolved 20 October 01:00: due 25 October 01:00, no postmortem: missing
    assert (p5.reason, p5.status, p5.due_at) == ("budget", "missing", "2026-10-25T01:00:00Z")
    assert (figures.postmortems.required, figures.postmortems.missing, figures.postmortems.completion) == (
        5,
        2,
        0.333333,
    )


def test_postmortem_due_days_zero_makes_every_resolved_incident_due_at_once(tmp_path):
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "error_budget_policy.yaml").write_text("postmortem_due_days: 0\n")
    p = _summary(tmp_path).follow_up.postmortems
    # P3 resolved 29 October 02:00 is now due too; P4 is still open
    assert (p.done, p.missing, p.pending, p.completion) == (1, 2, 1, 0.333333)


# ---- action items ---------------------------------------------------------------------------------


def test_action_items_at_the_period_end(tmp_path):
    a = _summary(tmp_path).follow_up.actions
    # exist by 1 November: all but "Fix search capacity" (created 2 November) → 8
    assert a.total == 8
    # open at the end: Runbook for rollback, Load test api, Monitor cert expiry, Orphan action
    assert (a.open, a.overdue, a.open_without_due) == (4, 2, 1)
    # closed in October: Add canary (on time), Alert on 5xx (late, at its deadline), cert renewal (late)
    assert (a.closed_in_period, a.closed_on_time, a.closed_late, a.on_time_rate) == (3, 1, 2, 0.333333)
    assert a.unlinked == 1
    assert [(i.action, i.days_overdue, i.service) for i in a.overdue_items] == [
        ("Orphan action", 30, None),  # due 1 October: overdue since 2 October 00:00
        ("Runbook for rollback", 0, "api"),  # due 31 October: overdue from the period end itself
    ]


def test_due_day_ends_at_midnight_in_the_org_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    assert deadline(date(2026, 10, 31), berlin) == datetime(2026, 10, 31, 23, 0)  # CET, after the DST change
    assert deadline(date(2026, 10, 20), berlin) == datetime(2026, 10, 20, 22, 0)  # CEST
    assert deadline(date(2026, 10, 20), None) == datetime(2026, 10, 21, 0, 0)


def test_action_items_in_berlin(tmp_path):
    a = _summary(tmp_path, timezone="Europe/Berlin").follow_up.actions
    # October in Berlin ends at 2026-10-31T23:00Z. "Add canary" (due 20 October, closed 23:59:59Z) was
    # closed after midnight in Berlin (22:00Z): late there. "Runbook for rollback" (due 31 October) is
    # overdue from the period end, 0 days.
    assert (a.closed_on_time, a.closed_late) == (0, 3)
    assert [(i.action, i.days_overdue) for i in a.overdue_items] == [("Orphan action", 30), ("Runbook for rollback", 0)]


def test_team_sees_its_own_action_items(tmp_path):
    f = _summary(tmp_path, team="identity").follow_up
    # identity: E1's two actions and P2's (incidents of login, whose team is identity)
    assert (f.actions.total, f.actions.open, f.actions.overdue, f.actions.closed_late, f.actions.unlinked) == (
        3,
        1,
        0,
        1,
        0,
    )
    assert (f.postmortems.required, f.postmortems.completion) == (1, 0.0)
    platform = _summary(tmp_path, team="platform").follow_up.actions
    # P1's four actions and the orphan whose own team is platform
    assert (platform.total, platform.open, platform.overdue, platform.closed_on_time, platform.closed_late) == (
        5,
        3,
        2,
        1,
        1,
    )


# ---- repeats --------------------------------------------------------------------------------------


def test_title_fingerprint_ignores_digits_case_and_punctuation():
    assert title_fingerprint("API 502 errors after deploy #41") == "api errors after deploy"
    assert title_fingerprint("api 503 errors after deploy #57") == "api errors after deploy"
    assert title_fingerprint("  #1 ") is None
    assert title_fingerprint(None) is None


def test_repeats_whose_earlier_actions_were_still_open(tmp_path):
    f = _summary(tmp_path).follow_up
    assert f.repeats == 2  # P2 (cause of E1) and P5 (title of P1); P3's match E2 is 150 days earlier
    found = [
        (r.incident_id, r.repeats, r.matched_by, r.days_after, r.open_actions, r.overdue_actions)
        for r in f.repeats_with_open_actions
    ]
    assert found == [
        # E1's cert renewal (due 1 September) was open until 12 October: open and overdue when P2 began
        ("P2", "E1", "cause", 56.0, 1, 1),
        # at P5's start (20 October 00:00): Add canary (closed later that day), Runbook, Load test open
        ("P5", "P1", "title", 17.5833, 3, 0),  # 2 October 10:00 to 20 October 00:00
    ]


def test_repeat_match_by_service_alone(tmp_path):
    f = _summary(tmp_path, follow_up={"repeat_match": ["service"], "repeat_within_days": 30}).follow_up
    # within 30 days on the same service: P5 (P1, 18 days), P4 (P5 and P1); P2's E1 is 56 days earlier
    assert f.repeats == 2
    assert [(r.incident_id, r.repeats, r.matched_by) for r in f.repeats_with_open_actions] == [
        ("P5", "P1", "service"),
        ("P4", "P1", "service"),  # P5 (the most recent) has no actions; P1's are open
    ]


def test_policy_section_names_services_with_overdue_actions_and_missing_postmortems(tmp_path):
    by_service = _summary(tmp_path).follow_up.by_service
    assert {s: (v.postmortems_missing, v.actions_overdue, v.oldest_overdue_days) for s, v in by_service.items()} == {
        "api": ([], 1, 0),  # P1 (SEV1): Runbook for rollback
        "login": (["P2"], 0, None),
    }


def test_the_tables_name_the_severities_the_policy_requires_postmortems_for(tmp_path):
    from srelib.present import report
    from srelib.present.follow_up import follow_up_rows

    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "error_budget_policy.yaml").write_text("postmortem_severities: [SEV1]\n")
    summary = _summary(tmp_path)
    assert summary.follow_up.postmortem_severities == ["SEV1"]
    assert follow_up_rows(summary)[0]["label"] == (
        "Postmortems written, of those due (SEV1 and incidents over the budget share)"
    )
    assert "Overdue SEV1 actions" in report.postmortem_policy_table(summary).data
    default = _summary(tmp_path / "default")
    assert "(SEV1, SEV2 and incidents over the budget share)" in follow_up_rows(default)[0]["label"]


def test_empty_period_has_zero_follow_up(tmp_path):
    workbench = _workbench(tmp_path)
    with in_memory(validate_directory(_data(tmp_path / "data"))) as con:
        summary = build_summary(con, workbench, Period.parse("2025-01"))
    f = summary.follow_up
    assert (f.postmortems.required, f.postmortems.completion, f.actions.overdue, f.repeats) == (0, None, 0, 0)
    # the orphan action has neither a created_at nor a known incident: nothing places it in time, so
    # it counts in every period (open; overdue only after its due day)
    assert (f.actions.total, f.actions.open, f.actions.unlinked) == (1, 1, 1)
    assert summary.readiness.prr_coverage == 0.0  # no PRR on record by January 2025


# ---- readiness ------------------------------------------------------------------------------------


def test_prr_coverage_of_tier_one_services(tmp_path):
    r = _summary(tmp_path).readiness
    # tier 1: api, login, search. api (March) and login (31 October, the last day) have a PRR; search's
    # is dated 1 November, after the period.
    assert (r.tier_services, r.prr_services, r.prr_coverage, r.without_prr) == (3, 2, 0.666667, ["search"])
    assert r.last_prr == {"api": "2026-03-01", "login": "2026-10-31"}


def test_prr_valid_days_ask_for_a_recent_review(tmp_path):
    r = _summary(tmp_path, follow_up={"prr_valid_days": 180}).readiness
    # valid from 5 May 2026 (1 November − 180 days): api's March PRR has lapsed
    assert (r.prr_coverage, r.without_prr) == (0.333333, ["api", "search"])


def test_launch_incident_rates_with_and_without_review(tmp_path):
    r = _summary(tmp_path).readiness
    # reviewed: L1 (E3, E4) and L2 (none): 2 incidents in 2 launches; not reviewed: L3 (E2 at the
    # launch instant, E7, E5 one second before the window ends; E6 just after) and L7: 3 in 2.
    assert (r.reviewed.launches, r.reviewed.incidents, r.reviewed.per_launch) == (2, 2, 1.0)
    assert (r.not_reviewed.launches, r.not_reviewed.incidents, r.not_reviewed.per_launch) == (2, 3, 1.5)
    c = r.comparison
    assert c is not None
    assert c.rate_ratio == pytest.approx(2 / 3, abs=1e-6)  # 1.0 ÷ 1.5
    # 5 incidents: 2 of them after reviewed launches, of equal exposure (60 launch-days each): under
    # equal rates Binomial(5, 0.5), two-sided p = 1. Clopper–Pearson for 2 of 5: [0.0527, 0.8534],
    # as odds: [0.0557, 5.82].
    assert c.p_value == pytest.approx(1.0)
    assert c.ci_low == pytest.approx(0.05274 / 0.94726, rel=1e-3)
    assert c.ci_high == pytest.approx(0.85336 / 0.14664, rel=1e-3)
    assert c.verdict == "no_clear_change"


def test_launches_of_the_period_with_their_reviews(tmp_path):
    r = _summary(tmp_path).readiness
    assert [(x.launch_id, x.reviewed, x.incidents, x.window_closed) for x in r.launches] == [
        ("L6", False, 2, False),  # api's PRR is 218 days before: older than 180
        ("L5", False, 0, False),  # login's PRR came 11 days after the launch
    ]
    assert r.launches[0].launched_at == "2026-10-05T12:00+00:00"


def test_team_readiness_and_too_few_to_compare(tmp_path):
    r = _summary(tmp_path, team="search").readiness
    assert (r.tier_services, r.prr_coverage, r.without_prr) == (1, 0.0, ["search"])
    assert (r.reviewed.launches, r.not_reviewed.launches, r.not_reviewed.incidents) == (0, 2, 3)
    assert r.comparison is not None and r.comparison.verdict == "too_few" and r.comparison.rate_ratio is None


def test_metrics_json_has_both_sections(tmp_path):
    workbench = _workbench(tmp_path)
    data = _data(tmp_path / "data")
    out = run_cli(workbench.root, "metrics", "--period", "2026-10", "--data", str(data), "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["follow_up"]["actions"]["overdue"] == 2
    assert body["readiness"]["prr_coverage"] == 0.666667


# ---- validation -----------------------------------------------------------------------------------


def test_bad_action_rows_name_file_row_and_column(tmp_path):
    _workbench(tmp_path)
    data = _data(tmp_path / "data")
    write_csv(
        data / "actions.csv",
        ACTION_COLUMNS,
        [
            _action("P1", "Fine", "2026-10-20"),
            _action("P1", "Bad due", "2026-13-01"),
            _action("P1", "Closed first", "2026-10-20", "2026-10-01T00:00:00Z", created_at="2026-10-05T00:00:00Z"),
            _action("P1", "", "2026-10-20"),
            _action("P1", "No offset", "2026-10-20", "2026-10-21T10:00:00"),
            _action("P1", "Fine", "2026-10-21"),
        ],
    )
    with pytest.raises(InputError) as caught:
        validate_directory(data)
    assert sorted(str(p) for p in caught.value.problems) == sorted(
        [
            "actions.csv:3:due: not a date (YYYY-MM-DD): '2026-13-01'",
            "actions.csv:4:closed_at: closed_at is before created_at",
            "actions.csv:5:action: required value is empty",
            "actions.csv:6:closed_at: timestamp has no UTC offset (write 2026-10-03T14:05:00Z or +02:00): "
            "'2026-10-21T10:00:00'",
            "actions.csv:7:action: duplicate action item (the same action_id, or without one incident_id and action): "
            "already on an earlier row",
        ]
    )


def test_an_action_id_identifies_an_action_item_in_validation_and_on_reingest(tmp_path):
    """Two items of an incident may share a summary when the tracker keys them apart; an item whose
    summary was edited in the tracker replaces its row instead of leaving the old one open."""
    from srelib.ingest.warehouse import connect, load

    workbench = _workbench(tmp_path)
    data = _data(tmp_path / "data")

    def ingest(actions: list[dict]) -> None:
        write_csv(data / "actions.csv", ACTION_COLUMNS, actions)
        dataset = validate_directory(data)
        load(dataset, workbench.warehouse_path)
        dataset.con.close()

    keyed = [
        _action("P1", "Add alerting", "2026-10-20", action_id="PM-1"),
        _action("P1", "Add alerting", "2026-10-22", action_id="PM-2"),
        _action("P2", "Fix login", "2026-10-20"),
    ]
    ingest(keyed)
    edited = [
        _action("P1", "Add alerting on 5xx", "2026-10-20", "2026-10-19T10:00:00Z", action_id="PM-1"),
        _action("P1", "Add alerting", "2026-10-22", action_id="PM-2"),
        _action("P2", "Fix login", "2026-10-25"),
    ]
    ingest(edited)
    with connect(workbench.warehouse_path) as con:
        rows = con.execute("SELECT action_id, action, due, closed_at IS NOT NULL FROM actions ORDER BY all").fetchall()
    assert [(r[0], r[1], r[2].isoformat(), r[3]) for r in rows] == [
        ("PM-1", "Add alerting on 5xx", "2026-10-20", True),
        ("PM-2", "Add alerting", "2026-10-22", False),
        (None, "Fix login", "2026-10-25", False),
    ]
    duplicates = [_action(incident, "A", "2026-10-20", action_id="PM-7") for incident in ("P1", "P2")]
    write_csv(data / "actions.csv", ACTION_COLUMNS, duplicates)
    with pytest.raises(InputError) as caught:
        validate_directory(data)
    assert [str(p) for p in caught.value.problems] == [
        "actions.csv:3:action: duplicate action item (the same action_id, or without one incident_id and action): "
        "already on an earlier row"
    ]


def test_bad_launch_rows_fail_validate_with_exit_2(tmp_path):
    workbench = _workbench(tmp_path)
    data = _data(tmp_path / "data")
    write_csv(
        data / "launches.csv",
        LAUNCH_COLUMNS,
        [
            dict(launch_id="L1", service="", launched_at="soon"),
            dict(launch_id="L1", service="api", launched_at="2026-10-01T00:00:00Z"),
        ],
    )
    out = run_cli(workbench.root, "validate", str(data))
    assert out.returncode == 2
    for expected in (
        "launches.csv:2:service: required value is empty",
        "launches.csv:2:launched_at: not an ISO 8601 timestamp: 'soon'",
        "launches.csv:3:launch_id: duplicate launch_id 'L1': already on an earlier row",
    ):
        assert expected in out.stdout + out.stderr


def test_an_action_of_an_incident_not_in_the_data_is_valid(tmp_path):
    _workbench(tmp_path)
    data = _data(tmp_path / "data")
    dataset = validate_directory(data)  # X-99 is in no incidents file: accepted, counted as unlinked
    assert dataset.row_counts["actions"] == len(ACTIONS)


# ---- a Jira export through the generic adapter --------------------------------------------------

JIRA_COLUMNS = [
    "Summary",
    "Issue key",
    "Issue id",
    "Issue Type",
    "Status",
    "Priority",
    "Assignee",
    "Reporter",
    "Created",
    "Updated",
    "Resolved",
    "Due date",
    "Labels",
    "Custom field (Incident ID)",
]
JIRA_ROWS = [
    {
        "Summary": "Add canary stage to api deploys",
        "Issue key": "PM-101",
        "Issue id": "10231",
        "Issue Type": "Task",
        "Status": "Done",
        "Priority": "High",
        "Assignee": "Ana Silva",
        "Reporter": "Sam Lee",
        "Created": "03/Oct/26 9:02 AM",
        "Updated": "20/Oct/26 3:15 PM",
        "Resolved": "20/Oct/26 3:15 PM",
        "Due date": "20/Oct/26 12:00 AM",
        "Labels": "postmortem",
        "Custom field (Incident ID)": "P1",
    },
    {
        "Summary": "Write rollback runbook",
        "Issue key": "PM-102",
        "Issue id": "10232",
        "Issue Type": "Task",
        "Status": "In Progress",
        "Priority": "Medium",
        "Assignee": "",
        "Reporter": "Sam Lee",
        "Created": "03/Oct/26 9:05 AM",
        "Updated": "28/Oct/26 11:40 AM",
        "Resolved": "",
        "Due date": "31/Oct/26",
        "Labels": "postmortem",
        "Custom field (Incident ID)": "P1",
    },
]


def _jira_source(root: Path) -> list:
    write_csv(root / "exports" / "jira-actions.csv", JIRA_COLUMNS, JIRA_ROWS)
    path = root / "params" / "sources.yaml"
    source = {
        "kind": "generic",
        "path": "exports/jira-actions.csv",
        "table": "actions",
        "columns": {
            "incident_id": "Custom field (Incident ID)",
            "action": "Summary",
            "owner": "Assignee",
            "due": "Due date",
            "created_at": "Created",
            "closed_at": "Resolved",
            "action_id": "Issue key",
        },
        "constants": {"url": ""},
        "timestamp_format": "%d/%b/%y %I:%M %p",
        "date_format": "%d/%b/%y",
        "timezone": "Europe/Berlin",
    }
    path.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    return read_sources(load_config(path), root)


def test_jira_export_of_postmortem_actions_maps_through_the_generic_adapter(tmp_path):
    _workbench(tmp_path)
    data = tmp_path / "data"
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    dataset = validate_directory(data, _jira_source(tmp_path))
    rows = dataset.con.execute(
        "SELECT action_id, incident_id, action, owner, due, created_at, closed_at FROM staged_actions ORDER BY 1"
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3], str(r[4]), str(r[5]), None if r[6] is None else str(r[6])) for r in rows] == [
        # Berlin in October is UTC+2; "20/Oct/26 12:00 AM" and "31/Oct/26" both read as dates
        (
            "PM-101",
            "P1",
            "Add canary stage to api deploys",
            "Ana Silva",
            "2026-10-20",
            "2026-10-03 07:02:00",
            "2026-10-20 13:15:00",
        ),
        ("PM-102", "P1", "Write rollback runbook", None, "2026-10-31", "2026-10-03 07:05:00", None),
    ]


def test_a_bad_jira_due_date_is_reported_under_the_jira_column(tmp_path):
    _workbench(tmp_path)
    data = tmp_path / "data"
    write_csv(data / "incidents.csv", INCIDENT_COLUMNS, INCIDENTS)
    JIRA_ROWS.append({**JIRA_ROWS[1], "Issue key": "PM-103", "Summary": "Third", "Due date": "next week"})
    try:
        extracts = _jira_source(tmp_path)
    finally:
        JIRA_ROWS.pop()
    with pytest.raises(InputError) as caught:
        validate_directory(data, extracts)
    assert [str(p) for p in caught.value.problems] == [
        "exports/jira-actions.csv:4:Due date: not a date (YYYY-MM-DD): 'next week'"
    ]


# ---- words and tables ------------------------------------------------------------------------------


def test_report_sentences_say_the_figures_with_the_caveat(tmp_path):
    from srelib.present import narrative

    text = narrative.messages(_summary(tmp_path))
    assert "1 of the 2 postmortems due for this month's serious incidents was written (50 %); missing: P2." in text
    assert (
        "2 postmortem action items were overdue at the end of October 2026, of 4 open (the oldest by 30 days); "
        "of the 3 closed in October 2026, 1 was on time and 2 late." in text
    )
    assert "2 of 3 tier-1 services have a production readiness review on record (67 %); without one: search." in text
    launches = next(m for m in text if m.startswith("Launches reviewed"))
    assert "1.00 incidents each" in launches and "1.50 without a review" in launches
    assert "no clear difference at these numbers" in launches
    assert "an association, not proof that reviews prevent incidents" in launches


def test_hostile_action_text_stays_text(tmp_path):
    from srelib.present import narrative, report

    hostile = "<script>alert(1)</script>**bold** [x](javascript:alert(1))"
    ACTIONS.append({**_action("P1", hostile, "2026-10-02"), "owner": hostile})
    INCIDENTS.append(_incident("<b>P9</b>", "login", "SEV2", "2026-10-03T00:00:00Z", resolved_at="2026-10-03T01:00Z"))
    try:
        summary = _summary(tmp_path)
    finally:
        ACTIONS.pop()
        INCIDENTS.pop()
    html = report.overdue_action_table(summary).data
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = narrative.render(summary)
    assert "<b>P9</b>" not in markdown and "&lt;b&gt;P9&lt;/b&gt;" in markdown


def test_a_warehouse_from_before_these_files_reads_and_ingests(tmp_path):
    """A warehouse made by an earlier srelib (no actions or launches tables, engagement without
    service) gives empty sections until the next ingest, which adds what is missing."""
    import duckdb

    from srelib.ingest.warehouse import connect, load

    workbench = _workbench(tmp_path)
    data = _data(tmp_path / "data")
    target = tmp_path / "warehouse" / "old.duckdb"
    load(validate_directory(data), target)
    with duckdb.connect(str(target)) as con:
        con.execute("DROP TABLE actions")
        con.execute("DROP TABLE launches")
        con.execute("ALTER TABLE engagement DROP COLUMN service")
    with connect(target) as con:
        summary = build_summary(con, workbench, Period.parse("2026-10"))
    assert (summary.follow_up.actions.total, summary.readiness.prr_services, summary.readiness.launches) == (0, 0, [])
    load(validate_directory(data), target)
    with connect(target) as con:
        summary = build_summary(con, workbench, Period.parse("2026-10"))
    assert (summary.follow_up.actions.overdue, summary.readiness.prr_services) == (2, 2)


@pytest.mark.parametrize(("due", "days"), [(date(2026, 3, 20), 11), (date(2026, 3, 28), 3), (date(2026, 3, 31), 0)])
def test_days_overdue_are_local_calendar_days_across_the_spring_change(due: date, days: int):
    """Berlin springs forward on 29 March 2026: the 23-hour day costs no day overdue."""
    from srelib.metrics.follow_up import days_overdue

    assert days_overdue(due, Period.parse("2026-03", "Europe/Berlin")) == days


def test_review_kinds_must_be_configured_activity_kinds_and_aliases_are_read_as_their_kinds(tmp_path):
    from srelib.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        _workbench(tmp_path / "unknown", follow_up={"prr_kind": "prr_meeting", "review_kinds": ["prr", "design_chat"]})
    message = str(caught.value)
    assert "follow_up.yaml" in message and "prr_kind: 'prr_meeting' is not an activity kind" in message
    assert "review_kinds: 'design_chat' is not" in message and message.count("is not an activity kind") == 2
    assert "configured: architecture_review" in message
    aliased = _workbench(tmp_path / "aliased", follow_up={"prr_kind": "prr", "review_kinds": ["prr"]}).follow_up
    assert (aliased.prr_kind, aliased.review_kinds) == ("production_readiness_review", ["production_readiness_review"])
