"""Fresh data (issue 18): the scheduler ingests on a cadence, and an SLO alert that would fire at
the end of the data is posted once to Slack or Teams, with a link to the SLO explorer, and once
when it clears. A real webhook receiver on 127.0.0.1 takes the messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from srelib.config import Workbench
from srelib.errors import ConfigError
from srelib.run.refresh import alert_changes, explorer_link, ingest_workbench, record_alerts
from tests.conftest import write_csv
from tests.test_data_quality import SLI_COLUMNS, _buckets, _workbench
from tests.test_notify import Hook

MINUTE = timedelta(minutes=1)


def _data(workbench: Workbench, bad_from: datetime, end: datetime, bad_until: datetime | None = None) -> None:
    """api-availability (99 % over 30 days) a minute at a time over the three days to ``end``: 100
    events a minute, all bad from ``bad_from`` to ``bad_until`` (default: the end)."""
    start = end - timedelta(days=3)
    rows = _buckets("api-availability", start, end, MINUTE, good=100, total=100)
    for row in rows:
        if bad_from <= datetime.strptime(row["timestamp"], "%Y-%m-%dT%H:%M:%SZ") < (bad_until or end):
            row["good"] = 0
    write_csv(workbench.root / "data" / "sli.csv", SLI_COLUMNS, rows)


def test_an_alert_is_reported_once_when_it_fires_and_once_when_it_clears(tmp_path: Path):
    workbench = _workbench(tmp_path)
    end = datetime(2026, 10, 4, 12)
    # the last hour all bad: 1 h and 5 m burn at 100 (≥ 14.4): the page fires; 1 d at 100 / 24 =
    # 4.17 (≥ 3) and 2 h at 50: the ticket too
    _data(workbench, end - timedelta(hours=1), end)
    said = ingest_workbench(workbench, log=lambda line: None)
    assert said.startswith(f"ingested {workbench.data_path} into {workbench.warehouse_path}")
    first = alert_changes(workbench)
    assert [(c.slo, c.severity, c.state, c.long_window, c.short_window) for c in first] == [
        ("api-availability", "page", "firing", "1h", "5m"),
        ("api-availability", "ticket", "firing", "1d", "2h"),
    ]
    page = first[0]
    assert (page.burn_rate_long, page.burn_rate_short, page.factor) == (100.0, 100.0, 14.4)
    assert page.at == "2026-10-04T11:59:00.000001Z"  # the newest bucket counts
    assert alert_changes(workbench) == first  # until recorded as announced, they are news
    record_alerts(workbench, first)
    assert alert_changes(workbench) == []  # nothing new: nothing posted twice
    # three good hours later the page clears; the ticket's second row (3 d at 100 / 72 = 1.39 and
    # 6 h at 100 / 6 = 16.7, both ≥ 1) still fires
    _data(workbench, end - timedelta(hours=1), end + timedelta(hours=3), bad_until=end)
    ingest_workbench(workbench, log=lambda line: None)
    cleared = alert_changes(workbench)
    assert [(c.severity, c.state) for c in cleared] == [("page", "cleared")]
    record_alerts(workbench, cleared)
    # seven good hours later the bad hour has left every short window: the ticket clears
    _data(workbench, end - timedelta(hours=1), end + timedelta(hours=7), bad_until=end)
    ingest_workbench(workbench, log=lambda line: None)
    cleared = alert_changes(workbench)
    assert [(c.slo, c.severity, c.state) for c in cleared] == [("api-availability", "ticket", "cleared")]
    record_alerts(workbench, cleared)
    assert alert_changes(workbench) == []


def test_alerts_go_to_the_webhook_with_a_link_to_the_explorer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from srelib.run.notify import load_config, post_alerts

    workbench = _workbench(tmp_path)
    end = datetime(2026, 10, 4, 12)
    _data(workbench, end - timedelta(hours=1), end)
    ingest_workbench(workbench, log=lambda line: None)
    changes = alert_changes(workbench)
    with Hook() as hook:
        monkeypatch.setenv("SLACK_HOOK", hook.url)
        (workbench.root / "params" / "publish.yaml").write_text(
            yaml.safe_dump(
                {
                    "webhook": {"kind": "slack", "url_env": "SLACK_HOOK"},
                    "explorer_url": "https://sre.example.com/slo-explorer",
                }
            ),
            encoding="utf-8",
        )
        sent, problems = post_alerts(Workbench.load(tmp_path), changes, load_config(Workbench.load(tmp_path)))
    assert (sent, problems) == (changes, [])
    assert len(hook.bodies) == 2  # one message per alert
    page = hook.bodies[0]
    assert page["text"].startswith("Test Org · SLO alert firing: api-availability (page): Page alert: ")
    text = json_text(page)
    assert (
        "<https://sre.example.com/slo-explorer/?slo=api-availability|Open api-availability in the SLO explorer>" in text
    )
    assert "burn rate 100 over 1h and 100 over 5m" in text


def json_text(body: dict) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


def test_the_explorer_link_encodes_the_slo_name():
    assert (
        explorer_link("https://x.example/explorer/", "a b&c|d>") == "https://x.example/explorer/?slo=a%20b%26c%7Cd%3E"
    )
    assert explorer_link(None, "a") is None
    assert explorer_link("https://x.example/e", "a/b", "2026-10") == "https://x.example/e/?slo=a%2Fb&period=2026-10"


def test_the_schedule_may_ingest_every_so_often(tmp_path: Path):
    from srelib.run.schedule import load_schedule

    workbench = _workbench(tmp_path)
    path = tmp_path / "params" / "schedule.yaml"
    path.write_text("ingest: {every: 15m}\n", encoding="utf-8")
    assert load_schedule(workbench).ingest.minutes == 15  # type: ignore[union-attr]
    path.write_text("ingest: {every: 30s}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule.yaml: ingest.every: .*at least a minute"):
        load_schedule(workbench)
    path.write_text("ingest: {every: soon}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule.yaml: ingest.every"):
        load_schedule(workbench)


def test_the_scheduler_ingests_then_posts_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from srelib.run.daemon import Daemon

    workbench = _workbench(tmp_path)
    end = datetime(2026, 10, 4, 12)
    _data(workbench, end - timedelta(hours=1), end)
    lines: list[str] = []
    with Hook() as hook:
        monkeypatch.setenv("SLACK_HOOK", hook.url)
        (workbench.root / "params" / "publish.yaml").write_text(
            yaml.safe_dump({"webhook": {"kind": "slack", "url_env": "SLACK_HOOK"}}), encoding="utf-8"
        )
        daemon = Daemon(Workbench.load(tmp_path), log=lines.append)
        daemon.refresh("ingest every 15m")
        daemon.refresh("ingest every 15m")  # the same data: nothing to post
    assert len(hook.bodies) == 2
    said = "\n".join(lines)
    assert "ingest every 15m: ingested" in said
    assert "ingest every 15m: posted 2 alert change(s)" in said
    assert said.count("posted") == 1


def test_an_alert_whose_post_failed_is_posted_at_the_next_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from srelib.run.daemon import Daemon

    workbench = _workbench(tmp_path)
    end = datetime(2026, 10, 4, 12)
    _data(workbench, end - timedelta(hours=1), end)
    (workbench.root / "params" / "publish.yaml").write_text(
        yaml.safe_dump({"webhook": {"kind": "slack", "url_env": "SLACK_HOOK"}}), encoding="utf-8"
    )
    lines: list[str] = []
    daemon = Daemon(Workbench.load(tmp_path), log=lines.append)
    with Hook(status=400) as refusing:  # the receiver refuses: nothing is recorded as announced
        monkeypatch.setenv("SLACK_HOOK", refusing.url)
        daemon.refresh("ingest")
    assert len(refusing.bodies) == 2
    assert "ingest: posted 0 alert change(s)" in lines[-1]
    assert sum("could not post an SLO alert (tried again at the next ingest)" in line for line in lines) == 2
    with Hook() as hook:
        monkeypatch.setenv("SLACK_HOOK", hook.url)
        daemon.refresh("ingest")
        daemon.refresh("ingest")
    assert len(hook.bodies) == 2  # posted once, when the receiver took them


def test_the_current_month_is_offered_so_far_and_labelled_partial(tmp_path: Path):
    from srelib.ingest.warehouse import connect
    from srelib.period import Period
    from srelib.present import report
    from srelib.serve.dashboards import _period_title, periods
    from srelib.summary import build_summary

    workbench = _workbench(tmp_path)
    now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    current = Period.containing("month", now.date(), "UTC")
    newest = max(current.start_utc, now - timedelta(hours=1))
    _data(workbench, newest + MINUTE, newest + MINUTE)  # three days of good minutes up to ``newest``
    ingest_workbench(workbench, log=lambda line: None)
    offered = periods(workbench)
    assert offered[0] == current.label and offered[1] == current.shift(-1).label
    assert _period_title(current) == f"{current.title} so far (partial)"
    assert _period_title(current.shift(-1)) == current.shift(-1).title
    with connect(workbench.warehouse_path) as con:
        summary = build_summary(con, workbench, current)
        before = build_summary(con, workbench, current.shift(-1))
    assert (summary.partial, summary.title) == (True, f"{current.title} so far")
    assert summary.data_as_of == newest.replace(tzinfo=UTC).isoformat(timespec="minutes")
    header = report.header(summary, "Monthly reliability").data
    assert f"Partial period: {current.title} so far, data as of {summary.data_as_of.replace('T', ' ')}." in header
    assert (before.partial, before.data_as_of, before.title) == (False, None, current.shift(-1).title)
    assert "Partial period" not in report.header(before, "Monthly reliability").data
