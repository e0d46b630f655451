"""The schedule: what is due, producing exactly that once, catching up, and the run history."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from srelib.config import Workbench
from srelib.errors import ConfigError
from srelib.period import Period
from srelib.run.catalogue import REPORTS, Subjects, expand
from srelib.run.schedule import ScheduledReport, due_runs, scheduled_spec
from tests.runs import probe

REPO = Path(__file__).resolve().parents[1]


MONTHLY = "monthly_probe"  # a report of the workbench's own: the schedule's logic, not a catalogue report's work


@pytest.fixture
def scheduled(bench: Workbench) -> Workbench:
    """A copy of the demo workbench (its warehouse, no outputs) with a small schedule of one
    monthly report (a probe notebook that reads the summary its run prepared)."""
    probe(bench, MONTHLY, _READS_SUMMARY)
    schedule = {"reports": [{"report": MONTHLY, "cadence": "monthly", "due_after_days": 1, "history": 2}]}
    (bench.root / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule), encoding="utf-8")
    return Workbench.load(bench.root)


_READS_SUMMARY = "from srelib.summary import PeriodSummary\nsummary = PeriodSummary.read(summary_path)"


def _srelib(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "srelib", *args], cwd=root, capture_output=True, text=True)


def _after_due(demo_end: Period) -> str:
    """A moment when the demo's last month is due: one day after it ends, 06:00, and an hour."""
    return f"{(demo_end.end + timedelta(days=1)).date().isoformat()}T07:00:00+00:00"


@pytest.mark.timeout(600)
def test_run_due_catches_up_oldest_first_once_and_logs_every_run(scheduled: Workbench, demo_end: Period):
    now = _after_due(demo_end)
    listed = _srelib(scheduled.root, "due", "--now", now)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        [MONTHLY, demo_end.previous().label, "missing"],
        [MONTHLY, demo_end.label, "missing"],
    ]
    # An hour before the last month falls due, only the one before it is due.
    early = f"{(demo_end.end + timedelta(days=1)).date().isoformat()}T05:00:00+00:00"
    assert [r.period.label for r in due_runs(scheduled, datetime.fromisoformat(early))] == [
        demo_end.shift(-2).label,
        demo_end.previous().label,
    ]

    first = _srelib(scheduled.root, "run-due", "--now", now, "--workers", "2")
    assert first.returncode == 0, first.stderr
    assert [line.split("\t")[:3] for line in first.stdout.strip().splitlines()] == [
        ["ok", MONTHLY, demo_end.previous().label],
        ["ok", MONTHLY, demo_end.label],
    ]
    again = _srelib(scheduled.root, "run-due", "--now", now)
    assert again.returncode == 0 and again.stdout.strip() == ""  # nothing is due: nothing runs
    assert "0 published, 0 failed" in again.stderr

    history = [json.loads(line) for line in (scheduled.outputs_path / "runs.jsonl").read_text().splitlines()]
    assert sorted((h["report"], h["period"], h["status"]) for h in history) == [  # parallel: in order of finishing
        (MONTHLY, demo_end.previous().label, "ok"),
        (MONTHLY, demo_end.label, "ok"),
    ]
    assert all(h["duration_seconds"] > 0 and h["versions"]["papermill"] and h["input_fingerprint"] for h in history)


