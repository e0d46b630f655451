"""A seeded demo organisation: every canonical file of docs/architecture.md, with a story to tell.

Northwind Commerce runs 12 services in 5 teams. Its SRE programme starts seven months into
the 18 months of data: after it, incidents become rarer and shorter, SLOs healthier, toil
is automated away and cloud spend is rightsized. In the latest month a long SEV1 on
checkout breaches ``checkout-availability`` — so the reports have something true to say,
good and bad. The same seed and end month always give the same files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from srelib.config import Workbench
from srelib.period import Period
from srelib.run.catalogue import REPORTS, Run, Subjects, expand

SEED = 20261027
MONTHS = 18
PRINTED = ("quarterly_business_impact", "executive_summary")  # the reports the demo also publishes as PDF
PROGRAMME_MONTH = 6  # index of the first month of the SRE programme (the 7th month)

SERVICES = {  # service: (team, tier, relative incident weight, requests per 5 minutes)
    "checkout": ("payments", 1, 1.4, 9000),
    "payments-api": ("payments", 1, 1.0, 12000),
    "ledger": ("payments", 2, 0.6, 3000),
    "api-gateway": ("platform", 1, 1.2, 40000),
    "k8s-platform": ("platform", 1, 1.0, 0),
    "ci-cd": ("platform", 3, 0.8, 0),
    "auth": ("identity", 1, 1.0, 15000),
    "user-profile": ("identity", 2, 0.7, 0),
    "search-api": ("search", 1, 1.1, 20000),
    "recommendations": ("search", 2, 0.9, 8000),
    "data-pipeline": ("data", 2, 1.0, 600),
    "reporting": ("data", 3, 0.6, 0),
}

# name: (service, target, budgeting method, slice window, slice target, window, display name)
SLOS = {
    "checkout-availability": ("checkout", 0.999, "Occurrences", None, None, "28d", "Checkout availability"),
    "checkout-latency": ("checkout", 0.99, "Occurrences", None, None, "28d", "Checkout latency under 800 ms"),
    "payments-api-availability": (
        "payments-api",
        0.9995,
        "Occurrences",
        None,
        None,
        "28d",
        "Payments API availability",
    ),
    "api-gateway-availability": ("api-gateway", 0.9995, "Occurrences", None, None, "30d", "API gateway availability"),
    "auth-availability": ("auth", 0.999, "Timeslices", "5m", 0.99, "28d", "Sign-in availability"),
    "auth-latency": ("auth", 0.995, "Occurrences", None, None, "28d", "Sign-in latency under 300 ms"),
    "search-api-availability": ("search-api", 0.995, "RatioTimeslices", "1h", None, "28d", "Search availability"),
    "recommendations-availability": (
        "recommendations",
        0.99,
        "Occurrences",
        None,
        None,
        "28d",
        "Recommendations availability",
    ),
    "data-pipeline-freshness": (
        "data-pipeline",
        0.99,
        "Occurrences",
        None,
        None,
        "1M",
        "Orders data fresher than 30 minutes",
    ),
    # Refunds are asked for a few hundred times a month: at 99.9 % one failed refund spends more
    # than the month's budget, so its figures rest on low traffic (docs/metrics.md, "Data quality").
    "refunds-availability": ("payments-api", 0.999, "Occurrences", None, None, "28d", "Refunds availability"),
}
LOW_TRAFFIC = {"refunds-availability": 0.09}  # events per 5 minutes at the daily peak, drawn from a stream of their own
SLI_STREAM = 32  # added to the demo's seed: the low-traffic SLOs' random stream
# A scrape outage in the last month: recommendations' SLI has no buckets for five hours.
SLI_OUTAGE = ("recommendations-availability", 20, 9, 14)  # SLO, day of the month, from hour, to hour (UTC)
# A failed refund in the last month, in the first bucket with traffic from this day (UTC): one bad
# event spends the low-traffic SLO's whole budget, and no decision about it is on record.
FAILED_REFUND = ("refunds-availability", 9)

CAUSES = [
    "bad deploy",
    "config change",
    "capacity",
    "dependency failure",
    "certificate expiry",
    "database failover",
    "network",
    "bug",
    "third-party outage",
    "disk full",
]
SYMPTOMS = [
    "elevated 5xx errors",
    "high latency",
    "timeouts",
    "partial outage",
    "degraded performance",
    "failed background jobs",
    "stale data",
    "login failures",
    "queue backlog",
]
SEVERITY_P = [0.03, 0.12, 0.35, 0.35, 0.15]
BAD_RATIO = {"SEV1": 0.06, "SEV2": 0.015, "SEV3": 0.004, "SEV4": 0.0, "SEV5": 0.0}


@dataclass(frozen=True)
class DemoPlan:
    end: Period
    months: int = MONTHS
    programme: date | None = None  # the org's programme_start; the story moves with it when it fits

    @property
    def story_shift(self) -> int:
        """Months the story moves so the programme starts at the org's ``programme_start``.

        The story needs at least 4 months before the programme (the baseline) and 6 after it;
        a ``programme_start`` outside that range is ignored and the default month (the 7th) used.
        """
        if self.programme is None:
            return 0
        index = (self.programme.year - self.end.first_day.year) * 12 + self.programme.month - self.end.first_day.month
        index += MONTHS - 1
        return index - PROGRAMME_MONTH if 4 <= index <= MONTHS - 7 else 0

    @property
    def periods(self) -> list[Period]:
        return self.end.trailing(self.months)

    @property
    def start(self) -> datetime:
        return self.periods[0].start_utc

    @property
    def stop(self) -> datetime:
        return self.end.end_utc

    def month(self, index: int) -> Period:
        """The ``index``-th month of the story's 18-month calendar, whatever ``months`` was generated."""
        return self.end.shift(index + self.story_shift - (MONTHS - 1))

    @property
    def programme_start(self) -> datetime:
        return self.month(PROGRAMME_MONTH).start_utc

    def effect(self, when: datetime) -> float:
        """Programme effect in [0, 1]: 0 before the programme, ramping up over eight months."""
        months = (when - self.programme_start).days / 30.4
        return float(np.clip(months / 8, 0, 1))


