"""SLO specifications as their authors write them → :class:`SloSpec`.

Read: OpenSLO ``openslo/v1``, ``openslo/v1alpha`` and ``openslo.com/v2alpha``; Sloth's
``prometheus/v1`` and its Kubernetes form (``apiVersion: sloth.slok.dev/v1``,
``kind: PrometheusServiceLevel``). Three layers, as in Sloth: the YAML as written (dicts), the
validated model (:class:`SloSpec`), and the computations in :mod:`srelib.metrics.slo`. One
reader per spec version, registered in :data:`FORMATS` by ``apiVersion``.

Documents and their numbers. A file holds YAML documents separated by ``---``; a document that
is a list (``- apiVersion: ...`` items at top level, as oslo and sloctl accept) holds one
document per item. Documents are numbered from 1 in file order: each list item counts as one,
an empty document keeps its number. So a list of two items, then ``---`` and one mapping, holds
documents 1, 2 and 3. Every problem is a :class:`~srelib.errors.Problem` whose row is that
number and whose column is the field's path in the document (``spec.objectives[0].target``).

Kinds. Documents of kinds that define no SLO (Service, AlertPolicy, DataSource, ...) are
recognised and listed as skipped with the reason; SLI documents are used by the SLOs that name
them (``indicatorRef``, v2alpha ``sliRef``). An unknown ``apiVersion`` or kind is a problem.

Where the specs leave room, the workbench decides:

- Unknown fields. In an SLO's ``spec`` and in the objective it reads, a field its spec version
  does not define is a problem (naming the nearest known field): those fields decide the
  figures, and a misspelt one (``budgetingMetod``) would otherwise fall back silently to a
  default. Elsewhere (metadata, data source details, documents that define no SLO) unknown
  fields are ignored, as extra columns are in data files (DESIGN.md): they change no figure.
  oslo rejects them everywhere; its ``validate__unknown-field.yaml`` is a Service, skipped here.
- Labels. OpenSLO v1 allows a label's value to be a list of strings (README, "metadata.labels:
  map[string]string|string[]"). ``labels`` keeps every value, joined with ", " for display;
  ``team`` is the first value of the ``team`` label (Sloth: ``team``, else ``owner``): the model
  has one team per SLO, and the team listed first owns it (the service catalogue in ``params/``
  wins over labels anyway). A label value that is not text or a list of text is a problem.
- Timeslices in openslo/v1alpha. v1alpha defines ``timeSliceTarget`` but no length of a slice
  (OpenSLO README at v1alpha; oslo's ``pkg/manifest/v1alpha``), and no length would be right for
  every data source. A v1alpha ``Timeslices`` or ``RatioTimeslices`` SLO must give
  ``timeSliceWindow`` in its objective, as openslo/v1 defines it; without it the SLO is refused
  by name, never computed with a guessed slice (a wrong, or ``no_data``, status).
- openslo.com/v2alpha maps onto :class:`SloSpec` as v1 does: ``sli``/``sliRef`` in place of
  ``indicator``/``indicatorRef``, each metric's query under its ``spec`` (OpenSLO
  ``enhancements/v2alpha.md`` and ``pkg/openslo/v2alpha``).
- Sloth: both forms carry the same spec (``service``, ``labels``, ``slos``; at the top level
  in ``prometheus/v1``, under ``spec`` in the Kubernetes form, whose field names are camelCase),
  so they give the same SLOs, named ``<service>-<slo name>`` as Sloth names them, with a 30-day
  window (Sloth's default period). An SLI by plugin (``sli.plugin``) loads with
  ``indicator_kind`` "plugin" and no queries: its status is computed from the ``sli`` rows
  supplied for it; the workbench cannot run the plugin to fetch them.

References: OpenSLO specification (github.com/OpenSLO/OpenSLO: README "SLO", "SLI" and
"Objectives" for v1; the README's v1alpha revision; ``enhancements/v2alpha.md``); oslo
(github.com/OpenSLO/oslo, ``pkg/manifest``); Sloth's specs (sloth.dev/specs/default,
``pkg/kubernetes/api/sloth/v1``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from srelib.errors import Problem
from srelib.files import file_problem

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
    # The spec whose semantics the SLO follows: openslo/v1, openslo/v1alpha, openslo.com/v2alpha,
    # or prometheus/v1 for Sloth's both forms (its Kubernetes form wraps the same spec).
    spec_format: str = "openslo/v1"

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


# ---- files and documents --------------------------------------------------------------------


def spec_files(path: Path) -> list[Path]:
    """The SLO spec files at ``path``: the file itself, or a directory's ``*.yaml``/``*.yml`` files in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
    return [path] if path.is_file() else []


