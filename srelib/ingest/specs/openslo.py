"""OpenSLO → :class:`~srelib.ingest.specs.model.SloSpec`: ``openslo/v1``, ``openslo/v1alpha`` and
``openslo.com/v2alpha``, one reader shared by the three versions (:class:`OpenSloVersion` says what
differs), registered in :data:`FORMATS` by ``apiVersion``.

See :mod:`srelib.ingest.specs.loader` for how documents are numbered and which kinds are read,
and the choices the workbench makes where the specs leave room.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from srelib.ingest.specs.document import (
    Document,
    Format,
    Indicators,
    accepts,
    mapping,
    read_labels,
    shown_labels,
    team_label,
)
from srelib.ingest.specs.model import BUDGETING_METHODS, SloSpec, TimeWindow, parse_duration

_V1ALPHA_UNITS = {
    "Second": "s",
    "Minute": "m",
    "Hour": "h",
    "Day": "d",
    "Week": "w",
    "Month": "M",
    "Quarter": "Q",
    "Year": "Y",
}


def _fraction(doc: Document, base: str, objective: dict[str, Any]) -> float | None:
    """An objective's target as a fraction in (0, 1], from ``target`` or ``targetPercent``."""
    if "target" in objective:
        value, path, scale = objective["target"], f"{base}.target", 1.0
    elif "targetPercent" in objective:
        value, path, scale = objective["targetPercent"], f"{base}.targetPercent", 100.0
    else:
        doc.problem(base, "objective has neither target nor targetPercent")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        doc.problem(path, f"expected a number, got {value!r}")
        return None
    fraction = round(float(value) / scale, 12)
    if not 0 < fraction <= 1:
        upper = "100" if scale == 100 else "1"
        doc.problem(path, f"{value} is out of range: a target lies in (0, {upper}]")
        return None
    return fraction


@dataclass(frozen=True)
class OpenSloVersion:
    """What differs between the OpenSLO versions, for the one reader they share."""

    version: str
    spec_fields: frozenset[str]
    objective_fields: frozenset[str]
    window: Callable[[Document], tuple[TimeWindow, bool]]
    indicator: Callable[[Document, dict[str, Any], Indicators], dict[str, Any]]
    slice_window_hint: str = ""  # said when a Timeslices objective has no timeSliceWindow


def _openslo_slos(version: OpenSloVersion, doc: Document, indicators: Indicators) -> list[SloSpec]:
    before = len(doc.problems)
    name = doc.get("metadata.name", required=True, kind=str)
    service = doc.get("spec.service", required=True, kind=str)
    doc.unknown_fields("spec", version.spec_fields)
    written = mapping(doc.body.get("spec")).get("objectives")
    objectives = doc.get("spec.objectives", kind=list)  # not a list: reported there
    if not objectives:
        if written is None or written == []:
            doc.problem("spec.objectives", "SLO has no objectives")
        return []
    objective = mapping(objectives[0])  # the first objective is the SLO's (docs/architecture.md)
    doc.unknown_fields("spec.objectives[0]", version.objective_fields)
    target = _fraction(doc, "spec.objectives[0]", objective)
    method = _budgeting(doc)
    window, declared = version.window(doc)
    slice_target, slice_window = _slices(doc, method, objective, version.slice_window_hint)
    indicator = version.indicator(doc, objective, indicators)
    labels = read_labels(doc, "metadata.labels")
    display_name, description = doc.text("metadata.displayName"), doc.text("spec.description")
    if len(doc.problems) > before or name is None or service is None or target is None:
        return []
    return [
        SloSpec(
            name=name,
            service=service,
            target=target,
            budgeting_method=method,
            time_window=window,
            time_window_declared=declared,
            time_slice_target=slice_target,
            time_slice_window=slice_window,
            display_name=display_name,
            description=description,
            team=team_label(labels, "team"),
            labels=shown_labels(labels),
            source=doc.source,
            spec_format=version.version,
            **indicator,
        )
    ]