def run(
    workbench: Workbench,
    end: Period | None = None,
    months: int = MONTHS,
    reports: int = 3,
    progress: Callable[[str], None] = lambda line: None,
    workers: int | None = None,
) -> Path:
    """The whole demo: generate the org into ``data/demo``, validate and load it into the
    workbench's warehouse, publish the monthly report for the last ``reports`` months, the rest of
    the catalogue for the last month (newsletter, engagement, executive summary, a scorecard per
    team, a document per SLO, a case study per initiative), the quarterly business impact
    report for the last complete quarter, the weekly digest for the month's last complete
    week and the annual review of :func:`review_year`, and return ``outputs/index.html``."""
    from srelib.errors import ReportError, RunInterrupted
    from srelib.ingest.validate import validate_directory
    from srelib.ingest.warehouse import load
    from srelib.present import pdf
    from srelib.present.portal import write_index
    from srelib.run.batch import Job, LineListener, Stop, run_many
    from srelib.run.history import last_runs

    started = time.monotonic()
    end = end or Period.latest_complete("month", workbench.org.timezone)
    directory = workbench.root / "data" / "demo"
    progress(f"[1/4] generating the demo organisation ({months} months to {end.title}) in {directory}")
    generate(directory, end, months, programme_start=workbench.org.programme_start)
    progress(f"[2/4] validating and loading into {workbench.warehouse_path}")
    dataset = validate_directory(directory, activities=workbench.activities)
    try:
        load(dataset, workbench.warehouse_path, workbench.org.timezone)
    finally:
        dataset.con.close()
    from srelib.demo.history import write_earlier_runs

    write_earlier_runs(workbench, end)  # what the org published before: the programme's communications
    periods = end.trailing(reports)
    quarter = Period.containing("quarter", end.shift(1).first_day, end.timezone).previous()
    runs = catalogue_runs(workbench, periods, end, quarter, year=review_year(end, months))
    printable = pdf.browser() is not None
    if not printable:
        progress(f"[3/4] the decks are published, their PDFs are not: {pdf.missing()}")
    jobs = [Job(run.report, run.period.label, run.team, run.parameters, demo_formats(run, printable)) for run in runs]
    jobs.sort(key=lambda job: -len(job.formats))  # the longest runs (decks, PDFs) first: no long tail at the end
    stop = Stop()
    listener = LineListener(lambda line: progress(f"[3/4] report {line}"))
    outcomes = run_many(workbench.root, jobs, workers, listener, stop=stop)
    if stop.is_set():
        raise RunInterrupted(
            f"the demo was stopped ({len(jobs) - sum(o.status == 'ok' for o in outcomes)} reports not run)"
        )
    failed = [o for o in outcomes if o.status != "ok"]
    if failed:
        raise ReportError("; ".join(o.message for o in failed))
    index = write_index(workbench.outputs_path, workbench.org, last_runs(workbench.outputs_path))
    progress(f"[4/4] done in {time.monotonic() - started:.0f} s; open this file in a browser:")
    return index


def demo_formats(run: Run, printable: bool) -> tuple[str, ...]:
    """What the demo publishes of a run: every deck and every Markdown edition, and the PDFs of
    the QBR and the executive summary (report and deck) where Chromium can print them."""
    spec = REPORTS[run.report]
    printed = printable and run.report in PRINTED
    return ("html", *(f for f in ("slides", "pdf", "markdown") if spec.offers(f) and (f != "pdf" or printed)))


def catalogue_runs(
    workbench: Workbench,
    months: list[Period],
    month: Period,
    quarter: Period,
    week: Period | None = None,
    year: Period | None = None,
) -> list[Run]:
    """Every report of the catalogue the demo publishes: the monthly report for ``months``, the
    quarterly ones for ``quarter``, the weekly ones for ``week`` (default: the last complete week
    of ``month``), the yearly ones for ``year`` (default: :func:`review_year`), the others for
    ``month``; fan-out reports for every subject."""
    subjects = Subjects.of(workbench)
    week = week or last_week(month)
    year = year or review_year(month)
    runs = []
    for spec in REPORTS.values():
        if spec.name == "monthly_reliability":
            periods = months
        else:
            periods = [next((p for p in (month, quarter, week, year) if p.kind in spec.period_kinds), month)]
        runs += [run for period in periods for run in expand(spec, period, subjects)]
    return runs


def review_year(month: Period, months: int = MONTHS) -> Period:
    """The year the demo's annual review is of, for data of ``months`` months ending with ``month``:
    the latest calendar year the data cover entirely, else the year of ``month`` to date (the
    review says which months it covers)."""
    first = month.shift(1 - months)
    whole = Period.containing("year", month.shift(1).first_day, month.timezone).previous()  # ended by month's end
    if whole.first_day >= first.first_day:
        return whole
    return Period.containing("year", month.first_day, month.timezone)


