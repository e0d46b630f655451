"""The SLO model every spec format reads into: :class:`SloSpec`, its :class:`TimeWindow`, and
the :class:`SloCatalogue` a set of spec files gives.

Three layers, as in Sloth (``pkg/common/model``): the YAML as written (read by
:mod:`srelib.ingest.specs.openslo` and :mod:`srelib.ingest.specs.sloth`, loaded by
:mod:`srelib.ingest.specs.loader`), this validated model, and the computations in
:mod:`srelib.metrics.slo`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from srelib.errors import Problem

BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdwMQY])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Calendar units have no fixed length; these nominal lengths are used only to size a
# rolling budget (a calendar-aligned window uses the real calendar period).
_NOMINAL_DAYS = {"M": 30, "Q": 91, "Y": 365}


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


@dataclass
class SloCatalogue:
    """The result of reading SLO spec files: the SLOs, what was skipped, what is wrong."""

    slos: list[SloSpec] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (file, name, reason)
    problems: list[Problem] = field(default_factory=list)

    def by_name(self) -> dict[str, SloSpec]:
        return {s.name: s for s in self.slos}