def _budgeting(doc: Document, path: str = "spec.budgetingMethod") -> str:
    method = doc.get(path, kind=str) or "Occurrences"
    if method not in BUDGETING_METHODS:
        doc.problem(path, f"unknown budgeting method {method!r}: expected one of {', '.join(BUDGETING_METHODS)}")
        return "Occurrences"
    return method


def _slices(doc: Document, method: str, objective: dict[str, Any], hint: str) -> tuple[float | None, str | None]:
    """``timeSliceTarget`` (Timeslices) and ``timeSliceWindow`` (both slice methods).

    A window written as a bare number is in minutes (OpenSLO v1, "Notes (Objectives)").
    """
    if method == "Occurrences":
        return None, None
    base = "spec.objectives[0]"
    target: float | None = None
    if method == "Timeslices":
        given: Any = objective.get("timeSliceTarget")
        if accepts(given, (int, float)) and 0 < given <= 1:
            target = float(given)
        else:
            doc.problem(f"{base}.timeSliceTarget", "required for Timeslices: a number in (0, 1]")
    window = objective.get("timeSliceWindow")
    if accepts(window, int):
        window = f"{window}m"
    if window is None:
        doc.problem(f"{base}.timeSliceWindow", f"required for {method}{hint}")
        return target, None
    try:
        parse_duration(window)
    except ValueError as exc:
        doc.problem(f"{base}.timeSliceWindow", str(exc))
        return target, None
    return target, str(window)


def _window(doc: Document) -> tuple[TimeWindow, bool]:
    """v1 and v2alpha ``timeWindow``: a duration shorthand; without one, 28 rolling days, flagged as not declared."""
    windows = doc.get("spec.timeWindow", kind=list)
    if not windows:
        return TimeWindow(), False
    first = mapping(windows[0])
    duration = str(first.get("duration", ""))
    try:
        parse_duration(duration)
    except ValueError as exc:
        doc.problem("spec.timeWindow[0].duration", str(exc))
        return TimeWindow(), False
    return _calendar(first, duration), True


def _v1alpha_window(doc: Document) -> tuple[TimeWindow, bool]:
    """v1alpha ``timeWindows``: ``count`` of a ``unit`` (Second ... Year)."""
    windows = doc.get("spec.timeWindows", kind=list)
    if not windows:
        return TimeWindow(), False
    first = mapping(windows[0])
    unit, count = _V1ALPHA_UNITS.get(str(first.get("unit"))), first.get("count")
    if not unit or isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        doc.problem("spec.timeWindows[0]", "expected count (a positive whole number) and unit (Day, Week, ...)")
        return TimeWindow(), False
    return _calendar(first, f"{count}{unit}"), True


def _calendar(window: dict[str, Any], duration: str) -> TimeWindow:
    """A window's calendar; ``isRolling`` is false when omitted beside a calendar (OpenSLO v1)."""
    calendar = mapping(window.get("calendar"))
    return TimeWindow(
        duration=duration,
        is_rolling=bool(window.get("isRolling", not calendar)),
        calendar_start=str(calendar["startTime"]) if "startTime" in calendar else None,
        calendar_timezone=calendar.get("timeZone"),
    )


def _named_indicator(
    inline: str, ref: str, doc: Document, objective: dict[str, Any], indicators: Indicators
) -> dict[str, Any]:
    """v1 ``indicator``/``indicatorRef`` (v2alpha ``sli``/``sliRef``), on the SLO or its objective (composite)."""
    for base, node in (("spec", mapping(doc.body.get("spec"))), ("spec.objectives[0]", objective)):
        if isinstance(node.get(inline), dict):
            return _indicator(mapping(node[inline].get("spec")))
        if ref in node:
            name = doc.get(f"{base}.{ref}", kind=str)
            if name is not None and (doc.version, name) not in indicators:
                doc.problem(f"{base}.{ref}", f"no {doc.version} SLI document named {name!r}")
            return _indicator(indicators.get((doc.version, name), {})) if name else {"indicator_kind": "unknown"}
    return {"indicator_kind": "unknown"}