def last_week(month: Period) -> Period:
    """The last ISO week that ends by the end of ``month`` (the demo's data end there)."""
    return Period.containing("week", month.shift(1).first_day, month.timezone).previous()


def generate(
    directory: Path,
    end: Period | None = None,
    months: int = MONTHS,
    seed: int = SEED,
    programme_start: date | None = None,
) -> dict[str, int]:
    """Write the demo org's canonical files into ``directory``; return row counts."""
    directory.mkdir(parents=True, exist_ok=True)
    plan = DemoPlan(end or Period.latest_complete("month"), months, programme_start)
    rng = np.random.default_rng(seed)
    incidents = _incidents(plan, rng)
    from srelib.demo import follow_up  # post-incident follow-up and launches, from a random stream of their own

    incidents = follow_up.without_some_postmortems(incidents, plan)
    follow_rng = np.random.default_rng(seed + follow_up.STREAM)
    launches, reviews = follow_up.launches(plan, follow_rng)
    counts = {"incidents": _write_csv(_incidents_for_csv(incidents), directory / "incidents.csv")}
    (directory / "slos.yaml").write_text(_slos_yaml(), encoding="utf-8")
    counts["sli"] = _write_sli(plan, rng, incidents, directory / "sli.parquet")
    counts["deployments"] = _write_csv(_deployments(plan, rng, incidents), directory / "deployments.csv")
    counts["automation_runs"] = _write_csv(_automation(plan, rng), directory / "automation_runs.csv")
    counts["costs"] = _write_csv(_costs(plan, rng), directory / "costs.csv")
    # The programme's activities and its stakeholder survey draw on a stream of their own, so the
    # data generated before them stays as it was.
    activities_rng = np.random.default_rng(seed + 16)
    engagement = pd.concat(
        [_engagement(plan, rng), _programme_activities(plan, activities_rng), reviews], ignore_index=True
    )
    counts["engagement"] = _write_csv(engagement, directory / "engagement.csv")
    surveys = pd.concat([_surveys(plan, rng), _programme_surveys(plan, activities_rng)], ignore_index=True)
    counts["surveys"] = _write_csv(surveys, directory / "surveys.csv")
    counts["adoption"] = _write_csv(_adoption(plan, rng), directory / "adoption.csv")
    counts["actions"] = _write_csv(follow_up.actions(plan, follow_rng, incidents), directory / "actions.csv")
    counts["launches"] = _write_csv(launches, directory / "launches.csv")
    counts["corrections"] = _write_csv(_corrections(plan), directory / "corrections.csv")
    counts["decisions"] = _write_csv(_decisions(plan), directory / "decisions.csv")
    counts["annotations"] = _write_csv(_annotations(plan), directory / "annotations.csv")
    return counts


def _annotations(plan: DemoPlan) -> pd.DataFrame:
    """Notes the teams keep for the SLO charts: the card processor's change that the last month's
    SEV1 followed, and the search index rebuilt the week before."""
    last = plan.periods[-1].first_day
    return pd.DataFrame(
        [
            {
                "time": f"{last.replace(day=11).isoformat()}T22:00:00Z",
                "slo": "",
                "service": "search-api",
                "text": "Search index rebuilt with the new ranking model",
            },
            {
                "time": f"{last.replace(day=18).isoformat()}T13:00:00Z",
                "slo": "checkout-availability",
                "service": "",
                "text": "Card processor rotated its TLS certificate chain (their change notice CN-2291)",
            },
        ]
    )


def _decisions(plan: DemoPlan) -> pd.DataFrame:
    """What the error budget policy led to, as a team records it: the release freeze on checkout the
    day after the last month's SEV1 spent its budget, and an earlier reliability sprint. The
    refunds SLO's budget, spent by a single failed refund on the 9th of the last month (a month of
    a few hundred, :data:`FAILED_REFUND`), has no decision on record: the policy ledger shows the gap."""
    last, before = plan.periods[-1].first_day, plan.periods[-2].first_day
    return pd.DataFrame(
        [
            {
                "date": before.replace(day=6).isoformat(),
                "service": "search-api",
                "decision": "Reliability sprint: search time-outs before new ranking features",
                "by": "Search lead",
                "note": "",
            },
            {
                "date": last.replace(day=19).isoformat(),
                "service": "checkout",
                "decision": "Release freeze: P0 and security fixes only until the 28-day budget recovers",
                "by": "VP Engineering",
                "note": "After the card-processor TLS incident (SEV1)",
            },
        ]
    )


def _corrections(plan: DemoPlan) -> pd.DataFrame:
    """The SLO corrections a real team keeps: the data pipeline's weekly maintenance (paused by
    design, Sundays 02:00-03:00 from the first month on) and one false positive of the checkout
    probe in the last month."""
    first = plan.periods[0].first_day
    sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    last = plan.periods[-1].first_day
    return pd.DataFrame(
        [
            {
                "slo": "",
                "service": "data-pipeline",
                "start": f"{sunday.isoformat()}T02:00:00Z",
                "end": f"{sunday.isoformat()}T03:00:00Z",
                "rrule": "FREQ=WEEKLY;BYDAY=SU",
                "reason": "Weekly warehouse maintenance: the pipeline is paused by design",
                "kind": "maintenance",
            },
            {
                "slo": "checkout-availability",
                "service": "",
                "start": f"{last.replace(day=12).isoformat()}T03:10:00Z",
                "end": f"{last.replace(day=12).isoformat()}T03:55:00Z",
                "rrule": "",
                "reason": "The synthetic checkout probe failed on an expired test card; customers were unaffected",
                "kind": "false_positive",
            },
        ]
    )