def data_dir_spec_files(directory: Path) -> list[Path]:
    """A data directory's SLO specs: ``slos.yaml`` (or ``slos.yml``) and the files in ``slos/``."""
    found = [p for p in (directory / "slos.yaml", directory / "slos.yml") if p.is_file()]
    return found + spec_files(directory / "slos") if (directory / "slos").is_dir() else found


def spec_documents(path: Path, shown: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    """The documents of one spec file, numbered as the module docstring says, and what is wrong with the file."""
    if reason := file_problem(path):  # an LFS pointer, binary, not UTF-8, empty
        return [], [Problem(shown, None, None, reason)]
    text = path.read_text(encoding="utf-8")
    documents: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    try:
        for number, body in _numbered(yaml.safe_load_all(text)):
            if isinstance(body, dict):
                documents.append((number, body))
            elif body is not None:
                problems.append(Problem(shown, number, None, "document is not a mapping"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(shown, None, None, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}"))
    return documents, problems


def _numbered(documents: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """Each document with its number: a top-level list's items one number each."""
    number = 0
    for body in documents:
        for item in body if isinstance(body, list) else [body]:
            number += 1
            yield number, item


def document_version(body: dict[str, Any]) -> Any:
    """A document's spec version: ``apiVersion`` (OpenSLO, Sloth's Kubernetes form) or ``version`` (Sloth)."""
    return body.get("apiVersion") or body.get("version")


class _Doc:
    """Field access on one YAML document that records problems with their path."""

    def __init__(self, file: str, number: int, body: dict[str, Any], problems: list[Problem]):
        self.file, self.number, self.body, self.problems = file, number, body, problems

    @property
    def version(self) -> Any:
        return document_version(self.body)

    @property
    def source(self) -> str:
        return f"{self.file}#{self.number}"

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
        if not _accepts(node, kind):
            self.problem(path, f"expected {_kind_name(kind)}, got {type(node).__name__}")
            return None
        return node

    def unknown_fields(self, path: str, known: frozenset[str]) -> None:
        """Report each field of the mapping at ``path`` that ``known`` does not hold (see the module docstring)."""
        for key in _mapping(self.get(path)):
            if key not in known:
                near = difflib.get_close_matches(str(key), known, n=1)
                hint = (
                    f": did you mean {near[0]!r}?" if near else f": {self.version} defines {', '.join(sorted(known))}"
                )
                self.problem(f"{path}.{key}", f"unknown field in an {self.version} SLO{hint}")


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (the field's own check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _accepts(value: Any, kind: type | tuple[type, ...]) -> bool:
    """``isinstance``, except that true and false are not numbers (YAML's ``yes`` is no target)."""
    kinds = _kinds(kind)
    if isinstance(value, bool) and bool not in kinds and (int in kinds or float in kinds):
        return False
    return isinstance(value, kinds)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "true or false"}
    return " or ".join(names.get(k, "a number" if k in (int, float) else k.__name__) for k in _kinds(kind))


# ---- reading a catalogue --------------------------------------------------------------------

Indicators = dict[tuple[str, str], dict[str, Any]]  # (apiVersion, SLI name) → the SLI's spec
Reader = Callable[[_Doc, Indicators], list[SloSpec]]


@dataclass(frozen=True)
class _Format:
    """How the documents of one spec version are read."""

    read: Reader
    slo_kind: str | None  # the kind that defines SLOs; None: every document does (Sloth's prometheus/v1)
    other_kinds: tuple[str, ...] = ()  # recognised kinds that define no SLO: skipped
    sli_kind: str | None = None  # the kind whose documents SLOs refer to by name


def load_slo_files(paths: list[Path], display_root: Path | None = None) -> SloCatalogue:
    """Read every SLO document in ``paths`` (YAML, several documents per file)."""
    catalogue = SloCatalogue()
    documents: list[_Doc] = []
    for path in paths:
        shown = str(path.relative_to(display_root)) if display_root and path.is_relative_to(display_root) else str(path)
        found, problems = spec_documents(path, shown)
        catalogue.problems += problems
        documents += [_Doc(shown, number, body, catalogue.problems) for number, body in found]
    indicators = _indicators(documents)
    for doc in documents:
        _read_document(doc, indicators, catalogue)
    catalogue.problems += _duplicates(catalogue.slos)
    return catalogue


def _format(doc: _Doc) -> _Format | None:
    version = doc.version
    if version is None:
        doc.problem("apiVersion", f"missing: expected {_choices(FORMATS)}")
        return None
    if not isinstance(version, str) or version not in FORMATS:
        path = "apiVersion" if "apiVersion" in doc.body else "version"
        doc.problem(path, f"unsupported version {version!r}: expected {_choices(FORMATS)}")
        return None
    return FORMATS[version]


def _choices(names: Iterable[str]) -> str:
    *first, last = list(names)
    return f"{', '.join(first)} or {last}" if first else last


def _indicators(documents: list[_Doc]) -> Indicators:
    """The SLI documents, by version and name, for the SLOs that refer to them."""
    found: Indicators = {}
    for doc in documents:
        version = doc.version
        fmt = FORMATS.get(version) if isinstance(version, str) else None
        if fmt and fmt.sli_kind and doc.body.get("kind") == fmt.sli_kind:
            name = _mapping(doc.body.get("metadata")).get("name")
            if isinstance(name, str):
                found[(version, name)] = _mapping(doc.body.get("spec"))
    return found


def _read_document(doc: _Doc, indicators: Indicators, catalogue: SloCatalogue) -> None:
    fmt = _format(doc)
    if fmt is None:
        return
    kind = doc.body.get("kind")
    if fmt.slo_kind is None or kind == fmt.slo_kind:
        catalogue.slos += fmt.read(doc, indicators)
    elif fmt.sli_kind is not None and kind == fmt.sli_kind:
        doc.get("metadata.name", required=True, kind=str)  # used by the SLOs that name it
    elif isinstance(kind, str) and kind in fmt.other_kinds:
        name = _mapping(doc.body.get("metadata")).get("name", "?")
        catalogue.skipped.append((doc.file, str(name), f"{kind} document: defines no SLO"))
    else:
        kinds = [k for k in (fmt.slo_kind, fmt.sli_kind, *fmt.other_kinds) if k]
        detail = "required field is missing" if kind is None else f"unsupported {doc.version} kind {kind!r}"
        doc.problem("kind", f"{detail}: expected {_choices(kinds)}")


def _duplicates(slos: list[SloSpec]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for slo in slos:
        if slo.name in seen:
            message = f"SLO {slo.name!r} is defined twice (also in {seen[slo.name]})"
            problems.append(Problem(slo.source, None, "metadata.name", message))
        seen.setdefault(slo.name, slo.source)
    return problems


# ---- pieces every format shares -------------------------------------------------------------


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


def _labels(doc: _Doc, path: str) -> dict[str, list[str]]:
    """Each label's values as text; a list of strings is several values (OpenSLO v1: ``string[]``)."""
    labels: dict[str, list[str]] = {}
    for key, value in _mapping(doc.get(path, kind=dict)).items():
        values = value if isinstance(value, list) else [] if value is None else [value]
        if not all(isinstance(v, (str, int, float)) for v in values):
            doc.problem(f"{path}.{key}", "expected text or a list of text")
            continue
        labels[str(key)] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return labels


def _team(labels: dict[str, list[str]], *keys: str) -> str | None:
    """The first value of the first of ``keys`` that has one (see the module docstring)."""
    return next((labels[k][0] for k in keys if labels.get(k)), None)


def _shown_labels(labels: dict[str, list[str]]) -> dict[str, str]:
    return {key: ", ".join(values) for key, values in labels.items()}


# ---- OpenSLO ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OpenSlo:
    """What differs between the OpenSLO versions, for the one reader they share."""

    version: str
    spec_fields: frozenset[str]
    objective_fields: frozenset[str]
    window: Callable[[_Doc], tuple[TimeWindow, bool]]
    indicator: Callable[[_Doc, dict[str, Any], Indicators], dict[str, Any]]
    slice_window_hint: str = ""  # said when a Timeslices objective has no timeSliceWindow


def _openslo_slos(version: _OpenSlo, doc: _Doc, indicators: Indicators) -> list[SloSpec]:
    before = len(doc.problems)
    name = doc.get("metadata.name", required=True, kind=str)
    service = doc.get("spec.service", required=True, kind=str)
    doc.unknown_fields("spec", version.spec_fields)
    written = _mapping(doc.body.get("spec")).get("objectives")
    objectives = doc.get("spec.objectives", kind=list)  # not a list: reported there
    if not objectives:
        if written is None or written == []:
            doc.problem("spec.objectives", "SLO has no objectives")
        return []
    objective = _mapping(objectives[0])  # the first objective is the SLO's (DESIGN.md)
    doc.unknown_fields("spec.objectives[0]", version.objective_fields)
    target = _fraction(doc, "spec.objectives[0]", objective)
    method = _budgeting(doc)
    window, declared = version.window(doc)
    slice_target, slice_window = _slices(doc, method, objective, version.slice_window_hint)
    indicator = version.indicator(doc, objective, indicators)
    labels = _labels(doc, "metadata.labels")
    if len(doc.problems) > before or name is None or service is None or target is None:
        return []
    spec = _mapping(doc.body.get("spec"))
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
            display_name=_mapping(doc.body.get("metadata")).get("displayName"),
            description=spec.get("description"),
            team=_team(labels, "team"),
            labels=_shown_labels(labels),
            source=doc.source,
            spec_format=version.version,
            **indicator,
        )
    ]


def _budgeting(doc: _Doc, path: str = "spec.budgetingMethod") -> str:
    method = doc.get(path, kind=str) or "Occurrences"
    if method not in BUDGETING_METHODS:
        doc.problem(path, f"unknown budgeting method {method!r}: expected one of {', '.join(BUDGETING_METHODS)}")
        return "Occurrences"
    return method


def _slices(doc: _Doc, method: str, objective: dict[str, Any], hint: str) -> tuple[float | None, str | None]:
    """``timeSliceTarget`` (Timeslices) and ``timeSliceWindow`` (both slice methods).

    A window written as a bare number is in minutes (OpenSLO v1, "Notes (Objectives)").
    """
    if method == "Occurrences":
        return None, None
    base = "spec.objectives[0]"
    target: float | None = None
    if method == "Timeslices":
        given: Any = objective.get("timeSliceTarget")
        if _accepts(given, (int, float)) and 0 < given <= 1:
            target = float(given)
        else:
            doc.problem(f"{base}.timeSliceTarget", "required for Timeslices: a number in (0, 1]")
    window = objective.get("timeSliceWindow")
    if _accepts(window, int):
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


def _window(doc: _Doc) -> tuple[TimeWindow, bool]:
    """v1 and v2alpha ``timeWindow``: a duration shorthand; without one, 28 rolling days, flagged as not declared."""
    windows = doc.get("spec.timeWindow", kind=list)
    if not windows:
        return TimeWindow(), False
    first = _mapping(windows[0])
    duration = str(first.get("duration", ""))
    try:
        parse_duration(duration)
    except ValueError as exc:
        doc.problem("spec.timeWindow[0].duration", str(exc))
        return TimeWindow(), False
    return _calendar(first, duration), True


def _v1alpha_window(doc: _Doc) -> tuple[TimeWindow, bool]:
    """v1alpha ``timeWindows``: ``count`` of a ``unit`` (Second ... Year)."""
    windows = doc.get("spec.timeWindows", kind=list)
    if not windows:
        return TimeWindow(), False
    first = _mapping(windows[0])
    unit, count = _V1ALPHA_UNITS.get(str(first.get("unit"))), first.get("count")
    if not unit or isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        doc.problem("spec.timeWindows[0]", "expected count (a positive whole number) and unit (Day, Week, ...)")
        return TimeWindow(), False
    return _calendar(first, f"{count}{unit}"), True


def _calendar(window: dict[str, Any], duration: str) -> TimeWindow:
    """A window's calendar; ``isRolling`` is false when omitted beside a calendar (OpenSLO v1)."""
    calendar = _mapping(window.get("calendar"))
    return TimeWindow(
        duration=duration,
        is_rolling=bool(window.get("isRolling", not calendar)),
        calendar_start=str(calendar["startTime"]) if "startTime" in calendar else None,
        calendar_timezone=calendar.get("timeZone"),
    )


def _named_indicator(
    inline: str, ref: str, doc: _Doc, objective: dict[str, Any], indicators: Indicators
) -> dict[str, Any]:
    """v1 ``indicator``/``indicatorRef`` (v2alpha ``sli``/``sliRef``), on the SLO or its objective (composite)."""
    for base, node in (("spec", _mapping(doc.body.get("spec"))), ("spec.objectives[0]", objective)):
        if isinstance(node.get(inline), dict):
            return _indicator(_mapping(node[inline].get("spec")))
        if ref in node:
            name = doc.get(f"{base}.{ref}", kind=str)
            if name is not None and (doc.version, name) not in indicators:
                doc.problem(f"{base}.{ref}", f"no {doc.version} SLI document named {name!r}")
            return _indicator(indicators.get((doc.version, name), {})) if name else {"indicator_kind": "unknown"}
    return {"indicator_kind": "unknown"}


def _v1alpha_indicator(doc: _Doc, objective: dict[str, Any], indicators: Indicators) -> dict[str, Any]:
    """v1alpha: ``ratioMetrics`` in the objective, or a ``thresholdMetric`` as the SLO's ``indicator``."""
    if isinstance(objective.get("ratioMetrics"), dict):
        return _ratio(objective["ratioMetrics"])
    if isinstance(_mapping(doc.get("spec.indicator")).get("thresholdMetric"), dict):
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
    spec = _mapping(_mapping(source.get("metricSource")).get("spec")) or _mapping(source.get("spec"))
    query = spec.get("query") or spec.get("promql") or source.get("query")
    return str(query) if query is not None else None


_V1_OBJECTIVE = frozenset(
    {"displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "compositeWeight"}
)
_SLO_SPEC = frozenset({"description", "service", "budgetingMethod", "objectives", "alertPolicies"})
OPENSLO_V1 = _OpenSlo(
    version="openslo/v1",
    spec_fields=_SLO_SPEC | {"indicator", "indicatorRef", "timeWindow"},
    objective_fields=_V1_OBJECTIVE | {"indicator", "indicatorRef"},
    window=_window,
    indicator=partial(_named_indicator, "indicator", "indicatorRef"),
)
OPENSLO_V1ALPHA = _OpenSlo(
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
OPENSLO_V2ALPHA = _OpenSlo(
    version="openslo.com/v2alpha",
    spec_fields=_SLO_SPEC | {"sli", "sliRef", "timeWindow"},
    objective_fields=_V1_OBJECTIVE | {"labels", "sli", "sliRef"},
    window=_window,
    indicator=partial(_named_indicator, "sli", "sliRef"),
)


# ---- Sloth ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SlothForm:
    """Where Sloth's spec sits in a document and how its SLI fields are spelt."""

    root: str  # "" (prometheus/v1) or "spec." (the Kubernetes form)
    error_query: str
    total_query: str
    error_ratio_query: str


SLOTH_PROMETHEUS = _SlothForm("", "error_query", "total_query", "error_ratio_query")
SLOTH_KUBERNETES = _SlothForm("spec.", "errorQuery", "totalQuery", "errorRatioQuery")


def _sloth_slos(form: _SlothForm, doc: _Doc, indicators: Indicators) -> list[SloSpec]:
    """Sloth: objective in percent, 30-day window, SLO name ``<service>-<slo name>`` (sloth.dev/specs)."""
    service = doc.get(f"{form.root}service", required=True, kind=str)
    entries = doc.get(f"{form.root}slos", required=True, kind=list) or []
    labels = _labels(doc, f"{form.root}labels")
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
        slo_labels = {**labels, **_labels(doc, f"{base}.labels")}
        if len(doc.problems) > before or service is None or name is None or objective is None:
            continue
        result.append(
            SloSpec(
                name=f"{service}-{name}",
                service=service,
                target=round(float(objective) / 100, 12),
                time_window=TimeWindow("30d", True),
                time_window_declared=False,
                description=entry.get("description"),
                team=_team(slo_labels, "team", "owner"),
                labels=_shown_labels(slo_labels),
                source=doc.source,
                spec_format="prometheus/v1",
                **indicator,
            )
        )
    return result


def _sloth_indicator(doc: _Doc, form: _SlothForm, path: str) -> dict[str, Any]:
    """Sloth's SLI: ``events`` (error and total queries), ``raw`` (an error ratio) or ``plugin`` (by id)."""
    sli = _mapping(doc.get(path, required=True, kind=dict))
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


# ---- the registry: one entry per spec version -------------------------------------------------

_OPENSLO_KINDS = ("Service", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
FORMATS: dict[str, _Format] = {
    "openslo/v1": _Format(partial(_openslo_slos, OPENSLO_V1), "SLO", (*_OPENSLO_KINDS, "BudgetAdjustment"), "SLI"),
    "openslo/v1alpha": _Format(partial(_openslo_slos, OPENSLO_V1ALPHA), "SLO", _OPENSLO_KINDS),
    "openslo.com/v2alpha": _Format(
        partial(_openslo_slos, OPENSLO_V2ALPHA), "SLO", (*_OPENSLO_KINDS, "BudgetAdjustment"), "SLI"
    ),
    "prometheus/v1": _Format(partial(_sloth_slos, SLOTH_PROMETHEUS), None),
    "sloth.slok.dev/v1": _Format(partial(_sloth_slos, SLOTH_KUBERNETES), "PrometheusServiceLevel"),
}
