"""SLO specifications: OpenSLO v1 (and v1alpha) and Sloth ``prometheus/v1`` → :class:`SloSpec`.

Three layers, as in Sloth: the YAML as written (dicts), the validated model
(:class:`SloSpec`), and the computations in :mod:`srelib.metrics.slo`. Documents of
kinds that define no SLO (AlertPolicy, Service, ...) are recognised and skipped with a
reason; every problem is reported as a :class:`~srelib.errors.Problem` whose row is the
document's number in its file and whose column is the field's path.

References: OpenSLO specification v1 (github.com/OpenSLO/OpenSLO, README "SLO" and
"SLI"); Sloth's ``prometheus/v1`` spec (sloth.dev/specs/default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from srelib.errors import Problem

BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdwMQY])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Calendar units have no fixed length; these nominal lengths are used only to size a
# rolling budget (a calendar-aligned window uses the real calendar period).
_NOMINAL_DAYS = {"M": 30, "Q": 91, "Y": 365}
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
_NON_SLO_KINDS = {"Service", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource", "SLI"}


def parse_duration(text: Any) -> timedelta:
    """An OpenSLO duration shorthand (``5m``, ``28d``, ``1M``) as a timedelta.

    ``m`` is minutes, ``M`` months (30 nominal days), ``Q`` quarters, ``Y`` years, as the
    OpenSLO spec defines them.
    """
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a duration such as 5m, 1h, 28d or 1M")
    count, unit = int(m[1]), m[2]
    if count <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    if unit in _NOMINAL_DAYS:
        return timedelta(days=count * _NOMINAL_DAYS[unit])
    return timedelta(seconds=count * _UNIT_SECONDS[unit])


@dataclass(frozen=True)
class TimeWindow:
    duration: str = "28d"
    is_rolling: bool = True
    calendar_start: str | None = None
    calendar_timezone: str | None = None

    @property
    def length(self) -> timedelta:
        return parse_duration(self.duration)

    @property
    def minutes(self) -> float:
        return self.length.total_seconds() / 60


@dataclass(frozen=True)
class SloSpec:
    """One SLO, validated: what the metrics need to know about it."""

    name: str
    service: str
    target: float
    budgeting_method: str = "Occurrences"
    time_window: TimeWindow = field(default_factory=TimeWindow)
    time_window_declared: bool = True
    time_slice_target: float | None = None
    time_slice_window: str | None = None
    display_name: str | None = None
    description: str | None = None
    indicator_kind: str = "ratio"  # ratio | threshold | raw | plugin | unknown
    good_query: str | None = None
    total_query: str | None = None
    bad_query: str | None = None
    team: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""
    spec_format: str = "openslo/v1"  # openslo/v1, openslo/v1alpha or prometheus/v1 (Sloth)

    @property
    def time_slice_seconds(self) -> int | None:
        if self.time_slice_window is None:
            return None
        return int(parse_duration(self.time_slice_window).total_seconds())

    @property
    def budget_minutes(self) -> float:
        """(1 − target) × window minutes: 99.9 % over 30 days = 43.2 min (DESIGN.md)."""
        return (1 - self.target) * self.time_window.minutes


@dataclass
class SloCatalogue:
    """The result of reading SLO spec files: the SLOs, what was skipped, what is wrong."""

    slos: list[SloSpec] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (file, name, reason)
    problems: list[Problem] = field(default_factory=list)

    def by_name(self) -> dict[str, SloSpec]:
        return {s.name: s for s in self.slos}


class _Doc:
    """Field access on one YAML document that records problems with their path."""

    def __init__(self, file: str, number: int, body: dict[str, Any], problems: list[Problem]):
        self.file, self.number, self.body, self.problems = file, number, body, problems

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.number, path, message))

    def get(self, path: str, *, required: bool = False, kind: type | tuple[type, ...] = object) -> Any:
        node: Any = self.body
        for part in path.split("."):
            m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
            key, index = (m[1], int(m[2])) if m else (part, None)
            node = node.get(key) if isinstance(node, dict) else None
            if index is not None:
                node = node[index] if isinstance(node, list) and len(node) > index else None
            if node is None:
                if required:
                    self.problem(path, "required field is missing")
                return None
        if not isinstance(node, kind):
            self.problem(path, f"expected {_kind_name(kind)}, got {type(node).__name__}")
            return None
        return node


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (the field's own check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "true or false"}
    return " or ".join(names.get(k, "a number" if k in (int, float) else k.__name__) for k in kinds)


def spec_files(path: Path) -> list[Path]:
    """The SLO spec files at ``path``: the file itself, or a directory's ``*.yaml``/``*.yml`` files in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
    return [path] if path.is_file() else []


