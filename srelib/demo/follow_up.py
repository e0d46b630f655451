"""The demo organisation's post-incident follow-up and launches: action items, reviews, launches.

Northwind's postmortems produce action items (a Jira project, PM-…): before the programme many
are closed late or left open; after it, more are closed on time, yet some stay open past their
due day, and an incident now and then comes back while the earlier one's actions are open. A
few recent SEV2 postmortems were never written. Services launch features every month; after
the programme starts, more launches get a production readiness review, architecture review or
launch support beforehand, and four of the six tier-1 services have a PRR on record.

Drawn from a random stream of its own, so the other demo files stay exactly as they were.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from srelib.demo.organisation import SERVICES, DemoPlan, _iso

STREAM = 16  # added to the demo's seed: this module's own random stream

OWNERS = {
    "payments": ["Ana Silva", "Tom Berg", "Priya Nair"],
    "platform": ["Lena Park", "Omar Haddad", "Jonas Weber"],
    "identity": ["Mia Rossi", "Kenji Sato"],
    "search": ["Sara Cohen", "Luis Ortega"],
    "data": ["Nora Lind", "Ravi Kumar"],
}
ACTIONS = [
    "Add an alert on {symptom}",
    "Write a runbook for {symptom} on {service}",
    "Add a canary stage to {service} deploys",
    "Load test {service} at twice the peak",
    "Automate the rollback of {service}",
    "Add {cause} to the game day scenarios",
    "Remove the single point of failure behind {service}",
    "Cap retries from {service} to its dependencies",
]
PER_SEVERITY = {"SEV1": 3, "SEV2": 2, "SEV3": 1}
FEATURES = [
    "new API version",
    "regional failover",
    "redesigned flow",
    "faster cache layer",
    "partner integration",
    "mobile release",
    "bulk export",
    "new storage backend",
]
# The tier-1 services with a PRR on record, and the month of the story (0–17) it was held in.
PRRS = {"checkout": 7, "payments-api": 8, "auth": 9, "api-gateway": 11}
REVIEW_KINDS = ["production_readiness_review", "architecture_review", "feature_launch_support"]


def without_some_postmortems(incidents: pd.DataFrame, plan: DemoPlan) -> pd.DataFrame:
    """The incidents with a few recent postmortems never written: every third SEV2 of the two months
    before the last, and the first serious incident of the last month whose postmortem is due
    (resolved more than a week before its end; the checkout story keeps its postmortem)."""
    number = incidents["incident_id"].str.removeprefix("INC-").astype(int)
    earlier = (incidents["started_at"] >= plan.end.shift(-2).start_utc) & (incidents["started_at"] < plan.end.start_utc)
    unwritten = earlier & (incidents["severity"] == "SEV2") & (number % 3 == 0)
    resolved = pd.to_datetime(incidents["resolved_at"])
    due = (
        (incidents["started_at"] >= plan.end.start_utc)
        & incidents["severity"].isin(["SEV1", "SEV2"])
        & (resolved < plan.stop - timedelta(days=7))
        & ~incidents["title"].str.startswith("Checkout payments failing")
    )
    if due.any():
        unwritten |= incidents.index == due.idxmax()
    out = incidents.copy()
    out["postmortem_url"] = out["postmortem_url"].where(~unwritten, None)
    return out


def actions(plan: DemoPlan, rng: np.random.Generator, incidents: pd.DataFrame) -> pd.DataFrame:
    """Action items of the resolved SEV1–SEV3 incidents, as a tracker export would have them."""
    rows = []
    key = 100
    story = _came_back(plan, incidents)
    for incident in incidents.itertuples():
        resolved = incident.resolved_at
        if resolved is None or pd.isna(resolved):
            continue
        if incident.incident_id != story and (
            incident.severity not in PER_SEVERITY or (incident.severity == "SEV3" and rng.random() < 0.6)
        ):
            continue
        resolved = pd.Timestamp(resolved).to_pydatetime()
        team = SERVICES[incident.service][0]
        effect = plan.effect(resolved)
        texts = rng.choice(len(ACTIONS), size=PER_SEVERITY.get(incident.severity, 1), replace=False)
        for number, text in enumerate(texts):
            key += 1
            created = resolved + timedelta(days=float(rng.uniform(1, 4)))
            if created >= plan.stop:
                continue
            due = (created + timedelta(days=int(rng.integers(14, 46)))).date()
            due_end = datetime.combine(due + timedelta(days=1), datetime.min.time())
            fate = rng.random()
            on_time = 0.3 + 0.4 * effect
            if fate < on_time:
                closed: datetime | None = created + (due_end - created) * float(rng.uniform(0.3, 0.98))
            elif fate < on_time + 0.45:
                closed = due_end + timedelta(days=float(rng.uniform(1, 50)))
            else:
                closed = None  # never closed yet
            if (closed is not None and closed >= plan.stop) or (incident.incident_id == story and number == 0):
                closed = None  # not closed by the end of the data (the story's: never closed)
            rows.append(
                dict(
                    incident_id=incident.incident_id,
                    action=ACTIONS[int(text)].format(
                        service=incident.service, symptom=_symptom(incident.title), cause=incident.cause
                    ),
                    owner=str(rng.choice(OWNERS[team])),
                    due=due.isoformat(),
                    created_at=_iso(created.replace(microsecond=0)),
                    closed_at=_iso(closed.replace(microsecond=0)) if closed else "",
                    action_id=f"PM-{key}",
                    team=team,
                    url=f"https://jira.example.com/browse/PM-{key}",
                )
            )
    return pd.DataFrame(rows)


def _came_back(plan: DemoPlan, incidents: pd.DataFrame) -> str | None:
    """The story's earlier incident: the one the first of the last month's incidents to repeat an
    earlier one (same service and cause, 90 days) repeats. Its first action is never closed, so the
    last month has an incident that came back while the earlier one's actions were open."""
    resolved = incidents[incidents["resolved_at"].notna()]
    for incident in incidents[incidents["started_at"] >= plan.end.start_utc].itertuples():
        earlier = resolved[
            (resolved["service"] == incident.service)
            & (resolved["cause"] == incident.cause)
            & (resolved["started_at"] < incident.started_at - timedelta(days=30))
            & (resolved["started_at"] >= incident.started_at - timedelta(days=90))
        ]
        if len(earlier):
            return str(earlier.iloc[-1]["incident_id"])
    return None


