"""SLO corrections (issue 18): windows whose SLI buckets count for no SLO figure, once or repeating
by an RFC 5545 rule on the org's wall clock. Golden values by hand: which buckets a window takes
out (half-open, across a change of summer time), the attainment, burn rate and policy without
them, the summary's list of what each correction took out, and the problems of a bad file."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srelib.config import Workbench
from srelib.errors import InputError
from srelib.ingest.corrections import occurrences
from srelib.ingest.validate import validate_directory
from srelib.ingest.warehouse import connect, load
from srelib.period import Period
from srelib.summary import build_summary
from tests.conftest import make_workbench, slo_document, write_csv, write_slos

CORRECTION_COLUMNS = ["slo", "service", "start", "end", "rrule", "reason", "kind"]
SLI_COLUMNS = ["timestamp", "slo", "good", "total"]


def test_a_weekly_window_stays_on_the_wall_clock_across_summer_time():
    # Saturdays 22:00-23:00 in Berlin: 21:00Z in winter (CET, +01:00), 20:00Z from 29 March (CEST).
    windows = occurrences(
        datetime(2026, 3, 21, 21), datetime(2026, 3, 21, 22), "FREQ=WEEKLY", "Europe/Berlin", datetime(2026, 4, 12)
    )
    assert windows == [
        (datetime(2026, 3, 21, 21), datetime(2026, 3, 21, 22)),
        (datetime(2026, 3, 28, 21), datetime(2026, 3, 28, 22)),
        (datetime(2026, 4, 4, 20), datetime(2026, 4, 4, 21)),
        (datetime(2026, 4, 11, 20), datetime(2026, 4, 11, 21)),
    ]
    # COUNT ends the rule (the correction's own window is the first); without a rule, one window.
    assert (
        len(occurrences(datetime(2026, 3, 21, 21), datetime(2026, 3, 21, 22), "FREQ=DAILY;COUNT=3", "UTC", None)) == 1
    )
    counted = occurrences(
        datetime(2026, 3, 21, 21), datetime(2026, 3, 21, 22), "FREQ=DAILY;COUNT=3", "UTC", datetime(2027, 1, 1)
    )
    assert [w[0].day for w in counted] == [21, 22, 23]
    # A window that spans the night when the clocks go back keeps its wall-clock length: 01:00-04:00
    # local on 25 October is four hours in UTC (23:00Z to 03:00Z).
    autumn = occurrences(
        datetime(2026, 10, 17, 23), datetime(2026, 10, 18, 2), "FREQ=WEEKLY", "Europe/Berlin", datetime(2026, 10, 26)
    )
    assert autumn[1] == (datetime(2026, 10, 24, 23), datetime(2026, 10, 25, 3))


def _workbench(root: Path, timezone: str = "UTC", method: str = "Occurrences", **objective) -> Workbench:
    workbench = make_workbench(root, {"api": "platform", "web": "platform"}, timezone=timezone)
    (root / "data").mkdir()
    write_slos(
        root / "data",
        [
            slo_document("api-availability", "api", 0.99, method, **objective),
            slo_document("api-latency", "api", 0.9),
            slo_document("web-availability", "web", 0.99),
        ],
    )
    return workbench


def _ingest(workbench: Workbench, sli: list[dict], corrections: list[dict] | None = None) -> None:
    """Write ``sli`` (and ``corrections``, if any) into the workbench's data folder and ingest it."""
    data = workbench.root / "data"
    write_csv(data / "sli.csv", SLI_COLUMNS, sli)
    if corrections is not None:
        write_csv(data / "corrections.csv", CORRECTION_COLUMNS, corrections)
    dataset = validate_directory(data)
    try:
        load(dataset, workbench.warehouse_path, workbench.org.timezone)
    finally:
        dataset.con.close()


def _bucket(at: str, good: int, total: int, slo: str = "api-availability") -> dict:
    return {"timestamp": at, "slo": slo, "good": good, "total": total}


