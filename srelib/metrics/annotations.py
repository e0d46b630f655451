"""What happened to each SLO's service in a period, for the SLO charts (docs/metrics.md, "Annotations").

A reader who sees a budget drop asks what happened then. Three kinds, in order of time:

- ``incident``: each SEV1 and SEV2 incident of a service with an SLO in scope, at its start;
- ``deployments``: the service's deployments, one annotation per local day (dozens a month are
  noise as single marks), with how many failed and the incidents they caused;
- ``note``: each row of the optional ``annotations`` file in the period (time, slo or service,
  text): a config change, a traffic peak, a vendor's outage.

An annotation with ``slo`` None belongs to every SLO of its service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from srelib.metrics.follow_up import has_table
from srelib.metrics.slo import SloDefinition
from srelib.period import Period

SERIOUS = ("SEV1", "SEV2")


@dataclass(frozen=True)
class Annotation:
    at: str  # ISO 8601 in the org time zone (deployments: the day's first)
    day: str  # YYYY-MM-DD in the org time zone
    kind: str  # incident | deployments | note
    service: str
    slo: str | None  # None: every SLO of the service
    text: str
    count: int = 1  # deployments: how many that day
    failed: int = 0  # deployments: how many failed or caused an incident
    ref: str | None = None  # incident: its id


def slo_annotations(
    con: duckdb.DuckDBPyConnection, period: Period, definitions: Sequence[SloDefinition]
) -> list[Annotation]:
    """The annotations of ``period`` for the services of ``definitions`` (the SLOs in scope)."""
    services = sorted({d.service for d in definitions})
    if not services:
        return []
    tz = period.start.tzinfo
    bounds = [period.start_utc, period.end_utc]
    found: list[Annotation] = []
    if has_table(con, "incidents"):
        for incident_id, title, service, severity, started in con.execute(
            """SELECT incident_id, title, service, severity, started_at FROM incidents
               WHERE list_contains(?::VARCHAR[], service) AND list_contains(?::VARCHAR[], severity)
                 AND started_at >= ? AND started_at < ? ORDER BY started_at, incident_id""",
            [services, list(SERIOUS), *bounds],
        ).fetchall():
            at = _local(started, tz)
            text = f"{incident_id} ({severity})" + (f": {title}" if title else "")
            found.append(
                Annotation(
                    at.isoformat(timespec="minutes"),
                    at.date().isoformat(),
                    "incident",
                    service,
                    None,
                    text,
                    ref=incident_id,
                )
            )
    if has_table(con, "deployments"):
        for service, day, first, count, failed, caused in con.execute(
            """SELECT service, CAST(timezone(?, timezone('UTC', deployed_at)) AS DATE) AS day, min(deployed_at),
                      count(*), count(*) FILTER (WHERE NOT coalesce(succeeded, true) OR incident_id IS NOT NULL),
                      list(DISTINCT incident_id ORDER BY incident_id) FILTER (WHERE incident_id IS NOT NULL)
               FROM deployments
               WHERE list_contains(?::VARCHAR[], service) AND deployed_at >= ? AND deployed_at < ?
               GROUP BY ALL ORDER BY day, service""",
            [period.timezone, services, *bounds],
        ).fetchall():
            text = f"{count} deployment{'s' if count != 1 else ''}"
            if failed:
                text += f", {failed} failed" + (f" (caused {', '.join(caused)})" if caused else "")
            at = _local(first, tz)
            found.append(
                Annotation(
                    at.isoformat(timespec="minutes"), day.isoformat(), "deployments", service, None, text, count, failed
                )
            )
    if has_table(con, "annotations"):
        for time, slo, service, text in con.execute(
            """SELECT a."time", a.slo, coalesce(a.service, s.service), a.text
               FROM annotations a LEFT JOIN slos s ON s.name = a.slo
               WHERE list_contains(?::VARCHAR[], coalesce(a.service, s.service)) AND a."time" >= ? AND a."time" < ?
               ORDER BY a."time", a.slo NULLS FIRST, a.text""",
            [services, *bounds],
        ).fetchall():
            at = _local(time, tz)
            found.append(
                Annotation(at.isoformat(timespec="minutes"), at.date().isoformat(), "note", service, slo, text)
            )
    return sorted(found, key=lambda a: (a.at, a.kind, a.service, a.text))


def for_slo(found: Sequence[Annotation], slo: str, service: str) -> list[Annotation]:
    """The annotations of one SLO: its own, and its service's."""
    return [a for a in found if a.service == service and a.slo in (None, slo)]


def _local(moment: datetime, tz: object) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(tz)  # type: ignore[arg-type]