@pytest.mark.timeout(600)
def test_stale_and_failed_reports_are_due_again_and_a_failure_does_not_stop_the_others(
    scheduled: Workbench, demo_end: Period
):
    now = datetime.fromisoformat(_after_due(demo_end))
    from srelib.run.schedule import run_due

    assert [o.status for o in run_due(scheduled, now)] == ["ok", "ok"]
    # Inputs change (a new ingest): both reports are stale.
    import duckdb

    with duckdb.connect(str(scheduled.warehouse_path)) as con:
        con.execute("INSERT INTO ingests VALUES (now(), 'x', 'a-new-fingerprint', '{}', 'test')")
    assert {r.reason for r in due_runs(scheduled, now)} == {"inputs changed"}
    # The notebook now fails for the older month only: the newer one is still published.
    fails = f"if summary.period == {demo_end.previous().label!r}: raise RuntimeError('boom')"
    probe(scheduled, MONTHLY, _READS_SUMMARY, fails)
    result = _srelib(scheduled.root, "run-due", "--now", now.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    statuses = [line.split("\t")[:3] for line in result.stdout.strip().splitlines()]
    assert statuses == [
        ["failed", MONTHLY, demo_end.previous().label],
        ["ok", MONTHLY, demo_end.label],
    ]
    assert "1 published, 1 failed" in result.stderr
    assert [(r.period.label, r.reason) for r in due_runs(scheduled, now)] == [
        (demo_end.previous().label, "failed last time")
    ]
    history = [json.loads(line) for line in (scheduled.outputs_path / "runs.jsonl").read_text().splitlines()]
    failures = [h for h in history if h["status"] == "failed"]
    assert len(failures) == 1 and failures[0]["period"] == demo_end.previous().label and "boom" in failures[0]["error"]


def test_an_unknown_report_in_the_schedule_is_a_config_error(scheduled: Workbench):
    (scheduled.root / "params" / "schedule.yaml").write_text("reports:\n  - {report: nope}\n", encoding="utf-8")
    result = _srelib(scheduled.root, "due")
    assert result.returncode == 2 and "unknown report 'nope'" in result.stderr
    (scheduled.root / "params" / "schedule.yaml").write_text("reports:\n  - {report: x, cadence: daily}\n")
    result = _srelib(scheduled.root, "due")
    assert result.returncode == 2 and "cadence" in result.stderr
    assert _srelib(scheduled.root, "due", "--now", "tomorrow").returncode == 2


def test_the_repository_schedule_lists_the_whole_catalogue():
    from srelib.run.catalogue import REPORTS
    from srelib.run.schedule import load_schedule

    schedule = load_schedule(Workbench.load(REPO))
    assert {entry.report for entry in schedule.reports} == set(REPORTS)
    assert datetime.now(UTC)  # the schedule parses with the org's time zone


# ---------------------------------------------------------------------------------------------
# Fan-out: the catalogue says which reports are one per team, SLO or initiative; expand() makes the runs

SUBJECTS = Subjects(
    teams=("payments", "search"), slos=("auth-availability", "checkout-availability"), initiatives=("toil",)
)
OCTOBER = Period.parse("2026-10")


def _about(runs) -> list[tuple[str | None, dict[str, str], tuple[str, str] | None]]:
    return [(r.team, r.parameters, r.subject) for r in runs]


def test_a_fan_out_report_is_one_run_per_team_slo_or_initiative_and_the_others_one_run():
    assert _about(expand(REPORTS["team_scorecard"], OCTOBER, SUBJECTS)) == [
        ("payments", {}, None),
        ("search", {}, None),
    ]
    assert _about(expand(REPORTS["slo_document"], OCTOBER, SUBJECTS)) == [
        (None, {"slo": "auth-availability"}, ("slo", "auth-availability")),
        (None, {"slo": "checkout-availability"}, ("slo", "checkout-availability")),
    ]
    assert _about(expand(REPORTS["case_study"], OCTOBER, SUBJECTS)) == [
        (None, {"initiative": "toil"}, ("initiative", "toil"))
    ]
    assert _about(expand(REPORTS["monthly_reliability"], OCTOBER, SUBJECTS)) == [(None, {}, None)]
    assert {r.period for r in expand(REPORTS["team_scorecard"], OCTOBER, SUBJECTS)} == {OCTOBER}


def test_a_named_team_or_subject_is_the_one_run_and_other_parameters_go_to_every_run():
    assert _about(expand(REPORTS["team_scorecard"], OCTOBER, SUBJECTS, team="search")) == [("search", {}, None)]
    assert _about(expand(REPORTS["slo_document"], OCTOBER, SUBJECTS, parameters={"slo": "x"})) == [
        (None, {"slo": "x"}, ("slo", "x"))
    ]
    assert _about(expand(REPORTS["slo_document"], OCTOBER, SUBJECTS, "search", {"note": "n"})) == [
        ("search", {"note": "n", "slo": "auth-availability"}, ("slo", "auth-availability")),
        ("search", {"note": "n", "slo": "checkout-availability"}, ("slo", "checkout-availability")),
    ]


def test_the_schedule_takes_the_fan_out_from_the_catalogue_and_accepts_the_older_plural_spelling():
    assert scheduled_spec(ScheduledReport(report="team_scorecard")) == REPORTS["team_scorecard"]
    for plural, singular in (("teams", "team"), ("slos", "slo"), ("initiatives", "initiative")):
        assert ScheduledReport(report="r", fan_out=plural).fan_out == singular  # schedules written before
    assert scheduled_spec(ScheduledReport(report="slo_document", fan_out="slos")) == REPORTS["slo_document"]
    per_team = scheduled_spec(ScheduledReport(report="monthly_reliability", fan_out="team"))
    assert per_team.fan_out == "team" and per_team.title == REPORTS["monthly_reliability"].title


def test_a_fan_out_a_report_cannot_have_or_an_unknown_one_is_a_config_error():
    with pytest.raises(ConfigError, match=r"params/schedule\.yaml: team_scorecard is one report per team"):
        scheduled_spec(ScheduledReport(report="team_scorecard", fan_out="slo"))
    with pytest.raises(ConfigError, match=r"params/schedule\.yaml: monthly_reliability is one report per period"):
        scheduled_spec(ScheduledReport(report="monthly_reliability", fan_out="initiative"))
    with pytest.raises(ValueError, match="fan_out"):
        ScheduledReport(report="team_scorecard", fan_out="squads")


def test_the_repository_schedule_is_due_once_per_team_slo_and_initiative_as_older_plural_schedules_were(
    bench: Workbench, demo_end: Period
):
    repository = (REPO / "params" / "schedule.yaml").read_text(encoding="utf-8")
    (bench.root / "params" / "schedule.yaml").write_text(repository, encoding="utf-8")
    now = datetime.fromisoformat(_after_due(demo_end))
    due = [(r.report, r.period.label, r.team, r.parameters) for r in due_runs(bench, now)]
    month = [d for d in due if d[1] == demo_end.label]
    subjects = Subjects.of(bench)
    assert sorted(d[2] for d in month if d[0] == "team_scorecard") == sorted(bench.catalogue.teams)
    assert sorted(d[3]["slo"] for d in month if d[0] == "slo_document") == sorted(subjects.slos)
    assert sorted(d[3]["initiative"] for d in month if d[0] == "case_study") == sorted(subjects.initiatives)
    assert len(subjects.teams) >= 4 and len(subjects.slos) >= 8 and subjects.initiatives
    older = repository
    for report, plural in (("team_scorecard", "teams"), ("slo_document", "slos"), ("case_study", "initiatives")):
        older = older.replace(f"{{report: {report}, ", f"{{report: {report}, fan_out: {plural}, ")
    assert older.count(", fan_out: ") == 3
    (bench.root / "params" / "schedule.yaml").write_text(older, encoding="utf-8")
    assert [(r.report, r.period.label, r.team, r.parameters) for r in due_runs(bench, now)] == due


@pytest.mark.timeout(600)
def test_srelib_run_without_a_report_runs_the_schedules_reports_for_that_kind_of_period(
    scheduled: Workbench, demo_end: Period
):
    result = _srelib(scheduled.root, "run", "--period", demo_end.label)
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[:3] for line in result.stdout.strip().splitlines()] == [["ok", MONTHLY, demo_end.label]]
    several = _srelib(
        scheduled.root, "run", "executive_summary", "team_scorecard", "--period", demo_end.label, "--team", "payments"
    )
    assert several.returncode == 0, several.stderr
    assert [line.split("\t")[:3] for line in several.stdout.strip().splitlines()] == [
        ["ok", "executive_summary", f"{demo_end.label} (payments)"],
        ["ok", "team_scorecard", f"{demo_end.label} (payments)"],
    ]
    assert (scheduled.outputs_path / demo_end.label / "teams" / "payments" / "team_scorecard.html").is_file()
    weekly = _srelib(scheduled.root, "run", "--period", "2026-W40")
    assert weekly.returncode == 2 and "schedules no report for weeks" in weekly.stderr


