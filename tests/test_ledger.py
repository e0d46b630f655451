"""The error budget policy ledger (issue 18): when each SLO crossed the policy's lines, from the
data; the decisions that followed, from the decisions file; and the gaps between them. Golden
values by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from srelib.errors import InputError
from srelib.ingest.validate import validate_directory
from srelib.metrics.ledger import crossings
from tests.conftest import INCIDENT_COLUMNS, write_csv
from tests.test_data_quality import HOUR, _buckets, _ingest, _workbench, summary_of

DECISION_COLUMNS = ["date", "service", "decision", "by", "note"]


def test_crossings_day_by_day():
    days = [
        ("2026-10-01", 0.30),
        ("2026-10-02", 0.20),  # below 25 %: at risk
        ("2026-10-03", 0.10),
        ("2026-10-04", -0.05),  # exhausted
        ("2026-10-05", None),  # no traffic: no state
        ("2026-10-06", 0.05),  # above 0: the freeze lifts, still at risk
        ("2026-10-07", 0.40),  # recovered
        ("2026-10-08", -0.20),  # both lines on one day
    ]
    events = [(e.day, e.kind, e.before) for e in crossings("a", "api", days, 0.25, 0.0)]
    assert events == [
        ("2026-10-02", "at_risk", False),
        ("2026-10-04", "exhausted", False),
        ("2026-10-06", "replenished", False),
        ("2026-10-07", "recovered", False),
        ("2026-10-08", "at_risk", False),
        ("2026-10-08", "exhausted", False),
    ]
    # exhausted already when the period began: both states began earlier
    assert [(e.kind, e.before) for e in crossings("a", "api", [("2026-10-01", -1.0)], 0.25, 0.0)] == [
        ("at_risk", True),
        ("exhausted", True),
    ]
    assert crossings("a", "api", [("2026-10-01", 1.0), ("2026-10-02", 0.25)], 0.25, 0.0) == []  # 25 % is not below


def _incident(incident_id: str, started: str, resolved: str) -> dict:
    return {
        "incident_id": incident_id,
        "title": "errors",
        "service": "api",
        "severity": "SEV2",
        "started_at": started,
        "resolved_at": resolved,
    }


def test_the_ledger_of_a_month_with_its_decisions_and_gaps(tmp_path: Path):
    workbench = _workbench(tmp_path)
    data = tmp_path / "data"
    # api-availability at 99 % over a rolling 30 days: 1,000 events an hour. Good until 10
    # October; then 10 October 00:00-12:00 all bad: 12,000 bad events against a 30-day budget of
    # 7,200 (0.01 × 720,000): exhausted that day, for the rest of the month.
    sli = [
        *_buckets("api-availability", datetime(2026, 9, 1), datetime(2026, 10, 10), HOUR, good=1000, total=1000),
        *_buckets("api-availability", datetime(2026, 10, 10), datetime(2026, 10, 10, 12), HOUR, good=0, total=1000),
        *_buckets("api-availability", datetime(2026, 10, 10, 12), datetime(2026, 11, 1), HOUR, good=1000, total=1000),
        *_buckets("web-availability", datetime(2026, 9, 1), datetime(2026, 11, 1), HOUR, good=1000, total=1000),
    ]
    write_csv(
        data / "incidents.csv",
        INCIDENT_COLUMNS,
        [_incident("INC-1", "2026-10-10T00:00:00Z", "2026-10-10T12:00:00Z")],
    )
    write_csv(
        data / "decisions.csv",
        DECISION_COLUMNS,
        [
            {"date": "2026-10-14", "service": "api", "decision": "Release freeze", "by": "VP Eng", "note": "P0s only"},
            {"date": "2026-09-20", "service": "api", "decision": "Reliability sprint", "by": "SRE lead"},
            {"date": "2026-10-20", "service": "web", "decision": "Accept risk", "by": "Web lead"},
        ],
    )
    _ingest(workbench, sli)
    summary = summary_of(workbench, "2026-10")
    ledger = summary.policy_ledger
    assert [(e.day, e.slo, e.kind, e.incident_id) for e in ledger.events] == [
        ("2026-10-10", "api-availability", "at_risk", None),
        ("2026-10-10", "api-availability", "exhausted", None),
        ("2026-10-10", "api-availability", "incident", "INC-1"),
    ]
    exhausted = ledger.events[1]
    # the budget left at the end of 10 October over the SLO's 30 days to then: 1 − 12,000 / 7,200
    assert exhausted.remaining == round(1 - 12_000 / 7_200, 6) == -0.666667
    # the incident's share: 12,000 bad events of the budget over the policy's 28 days to 1 November
    # (672,000 events: 6,720 allowed)
    assert ledger.events[2].remaining == round(12_000 / 6_720, 6)
    # the decision four days later: both events waited four days, more than the two allowed
    assert [(g.kind, g.decided, g.days, g.late) for g in ledger.gaps] == [
        ("exhausted", "2026-10-14", 4, True),
        ("incident", "2026-10-14", 4, True),
    ]
    from srelib.present import narrative
    from srelib.present.rows import ledger_rows

    assert [(r["event"], r["remaining"], r["decision"], r["wait"]) for r in ledger_rows(summary)] == [
        ("budget fell below the at-risk line", "−67 %", "", ""),
        ("budget exhausted: the policy freezes releases", "−67 %", "Release freeze (VP Eng)", "4 days (late)"),
        (
            "INC-1: one incident consumed more than the policy's share of the budget",
            "179 %",
            "Release freeze (VP Eng)",
            "4 days (late)",
        ),
    ]
    said = narrative.messages(summary)
    assert (
        "api-availability's error budget was exhausted on 10 October 2026 and the first decision about api was "
        "recorded 4 days later, on 14 October 2026 (the policy asks for one within 2 days)."
    ) in said
    assert (
        "INC-1 consumed more than the policy's share of api-availability's error budget on 10 October 2026 and "
        "the first decision about api was recorded 4 days later, on 14 October 2026 (the policy asks for one "
        "within 2 days)."
    ) in said
    # the period's decisions of the services in scope (September's is older)
    assert [(d.day, d.service, d.decision) for d in ledger.decisions] == [
        ("2026-10-14", "api", "Release freeze"),
        ("2026-10-20", "web", "Accept risk"),
    ]


def test_an_exhausted_budget_without_a_decision_waits_to_the_period_end(tmp_path: Path):
    workbench = _workbench(tmp_path)
    sli = [
        *_buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 10, 17), HOUR, good=1000, total=1000),
        *_buckets("api-availability", datetime(2026, 10, 17), datetime(2026, 10, 18), HOUR, good=0, total=1000),
        *_buckets("api-availability", datetime(2026, 10, 18), datetime(2026, 11, 1), HOUR, good=1000, total=1000),
    ]
    _ingest(workbench, sli)
    summary = summary_of(workbench, "2026-10")
    (gap,) = summary.policy_ledger.gaps
    # exhausted on 17 October; nothing recorded by the end of the 31st: 15 days
    assert (gap.day, gap.decided, gap.days, gap.late) == ("2026-10-17", None, 15, True)
    from srelib.present import narrative

    assert (
        "api-availability's error budget was exhausted on 17 October 2026 and no decision was recorded "
        "in the 15 days to the end of October 2026 (the policy asks for one within 2 days)."
    ) in narrative.messages(summary)


def test_bad_decision_rows_name_file_row_and_column(tmp_path: Path):
    data = tmp_path / "data"
    write_csv(
        data / "decisions.csv",
        DECISION_COLUMNS,
        [
            {"date": "2026-10-14", "service": "api", "decision": "Release freeze"},
            {"date": "14/10/2026", "service": "api", "decision": "Release freeze"},
            {"date": "2026-10-15", "service": "", "decision": "Release freeze"},
        ],
    )
    with pytest.raises(InputError) as caught:
        validate_directory(data)
    said = [str(p) for p in caught.value.problems]
    assert any(p.startswith("decisions.csv:3:date:") for p in said), said
    assert any(p.startswith("decisions.csv:4:service: required value is empty") for p in said), said


def test_a_warehouse_without_decisions_has_a_ledger_without_decisions(tmp_path: Path):
    workbench = _workbench(tmp_path)
    _ingest(workbench, _buckets("api-availability", datetime(2026, 10, 1), datetime(2026, 10, 2), HOUR))
    import duckdb

    with duckdb.connect(str(workbench.warehouse_path)) as con:  # a warehouse from before decisions
        con.execute("DROP TABLE IF EXISTS decisions")
    ledger = summary_of(workbench, "2026-10").policy_ledger
    assert (ledger.events, ledger.decisions, ledger.gaps) == ([], [], [])