def _v1alpha_indicator(doc: Document, objective: dict[str, Any], indicators: Indicators) -> dict[str, Any]:
    """v1alpha: ``ratioMetrics`` in the objective, or a ``thresholdMetric`` as the SLO's ``indicator``."""
    if isinstance(objective.get("ratioMetrics"), dict):
        return _ratio(objective["ratioMetrics"])
    if isinstance(mapping(doc.get("spec.indicator")).get("thresholdMetric"), dict):
        return {"indicator_kind": "threshold"}
    return {"indicator_kind": "unknown"}


def _indicator(sli: dict[str, Any]) -> dict[str, Any]:
    """An SLI's spec: ``ratioMetric`` (good/total, bad/total or raw) or ``thresholdMetric``."""
    if isinstance(sli.get("ratioMetric"), dict):
        return _ratio(sli["ratioMetric"])
    if isinstance(sli.get("thresholdMetric"), dict):
        return {"indicator_kind": "threshold"}
    return {"indicator_kind": "unknown"}


def _ratio(metric: dict[str, Any]) -> dict[str, Any]:
    """A ratio metric's queries; a ``raw`` ratio is of good events when ``rawType: success``, else of bad ones."""
    if "raw" in metric:
        which = "good_query" if metric.get("rawType") == "success" else "bad_query"
        return {"indicator_kind": "raw", which: _query(metric["raw"])}
    return {
        "indicator_kind": "ratio",
        "good_query": _query(metric.get("good")),
        "total_query": _query(metric.get("total")),
        "bad_query": _query(metric.get("bad")),
    }


def _query(source: Any) -> str | None:
    """A metric's query: under ``metricSource.spec`` (v1), ``spec`` (v2alpha) or the metric itself (v1alpha)."""
    if not isinstance(source, dict):
        return None
    spec = mapping(mapping(source.get("metricSource")).get("spec")) or mapping(source.get("spec"))
    query = spec.get("query") or spec.get("promql") or source.get("query")
    return str(query) if query is not None else None


_V1_OBJECTIVE = frozenset(
    {"displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "compositeWeight"}
)
_SLO_SPEC = frozenset({"description", "service", "budgetingMethod", "objectives", "alertPolicies"})
OPENSLO_V1 = OpenSloVersion(
    version="openslo/v1",
    spec_fields=_SLO_SPEC | {"indicator", "indicatorRef", "timeWindow"},
    objective_fields=_V1_OBJECTIVE | {"indicator", "indicatorRef"},
    window=_window,
    indicator=partial(_named_indicator, "indicator", "indicatorRef"),
)
OPENSLO_V1ALPHA = OpenSloVersion(
    version="openslo/v1alpha",
    spec_fields=_SLO_SPEC | {"indicator", "timeWindows"},
    # timeSliceWindow is openslo/v1's, read here too since v1alpha has no other way to say it.
    objective_fields=frozenset(
        {"displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "ratioMetrics"}
    ),
    window=_v1alpha_window,
    indicator=_v1alpha_indicator,
    slice_window_hint=(
        ": openslo/v1alpha has no field for the length of a slice, "
        "so add timeSliceWindow (a duration such as 1m) as openslo/v1 defines it"
    ),
)
OPENSLO_V2ALPHA = OpenSloVersion(
    version="openslo.com/v2alpha",
    spec_fields=_SLO_SPEC | {"sli", "sliRef", "timeWindow"},
    objective_fields=_V1_OBJECTIVE | {"labels", "sli", "sliRef"},
    window=_window,
    indicator=partial(_named_indicator, "sli", "sliRef"),
)


_OPENSLO_KINDS = ("Service", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
FORMATS: dict[str, Format] = {
    "openslo/v1": Format(partial(_openslo_slos, OPENSLO_V1), "SLO", (*_OPENSLO_KINDS, "BudgetAdjustment"), "SLI"),
    "openslo/v1alpha": Format(partial(_openslo_slos, OPENSLO_V1ALPHA), "SLO", _OPENSLO_KINDS),
    "openslo.com/v2alpha": Format(
        partial(_openslo_slos, OPENSLO_V2ALPHA), "SLO", (*_OPENSLO_KINDS, "BudgetAdjustment"), "SLI"
    ),
}