def _kernel_killer(workbench: Workbench, cell: str) -> None:
    probe(workbench, "kernel_killer", _READS_SUMMARY, cell)


@pytest.mark.timeout(600)
def test_a_kernel_that_dies_is_restarted_and_one_that_keeps_dying_fails_cleanly(
    scheduled: Workbench, demo_end: Period, tmp_path: Path
):
    from srelib.errors import ReportError
    from srelib.run.report import run_report

    marker = tmp_path / "died-once"
    _kernel_killer(
        scheduled,
        f"import os, pathlib\nmarker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n    marker.touch()\n    os._exit(1)",
    )
    result = run_report(scheduled, "kernel_killer", demo_end, backoff=0.1)
    manifest = json.loads((result.html.parent / "manifest.json").read_text())
    assert manifest["reports"]["kernel_killer"]["attempts"] == 2 and result.html.is_file()

    _kernel_killer(scheduled, "import os\nos._exit(1)")
    before = result.html.read_bytes()
    with pytest.raises(ReportError, match="the kernel died 3 times"):
        run_report(scheduled, "kernel_killer", demo_end, backoff=0.1)
    assert result.html.read_bytes() == before  # the earlier report is intact
    last = json.loads((scheduled.outputs_path / "runs.jsonl").read_text().splitlines()[-1])
    assert last["status"] == "failed" and last["attempts"] == 3


