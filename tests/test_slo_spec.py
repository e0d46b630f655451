"""SLO specs as their authors wrote them: the OpenSLO and Sloth conformance corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from srelib.slo_spec import load_slo_files, parse_duration
from tests.conftest import CONFORMANCE

needs_corpus = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="../shared/conformance is not here")


def _load(path: Path):
    return load_slo_files([path], display_root=CONFORMANCE)


@needs_corpus
@pytest.mark.parametrize("path", sorted(CONFORMANCE.glob("*/*.y*ml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_conformance_file_loads_without_problems(path):
    catalogue = _load(path)
    assert catalogue.problems == []
    assert catalogue.slos or catalogue.skipped, "each file defines SLOs or is recognised and skipped"
    for slo in catalogue.slos:
        assert 0 < slo.target <= 1
        assert slo.budgeting_method in ("Occurrences", "Timeslices", "RatioTimeslices")


@needs_corpus
def test_openslo_examples_as_written():
    slos = {s.name: s for p in sorted((CONFORMANCE / "openslo").glob("*.yaml")) for s in _load(p).slos}
    timeslices = _load(CONFORMANCE / "openslo" / "budgeting-method--timeslices-slo.yaml").slos[0]
    assert (timeslices.target, timeslices.time_slice_target, timeslices.time_slice_window) == (0.995, 0.99, "1m")
    assert timeslices.time_window.calendar_timezone == "America/New_York"
    assert timeslices.time_window.is_rolling is False
    assert slos["main-page"].budgeting_method == "RatioTimeslices"
    assert slos["search-slo"].indicator_kind == "threshold"  # recorded, not rejected
    inline = slos["foo-slo"]  # no timeWindow: a 28-day rolling default, flagged as not declared
    assert inline.time_window_declared is False and inline.time_window.duration == "28d"
    assert inline.good_query and inline.total_query


@needs_corpus
def test_other_openslo_kinds_are_skipped_with_a_reason():
    skipped = _load(CONFORMANCE / "openslo" / "readme-08-alertpolicy.yaml").skipped
    assert skipped and "AlertPolicy document: defines no SLO" in skipped[0][2]


@needs_corpus
def test_sloth_prometheus_v1():
    slos = _load(CONFORMANCE / "sloth" / "getting-started.yml").slos
    assert [(s.name, s.service, s.target, s.time_window.duration) for s in slos] == [
        ("myservice-requests-availability", "myservice", 0.999, "30d")
    ]
    assert 'code=~"(5..|429)"' in slos[0].bad_query
    raw = _load(CONFORMANCE / "sloth" / "raw-home-wifi.yml").slos
    assert {s.indicator_kind for s in raw} == {"raw"}


def test_budget_minutes_match_design():
    from srelib.slo_spec import SloSpec, TimeWindow

    slo = SloSpec(name="x", service="s", target=0.999, time_window=TimeWindow("30d"))
    assert slo.budget_minutes == pytest.approx(43.2)  # DESIGN.md: 99.9 % over 30 days = 43.2 min


def test_durations():
    assert parse_duration("5m").total_seconds() == 300
    assert parse_duration("28d").days == 28
    assert parse_duration("1M").days == 30
    with pytest.raises(ValueError):
        parse_duration("5 minutes")