def _iso(ts: datetime | None, offset_hours: int = 0) -> str:
    if ts is None:
        return ""
    if offset_hours:
        local = timezone(timedelta(hours=offset_hours))
        return ts.replace(tzinfo=UTC).astimezone(local).isoformat(timespec="seconds")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_csv(frame: pd.DataFrame, path: Path) -> int:
    frame.to_csv(path, index=False)
    return len(frame)


def _random_time(plan: DemoPlan, rng: np.random.Generator, period: Period) -> datetime:
    """A start time in ``period``, busier in working hours."""
    seconds = (period.end_utc - period.start_utc).total_seconds()
    while True:
        t = period.start_utc + timedelta(seconds=float(rng.uniform(0, seconds)))
        if rng.random() < (0.9 if 8 <= t.hour < 20 else 0.45):
            return t.replace(microsecond=0)


def _incidents(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    services = list(SERVICES)
    weights = np.array([SERVICES[s][2] for s in services])
    weights = weights / weights.sum()
    rows = []
    number = 1000
    for index, period in enumerate(plan.periods):
        effect = plan.effect(period.start_utc)
        count = rng.poisson(34 - 16 * effect)
        for _ in range(count):
            number += 1
            rows.append(
                _incident(
                    plan,
                    rng,
                    period,
                    number,
                    str(rng.choice(services, p=weights)),
                    str(rng.choice(["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"], p=SEVERITY_P)),
                    effect,
                )
            )
        if index == len(plan.periods) - 1:  # the story's SEV1: checkout down for six hours
            number += 1
            start = period.start_utc + timedelta(days=17, hours=13, minutes=12)
            rows.append(
                dict(
                    incident_id=f"INC-{number}",
                    title="Checkout payments failing after card-processor TLS change",
                    service="checkout",
                    team="payments",
                    severity="SEV1",
                    started_at=start,
                    detected_at=start + timedelta(minutes=4),
                    acknowledged_at=start + timedelta(minutes=7),
                    mitigated_at=start + timedelta(hours=5, minutes=40),
                    resolved_at=start + timedelta(hours=6, minutes=5),
                    customer_impact=True,
                    cause="config change",
                    postmortem_url=f"https://wiki.example.com/pm/INC-{number}",
                    sli_bad_ratio=0.25,
                )
            )
            number += 1
            lag_start = period.end_utc - timedelta(days=9, hours=3, minutes=41)
            rows.append(
                dict(  # a slow-burning problem nobody has closed yet
                    incident_id=f"INC-{number}",
                    title="Ledger reconciliation lagging behind by hours",
                    service="ledger",
                    team="payments",
                    severity="SEV4",
                    started_at=lag_start,
                    detected_at=lag_start + timedelta(minutes=35),
                    acknowledged_at=lag_start + timedelta(hours=2),
                    mitigated_at=None,
                    resolved_at=None,
                    customer_impact=False,
                    cause="capacity",
                    postmortem_url=None,
                    sli_bad_ratio=0.0,
                )
            )
    frame = pd.DataFrame(rows).sort_values("started_at", kind="stable").reset_index(drop=True)
    return frame


def _incident(
    plan: DemoPlan, rng: np.random.Generator, period: Period, number: int, service: str, severity: str, effect: float
) -> dict[str, object]:
    team = SERVICES[service][0]
    start = _random_time(plan, rng, period)
    scale = {"SEV1": 0.8, "SEV2": 1.0, "SEV3": 1.2, "SEV4": 1.6, "SEV5": 2.2}[severity]
    detect = rng.lognormal(np.log(9 - 5 * effect), 0.8)
    ack = rng.lognormal(np.log(7 - 4 * effect), 0.7)
    resolve = scale * rng.lognormal(np.log(110 - 60 * effect), 0.9)
    mitigate = resolve * rng.uniform(0.4, 0.9)
    resolve = max(resolve, detect + ack + 1)
    mitigate = max(mitigate, detect + ack)
    detected = start + timedelta(minutes=float(detect))
    resolved: datetime | None = start + timedelta(minutes=float(resolve))
    # Real trackers have gaps: some incidents were never marked detected or acknowledged.
    detected_at = None if rng.random() < 0.08 else detected.replace(microsecond=0)
    acknowledged_at = None if rng.random() < 0.05 else (detected + timedelta(minutes=float(ack))).replace(microsecond=0)
    stop = plan.stop
    if resolved is not None and (resolved >= stop or (stop - start < timedelta(days=6) and rng.random() < 0.6)):
        resolved = None  # still open at the end of the data
    impact_p = {"SEV1": 0.95, "SEV2": 0.8, "SEV3": 0.4, "SEV4": 0.1, "SEV5": 0.05}[severity]
    cause = str(rng.choice(CAUSES))
    has_pm = severity in ("SEV1", "SEV2") and resolved is not None
    return dict(
        incident_id=f"INC-{number}",
        title=f"{service}: {rng.choice(SYMPTOMS)} ({cause})",
        service=service,
        team=team if rng.random() > 0.1 else None,
        severity=severity,
        started_at=start,
        detected_at=detected_at,
        acknowledged_at=acknowledged_at,
        mitigated_at=(start + timedelta(minutes=float(mitigate))).replace(microsecond=0) if resolved else None,
        resolved_at=resolved.replace(microsecond=0) if resolved else None,
        # An incident left open in the tracker is a ticket nobody closed, not an outage still
        # running (the value of downtime counts an open incident's impact to the period's end).
        customer_impact=bool(rng.random() < (impact_p if resolved is not None else 0.0)),
        cause=cause,
        postmortem_url=f"https://wiki.example.com/pm/INC-{number}" if has_pm else None,
        sli_bad_ratio=BAD_RATIO[severity],
    )


def _incidents_for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=["sli_bad_ratio"]).copy()
    for column in ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        # a few exports come with a local offset: the same instant, written as +02:00
        out[column] = [
            _iso(v.to_pydatetime() if isinstance(v, pd.Timestamp) else v, 2 if i % 7 == 3 else 0)
            if v is not None and not pd.isna(v)
            else ""
            for i, v in enumerate(out[column])
        ]
    out["customer_impact"] = out["customer_impact"].map({True: "true", False: "false"})
    return out