def test_retention_removes_old_period_folders_whole_and_keeps_the_rest(scheduled: Workbench, demo_end: Period):
    import os

    from srelib.run.schedule import apply_retention

    outputs = scheduled.outputs_path
    for label in ("2020-01", "2020-Q1", "2020-W05", demo_end.label):
        folder = outputs / label
        folder.mkdir(parents=True)
        manifest = {"period": label, "title": label, "team": None, "subject": None, "reports": {}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    for failed in (outputs / "_failed" / "2020-01" / "x.ipynb", outputs / "_failed" / demo_end.label / "y.ipynb"):
        failed.parent.mkdir(parents=True, exist_ok=True)
        failed.write_text("{}")
    now = datetime.fromisoformat(_after_due(demo_end))
    weeks_ago = (now - timedelta(days=40)).timestamp()
    os.utime(outputs / "_failed" / demo_end.label / "y.ipynb", (weeks_ago, weeks_ago))
    schedule = yaml.safe_load((scheduled.root / "params" / "schedule.yaml").read_text())
    schedule["retention"] = {"months": 6, "quarters": 4, "failed_days": 30}  # weeks: kept for ever
    (scheduled.root / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule))

    removed = apply_retention(scheduled, now)
    assert sorted(removed) == ["2020-01", "2020-Q1", "_failed/2020-01", f"_failed/{demo_end.label}/y.ipynb"]
    assert (outputs / demo_end.label / "manifest.json").is_file() and (outputs / "2020-W05").is_dir()
    assert not [p for p in outputs.iterdir() if p.name.startswith(".removed-")]
    assert "2020-01" not in (outputs / "index.html").read_text()
    assert apply_retention(scheduled, now) == []  # idempotent


# ---- yearly reports --------------------------------------------------------------------------------


ANNUAL = "annual_probe"  # a workbench notebook of its own: every kind of period, a year included


@pytest.fixture
def yearly(tmp_path: Path) -> Workbench:
    """A small workbench in Berlin with an empty warehouse and one yearly report, due five days
    after its year at 06:00, the last two years kept."""
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import load
    from tests.conftest import INCIDENT_COLUMNS, make_workbench, write_csv

    workbench = make_workbench(tmp_path / "workbench", {"api": "platform"}, timezone="Europe/Berlin")
    incident = dict(incident_id="I1", service="api", severity="SEV3", started_at="2024-06-01T10:00:00Z")
    write_csv(tmp_path / "data" / "incidents.csv", INCIDENT_COLUMNS, [incident])
    dataset = validate_directory(tmp_path / "data")
    load(dataset, workbench.warehouse_path)
    dataset.con.close()
    probe(workbench, ANNUAL)
    schedule = {
        "reports": [{"report": ANNUAL, "cadence": "yearly", "due_after_days": 5, "due_at": "06:00", "history": 2}],
        "retention": {"years": 2},
    }
    (workbench.root / "params" / "schedule.yaml").write_text(yaml.safe_dump(schedule), encoding="utf-8")
    return Workbench.load(workbench.root)