def test_a_one_off_window_takes_out_the_buckets_that_start_inside_it(tmp_path: Path):
    workbench = _workbench(tmp_path)
    sli = [
        _bucket("2026-10-02T10:00:00Z", 9, 10),
        _bucket("2026-10-02T10:01:00Z", 0, 10),  # inside [10:01, 10:03): a false positive
        _bucket("2026-10-02T10:02:00Z", 5, 10),  # inside
        _bucket("2026-10-02T10:03:00Z", 10, 10),  # at the end: half-open, stays
        _bucket("2026-10-02T10:01:00Z", 0, 10, "web-availability"),  # another SLO: untouched
    ]
    correction = dict(
        slo="api-availability",
        start="2026-10-02T12:01:00+02:00",  # 10:01Z
        end="2026-10-02T10:03:00Z",
        reason="probe misconfigured",
        kind="false_positive",
    )
    _ingest(workbench, sli, [correction])
    with connect(workbench.warehouse_path) as con:
        summary = build_summary(con, workbench, Period.parse("2026-10", "UTC"))
        raw = con.execute("SELECT count(*) FROM sli").fetchall()[0][0]
    assert raw == 5  # the raw table stays as delivered
    slo = summary.slos["api-availability"]
    assert (slo.good, slo.total, slo.attainment) == (19, 20, 0.95)  # 9 + 10 of 10 + 10
    assert summary.slos["web-availability"].total == 10
    [applied] = summary.corrections
    assert (applied.slo, applied.kind, applied.reason) == ("api-availability", "false_positive", "probe misconfigured")
    assert (applied.windows, applied.minutes, applied.events, applied.bad_events) == (1, 2.0, 20, 15)
    assert (applied.start, applied.end) == ("2026-10-02T10:01:00Z", "2026-10-02T10:03:00Z")
    # Said wherever the SLO is shown: the key messages and the SLO document.
    from srelib.present import narrative

    messages = narrative.render(summary, "monthly_reliability", fmt="text")
    assert "1 correction (false positive) took 20 events over 2 m out of 1 SLO (api-availability)" in messages
    document = narrative.corrections(summary, "api-availability")
    assert document is not None and document["reasons"] == ["probe misconfigured"]
    assert narrative.corrections(summary, "web-availability") is None
    # A month with no window in it lists nothing.
    with connect(workbench.warehouse_path) as con:
        assert build_summary(con, workbench, Period.parse("2026-09", "UTC")).corrections == []


def test_burn_rates_leave_the_corrected_buckets_out(tmp_path: Path):
    workbench = _workbench(tmp_path)
    # The last ten minutes of October: 9 good of 10 a minute, except two minutes at 0 of 10.
    sli = [_bucket(f"2026-10-31T23:5{m}:00Z", 0 if m in (3, 4) else 9, 10) for m in range(10)]
    _ingest(workbench, sli, [])
    with connect(workbench.warehouse_path) as con:
        raw = build_summary(con, workbench, Period.parse("2026-10", "UTC")).slo_budgets["api-availability"]
    correction = dict(slo="api-availability", start="2026-10-31T23:53:00Z", end="2026-10-31T23:55:00Z")
    _ingest(workbench, sli, [correction])
    with connect(workbench.warehouse_path) as con:
        corrected = build_summary(con, workbench, Period.parse("2026-10", "UTC")).slo_budgets["api-availability"]
    # 1 h: bad 8 × 1 + 2 × 10 = 28 of 100 → 0.28 ÷ 0.01 = 28; corrected: 8 of 80 → 10.
    assert (raw.burn_rates["1h"], corrected.burn_rates["1h"]) == (pytest.approx(28), pytest.approx(10))
    assert (raw.burn_rates["5m"], corrected.burn_rates["5m"]) == (pytest.approx(10), pytest.approx(10))