def _slos_yaml() -> str:
    documents = []
    for name, (service, target, method, slice_window, slice_target, window, display) in SLOS.items():
        objective: dict[str, object] = {"displayName": display, "target": target}
        if slice_window:
            objective["timeSliceWindow"] = slice_window
        if slice_target:
            objective["timeSliceTarget"] = slice_target
        calendar = window.endswith("M")
        time_window: dict[str, object] = {"duration": window, "isRolling": not calendar}
        if calendar:
            time_window["calendar"] = {"startTime": "2024-01-01 00:00:00", "timeZone": "UTC"}
        metric = service.replace("-", "_")
        documents.append(
            {
                "apiVersion": "openslo/v1",
                "kind": "SLO",
                "metadata": {"name": name, "displayName": display, "labels": {"tier": str(SERVICES[service][1])}},
                "spec": {
                    "service": service,
                    "description": f"{display} for {service}.",
                    "indicator": {
                        "metadata": {"name": f"{name}-sli"},
                        "spec": {
                            "ratioMetric": {
                                "counter": True,
                                "good": {
                                    "metricSource": {
                                        "type": "Prometheus",
                                        "spec": {"query": f'sum(rate({metric}_requests_total{{code!~"5.."}}[5m]))'},
                                    }
                                },
                                "total": {
                                    "metricSource": {
                                        "type": "Prometheus",
                                        "spec": {"query": f"sum(rate({metric}_requests_total[5m]))"},
                                    }
                                },
                            }
                        },
                    },
                    "timeWindow": [time_window],
                    "budgetingMethod": method,
                    "objectives": [objective],
                },
            }
        )
    return yaml.safe_dump_all(documents, sort_keys=False)


