"""Sloth → :class:`~srelib.ingest.specs.model.SloSpec`: ``prometheus/v1`` and its Kubernetes form
(``apiVersion: sloth.slok.dev/v1``, ``kind: PrometheusServiceLevel``), registered in :data:`FORMATS`.

Both forms carry the same spec (see :mod:`srelib.ingest.specs.loader`), so they give the same SLOs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from srelib.ingest.specs.document import (
    Document,
    Format,
    Indicators,
    mapping,
    read_labels,
    shown_labels,
    team_label,
)
from srelib.ingest.specs.model import SloSpec, TimeWindow


@dataclass(frozen=True)
class SlothForm:
    """Where Sloth's spec sits in a document and how its SLI fields are spelt."""

    root: str  # "" (prometheus/v1) or "spec." (the Kubernetes form)
    error_query: str
    total_query: str
    error_ratio_query: str


SLOTH_PROMETHEUS = SlothForm("", "error_query", "total_query", "error_ratio_query")
SLOTH_KUBERNETES = SlothForm("spec.", "errorQuery", "totalQuery", "errorRatioQuery")


def _sloth_slos(form: SlothForm, doc: Document, indicators: Indicators) -> list[SloSpec]:
    """Sloth: objective in percent, 30-day window, SLO name ``<service>-<slo name>`` (sloth.dev/specs)."""
    service = doc.get(f"{form.root}service", required=True, kind=str)
    entries = doc.get(f"{form.root}slos", required=True, kind=list) or []
    labels = read_labels(doc, f"{form.root}labels")
    result = []
    for i, entry in enumerate(entries):
        base = f"{form.root}slos[{i}]"
        if not isinstance(entry, dict):
            doc.problem(base, "expected a mapping")
            continue
        before = len(doc.problems)
        name = doc.get(f"{base}.name", required=True, kind=str)
        objective = doc.get(f"{base}.objective", required=True, kind=(int, float))
        if objective is not None and not 0 < objective <= 100:
            doc.problem(f"{base}.objective", f"{objective} is out of range: an objective is a percentage in (0, 100]")
        indicator = _sloth_indicator(doc, form, f"{base}.sli")
        slo_labels = {**labels, **read_labels(doc, f"{base}.labels")}
        description = doc.text(f"{base}.description")
        if len(doc.problems) > before or service is None or name is None or objective is None:
            continue
        result.append(
            SloSpec(
                name=f"{service}-{name}",
                service=service,
                target=round(float(objective) / 100, 12),
                time_window=TimeWindow("30d", True),
                time_window_declared=False,
                description=description,
                team=team_label(slo_labels, "team", "owner"),
                labels=shown_labels(slo_labels),
                source=doc.source,
                spec_format="prometheus/v1",
                **indicator,
            )
        )
    return result


def _sloth_indicator(doc: Document, form: SlothForm, path: str) -> dict[str, Any]:
    """Sloth's SLI: ``events`` (error and total queries), ``raw`` (an error ratio) or ``plugin`` (by id)."""
    sli = mapping(doc.get(path, required=True, kind=dict))
    if "events" in sli:
        error = doc.get(f"{path}.events.{form.error_query}", required=True, kind=str)
        total = doc.get(f"{path}.events.{form.total_query}", required=True, kind=str)
        return {"indicator_kind": "ratio", "bad_query": error, "total_query": total}
    if "raw" in sli:
        return {
            "indicator_kind": "raw",
            "bad_query": doc.get(f"{path}.raw.{form.error_ratio_query}", required=True, kind=str),
        }
    if "plugin" in sli:
        doc.get(f"{path}.plugin.id", required=True, kind=str)
        return {"indicator_kind": "plugin"}
    if sli:
        doc.problem(path, "expected events, raw or plugin")
    return {"indicator_kind": "unknown"}


FORMATS: dict[str, Format] = {
    "prometheus/v1": Format(partial(_sloth_slos, SLOTH_PROMETHEUS), None),
    "sloth.slok.dev/v1": Format(partial(_sloth_slos, SLOTH_KUBERNETES), "PrometheusServiceLevel"),
}