def test_a_service_wide_weekly_window_in_berlin_across_the_change_of_summer_time(tmp_path: Path):
    workbench = _workbench(tmp_path, timezone="Europe/Berlin")
    days = ["2026-03-21", "2026-03-28", "2026-04-04"]
    # A bad bucket at 20:30Z and 21:30Z each Saturday: the window (22:00-23:00 local) takes the
    # 21:30Z one in March (CET) and the 20:30Z one in April (CEST).
    sli = [_bucket(f"{d}T{h}:30:00Z", 0, 10) for d in days for h in ("20", "21")]
    sli += [_bucket(f"{d}T{h}:30:00Z", 0, 10, "api-latency") for d in days for h in ("20", "21")]
    sli += [_bucket(f"{d}T12:00:00Z", 100, 100) for d in days]
    correction = dict(
        service="api",
        start="2026-03-21T22:00:00+01:00",
        end="2026-03-21T23:00:00+01:00",
        rrule="FREQ=WEEKLY;BYDAY=SA",
        reason="weekly maintenance",
        kind="maintenance",
    )
    _ingest(workbench, sli, [correction])
    with connect(workbench.warehouse_path) as con:
        kept = con.execute(
            "SELECT strftime(\"timestamp\", '%m-%d %H:%M') FROM "
            + __import__("srelib.metrics.slo", fromlist=["sli_source"]).sli_source(con)
            + " AS sli WHERE slo = 'api-availability' AND total = 10 ORDER BY 1"
        ).fetchall()
        march = build_summary(con, workbench, Period.parse("2026-03", "Europe/Berlin"))
        april = build_summary(con, workbench, Period.parse("2026-04", "Europe/Berlin"))
    assert [k[0] for k in kept] == ["03-21 20:30", "03-28 20:30", "04-04 21:30"]
    # March: 2 × 100 good + 2 bad buckets of 10 left → 200 / 220.
    assert (march.slos["api-availability"].good, march.slos["api-availability"].total) == (200, 220)
    assert (april.slos["api-availability"].good, april.slos["api-availability"].total) == (100, 110)
    # Every SLO of the service: api-latency too, each with its own line.
    assert [(c.slo, c.windows, c.minutes, c.events) for c in march.corrections] == [
        ("api-availability", 2, 120.0, 20),
        ("api-latency", 2, 120.0, 20),
    ]
    assert all(c.service == "api" and c.rrule == "FREQ=WEEKLY;BYDAY=SA" for c in march.corrections)
    # Said once per correction: its two hours in March, not two hours per SLO.
    from srelib.present import narrative

    said = narrative.render(march, "monthly_reliability", fmt="text")
    assert "1 correction (maintenance) took 40 events over 2 h out of 2 SLOs (api-availability, api-latency)" in said
    # A window when nothing was measured (a paused pipeline) is said so, not "took 0 events".
    quiet = [dataclasses.replace(c, events=0, bad_events=0) for c in march.corrections]
    said = narrative.render(march.model_copy(update={"corrections": quiet}), "monthly_reliability", fmt="text")
    assert "1 correction (maintenance) took 2 h (no events were recorded in them) out of 2 SLOs (api-" in said
    assert "0 events" not in said
    assert [(c.slo, c.windows, c.events) for c in april.corrections] == [
        ("api-availability", 1, 10),  # 4 April: the windows end with the data (the day after its newest bucket)
        ("api-latency", 1, 10),
    ]


def test_a_corrected_time_slice_is_left_out_of_a_timeslices_slo(tmp_path: Path):
    workbench = _workbench(tmp_path, method="Timeslices", timeSliceTarget=0.9, timeSliceWindow="1m")
    sli = [
        _bucket("2026-10-02T10:00:00Z", 10, 10),
        _bucket("2026-10-02T10:01:00Z", 0, 10),  # a bad slice, corrected
        _bucket("2026-10-02T10:02:00Z", 10, 10),
        _bucket("2026-10-02T10:03:00Z", 0, 10),  # a bad slice, kept
    ]
    correction = dict(slo="api-availability", start="2026-10-02T10:01:00Z", end="2026-10-02T10:02:00Z")
    _ingest(workbench, sli, [correction])
    with connect(workbench.warehouse_path) as con:
        slo = build_summary(con, workbench, Period.parse("2026-10", "UTC")).slos["api-availability"]
    assert (slo.good_slices, slo.slices) == (2, 3)
    assert slo.attainment == pytest.approx(2 / 3, abs=1e-8)


