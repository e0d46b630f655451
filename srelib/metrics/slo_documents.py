"""The SLO specs as documents need them: what each SLO measures, how, and who stands behind it.

Read from the warehouse's ``slos`` table (the specs as ingested) and joined with the service
catalogue (``params/services.yaml``: description, tier) and ``params/slo_documents.yaml``
(status, owner, approvers, review dates, rationale, caveats), for the SLO documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb

from srelib.config import SloDocuments
from srelib.metrics.scope import Scope
from srelib.metrics.slo import slo_definitions


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
    rationale: str | None = None
    caveats: list[str] = field(default_factory=list)


def slo_specs(con: duckdb.DuckDBPyConnection, scope: Scope, documents: SloDocuments) -> dict[str, SloSpecInfo]:
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
            rationale=document.rationale if document else None,
            caveats=list(document.caveats) if document else [],
        )
    return result
