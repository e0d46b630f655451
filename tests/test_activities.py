"""The programme's activities, their targets per calendar period and momentum, and surveys per question.

Golden values are computed by hand from the rows written in each test (docs/metrics.md,
"Activities", "Surveys" and "Targets").
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from srelib.config import Activities, ConfigError, Target, Targets, Workbench, load_yaml
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import in_memory
from srelib.metrics import activities as activity_metrics
from srelib.metrics import engagement
from srelib.metrics.scope import Scope
from srelib.metrics.targets import period_target
from srelib.period import Period
from srelib.summary import build_summary
from tests.conftest import make_workbench, run_cli, write_csv

SERVICES = {"checkout": "payments", "api": "platform", "search": "search"}
ENGAGEMENT = ["date", "kind", "title", "team", "reached", "audience", "service"]
SURVEYS = ["submitted_at", "survey", "team", "question", "score"]


def _workbench(tmp_path: Path, activities: dict | None = None, trend_periods: int = 12) -> Workbench:
    workbench = make_workbench(tmp_path, SERVICES)
    org = yaml.safe_load((tmp_path / "params" / "org.yaml").read_text())
    (tmp_path / "params" / "org.yaml").write_text(yaml.safe_dump({**org, "trend_periods": trend_periods}))
    if activities is not None:
        (tmp_path / "params" / "activities.yaml").write_text(yaml.safe_dump(activities, sort_keys=False))
    return Workbench.load(workbench.root)


def _summary(workbench: Workbench, data: Path, period: str, team: str | None = None):
    with in_memory(validate_directory(data, activities=workbench.activities)) as con:
        return build_summary(con, workbench, Period.parse(period, workbench.org.timezone), team)


def _monthly(kind: str, months: list[str], team: str = "", reached: int = 10, day: int = 15) -> list[dict]:
    return [dict(date=f"{m}-{day:02d}", kind=kind, title=f"{kind} {m}", team=team, reached=reached) for m in months]


# ---- targets per calendar period ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "configured", "expected"),
    [
        ("month", dict(per_month=6), 6),  # a month is a month, whatever its days
        ("quarter", dict(per_month=6), 18),  # 3 × the monthly target
        ("quarter", dict(per_month=6, per_quarter=15), 15),  # its own target wins
        ("year", dict(per_month=6), 72),  # 12 × the monthly target
        ("year", dict(per_month=6, per_quarter=15), 60),  # 4 × the quarterly one, when given
        ("week", dict(per_month=6), 1),  # 6 × 12 ÷ 52 = 1.38 → 1
        ("week", dict(per_month=10), 2),  # 2.31 → 2
        ("week", dict(per_month=13), 3),  # 3.0 → 3
        ("week", dict(per_month=2), None),  # 0.46 → 0: no weekly target
        ("week", dict(per_month=2, per_week=1), 1),  # its own target wins
        ("month", dict(per_quarter=9), None),  # never a share of a quarter's target
        ("month", dict(), None),
    ],
)
def test_a_count_target_follows_the_calendar_period(kind, configured, expected):
    assert (
        period_target(kind, configured.get("per_month"), **{k: v for k, v in configured.items() if k != "per_month"})
        == expected
    )


def test_six_collaboration_events_in_a_31_day_month_meet_a_target_of_six(tmp_path):
    workbench = make_workbench(tmp_path, SERVICES)
    data = tmp_path / "data"
    rows = [dict(date=f"2026-10-{d:02d}", kind="workshop", title="w", team="payments", reached=5) for d in range(1, 7)]
    write_csv(data / "engagement.csv", ENGAGEMENT, rows)
    targets = Targets(targets={"collaboration_events": Target(target=6)})
    with in_memory(validate_directory(data)) as con:
        scope = Scope(None, workbench.catalogue)
        october = Period.parse("2026-10")
        kpi = engagement.engagement(con, october, scope, targets, [october]).kpis["collaboration_events"]
        assert (kpi.value, kpi.target, kpi.met) == (6, 6, True)  # was "below target" against 6.11
        quarter = Period.parse("2026-Q4")  # 6 in the quarter against 3 × 6
        kpi = engagement.engagement(con, quarter, scope, targets, [quarter]).kpis["collaboration_events"]
        assert (kpi.value, kpi.target, kpi.met) == (6, 18, False)
        week = Period.parse("2026-W40")  # 28 Sep – 4 Oct: 4 workshops against round(6 × 12 ÷ 52) = 1
        kpi = engagement.engagement(con, week, scope, targets, [week]).kpis["collaboration_events"]
        assert (kpi.value, kpi.target, kpi.met) == (4, 1, True)


# ---- activities per kind and per team ----------------------------------------------------------

MONTHS_2026 = [f"2026-{m:02d}" for m in range(1, 13)]


def test_activities_per_kind_count_reach_unit_and_target(tmp_path):
    workbench = _workbench(
        tmp_path,
        {
            "kinds": {
                "lunch_and_learn": {
                    "title": "Lunch and learn",
                    "family": "awareness",
                    "unit": "attendees",
                    "targets": {"per_month": 40},
                },
                "cross_team_pairing": {
                    "title": "Pairing",
                    "family": "awareness",
                    "unit": "sessions",
                    "aliases": ["pairing"],
                    "targets": {"per_month": 3},
                },
                "blog": {"title": "Blog post", "family": "awareness", "unit": "views"},
                "sre_fundamentals_course": {
                    "title": "SRE fundamentals",
                    "family": "education",
                    "unit": "completions",
                    "targets": {"per_quarter": 12},
                },
            }
        },
    )
    data = tmp_path / "data"
    write_csv(
        data / "engagement.csv",
        ENGAGEMENT,
        [
            # October: two lunch and learns, 25 + 20 = 45 attendees against 40: met.
            dict(date="2026-10-01", kind="lunch_and_learn", title="a", reached=25, audience=60),
            dict(date="2026-10-31", kind="lunch_and_learn", title="b", reached=20),
            dict(date="2026-11-01", kind="lunch_and_learn", title="c", reached=99),  # November: not October
            # Pairing: two sessions (one written with the alias) against 3 a month: below target.
            dict(date="2026-10-05", kind="pairing", title="p", team="payments", reached=2),
            dict(date="2026-10-06", kind="cross_team_pairing", title="q", team="search", reached=3),
            # A course with no target for a month (its target is per quarter).
            dict(date="2026-10-20", kind="sre_fundamentals_course", title="c", reached=11, audience=15),
        ],
    )
    summary = _summary(workbench, data, "2026-10")
    a = summary.activities
    assert a is not None
    lunch, pairing = a.kinds["lunch_and_learn"], a.kinds["cross_team_pairing"]
    assert (lunch.count, lunch.reach, lunch.value, lunch.target, lunch.met) == (2, 45, 45, 40, True)
    assert (pairing.count, pairing.reach, pairing.value, pairing.target, pairing.met) == (2, 5, 2, 3, False)
    assert pairing.teams == 2 and pairing.counts["2026-10"] == 2 and pairing.counts["2026-09"] == 0
    course = a.kinds["sre_fundamentals_course"]
    assert (course.value, course.target, course.met, course.unit) == (11, None, None, "completions")
    assert "blog" not in a.kinds  # no data in the trend and no target: left out
    assert (a.count, a.reach, a.targeted, a.met) == (5, 61, 2, 1)
    # Per team: the rows naming it; the catalogue's teams without any are listed with none.
    assert a.teams["payments"].count == 1 and a.teams["payments"].kinds == {"cross_team_pairing": 1}
    assert a.teams["platform"].count == 0 and a.teams["platform"].last_held is None
    # The quarter: 11 completions against 12 a quarter; the pairing target is 3 × 3 = 9 sessions.
    quarter = _summary(workbench, data, "2026-Q4").activities
    assert quarter is not None
    assert (quarter.kinds["sre_fundamentals_course"].target, quarter.kinds["sre_fundamentals_course"].met) == (
        12,
        False,
    )
    assert quarter.kinds["cross_team_pairing"].target == 9
    assert quarter.kinds["lunch_and_learn"].value == 45 + 99
    # A team's activities: its own rows, and no targets (they are the programme's).
    team = _summary(workbench, data, "2026-10", team="payments").activities
    assert team is not None and set(team.kinds) == {"cross_team_pairing"} and list(team.teams) == ["payments"]
    assert team.kinds["cross_team_pairing"].target is None and team.kinds["cross_team_pairing"].met is None


@pytest.mark.parametrize(
    ("counts", "lapse_after", "lapsed", "since"),
    [
        ([1] * 10 + [1, 0], 2, False, 1),  # one quiet month: not yet
        ([1] * 10 + [0, 0], 2, True, 2),  # two quiet months after running monthly: lapsed
        ([1] * 9 + [0, 0, 0], 2, True, 3),  # and stays lapsed until it runs again
        ([1] * 10 + [0, 0], 3, False, 2),  # N = 3: not yet
        ([0] * 12, 2, False, None),  # never ran: not started, not lapsed
        ([0] * 10 + [1, 0], 2, False, 1),  # a slow start is no lapse
        ([0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0], 2, False, 2),  # quarterly, two quiet months: its rhythm
        ([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0], 2, True, 4),  # quarterly, four quiet months: lapsed
        ([1, 0, 0], 3, False, 2),  # a trend no longer than N cannot tell
    ],
)
def test_momentum_lapses_after_n_quiet_periods_beyond_the_usual_gap(counts, lapse_after, lapsed, since):
    assert activity_metrics.lapsed(counts, lapse_after) is lapsed
    assert activity_metrics.periods_since(counts) == since


def test_a_lapsed_activity_is_flagged_with_when_it_was_last_held(tmp_path):
    workbench = _workbench(
        tmp_path,
        {
            "lapse_after": 2,
            "kinds": {
                "post_incident_review_workshop": {"title": "PIR workshop", "family": "awareness", "unit": "attendees"},
                "production_readiness_review": {
                    "title": "PRR",
                    "family": "integration",
                    "unit": "sessions",
                    "lapses": False,
                },
                "office_hours": {"title": "Office hours", "family": "awareness", "unit": "attendees"},
            },
        },
    )
    data = tmp_path / "data"
    write_csv(
        data / "engagement.csv",
        ENGAGEMENT,
        _monthly("post_incident_review_workshop", MONTHS_2026[:9], reached=20)  # Jan–Sep, then none
        + _monthly("office_hours", MONTHS_2026[:11])  # Jan–Nov: one quiet month
        + [
            dict(
                date="2026-03-02",
                kind="production_readiness_review",
                title="PRR",
                team="payments",
                reached=5,
                service="checkout",
            )
        ],
    )
    summary = _summary(workbench, data, "2026-12")
    a = summary.activities
    assert a is not None and a.lapsed == ["post_incident_review_workshop"] and a.lapse_after == 2
    pir = a.kinds["post_incident_review_workshop"]
    assert (pir.lapsed, pir.periods_since, pir.last_held) == (True, 3, "2026-09-15")
    assert a.kinds["office_hours"].lapsed is False  # one quiet month
    assert a.kinds["production_readiness_review"].lapsed is False  # held on demand
    # In words, in the report, the executive summary's risks and the newsletter's watch list.
    from srelib.present import highlights, newsletter
    from srelib.present.activities import lapse_texts

    [text] = lapse_texts(summary)
    assert text == (
        "PIR workshop has lapsed: none in the last 3 months (last held 15 September 2026), "
        "though it ran in 9 of the last 12 months."
    )
    assert text in [h.text for h in highlights.risks(summary, limit=3)]
    assert text in newsletter.build(summary, workbench).risks
    # November: two quiet months (October, November) after a monthly rhythm: already lapsed.
    assert _summary(workbench, data, "2026-11").activities.lapsed == ["post_incident_review_workshop"]
    # October: one quiet month, not yet.
    assert _summary(workbench, data, "2026-10").activities.lapsed == []


def test_service_level_reviews_keep_their_service(tmp_path):
    workbench = _workbench(tmp_path)
    data = tmp_path / "data"
    write_csv(
        data / "engagement.csv",
        ENGAGEMENT,
        [  # two reviews on the same day by the same team, for two services: two rows
            dict(date="2026-10-02", kind="prr", title="PRR", team="payments", reached=4, service="checkout"),
            dict(
                date="2026-10-02",
                kind="production_readiness_review",
                title="PRR",
                team="payments",
                reached=4,
                service="ledger",
            ),
        ],
    )
    with in_memory(validate_directory(data, activities=workbench.activities)) as con:
        rows = con.execute("SELECT kind, service FROM engagement ORDER BY service").fetchall()
    assert rows == [("production_readiness_review", "checkout"), ("production_readiness_review", "ledger")]


# ---- validation --------------------------------------------------------------------------------


def test_a_pairing_row_is_a_cross_team_pairing_session(tmp_path):
    data = tmp_path / "data"
    write_csv(data / "engagement.csv", ENGAGEMENT, [dict(date="2026-10-02", kind="pairing", title="p", reached=2)])
    with in_memory(validate_directory(data)) as con:
        assert con.execute("SELECT kind FROM engagement").fetchall() == [("cross_team_pairing",)]


def test_an_unknown_kind_is_a_problem_naming_the_configured_kinds(tmp_path):
    workbench = _workbench(
        tmp_path,
        {
            "kinds": {
                "lunch_and_learn": {"title": "Lunch and learn", "family": "awareness", "unit": "attendees"},
                "guild_meeting": {
                    "title": "Guild meeting",
                    "family": "engagement",
                    "unit": "sessions",
                    "aliases": ["guild"],
                },
            }
        },
    )
    data = tmp_path / "data"
    write_csv(
        data / "engagement.csv",
        ENGAGEMENT,
        [
            dict(date="2026-10-02", kind="guild", title="ok", reached=2),  # an alias of a configured kind
            dict(date="2026-10-03", kind="newsletter", title="not configured here", reached=2),
        ],
    )
    result = run_cli(workbench.root, "validate", str(data))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "engagement.csv:3:kind: unknown value: expected one of lunch_and_learn, guild_meeting "
        "(the ones configured in params/activities.yaml) (got 'newsletter')"
    )
    assert "Traceback" not in result.stderr
    # Ingest refuses it too and leaves the warehouse as it was (none made).
    assert run_cli(workbench.root, "ingest", "--data", str(data)).returncode == 2
    assert not workbench.warehouse_path.exists()


def test_kind_aliases_read_alike_in_the_pandas_and_sql_backends():
    from srelib.ingest.schemas import configured_tables
    from srelib.ingest.validate import check_with_pandas, check_with_sql, stage_text, staging_connection

    schema = configured_tables(Activities())["engagement"]
    frame = pd.DataFrame(
        [
            dict(date="2026-10-02", kind=kind, title="t", team=None, reached="1", audience=None, service=None)
            for kind in ("pairing", " prr ", "deep_dive")
        ],
        dtype="object",
    ).assign(_file="t.csv", _row=range(2, 5))
    con = staging_connection()
    assert check_with_pandas(con, schema, frame.copy()) == []
    by_pandas = con.execute("SELECT kind FROM staged_engagement ORDER BY kind").fetchall()
    stage_text(con, schema, frame, append=False)
    assert check_with_sql(con, schema, frozenset()) == []
    assert (
        con.execute("SELECT kind FROM staged_engagement ORDER BY kind").fetchall()
        == by_pandas
        == [("cross_team_pairing",), ("deep_dive",), ("production_readiness_review",)]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kinds: {x: {title: X, family: fun, unit: sessions}}", "kinds.x.family: Input should be 'awareness'"),
        ("kinds: {x: {title: X, family: awareness, unit: hugs}}", "kinds.x.unit: Input should be 'sessions'"),
        (
            "kinds: {x: {title: X, family: awareness, unit: views, targets: {per_fortnight: 2}}}",
            "kinds.x.targets.per_fortnight: Extra inputs are not permitted",
        ),
        (
            "kinds: {x: {title: X, family: awareness, unit: views, targets: {per_month: -1}}}",
            "kinds.x.targets.per_month: Input should be greater than or equal to 0",
        ),
        (
            "kinds: {Lunch-Learn: {title: X, family: awareness, unit: views}}",
            "kinds.Lunch-Learn: the kind is not a snake_case",
        ),
        (
            "kinds: {a: {title: A, family: awareness, unit: views}, "
            "b: {title: B, family: awareness, unit: views, aliases: [a]}}",
            "kinds.b: alias 'a' is itself a configured kind",
        ),
        ("kinds: {}", "configure at least one activity kind"),
        ("lapse_after: {month: 0}", "lapse_after.month: Input should be greater than or equal to 1"),
        ("surveys: {stakeholder: {title: S, target: 7}}", "target 7 is outside the scale 1 to 5"),
    ],
)
def test_a_bad_activities_file_names_the_key(tmp_path, text, message):
    make_workbench(tmp_path, SERVICES)
    (tmp_path / "params" / "activities.yaml").write_text(text + "\n")
    with pytest.raises(ConfigError) as raised:
        Workbench.load(tmp_path)
    assert "activities.yaml" in str(raised.value) and message in str(raised.value), str(raised.value)


def test_the_activities_file_and_its_scaffold_give_the_seed_kinds():
    from srelib.resources import params_dir, templates_dir

    defaults = Activities()
    assert {
        "lunch_and_learn",
        "deep_dive",
        "cross_team_pairing",
        "production_readiness_review",
        "architecture_review",
        "feature_launch_support",
        "newsletter",
        "doc_page",
        "blog",
        "training",
        "workshop",
        "drill",
        "office_hours",
    } <= set(defaults.kinds)
    shipped = Activities.model_validate(load_yaml((params_dir() / "activities.yaml").read_text()))
    assert set(shipped.kinds) == set(defaults.kinds)
    scaffold = (templates_dir() / "workbench" / "params" / "activities.yaml").read_text()
    assert load_yaml(scaffold) is None  # as written: all commented, the defaults
    uncommented = re.sub(r"^#((?:  )?\w+: .*|\w+:)$", r"\1", scaffold, flags=re.M)
    assert Activities.model_validate(load_yaml(uncommented)) == defaults


def test_an_older_warehouse_gains_the_service_column_on_ingest(tmp_path):
    import duckdb

    workbench = _workbench(tmp_path)
    workbench.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(workbench.warehouse_path)) as con:  # engagement as it was before `service`
        con.execute(
            "CREATE TABLE engagement (date DATE, kind VARCHAR, title VARCHAR, team VARCHAR, "
            "reached BIGINT, audience BIGINT)"
        )
        con.execute("INSERT INTO engagement VALUES ('2026-09-01', 'newsletter', 'Sep', NULL, 100, 400)")
    data = tmp_path / "data"
    write_csv(
        data / "engagement.csv",
        ENGAGEMENT,
        [dict(date="2026-10-02", kind="architecture_review", title="AR", reached=3, service="api")],
    )
    assert run_cli(workbench.root, "ingest").returncode == 0
    with duckdb.connect(str(workbench.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT kind, service FROM engagement ORDER BY date").fetchall() == [
            ("newsletter", None),
            ("architecture_review", "api"),
        ]


# ---- surveys per question ------------------------------------------------------------------------


def test_surveys_per_question_with_targets_and_the_latest_wave(tmp_path):
    workbench = _workbench(
        tmp_path,
        {"surveys": {"stakeholder": {"title": "Stakeholders", "target": 4.0}, "devex": {"title": "DevEx"}}},
        trend_periods=3,
    )
    data = tmp_path / "data"
    rows = [
        # September (the first of three trend periods): one question, 3 and 4 → 3.5.
        dict(submitted_at="2026-09-10T10:00:00Z", survey="stakeholder", question="Q1", score=3),
        dict(submitted_at="2026-09-10T10:01:00Z", survey="stakeholder", question="Q1", score=4),
        # November: Q1 5, 4, 4 → 4.333; Q2 3, 4 → 3.5; the whole survey (5+4+4+3+4) ÷ 5 = 4.0.
        dict(submitted_at="2026-11-03T10:00:00Z", survey="stakeholder", question="Q1", score=5),
        dict(submitted_at="2026-11-03T10:01:00Z", survey="stakeholder", question="Q1", score=4),
        dict(submitted_at="2026-11-03T10:02:00Z", survey="stakeholder", question="Q1", score=4),
        dict(submitted_at="2026-11-03T10:03:00Z", survey="stakeholder", question="Q2", score=3),
        dict(submitted_at="2026-11-03T10:04:00Z", survey="stakeholder", question="Q2", score=4),
        # A team's devex answers, and one not in any trend period (December).
        dict(submitted_at="2026-11-04T10:00:00Z", survey="devex", team="payments", question="Ship?", score=2),
        dict(submitted_at="2026-11-04T10:01:00Z", survey="devex", team="search", question="Ship?", score=4),
        dict(submitted_at="2026-12-01T00:00:00Z", survey="devex", team="search", question="Ship?", score=1),
        # A survey nobody configured is read all the same.
        dict(submitted_at="2026-11-05T10:00:00Z", survey="onboarding", question="Clear?", score=5),
    ]
    write_csv(data / "surveys.csv", SURVEYS, rows)
    summary = _summary(workbench, data, "2026-11")
    stakeholder = summary.surveys["stakeholder"]
    assert (stakeholder.n, stakeholder.mean, stakeholder.target, stakeholder.met) == (5, 4.0, 4.0, True)
    assert stakeholder.trend == {"2026-09": 3.5, "2026-10": None, "2026-11": 4.0}
    q1, q2 = stakeholder.questions
    assert (q1.question, q1.n, q1.mean, q1.met) == ("Q1", 3, pytest.approx(13 / 3, abs=1e-4), True)
    assert (q2.question, q2.n, q2.mean, q2.met) == ("Q2", 2, 3.5, False)
    assert q1.trend == {"2026-09": 3.5, "2026-10": None, "2026-11": 4.3333}
    devex = summary.surveys["devex"]
    assert (devex.n, devex.mean, devex.target, devex.met) == (2, 3.0, None, None)
    assert summary.surveys["onboarding"].configured is False and summary.surveys["onboarding"].mean == 5.0
    assert "csat" not in summary.surveys  # not configured here, and no responses
    # December: no stakeholder responses; the latest wave (November) still stands against the target.
    december = _summary(workbench, data, "2026-12").surveys["stakeholder"]
    assert (december.n, december.mean, december.latest_period, december.latest_mean, december.met) == (
        0,
        None,
        "2026-11",
        4.0,
        True,
    )
    # A team sees its own answers; the organisation's (no team) are not its.
    team = _summary(workbench, data, "2026-11", team="payments").surveys
    assert team["devex"].mean == 2.0 and team["stakeholder"].n == 0 and team["stakeholder"].latest_mean is None


def test_every_survey_figure_is_in_the_metrics_json(tmp_path):
    import json

    workbench = _workbench(tmp_path)
    data = tmp_path / "data"
    write_csv(
        data / "surveys.csv",
        SURVEYS,
        [dict(submitted_at="2026-10-03T10:00:00Z", survey="stakeholder", question="Q", score=4)],
    )
    write_csv(data / "engagement.csv", ENGAGEMENT, _monthly("lunch_and_learn", ["2026-10"]))
    result = run_cli(workbench.root, "metrics", "--period", "2026-10", "--data", str(data), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["surveys"]["stakeholder"]["questions"][0]["mean"] == 4.0
    assert body["surveys"]["stakeholder"]["target"] == 4.0 and body["surveys"]["stakeholder"]["met"] is True
    assert body["activities"]["kinds"]["lunch_and_learn"]["counts"]["2026-10"] == 1
    assert body["activities"]["lapsed"] == []


def test_activity_and_survey_tables_show_hostile_text_literally(tmp_path):
    from srelib.present import report

    workbench = _workbench(tmp_path)
    hostile = "<script>alert(1)</script>{{ 7*7 }}<img src=x onerror=alert(2)>"
    data = tmp_path / "data"
    write_csv(
        data / "surveys.csv",
        SURVEYS,
        [dict(submitted_at="2026-10-03T10:00:00Z", survey="stakeholder", question=hostile, score=4)],
    )
    write_csv(
        data / "engagement.csv",
        ENGAGEMENT,
        [dict(date="2026-10-02", kind="workshop", title=hostile, team=hostile, reached=3, service=hostile)],
    )
    summary = _summary(workbench, data, "2026-10")
    for shown in (report.survey_table(summary), report.activity_team_table(summary)):
        page = shown.data
        assert "<script>" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}&lt;img src=x onerror=alert(2)&gt;" in page