def data_dir_spec_files(directory: Path) -> list[Path]:
    """A data directory's SLO specs: ``slos.yaml`` (or ``slos.yml``) and the files in ``slos/``."""
    found = [p for p in (directory / "slos.yaml", directory / "slos.yml") if p.is_file()]
    return found + spec_files(directory / "slos") if (directory / "slos").is_dir() else found


def load_slo_files(paths: list[Path], display_root: Path | None = None) -> SloCatalogue:
    """Read every SLO document in ``paths`` (YAML, several documents per file)."""
    catalogue = SloCatalogue()
    indicators: dict[str, dict[str, Any]] = {}
    pending: list[tuple[_Doc, str]] = []
    for path in paths:
        shown = str(path.relative_to(display_root)) if display_root and path.is_relative_to(display_root) else str(path)
        for number, body in _documents(path, shown, catalogue.problems):
            doc = _Doc(shown, number, body, catalogue.problems)
            version = body.get("apiVersion") or body.get("version")
            kind = body.get("kind")
            if version == "prometheus/v1":
                catalogue.slos.extend(_sloth_slos(doc))
            elif version in ("openslo/v1", "openslo/v1alpha"):
                if kind == "SLO":
                    pending.append((doc, version))
                elif kind == "SLI" and version == "openslo/v1":
                    name = doc.get("metadata.name", required=True, kind=str)
                    if name:
                        indicators[name] = _mapping(body.get("spec"))
                elif kind in _NON_SLO_KINDS:
                    name = _mapping(body.get("metadata")).get("name", "?")
                    catalogue.skipped.append((shown, str(name), f"{kind} document: defines no SLO"))
                else:
                    doc.problem("kind", f"unsupported {version} kind {kind!r}")
            elif version is None:
                doc.problem("apiVersion", "missing: expected openslo/v1 or Sloth's prometheus/v1")
            else:
                doc.problem(
                    "apiVersion",
                    f"unsupported version {version!r}: expected openslo/v1, openslo/v1alpha or prometheus/v1",
                )
    for doc, version in pending:
        slo = _openslo_v1(doc, indicators) if version == "openslo/v1" else _openslo_v1alpha(doc)
        if slo is not None:
            catalogue.slos.append(slo)
    seen: dict[str, str] = {}
    for slo in catalogue.slos:
        if slo.name in seen:
            catalogue.problems.append(
                Problem(
                    slo.source, None, "metadata.name", f"SLO {slo.name!r} is defined twice (also in {seen[slo.name]})"
                )
            )
        seen.setdefault(slo.name, slo.source)
    return catalogue


def _documents(path: Path, shown: str, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    raw = path.read_bytes()
    if b"\x00" in raw:
        problems.append(Problem(shown, None, None, "binary file, expected YAML text"))
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(shown, None, None, f"not UTF-8 text (byte {exc.start})"))
        return []
    if not text.strip():
        problems.append(Problem(shown, None, None, "empty file: expected SLO documents"))
        return []
    docs: list[tuple[int, dict[str, Any]]] = []
    try:
        for number, body in enumerate(yaml.safe_load_all(text), start=1):
            if body is None:
                continue
            if not isinstance(body, dict):
                problems.append(Problem(shown, number, None, "document is not a mapping"))
                continue
            docs.append((number, body))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(shown, None, None, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}"))
    return docs


def _fraction(doc: _Doc, base: str, objective: dict[str, Any]) -> float | None:
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


def _window(doc: _Doc) -> tuple[TimeWindow, bool]:
    windows = doc.get("spec.timeWindow", kind=list)
    if not windows:
        return TimeWindow(), False
    first = windows[0] if isinstance(windows[0], dict) else {}
    duration = str(first.get("duration", ""))
    try:
        parse_duration(duration)
    except ValueError as exc:
        doc.problem("spec.timeWindow[0].duration", str(exc))
        return TimeWindow(), False
    calendar = _mapping(first.get("calendar"))
    return TimeWindow(
        duration=duration,
        is_rolling=bool(first.get("isRolling", not calendar)),
        calendar_start=str(calendar["startTime"]) if "startTime" in calendar else None,
        calendar_timezone=calendar.get("timeZone"),
    ), True


