"""The SRE programme against its plan: phases, milestones first met, success criteria, regular
communications (docs/metrics.md, "Programme"), and params/programme.yaml's validation.

Golden values are computed by hand from the rows and runs written here. The org's time zone is
Europe/Berlin (UTC+1 in winter, UTC+2 from 29 March 2026), so boundaries fall an hour or two
before midnight UTC.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from srelib.config import ConfigError, Workbench
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.metrics.programme import compare, direction, programme_month
from srelib.period import Period
from srelib.run.programme import run_history
from srelib.summary import build_summary
from tests.conftest import make_workbench, run_cli, write_csv

SERVICES = {"checkout": "payments", "api": "platform"}
ENGAGEMENT = ["date", "kind", "title", "team", "reached", "audience"]

PLAN = {
    "phases": {
        "first": {"title": "First", "months": [1, 2]},  # 2026-01-01 .. 2026-02-28
        "second": {"title": "Second", "months": [3, 4]},  # 2026-03-01 .. 2026-04-30
    },
    "milestones": {
        "lunch": {"title": "Lunch and learns begun", "phase": "first", "evidence": {"activity": "lunch_and_learn"}},
        "metrics": {"title": "Metrics tracking", "phase": "first", "evidence": {"table": "sli"}},
        "news": {"title": "Newsletter", "phase": "first", "due_month": 2, "evidence": {"report": "newsletter"}},
        "pairing": {
            "title": "Pairing with two teams",
            "phase": "second",
            "evidence": {"activity": "cross_team_pairing", "teams": 2},
        },
        "feedback": {
            "title": "Stakeholders asked",
            "phase": "second",
            "evidence": {"any_of": [{"survey": "stakeholder", "count": 2}, {"activity": "joint_planning"}]},
        },
    },
    "criteria": {
        "on_time": {
            "title": "Regular communications",
            "metric": "programme.communications.on_time_share",
            "at_least": 0.666667,
            "trend": "programme.communications.trend",
        },
        "on_time_strict": {
            "title": "Every report on time",
            "metric": "programme.communications.on_time_share",
            "above": 0.666667,
        },
        "lunches": {
            "title": "Lunch and learn attendance",
            "term": "long",
            "metric": "activities.kinds.lunch_and_learn.reach",
            "at_least": 30,
            "trend": "activities.kinds.lunch_and_learn.reaches",
        },
        "news_met": {"title": "Newsletter out", "metric": "programme.milestones.news.met", "equals": True},
    },
}

ROWS = [
    dict(date="2026-02-10", kind="lunch_and_learn", title="L&L", team="", reached=40),
    dict(date="2026-03-10", kind="lunch_and_learn", title="L&L", team="", reached=35),
    dict(date="2026-04-10", kind="lunch_and_learn", title="L&L", team="", reached=25),
    dict(date="2026-03-05", kind="pairing", title="Pairing", team="payments", reached=2),
    dict(date="2026-03-20", kind="pairing", title="Pairing", team="payments", reached=2),
    dict(date="2026-05-02", kind="pairing", title="Pairing", team="platform", reached=2),
]

RUNS = [  # newsletter, monthly, due the 2nd at 06:00 Berlin
    ("2026-01", "2026-02-28T23:30:00+00:00"),  # 1 March 00:30 in Berlin: due 2 Feb, late; first met 1 March
    ("2026-02", "2026-03-02T04:59:00+00:00"),  # due 2 March 05:00 UTC: on time by a minute
    ("2026-03", "2026-04-02T04:00:00+00:00"),  # due 2 April 06:00 CEST = 04:00 UTC: on time, exactly
    ("2026-04", "2026-05-02T04:00:01+00:00"),  # a second late
]


def _workbench(tmp_path: Path, plan: dict | None = PLAN, start: str | None = "2026-01-01") -> Workbench:
    workbench = make_workbench(tmp_path, SERVICES, timezone="Europe/Berlin")
    org = yaml.safe_load((tmp_path / "params" / "org.yaml").read_text())
    if start:
        org["programme_start"] = start
    (tmp_path / "params" / "org.yaml").write_text(yaml.safe_dump(org))
    if plan is not None:
        (tmp_path / "params" / "programme.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    schedule = {"reports": [{"report": "newsletter", "cadence": "monthly", "due_after_days": 1, "due_at": "06:00"}]}
    (tmp_path / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule))
    outputs = tmp_path / "outputs"
    outputs.mkdir(exist_ok=True)
    lines = [{"report": "newsletter", "period": p, "status": "ok", "finished_at": f} for p, f in RUNS]
    lines.append({"report": "newsletter", "period": "2026-02", "status": "failed", "finished_at": RUNS[0][1]})
    (outputs / "runs.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"cut short', "utf-8")
    return Workbench.load(workbench.root)


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    write_csv(data / "engagement.csv", ENGAGEMENT, ROWS)
    # 31 Jan 23:30 UTC is 1 February in Berlin
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], [])
    sli = [{"timestamp": "2026-01-31T23:30:00Z", "slo": "api-availability", "good": 9, "total": 10}]
    write_csv(data / "sli.csv", ["timestamp", "slo", "good", "total"], sli)
    from tests.conftest import slo_document, write_slos

    write_slos(data, [slo_document("api-availability", "api", 0.99)])
    surveys = [
        dict(submitted_at="2026-03-31T21:59:00Z", survey="stakeholder", team="", question="q", score=4),  # 31 Mar
        dict(submitted_at="2026-03-31T22:00:00Z", survey="stakeholder", team="", question="q", score=5),  # 1 Apr
    ]
    write_csv(data / "surveys.csv", ["submitted_at", "survey", "team", "question", "score"], surveys)
    return data


def _programme(workbench: Workbench, data: Path, period: str, team: str | None = None):
    with in_memory(validate_directory(data, activities=workbench.activities)) as con:
        summary = build_summary(
            con, workbench, Period.parse(period, "Europe/Berlin"), team, history=run_history(workbench)
        )
    return summary.programme


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Workbench, Path]:
    workbench = _workbench(tmp_path)
    return workbench, _data(tmp_path)


@pytest.mark.parametrize(
    ("start", "day", "month"),
    [
        (date(2026, 3, 15), date(2026, 3, 15), 1),
        (date(2026, 3, 15), date(2026, 4, 14), 1),
        (date(2026, 3, 15), date(2026, 4, 15), 2),
        (date(2026, 1, 31), date(2026, 2, 27), 1),  # month 2 starts on 28 February (the month's last day)
        (date(2026, 1, 31), date(2026, 2, 28), 2),
        (date(2026, 1, 31), date(2026, 3, 30), 2),
        (date(2026, 1, 31), date(2026, 3, 31), 3),
        (date(2024, 1, 30), date(2024, 2, 29), 2),  # leap year: 30 January + 1 month = 29 February
        (date(2025, 11, 1), date(2026, 10, 31), 12),
        (date(2025, 11, 1), date(2026, 11, 1), 13),
    ],
)
def test_programme_month_starts_where_a_due_month_ends(start, day, month):
    assert programme_month(start, day) == month


def test_phase_status_at_the_boundaries_in_the_org_time_zone(bench):
    january = _programme(*bench, "2026-01")
    february = _programme(*bench, "2026-02")
    april = _programme(*bench, "2026-04")
    assert (january.phases["first"].status, january.phases["second"].status) == ("in_progress", "upcoming")
    # February's end is the first phase's end: it is over, its newsletter not out by then (1 March in Berlin)
    assert (february.phases["first"].status, february.phases["second"].status) == ("late", "upcoming")
    assert (february.phases["first"].start, february.phases["first"].end) == ("2026-01-01", "2026-02-28")
    assert (february.phases["first"].milestones, february.phases["first"].milestones_met) == (3, 2)
    # by April's end the newsletter is out (late) and the first phase done; the second ends with pairing unmet
    assert (april.phases["first"].status, april.phases["second"].status) == ("done", "late")
    assert (january.month, february.month, april.month, april.as_of) == (1, 2, 4, "2026-04-30")


def test_milestones_are_met_on_the_local_day_their_evidence_first_shows(bench):
    march = _programme(*bench, "2026-03")
    m = march.milestones
    assert (m["lunch"].first_met, m["lunch"].status, m["lunch"].figure) == ("2026-02-10", "done", 2.0)
    assert (m["metrics"].first_met, m["metrics"].status) == ("2026-02-01", "done")  # 31 Jan 23:30 UTC
    # the January newsletter was published at 00:30 on 1 March in Berlin: a day after its due day
    assert (m["news"].due, m["news"].first_met, m["news"].status, m["news"].days_late) == (
        "2026-02-28",
        "2026-03-01",
        "done_late",
        1,
    )
    # by 31 March: January's and February's (2 March 04:59 UTC); March's came out on 2 April
    assert (m["news"].figure, m["news"].figure_of) == (2.0, "periods")
    # one team paired by March's end: not met, due on 30 April, so at risk next
    assert (m["pairing"].met, m["pairing"].status, m["pairing"].figure, m["pairing"].figure_of) == (
        False,
        "on_plan",
        1.0,
        "teams",
    )
    assert march.at_risk.milestones == ["pairing", "feedback"]  # the second response is 1 April in Berlin
    assert (m["feedback"].met, m["feedback"].evidence, m["feedback"].figure) == (False, "survey", 1.0)


def test_a_milestone_met_after_its_due_day_is_done_late_and_one_unmet_is_late(bench):
    april = _programme(*bench, "2026-04")
    may = _programme(*bench, "2026-05")
    assert (april.milestones["pairing"].status, april.milestones["pairing"].days_late) == ("late", 0)
    assert (april.milestones["feedback"].first_met, april.milestones["feedback"].status) == ("2026-04-01", "done")
    assert (may.milestones["pairing"].first_met, may.milestones["pairing"].status) == ("2026-05-02", "done_late")
    assert may.milestones["pairing"].days_late == 2
    assert (april.milestones_done, april.milestones_late) == (4, 2)


def test_regular_communications_is_the_share_of_due_reports_published_on_time(bench):
    april = _programme(*bench, "2026-04")
    c = april.communications
    # due in Feb..Apr: January's (2 Feb, published 1 March: late), February's (on time by a minute),
    # March's (06:00 CEST exactly: on time). April's falls due on 2 May, after the period.
    assert (c.history, c.due, c.on_time, c.on_time_share) == (True, 3, 2, 0.666667)
    assert [(x.period, x.published_at) for x in c.late] == [("2026-01", "2026-03-01T00:30+01:00")]
    assert {p: v for p, v in c.trend.items() if v is not None} == {"2026-02": 0.0, "2026-03": 1.0, "2026-04": 1.0}
    may = _programme(*bench, "2026-05")  # April's, a second late, falls due in May
    assert (may.communications.due, may.communications.on_time, may.communications.trend["2026-05"]) == (3, 2, 0.0)


def test_criteria_are_met_at_the_threshold_and_carry_their_trend(bench):
    april = _programme(*bench, "2026-04")
    c = april.criteria
    assert (c["on_time"].value, c["on_time"].met, c["on_time_strict"].met) == (0.666667, True, False)
    assert [(t.period, t.value) for t in c["on_time"].trend if t.value is not None] == [
        ("2026-02", 0.0),
        ("2026-03", 1.0),
        ("2026-04", 1.0),
    ]
    assert c["on_time"].direction == "flat"
    # lunch and learn reach: 40 in February, 35 in March, 25 in April (below 30, and down: away from it)
    assert (c["lunches"].value, c["lunches"].met, c["lunches"].direction) == (25, False, "away")
    assert (c["news_met"].value, c["news_met"].met) == (True, True)
    assert (april.criteria_met, april.criteria_count, april.criteria_evaluated) == (2, 4, 4)
    assert april.at_risk.criteria == ["lunches"]


def test_without_run_history_report_milestones_and_communications_read_as_not_met(bench):
    workbench, data = bench
    with in_memory(validate_directory(data, activities=workbench.activities)) as con:
        summary = build_summary(con, workbench, Period.parse("2026-04", "Europe/Berlin"))
    assert summary.programme is not None
    assert (summary.programme.communications.history, summary.programme.communications.on_time_share) == (False, None)
    assert summary.programme.milestones["news"].met is False
    assert summary.programme.criteria["on_time"].met is None


def test_a_team_summary_has_no_programme_section(bench):
    assert _programme(*bench, "2026-04", "payments") is None


def test_metrics_json_reads_the_workbench_run_history(bench):
    workbench, data = bench
    out = run_cli(workbench.root, "metrics", "--period", "2026-04", "--data", str(data), "--json")
    assert out.returncode == 0, out.stderr
    programme = json.loads(out.stdout)["programme"]
    assert programme["communications"]["on_time_share"] == 0.666667
    assert programme["milestones"]["news"]["first_met"] == "2026-03-01"


def test_comparisons_and_directions():
    assert [compare(0.8, "at_least", 0.8), compare(0.8, "above", 0.8), compare(0, "below", 0)] == [True, False, False]
    assert [compare(None, "at_least", 1), compare(1, "at_least", None), compare(True, "at_least", 1)] == [None] * 3
    assert [direction([1, None, 2], "at_least"), direction([3, 2], "at_most"), direction([2], "below")] == [
        "toward",
        "toward",
        None,
    ]


def test_the_seed_plan_is_the_default(tmp_path):
    workbench = _workbench(tmp_path, plan=None)
    plan = workbench.programme
    assert {k: p.months for k, p in plan.phases.items()} == {
        "foundation": (1, 3),
        "expansion": (4, 6),
        "optimisation": (7, 12),
    }
    assert len(plan.criteria) == 9 and {c.term for c in plan.criteria.values()} == {"short", "long"}
    assert plan.phases["expansion"].span(workbench.org.programme_start) == (date(2026, 4, 1), date(2026, 6, 30))


# ---- validation -------------------------------------------------------------------------------------


def _refused(tmp_path: Path, change: dict, start: str | None = "2026-01-01") -> str:
    plan = json.loads(json.dumps(PLAN))
    for path, value in change.items():
        node = plan
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    _workbench(tmp_path, plan=None, start=start)
    (tmp_path / "params" / "programme.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    out = run_cli(tmp_path, "metrics", "--period", "2026-04", "--data", str(_data(tmp_path)), "--json")
    assert out.returncode == 2, out.stdout
    assert "Traceback" not in out.stderr
    return out.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"criteria.lunches.metric": "value.roi.rio"},
            "criteria.lunches.metric: 'value.roi.rio': the summary has no figure 'value.roi.rio'",
        ),
        (
            {"criteria.on_time.at_least": "surveys.nope.target"},
            "criteria.on_time.threshold: 'surveys.nope.target': unknown survey 'nope'",
        ),
        ({"criteria.lunches.trend": "activities.kinds.lunch_and_learn.reach"}, "criteria.lunches.trend: "),
        ({"criteria.lunches.metric": "activities.kinds"}, "names a group of figures"),
        ({"criteria.news_met.metric": "programme.milestones.nope.met"}, "unknown milestone 'nope'"),
        (
            {"milestones.lunch.evidence": {"activity": "lunch_and_learns"}},
            "milestones.lunch.evidence: unknown activity 'lunch_and_learns'",
        ),
        ({"milestones.lunch.evidence": {"survey": "pulse"}}, "milestones.lunch.evidence: unknown survey 'pulse'"),
        (
            {"milestones.lunch.evidence": {"report": "weekly_memo"}},
            "milestones.lunch.evidence: unknown report 'weekly_memo'",
        ),
        ({"milestones.lunch.evidence": {"table": "tickets"}}, "milestones.lunch.evidence: unknown table 'tickets'"),
        ({"milestones.lunch.evidence": {"activity": "drill", "report": "newsletter"}}, "give exactly one of"),
        ({"milestones.lunch.phase": "third"}, "milestones.lunch.phase: unknown phase 'third'"),
        ({"milestones.lunch.due": "2026-02-30"}, "milestones.lunch.due"),
        (
            {"phases.first": {"title": "First", "start": "2026-03-01", "end": "2026-01-31"}},
            "phases.first: Value error, end 2026-01-31 is before start",
        ),
        ({"criteria.lunches.at_most": 3}, "criteria.lunches: Value error, give exactly one of"),
    ],
)
def test_a_bad_plan_is_refused_naming_its_key(tmp_path, change, message):
    assert message in _refused(tmp_path, change)


def test_a_plan_in_programme_months_needs_a_programme_start(tmp_path):
    stderr = _refused(tmp_path, {}, start=None)
    assert "phases.first.months: counts months from programme_start" in stderr
    assert "milestones.news.due_month" in stderr


def test_without_a_programme_start_the_default_plan_waits(tmp_path):
    workbench = _workbench(tmp_path, plan=None, start=None)
    data = _data(tmp_path)
    assert _programme(workbench, data, "2026-04") is None


def test_a_plan_of_dates_needs_no_programme_start(tmp_path):
    plan = {
        "phases": {"only": {"title": "Only", "start": "2026-01-01", "end": "2026-03-31"}},
        "milestones": {"lunch": {"title": "L", "phase": "only", "evidence": {"activity": "lunch_and_learn"}}},
        "criteria": {},
    }
    workbench = _workbench(tmp_path, plan=plan, start=None)
    programme = _programme(workbench, _data(tmp_path), "2026-04")
    assert (programme.month, programme.phases["only"].status, programme.milestones["lunch"].status) == (
        None,
        "done",
        "done",
    )


def test_the_params_and_the_init_template_are_valid_plans():
    root = Path(__file__).resolve().parents[1]
    workbench = Workbench.load(root)
    assert "chaos_in_every_team" in workbench.programme.milestones
    template = yaml.safe_load((root / "templates" / "workbench" / "params" / "programme.yaml").read_text())
    assert template is None  # every line commented: the defaults
    from srelib.summary import check_programme

    check_programme(workbench.programme, workbench)
    with pytest.raises(ConfigError):
        check_programme(
            workbench.programme.model_copy(
                update={
                    "criteria": {
                        "x": workbench.programme.criteria["business_impact"].model_copy(update={"metric": "value.nope"})
                    }
                }
            ),
            workbench,
        )


def test_the_default_plan_follows_the_activities_and_surveys_configured(tmp_path):
    workbench = _workbench(tmp_path, plan=None)
    activities = {"kinds": {"lunch_and_learn": {"title": "L&L", "family": "awareness", "unit": "attendees"}}}
    (tmp_path / "params" / "activities.yaml").write_text(yaml.safe_dump({**activities, "surveys": {}}))
    plan = Workbench.load(workbench.root).programme
    assert plan.milestones["lunch_and_learns"].evidence.activity == "lunch_and_learn"
    assert plan.milestones["newsletter_launched"].evidence.any_of[0].report == "newsletter"  # the report stays
    assert len(plan.milestones["newsletter_launched"].evidence.any_of) == 1
    assert "champions_launched" not in plan.milestones and "stakeholder_feedback" not in plan.milestones
    assert "training_launched" not in plan.milestones and "training_launched" not in plan.criteria
    assert "stakeholder_feedback" not in plan.criteria and "business_impact" in plan.criteria


def test_an_activity_named_by_its_alias_is_the_kind_ingest_stores():
    """``pairing`` rows are stored as ``cross_team_pairing``: a milestone naming the alias reads them."""
    from srelib.config import Activities, Programme

    plan = Programme.model_validate(
        {
            "milestones": {
                "pairing": {"title": "Pairing begun", "due": "2026-03-31", "evidence": {"activity": "pairing"}},
                "either": {
                    "title": "Either",
                    "due": "2026-03-31",
                    "evidence": {"any_of": [{"activity": "pairing"}, {"activity": "lunch_and_learn"}]},
                },
            }
        }
    )
    resolved = plan.with_kinds(Activities())
    assert resolved.milestones["pairing"].evidence.activity == "cross_team_pairing"
    assert [r.activity for r in resolved.milestones["either"].evidence.any_of] == [
        "cross_team_pairing",
        "lunch_and_learn",
    ]


@pytest.mark.parametrize(
    ("path", "value", "shown"),
    [
        ("slos.checkout-availability.attainment", 0.9985, "99.85 %"),  # not "1.00" against a 99.9 % target
        ("slos.checkout-availability.target", 0.999, "99.90 %"),
        ("slo_budgets.checkout-availability.error_budget_remaining", 0.25, "25 %"),
        ("value.roi.roi", 1.02, "102 %"),
    ],
)
def test_a_criterions_figure_reads_as_the_reports_write_it(path: str, value: float, shown: str):
    from srelib.present.programme import figure

    assert figure(path, value) == shown


def test_an_action_item_is_evidence_from_its_creation_or_its_incident_not_its_due_day():
    import duckdb

    from srelib.metrics.programme import table_evidence

    con = duckdb.connect()
    con.execute("CREATE TABLE incidents (incident_id VARCHAR, started_at TIMESTAMP)")
    con.execute("CREATE TABLE actions (incident_id VARCHAR, action VARCHAR, due DATE, created_at TIMESTAMP)")
    con.execute("INSERT INTO incidents VALUES ('I1', '2026-09-20 08:00:00'), ('I2', '2026-10-03 23:30:00')")
    con.execute(
        "INSERT INTO actions VALUES ('I1', 'created in October, due before', '2026-09-01', '2026-10-10 12:00:00'),"
        " ('I2', 'no created_at: its incident started 4 October in Berlin', '2026-08-01', NULL),"
        " ('I9', 'neither', '2026-07-01', NULL)"
    )
    september, october = Period.parse("2026-09", "Europe/Berlin"), Period.parse("2026-10", "Europe/Berlin")
    before = table_evidence(con, "actions", september, "Europe/Berlin")
    assert (before.first, before.figure) == (None, 0.0)
    found = table_evidence(con, "actions", october.shift(1), "Europe/Berlin")
    assert (found.first, found.figure) == (date(2026, 10, 4), 2)