def test_ingesting_again_rebuilds_the_windows_without_repeating_them(tmp_path: Path):
    workbench = _workbench(tmp_path)
    sli = [_bucket("2026-10-02T10:01:00Z", 0, 10), _bucket("2026-10-02T10:05:00Z", 10, 10)]
    correction = dict(slo="api-availability", start="2026-10-02T10:00:00Z", end="2026-10-02T10:02:00Z")
    _ingest(workbench, sli, [correction])
    _ingest(workbench, sli, [correction])
    with connect(workbench.warehouse_path) as con:
        assert con.execute("SELECT count(*) FROM correction_windows").fetchall()[0][0] == 1
        assert build_summary(con, workbench, Period.parse("2026-10", "UTC")).slos["api-availability"].total == 10


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"end": "2026-10-03T10:00:00Z"}, "end", "end is not after start"),
        ({"slo": "", "service": ""}, "slo", "give slo or service: all are empty"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule", "not a recurrence rule"),
        ({"rrule": "every sunday"}, "rrule", "not a recurrence rule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule", "not a recurrence rule"),
        ({"slo": "", "service": "nope"}, "service", "unknown service: no SLO in the specs is of service 'nope'"),
        ({"service": "web"}, "service", "'api-availability' is an SLO of service 'api', not 'web'"),
        ({"slo": "no-such-slo"}, "slo", "unknown SLO"),
        ({"kind": "holiday"}, "kind", "unknown value: expected one of maintenance, false_positive"),
        ({"start": "2026-10-03T10:00:00"}, "start", "timestamp has no UTC offset"),
    ],
)
def test_a_bad_correction_is_named_by_file_row_and_column(tmp_path: Path, change, column, message):
    workbench = _workbench(tmp_path)
    good = dict(slo="api-availability", start="2026-10-02T10:00:00Z", end="2026-10-02T11:00:00Z", kind="other")
    data = workbench.root / "data"
    write_csv(
        data / "corrections.csv",
        CORRECTION_COLUMNS,
        [good, {**good, "start": "2026-10-03T10:00:00Z", "end": "2026-10-03T11:00:00Z", **change}],
    )
    with pytest.raises(InputError) as raised:
        validate_directory(data)
    [problem] = raised.value.problems
    assert (problem.file, problem.row, problem.column) == ("corrections.csv", 3, column)
    assert problem.message.startswith(message), problem.message


def test_the_reports_table_says_what_each_correction_took_out(tmp_path: Path):
    from srelib.present.rows import correction_rows

    workbench = _workbench(tmp_path)
    sli = [_bucket(f"2026-10-04T02:{m:02d}:00Z", 9, 10) for m in range(0, 60)]
    sli.append(_bucket("2026-10-31T12:00:00Z", 10, 10))  # the windows repeat up to the newest data
    corrections = [
        {
            "service": "api",
            "start": "2026-10-04T02:00:00Z",
            "end": "2026-10-04T02:30:00Z",
            "rrule": "FREQ=WEEKLY",
            "reason": "Database maintenance",
            "kind": "maintenance",
        }
    ]
    _ingest(workbench, sli, corrections)
    with connect(workbench.warehouse_path) as con:
        summary = build_summary(con, workbench, Period.parse("2026-10"))
    rows = {r["slo"]: r for r in correction_rows(summary)}
    # Sundays 4, 11, 18 and 25 October: four windows of 30 minutes; 30 buckets of 10 events, 1 bad
    # each, on the 4th (the other Sundays have no data)
    assert rows["api-availability"] == {
        "slo": "api-availability",
        "kind": "maintenance",
        "reason": "Database maintenance",
        "when": "2026-10-04 02:00 UTC, repeating (FREQ=WEEKLY)",
        "windows": "4",
        "minutes": "2 h",
        "events": "300",
        "bad": "30",
    }
    assert set(rows) == {"api-availability", "api-latency"}  # every SLO of the service
    assert [r["slo"] for r in correction_rows(summary, "api-latency")] == ["api-latency"]


# ---- the figures against an independent computation -------------------------------------------