def _budgeting(doc: _Doc, path: str = "spec.budgetingMethod") -> str:
    method = doc.get(path, kind=str) or "Occurrences"
    if method not in BUDGETING_METHODS:
        doc.problem(path, f"unknown budgeting method {method!r}: expected one of {', '.join(BUDGETING_METHODS)}")
        return "Occurrences"
    return method


def _indicator(doc: _Doc, spec: dict[str, Any]) -> dict[str, Any]:
    kinds = {"ratioMetric": "ratio", "thresholdMetric": "threshold"}
    for key, kind in kinds.items():
        if isinstance(spec.get(key), dict):
            metric = spec[key]
            if kind == "threshold":
                return {"indicator_kind": "threshold"}
            if "raw" in metric:
                return {"indicator_kind": "raw", "bad_query": _query(metric.get("raw"))}
            return {
                "indicator_kind": "ratio",
                "good_query": _query(metric.get("good")),
                "total_query": _query(metric.get("total")),
                "bad_query": _query(metric.get("bad")),
            }
    return {"indicator_kind": "unknown"}


def _query(source: Any) -> str | None:
    if not isinstance(source, dict):
        return None
    spec = _mapping(_mapping(source.get("metricSource")).get("spec"))
    query = spec.get("query") or spec.get("promql") or source.get("query")
    return str(query) if query is not None else None


def _slo_common(doc: _Doc) -> tuple[str | None, str | None, dict[str, Any], float | None, str] | None:
    """What every OpenSLO SLO has: name, service, first objective, its target, budgeting method.

    The first objective is the SLO's objective (DESIGN.md); None when there is none.
    """
    name = doc.get("metadata.name", required=True, kind=str)
    service = doc.get("spec.service", required=True, kind=str)
    objectives = doc.get("spec.objectives", kind=list)
    if not objectives:
        doc.problem("spec.objectives", "SLO has no objectives")
        return None
    objective = objectives[0] if isinstance(objectives[0], dict) else {}
    return name, service, objective, _fraction(doc, "spec.objectives[0]", objective), _budgeting(doc)


def _openslo_v1(doc: _Doc, indicators: dict[str, dict[str, Any]]) -> SloSpec | None:
    before = len(doc.problems)
    common = _slo_common(doc)
    if common is None:
        return None
    name, service, objective, target, method = common
    window, declared = _window(doc)
    slice_target, slice_window = _slices(doc, method, objective)
    indicator: dict[str, Any] = {"indicator_kind": "unknown"}
    if isinstance(doc.body.get("spec", {}).get("indicator"), dict):
        indicator = _indicator(doc, _mapping(_mapping(doc.body["spec"]["indicator"]).get("spec")))
    elif ref := doc.get("spec.indicatorRef", kind=str):
        if ref not in indicators:
            doc.problem("spec.indicatorRef", f"no SLI document named {ref!r}")
        else:
            indicator = _indicator(doc, indicators[ref])
    elif isinstance(objective.get("indicator"), dict):  # an objective's own inline SLI
        indicator = _indicator(doc, _mapping(objective["indicator"].get("spec")))
    if len(doc.problems) > before or name is None or service is None or target is None:
        return None
    metadata = _mapping(doc.body.get("metadata"))
    labels = {str(k): str(v) for k, v in _mapping(metadata.get("labels")).items()}
    return SloSpec(
        name=name,
        service=service,
        target=target,
        budgeting_method=method,
        time_window=window,
        time_window_declared=declared,
        time_slice_target=slice_target,
        time_slice_window=slice_window,
        display_name=metadata.get("displayName"),
        description=doc.body["spec"].get("description"),
        team=labels.get("team"),
        labels=labels,
        source=f"{doc.file}#{doc.number}",
        **indicator,
    )