def _symptom(title: str) -> str:
    """ "checkout: high latency (capacity)" → "high latency"."""
    return title.split(": ", 1)[-1].split(" (", 1)[0]


def launches(plan: DemoPlan, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Launches of the demo's services, and the engagement rows of the reviews held before them."""
    services = list(SERVICES)
    weights = np.array([3.0 if SERVICES[s][1] == 1 else 1.5 if SERVICES[s][1] == 2 else 0.5 for s in services])
    weights /= weights.sum()
    launch_rows, review_rows = [], []
    number = 0
    for period in plan.periods:
        for _ in range(int(rng.integers(2, 5))):
            number += 1
            service = str(rng.choice(services, p=weights))
            start = period.start_utc + timedelta(days=float(rng.uniform(0, period.days)), hours=0)
            start = start.replace(minute=0, second=0, microsecond=0, hour=int(rng.integers(8, 18)))
            if start >= plan.stop:
                continue
            feature = str(rng.choice(FEATURES))
            launch_rows.append(
                dict(
                    launch_id=f"LAUNCH-{number:03d}",
                    service=service,
                    launched_at=_iso(start),
                    title=f"{service}: {feature}",
                    team=SERVICES[service][0],
                )
            )
            if start >= plan.programme_start and rng.random() < 0.3 + 0.5 * plan.effect(start):
                kind = str(rng.choice(REVIEW_KINDS, p=[0.3, 0.3, 0.4]))
                if kind == "production_readiness_review" and SERVICES[service][1] == 1 and service not in PRRS:
                    kind = "feature_launch_support"  # two tier-1 services have never had a PRR
                day = (start - timedelta(days=int(rng.integers(3, 25)))).date()
                title = f"{feature} ({service}, LAUNCH-{number:03d})"
                review_rows.append(_review(day.isoformat(), kind, service, title))
    for service, month in PRRS.items():
        day = plan.month(month).start_utc.date() + timedelta(days=int(rng.integers(3, 25)))
        if datetime.combine(day, datetime.min.time()) < plan.stop:
            review_rows.append(_review(day.isoformat(), "production_readiness_review", service, f"PRR: {service}"))
    return pd.DataFrame(launch_rows), pd.DataFrame(review_rows)


def _review(day: str, kind: str, service: str, title: str) -> dict[str, object]:
    return dict(date=day, kind=kind, title=title, team=SERVICES[service][0], reached=6, audience=None, service=service)