MINUTES_IN_OCTOBER = 31 * 24 * 60 + 60  # Berlin's October has an hour more (the clocks go back)


def _oracle_windows(corrections: list[dict], timezone: str, until: datetime) -> list[tuple[datetime, datetime]]:
    """Each correction's windows, read independently: the rule stepped on the wall clock with
    dateutil's own rrulestr and each local start converted to UTC with zoneinfo."""
    from datetime import UTC

    from dateutil.rrule import rrulestr

    zone = ZoneInfo(timezone)
    windows = []
    for c in corrections:
        start = datetime.fromisoformat(c["start"]).astimezone(zone)
        end = datetime.fromisoformat(c["end"]).astimezone(zone)
        local_start, length = start.replace(tzinfo=None), end.replace(tzinfo=None) - start.replace(tzinfo=None)
        starts = [local_start]
        if c.get("rrule"):
            starts = list(rrulestr(c["rrule"], dtstart=local_start).between(local_start, until, inc=True))
        for s in starts:
            utc = lambda t: t.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)  # noqa: E731
            windows.append((utc(s), utc(s + length)))
    return windows


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    buckets=st.dictionaries(
        st.integers(0, MINUTES_IN_OCTOBER - 1),
        st.tuples(st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=40,
    ),
    one_off=st.dictionaries(st.integers(0, MINUTES_IN_OCTOBER - 1), st.integers(1, 3000), max_size=3),
    weekly=st.booleans(),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"]),
)
def test_attainment_leaves_out_exactly_the_buckets_inside_a_window(
    tmp_path_factory, buckets, one_off, weekly, timezone
):
    """srelib's attainment against the buckets an independent reading of the windows leaves out:
    random buckets, one-off windows, and a weekly window on the wall clock (across Berlin's change
    of summer time on 25 October)."""
    from datetime import timedelta

    from srelib.ingest.warehouse import in_memory
    from srelib.metrics.scope import Scope
    from srelib.metrics.slo import slo_results

    root = tmp_path_factory.mktemp("oracle")
    workbench = _workbench(root, timezone)
    period = Period.parse("2026-10", timezone)
    first = period.start_utc
    rows = [
        _bucket((first + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"), min(g, t), t)
        for m, (g, t) in sorted(buckets.items())
    ]
    corrections = [
        {
            "slo": "api-availability",
            "start": (first + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (first + timedelta(minutes=m + n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": "other",
        }
        for m, n in one_off.items()
    ]
    if weekly:  # Saturdays 22:00-23:30 local from 3 October
        local = datetime(2026, 10, 3, 22, tzinfo=ZoneInfo(timezone))
        corrections.append(
            {
                "service": "api",
                "start": local.isoformat(),
                "end": (local + timedelta(minutes=90)).isoformat(),
                "rrule": "FREQ=WEEKLY",
                "kind": "maintenance",
            }
        )
    data = root / "data"
    write_csv(data / "sli.csv", SLI_COLUMNS, rows)
    write_csv(data / "corrections.csv", CORRECTION_COLUMNS, corrections)
    newest = max(datetime.strptime(r["timestamp"], "%Y-%m-%dT%H:%M:%SZ") for r in rows)
    windows = _oracle_windows(corrections, timezone, (newest + timedelta(days=1)).replace(tzinfo=None))
    stamps = {r["timestamp"]: datetime.strptime(r["timestamp"], "%Y-%m-%dT%H:%M:%SZ") for r in rows}
    kept = [
        r
        for r in rows
        if period.start_utc <= stamps[r["timestamp"]] < period.end_utc
        and not any(s <= stamps[r["timestamp"]] < e for s, e in windows)
    ]
    good, total = sum(r["good"] for r in kept), sum(r["total"] for r in kept)
    with in_memory(validate_directory(data), timezone) as con:
        got = slo_results(con, [period], Scope(None, workbench.catalogue))[period.label]["api-availability"]
    assert (got.good, got.total) == (good, total)
    assert got.attainment == (None if total == 0 else pytest.approx(good / total, abs=1e-8))