def _write_sli(plan: DemoPlan, rng: np.random.Generator, incidents: pd.DataFrame, path: Path) -> int:
    timestamps = pd.date_range(plan.start, plan.stop, freq="5min", inclusive="left")
    n = len(timestamps)
    hours = timestamps.hour.to_numpy() + timestamps.minute.to_numpy() / 60
    diurnal = 0.55 + 0.45 * np.sin((hours - 8) / 24 * 2 * np.pi).clip(-1, 1) ** 2
    weekend = np.where(timestamps.day_of_week.to_numpy() >= 5, 0.7, 1.0)
    programme = plan.programme_start
    months_in = (timestamps - pd.Timestamp(programme)).total_seconds().to_numpy() / (30.4 * 86400)
    effect = np.clip(months_in / 8, 0, 1)
    frames = []
    low_rng = np.random.default_rng(SEED + SLI_STREAM)
    for name, (service, target, *_rest) in SLOS.items():
        if name in LOW_TRAFFIC:  # drawn from their own stream, so the other SLOs' data stay as they were
            total = low_rng.poisson(LOW_TRAFFIC[name] * diurnal * weekend).astype(np.int64)
            bad = low_rng.binomial(total, (1 - target) * 0.3)
            frames.append(pd.DataFrame({"timestamp": timestamps, "slo": name, "good": total - bad, "total": total}))
            continue
        volume = SERVICES[service][3] or 1000
        total = rng.poisson(volume * diurnal * weekend).astype(np.int64)
        if service == "data-pipeline":  # the nightly batch window has no traffic at all
            total[(hours >= 2) & (hours < 3)] = 0
        budget = 1 - target
        background = budget * (0.55 - 0.35 * effect) * rng.lognormal(0, 0.5, n).clip(0.2, 4)
        ratio = background
        for row in incidents[incidents.service == service].itertuples():
            if row.sli_bad_ratio == 0 or row.severity == "SEV4":
                continue
            end = (
                row.mitigated_at if row.mitigated_at is not None and not pd.isna(row.mitigated_at) else row.resolved_at
            )
            if end is None or pd.isna(end):
                end = row.started_at + timedelta(hours=2)
            i0 = int((row.started_at - plan.start).total_seconds() // 300)
            i1 = int((pd.Timestamp(end).to_pydatetime() - plan.start).total_seconds() // 300) + 1
            ratio[max(i0, 0) : min(i1, n)] += row.sli_bad_ratio * (1.5 if "latency" in name else 1.0)
        bad = rng.binomial(total, np.clip(ratio, 0, 1))
        frames.append(pd.DataFrame({"timestamp": timestamps, "slo": name, "good": total - bad, "total": total}))
    sli = pd.concat(frames, ignore_index=True)
    slo, day, since, until = SLI_OUTAGE
    first = plan.periods[-1].first_day
    outage = (sli.slo == slo) & (sli.timestamp >= pd.Timestamp(first.replace(day=day)) + pd.Timedelta(hours=since))
    outage &= sli.timestamp < pd.Timestamp(first.replace(day=day)) + pd.Timedelta(hours=until)
    sli = sli[~outage]
    slo, day = FAILED_REFUND
    traffic = (sli.slo == slo) & (sli.timestamp >= pd.Timestamp(first.replace(day=day))) & (sli.total > 0)
    if traffic.any():
        failed = traffic.idxmax()  # the first such bucket
        sli.loc[failed, "good"] = min(sli.loc[failed, "good"], sli.loc[failed, "total"] - 1)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.register("sli_frame", sli)
        con.execute(
            f'COPY (SELECT "timestamp"::TIMESTAMPTZ AS "timestamp", slo, good, total FROM sli_frame) '
            f"TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
        )
    return len(sli)


def _deployments(plan: DemoPlan, rng: np.random.Generator, incidents: pd.DataFrame) -> pd.DataFrame:
    rows = []
    number = 0
    days = (plan.stop - plan.start).days
    for service, (team, *_rest) in SERVICES.items():
        for day in range(days):
            date = plan.start + timedelta(days=day)
            effect = plan.effect(date)
            if date.weekday() >= 5:
                continue
            for _ in range(rng.poisson(0.8 + 1.6 * effect)):
                number += 1
                deployed = date + timedelta(hours=float(rng.uniform(8, 18)))
                lead = rng.lognormal(np.log(30 - 22 * effect), 0.8)
                rows.append(
                    dict(
                        deploy_id=f"D-{number:06d}",
                        service=service,
                        team=team,
                        deployed_at=_iso(deployed.replace(microsecond=0)),
                        commit_at=_iso((deployed - timedelta(hours=float(lead))).replace(microsecond=0)),
                        succeeded="true" if rng.random() > 0.03 else "false",
                        incident_id="",
                    )
                )
    for row in incidents[incidents.cause == "bad deploy"].itertuples():
        number += 1
        deployed = (row.started_at - timedelta(minutes=float(rng.uniform(5, 50)))).replace(microsecond=0)
        rows.append(
            dict(
                deploy_id=f"D-{number:06d}",
                service=row.service,
                team=SERVICES[row.service][0],
                deployed_at=_iso(deployed),
                commit_at=_iso(deployed - timedelta(hours=6)),
                succeeded="true",
                incident_id=row.incident_id,
            )
        )
    return pd.DataFrame(rows).sort_values("deployed_at", kind="stable")


AUTOMATIONS = [  # name, team, first month index, runs per week, minutes saved per run
    ("certificate-rotation", "platform", 7, 1, 90),
    ("disk-cleanup", "platform", 8, 14, 15),
    ("deploy-rollback", "platform", 9, 3, 40),
    ("access-requests", "identity", 10, 25, 12),
    ("db-failover-check", "payments", 11, 7, 30),
    ("capacity-report", "data", 12, 1, 240),
]


def _automation(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for name, team, first, per_week, minutes in AUTOMATIONS:
        t = max(plan.month(first).start_utc, plan.start)
        last = None
        while True:
            t += timedelta(hours=float(rng.exponential(168 / per_week)))
            if t >= plan.stop:
                break
            ran_at = t.replace(microsecond=0)
            if last is not None and ran_at <= last:  # two runs within a second: (automation, ran_at) is a key
                ran_at = t = last + timedelta(seconds=1)
            last = ran_at
            rows.append(
                dict(
                    automation=name,
                    team=team,
                    ran_at=_iso(ran_at),
                    minutes_saved=round(float(minutes * rng.uniform(0.8, 1.2)), 1),
                )
            )
    return pd.DataFrame(rows).sort_values("ran_at", kind="stable")


def _costs(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    rightsizing = plan.month(10).start_utc
    days = (plan.stop - plan.start).days
    for service, (team, tier, _w, volume) in SERVICES.items():
        base = 180 + volume / 60 + 120 / tier
        for day in range(days):
            start = plan.start + timedelta(days=day)
            factor = (
                0.82
                if start >= rightsizing and service in ("api-gateway", "search-api", "k8s-platform", "data-pipeline")
                else 1.0
            )
            for category, share in (("Compute", 0.6), ("Databases", 0.25), ("Storage", 0.15)):
                effective = base * share * factor * float(rng.uniform(0.93, 1.07))
                rows.append(
                    dict(
                        ChargePeriodStart=_iso(start),
                        ChargePeriodEnd=_iso(start + timedelta(days=1)),
                        EffectiveCost=round(effective, 2),
                        BilledCost=round(effective * 1.12, 2),
                        BillingCurrency="USD",
                        ServiceName=service,
                        ServiceCategory=category,
                        SubAccountName=f"{team}-prod",
                        Tags=json.dumps({"service": service, "team": team, "category": category.lower()}),
                    )
                )
    return pd.DataFrame(rows)


def _engagement(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    teams = sorted({t for t, *_ in SERVICES.values()})
    for index, period in enumerate(plan.periods):
        if period.start_utc < plan.programme_start:
            continue
        effect = plan.effect(period.start_utc)
        day = period.start_utc.date()
        rows.append(
            dict(
                date=(day + timedelta(days=2)).isoformat(),
                kind="newsletter",
                title=f"SRE newsletter {period.label}",
                team="",
                reached=int(140 + 120 * effect + rng.integers(0, 25)),
                audience=420,
            )
        )
        events = [
            ("lunch_and_learn", "Lunch & learn", 60),
            ("office_hours", "SRE office hours", 20),
            ("training", "SRE fundamentals", 25),
            ("workshop", "SLO workshop", 18),
            ("drill", "Incident simulation drill", 14),
            ("deep_dive", "Technical deep dive", 40),
        ]
        for j, (kind, title, audience) in enumerate(events):
            if kind == "training" and period.start_utc < plan.month(PROGRAMME_MONTH + 3).start_utc:
                continue
            rows.append(
                dict(
                    date=(day + timedelta(days=5 + 4 * j)).isoformat(),
                    kind=kind,
                    title=title,
                    team=str(teams[(index + j) % len(teams)]),
                    reached=int(audience * (0.4 + 0.4 * effect) * rng.uniform(0.8, 1.2)),
                    audience=audience,
                )
            )
        rows.append(
            dict(
                date=(day + timedelta(days=27)).isoformat(),
                kind="doc_page",
                title="Runbook hub",
                team="",
                reached=int(300 + 900 * effect + rng.integers(0, 80)),
                audience=None,
            )
        )
    upcoming = plan.end.shift(1).first_day  # planned events: nobody has attended yet
    for offset, kind, title, team, audience in (
        # The 1st lies in the week after the last complete week: the weekly digest's "next week".
        (0, "office_hours", "SRE office hours: bring an alert that woke you", "", 20),
        (6, "lunch_and_learn", "Error budgets in practice", "", 60),
        (13, "workshop", "Writing your first SLO", "search", 18),
        (20, "drill", "Game day: payments failover", "payments", 14),
    ):
        rows.append(
            dict(
                date=(upcoming + timedelta(days=offset)).isoformat(),
                kind=kind,
                title=title,
                team=team,
                reached=0,
                audience=audience,
            )
        )
    return pd.DataFrame(rows)


# Risk assessment consultations (month of the programme, service). The reviews before launches
# (production readiness, architecture, launch support) come with the launches
# (srelib/demo/follow_up.py), so each review has the launch it was for.
REVIEWS = (
    (5, "risk_assessment_consultation", "payments-api"),
    (8, "risk_assessment_consultation", "data-pipeline"),
)


def _programme_activities(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    """The programme's activities beyond the monthly events: pairing sessions (written `pairing`,
    the alias), champions from the fourth month, courses each quarter, hands-on learning, content,
    stakeholder sessions, risk assessments of services (with their `service`), and post-incident review
    workshops that ran every month and stopped three months before the demo's end (a lapse)."""
    rows: list[dict[str, object]] = []
    teams = sorted({t for t, *_ in SERVICES.values()})
    programme = [p for p in plan.periods if p.start_utc >= plan.programme_start]

    def add(day: date, kind: str, title: str, team: str, reached: int, audience: int | None, service: str = "") -> None:
        rows.append(
            dict(date=day.isoformat(), kind=kind, title=title, team=team, reached=reached, audience=audience)
            | {"service": service}
        )

    for m, period in enumerate(programme):
        first = period.first_day
        for i in range(2 + (m >= 3) + (m >= 6)):
            team = teams[(m + 2 * i) % len(teams)]
            add(
                first + timedelta(days=3 + 7 * i),
                "pairing",
                f"Pairing with {team}",
                team,
                int(rng.integers(2, 5)),
                None,
            )
        if period.first_day <= plan.end.shift(-3).first_day:
            add(
                first + timedelta(days=9),
                "post_incident_review_workshop",
                "Post-incident review workshop",
                "",
                int(rng.integers(12, 26)),
                40,
            )
        if m >= 3:
            add(first + timedelta(days=16), "sre_champions", "SRE champions", "", int(rng.integers(5, 10)), 10)
        if m >= 2:
            for i in range(2):
                team = teams[(m + i) % len(teams)]
                add(first + timedelta(days=11 + 6 * i), "on_call_shadowing", f"Shadowing {team} on call", team, 1, None)
        if m >= 3 and m % 3 == 0:
            add(
                first + timedelta(days=13),
                "sre_fundamentals_course",
                "SRE fundamentals",
                "",
                int(rng.integers(9, 16)),
                18,
            )
        if m >= 4 and m % 3 == 1:
            add(
                first + timedelta(days=13),
                "incident_management_training",
                "Incident management",
                "",
                int(rng.integers(8, 14)),
                16,
            )
        if m >= 5 and m % 2 == 1:
            add(
                first + timedelta(days=22),
                "slo_workshop_series",
                "SLO workshop series",
                "",
                int(rng.integers(6, 12)),
                14,
            )
        if m >= 6 and m % 2 == 0:
            team = teams[m % len(teams)]
            add(
                first + timedelta(days=19),
                "chaos_engineering_exercise",
                f"Chaos exercise with {team}",
                team,
                int(rng.integers(4, 9)),
                None,
            )
        add(
            first + timedelta(days=15),
            "blog",
            f"SRE blog {period.label}",
            "",
            int(150 + 60 * m + rng.integers(0, 40)),
            None,
        )
        if m >= 4 and m % 2 == 0:
            add(
                first + timedelta(days=24),
                "podcast_episode",
                f"Reliability radio {period.label}",
                "",
                int(rng.integers(80, 160)),
                None,
            )
        if m >= 1 and m % 2 == 1:
            team = teams[(m // 2) % len(teams)]
            add(
                first + timedelta(days=20),
                "integration_workshop",
                f"Integration workshop with {team}",
                team,
                int(rng.integers(8, 15)),
                15,
            )
        if m >= 2:
            team = teams[(m + 3) % len(teams)]
            add(
                first + timedelta(days=25),
                "joint_planning",
                f"Joint planning with {team}",
                team,
                int(rng.integers(4, 8)),
                None,
            )
        if m >= 1 and m % 2 == 0:
            team = teams[(m + 1) % len(teams)]
            add(
                first + timedelta(days=18),
                "slo_planning_session",
                f"SLO planning with {team}",
                team,
                int(rng.integers(3, 7)),
                None,
            )
        if m % 3 == 2:
            add(
                first + timedelta(days=21),
                "reliability_requirement_workshop",
                "Reliability requirements",
                "",
                int(rng.integers(6, 12)),
                12,
            )
    for m, kind, service in REVIEWS:
        if m < len(programme):
            team = SERVICES[service][0]
            add(
                programme[m].first_day + timedelta(days=8),
                kind,
                f"Risk assessment: {service}",
                team,
                int(rng.integers(4, 9)),
                None,
                service,
            )
    return pd.DataFrame(rows)


STAKEHOLDER_QUESTIONS = (  # question, mean score before the programme's effect, its gain at full effect
    ("The SRE team understands what my product needs from reliability", 3.2, 1.0),
    ("Reliability risks are raised early enough to plan for", 2.9, 1.2),
    ("Reliability reports tell me what I need to decide", 3.4, 0.5),
    ("I know whom to ask about reliability, and get an answer fast", 3.6, 0.7),
)
DEVEX_QUESTIONS = (
    ("Our on-call load is sustainable", 2.8, 0.8),
    ("I can find the runbook I need during an incident", 2.6, 1.3),
)


def _programme_surveys(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    """A stakeholder survey of product managers and leaders each quarter from the programme's start
    (four questions), and two more developer experience questions beside the existing one."""
    rows: list[dict[str, object]] = []
    teams = sorted({t for t, *_ in SERVICES.values()})
    for period in plan.periods:
        if period.first_day.month % 3 != 0 or period.start_utc < plan.programme_start:
            continue
        effect = plan.effect(period.start_utc)
        when = period.start_utc + timedelta(days=21, hours=9)
        for q, (question, base, gain) in enumerate(STAKEHOLDER_QUESTIONS):
            for i in range(12):
                score = int(np.clip(round(rng.normal(base + gain * effect, 0.8)), 1, 5))
                rows.append(
                    dict(
                        submitted_at=_iso(when + timedelta(minutes=15 * q + i)),
                        survey="stakeholder",
                        team="",
                        question=question,
                        score=score,
                    )
                )
        for q, (question, base, gain) in enumerate(DEVEX_QUESTIONS):
            for team in teams:
                for i in range(8):
                    score = int(np.clip(round(rng.normal(base + gain * effect, 0.8)), 1, 5))
                    rows.append(
                        dict(
                            submitted_at=_iso(when + timedelta(days=1, hours=q, minutes=i)),
                            survey="devex",
                            team=team,
                            question=question,
                            score=score,
                        )
                    )
    return pd.DataFrame(rows)


def _surveys(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    teams = sorted({t for t, *_ in SERVICES.values()})
    for period in plan.periods:
        effect = plan.effect(period.start_utc)
        when = period.start_utc + timedelta(days=20, hours=10)
        for i in range(40):
            rows.append(
                dict(
                    submitted_at=_iso(when + timedelta(minutes=i)),
                    survey="csat",
                    team="",
                    question="How satisfied are you with the reliability of our service?",
                    score=int(np.clip(round(rng.normal(3.6 + 0.6 * effect, 0.9)), 1, 5)),
                )
            )
        if period.first_day.month % 3 == 0:
            for i in range(60):
                rows.append(
                    dict(
                        submitted_at=_iso(when + timedelta(hours=1, minutes=i)),
                        survey="nps",
                        team="",
                        question="How likely are you to recommend our product?",
                        score=int(np.clip(round(rng.normal(6.8 + 1.4 * effect, 2.0)), 0, 10)),
                    )
                )
            for team in teams:
                for i in range(8):
                    rows.append(
                        dict(
                            submitted_at=_iso(when + timedelta(hours=2, minutes=i)),
                            survey="devex",
                            team=team,
                            question="How easy is it to ship a change safely?",
                            score=int(np.clip(round(rng.normal(3.0 + 0.9 * effect, 0.8)), 1, 5)),
                        )
                    )
    return pd.DataFrame(rows)


def _adoption(plan: DemoPlan, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    teams = sorted({t for t, *_ in SERVICES.values()})
    practices = ["oncall", "postmortems", "runbooks", "slos", "prr", "chaos_drills"]
    programme = plan.programme_start
    for i, team in enumerate(teams):
        for j, practice in enumerate(practices):
            if practice == "oncall":
                when = plan.start - timedelta(days=200 + 30 * i)
            else:
                when = programme + timedelta(days=int(30 * j + 20 * i + rng.integers(0, 20)))
            if when < plan.stop:
                rows.append(dict(team=team, practice=practice, adopted_at=_iso(when)))
    return pd.DataFrame(rows)