def _slices(doc: _Doc, method: str, objective: dict[str, Any]) -> tuple[float | None, str | None]:
    if method == "Occurrences":
        return None, None
    window = objective.get("timeSliceWindow")
    target = objective.get("timeSliceTarget")
    if window is None:
        doc.problem("spec.objectives[0].timeSliceWindow", f"required for {method}")
        return None, None
    try:
        parse_duration(window)
    except ValueError as exc:
        doc.problem("spec.objectives[0].timeSliceWindow", str(exc))
        return None, None
    if method == "Timeslices":
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target <= 1:
            doc.problem("spec.objectives[0].timeSliceTarget", "required for Timeslices: a number in (0, 1]")
            return None, None
        return float(target), str(window)
    return None, str(window)


def _openslo_v1alpha(doc: _Doc) -> SloSpec | None:
    before = len(doc.problems)
    common = _slo_common(doc)
    if common is None:
        return None
    name, service, objective, target, method = common
    windows = doc.get("spec.timeWindows", kind=list) or []
    window, declared = TimeWindow(), False
    if windows and isinstance(windows[0], dict):
        unit = _V1ALPHA_UNITS.get(str(windows[0].get("unit")))
        count = windows[0].get("count")
        if unit and isinstance(count, int) and count > 0:
            window = TimeWindow(duration=f"{count}{unit}", is_rolling=bool(windows[0].get("isRolling", True)))
            declared = True
        else:
            doc.problem("spec.timeWindows[0]", "expected count (a positive whole number) and unit (Day, Week, ...)")
    ratio = objective.get("ratioMetrics")
    indicator: dict[str, Any] = {"indicator_kind": "unknown"}
    if isinstance(ratio, dict):
        indicator = {
            "indicator_kind": "ratio",
            "good_query": _query(ratio.get("good")),
            "total_query": _query(ratio.get("total")),
        }
    if len(doc.problems) > before or name is None or service is None or target is None:
        return None
    return SloSpec(
        name=name,
        service=service,
        target=target,
        budgeting_method=method,
        time_window=window,
        time_window_declared=declared,
        display_name=_mapping(doc.body.get("metadata")).get("displayName"),
        description=doc.body["spec"].get("description"),
        source=f"{doc.file}#{doc.number}",
        spec_format="openslo/v1alpha",
        **indicator,
    )


def _sloth_slos(doc: _Doc) -> list[SloSpec]:
    """Sloth ``prometheus/v1``: objective in percent, 30-day window, SLO id = service-name."""
    service = doc.get("service", required=True, kind=str)
    slos = doc.get("slos", required=True, kind=list) or []
    labels = {str(k): str(v) for k, v in _mapping(doc.body.get("labels")).items()}
    result = []
    for i, entry in enumerate(slos):
        base = f"slos[{i}]"
        if not isinstance(entry, dict):
            doc.problem(base, "expected a mapping")
            continue
        before = len(doc.problems)
        name = entry.get("name")
        if not isinstance(name, str):
            doc.problem(f"{base}.name", "required field is missing")
        objective = entry.get("objective")
        if isinstance(objective, bool) or not isinstance(objective, (int, float)) or not 0 < objective <= 100:
            doc.problem(f"{base}.objective", f"expected a percentage in (0, 100], got {objective!r}")
        sli = _mapping(entry.get("sli"))
        indicator: dict[str, Any]
        if isinstance(sli.get("events"), dict):
            events = sli["events"]
            indicator = {
                "indicator_kind": "ratio",
                "bad_query": events.get("error_query"),
                "total_query": events.get("total_query"),
            }
        elif isinstance(sli.get("raw"), dict):
            indicator = {"indicator_kind": "raw", "bad_query": sli["raw"].get("error_ratio_query")}
        elif isinstance(sli.get("plugin"), dict):
            indicator = {"indicator_kind": "plugin"}
        else:
            doc.problem(f"{base}.sli", "expected events, raw or plugin")
            continue
        if len(doc.problems) > before or service is None:
            continue
        assert isinstance(name, str) and isinstance(objective, (int, float))
        slo_labels = {**labels, **{str(k): str(v) for k, v in _mapping(entry.get("labels")).items()}}
        result.append(
            SloSpec(
                name=f"{service}-{name}",
                service=service,
                target=round(float(objective) / 100, 12),
                time_window=TimeWindow("30d", True),
                time_window_declared=False,
                description=entry.get("description"),
                team=slo_labels.get("team") or slo_labels.get("owner"),
                labels=slo_labels,
                source=f"{doc.file}#{doc.number}",
                spec_format="prometheus/v1",
                **indicator,
            )
        )
    return result
