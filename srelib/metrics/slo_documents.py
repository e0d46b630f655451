"""The SLO specs as documents need them: what each SLO measures, how, and who stands behind it.

Read from the warehouse's ``slos`` table (the specs as ingested) and joined with the service
catalogue (``params/services.yaml``: description, tier) and ``params/slo_documents.yaml``
(status, owner, approvers, review dates, rationale, caveats), for the SLO documents; and
whether each SLO's review is overdue at the period's end (:func:`review_overdue_days`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import duckdb

from srelib.config import SloDocuments
from srelib.metrics.scope import Scope
from srelib.metrics.slo import slo_definitions
from srelib.period import Period


@dataclass(frozen=True)
class SloSpecInfo:
    display_name: str | None
    description: str | None
    service: str
    service_description: str | None
    tier: int | None
    team: str | None
    target: float
    window: str
    rolling: bool
    budgeting_method: str
    time_slice_target: float | None
    time_slice_window: str | None
    indicator_kind: str
    good_query: str | None
    bad_query: str | None
    total_query: str | None
    source: str
    status: str = "Draft"
    owner: str | None = None
    approvers: list[str] = field(default_factory=list)
    reviewed: str | None = None
    next_review: str | None = None
    review_overdue_days: int | None = None  # days past next_review at the period's end; None: not overdue
    rationale: str | None = None
    caveats: list[str] = field(default_factory=list)


def review_overdue_days(next_review: date | None, period: Period) -> int | None:
    """How many days an SLO's review is overdue at the end of ``period``: the days from its
    ``next_review`` date to the day after the period's last day (both in the org's time zone), when
    that date is on or before the period's last day; None when it is later or not recorded. A
    review due on the period's last day is 1 day overdue once the period has ended. (The SRE
    Workbook's SLO document, Appendix A, names a review date; a missed one means nobody has
    checked that the target still matches what users need.)"""
    if next_review is None:
        return None
    ended = period.end.date()  # the end is exclusive: the day after the period's last day
    return (ended - next_review).days if next_review < ended else None


def slo_specs(
    con: duckdb.DuckDBPyConnection, scope: Scope, documents: SloDocuments, period: Period
) -> dict[str, SloSpecInfo]:
    rows = dict(con.execute("SELECT name, spec FROM slos").fetchall())
    result = {}
    for d in slo_definitions(con, scope):
        spec = json.loads(rows[d.name]) if isinstance(rows.get(d.name), str) else (rows.get(d.name) or {})
        service = scope.catalogue.services.get(d.service)
        document = documents.documents.get(d.name)
        window = spec.get("time_window") or {}
        result[d.name] = SloSpecInfo(
            display_name=d.display_name,
            description=spec.get("description"),
            service=d.service,
            service_description=getattr(service, "description", None),
            tier=getattr(service, "tier", None),
            team=d.team,
            target=d.target,
            window=d.window_duration,
            rolling=bool(window.get("is_rolling", True)),
            budgeting_method=d.budgeting_method,
            time_slice_target=d.time_slice_target,
            time_slice_window=spec.get("time_slice_window"),
            indicator_kind=str(spec.get("indicator_kind", "ratio")),
            good_query=spec.get("good_query"),
            bad_query=spec.get("bad_query"),
            total_query=spec.get("total_query"),
            source=str(spec.get("source", "")),
            status=document.status if document else "Draft",
            owner=(document.owner if document and document.owner else d.team),
            approvers=list(document.approvers) if document else [],
            reviewed=document.reviewed.isoformat() if document and document.reviewed else None,
            next_review=document.next_review.isoformat() if document and document.next_review else None,
            review_overdue_days=review_overdue_days(document.next_review if document else None, period),
            rationale=document.rationale if document else None,
            caveats=list(document.caveats) if document else [],
        )
    return result