def test_a_yearly_report_falls_due_days_after_new_year_in_the_org_time_zone(yearly: Workbench):
    # 6 January 2027, 06:00 in Berlin (UTC+1) is 05:00 UTC: a second before, 2026 is not due yet.
    before = datetime(2027, 1, 6, 4, 59, 59, tzinfo=UTC)
    assert [(r.report, r.period.label, r.reason) for r in due_runs(yearly, before)] == [
        (ANNUAL, "2024", "missing"),
        (ANNUAL, "2025", "missing"),
    ]
    at = datetime(2027, 1, 6, 5, 0, tzinfo=UTC)
    due = due_runs(yearly, at)
    assert [r.period.label for r in due] == ["2025", "2026"]
    assert due[-1].due_at.isoformat() == "2027-01-06T06:00:00+01:00"
    assert due[-1].period.start_utc == datetime(2025, 12, 31, 23)
    from tests.conftest import run_cli

    jobs = run_cli(yearly.root, "due", "--now", at.isoformat())
    assert jobs.returncode == 0, jobs.stderr
    assert [line.split("\t")[:3] for line in jobs.stdout.strip().splitlines()] == [
        [ANNUAL, "2025", "missing"],
        [ANNUAL, "2026", "missing"],
    ]


def test_srelib_run_without_a_report_runs_the_yearly_ones_for_a_year(yearly: Workbench):
    from srelib.run.schedule import period_jobs

    assert [(j.report, j.period) for j in period_jobs(yearly, Period.parse("2026", "Europe/Berlin"))] == [
        (ANNUAL, "2026")
    ]
    (yearly.root / "params" / "schedule.yaml").write_text("reports: []\n", encoding="utf-8")
    with pytest.raises(Exception, match="schedules no report for years"):
        period_jobs(Workbench.load(yearly.root), Period.parse("2026"))


def test_retention_keeps_the_configured_years(yearly: Workbench):
    from srelib.run.schedule import apply_retention

    outputs = yearly.outputs_path
    for label in ("2023", "2024", "2025", "2024-Q1"):
        folder = outputs / label
        folder.mkdir(parents=True)
        manifest = {"period": label, "title": label, "team": None, "subject": None, "reports": {}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    # In 2026 the two years kept are 2024 and 2025; quarters are kept (no `quarters:` given).
    assert apply_retention(yearly, datetime(2026, 3, 1, tzinfo=UTC)) == ["2023"]
    assert sorted(p.name for p in outputs.iterdir() if p.is_dir()) == ["2024", "2024-Q1", "2025"]


@pytest.mark.parametrize(
    ("days", "after", "expected"),
    [
        (0, datetime(2026, 3, 1), datetime(2027, 1, 1, 6, 0)),
        (5, datetime(2026, 3, 1), datetime(2027, 1, 6, 6, 0)),
        (31, datetime(2026, 3, 1), datetime(2027, 2, 1, 6, 0)),
        (58, datetime(2026, 3, 1), datetime(2027, 2, 28, 6, 0)),  # the last day every year has
        (59, datetime(2026, 3, 1), datetime(2026, 3, 1, 6, 0)),  # 29 February or 1 March: daily
    ],
)
def test_the_daemon_fires_a_yearly_report_when_its_year_falls_due(days, after, expected):
    from srelib.period import zone
    from srelib.run.daemon import trigger_for

    berlin = zone("Europe/Berlin")
    trigger = trigger_for(ScheduledReport(report="r", cadence="yearly", due_after_days=days), "Europe/Berlin")
    assert trigger.get_next_fire_time(None, after.replace(tzinfo=berlin)) == expected.replace(tzinfo=berlin)
