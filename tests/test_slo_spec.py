"""SLO specs as their authors wrote them: the OpenSLO, oslo and Sloth conformance corpus.

The corpus lives in ``../shared/conformance`` (see its README) and is never copied here. Each
of its spec files has an expectation below: the SLOs it yields (with their indicator kind), the
documents it skips (with the reason) and the problems it gives (exactly as printed). A file
added to the corpus without an expectation fails the suite, so nobody assumes it loads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from srelib.slo_spec import SloCatalogue, load_slo_files, parse_duration, spec_files
from tests.conftest import CONFORMANCE

SPEC_FOLDERS = ("openslo", "oslo", "sloth")


@pytest.fixture
def conformance() -> Path:
    """The corpus; without it a test is skipped on a workstation and fails in CI (CI set)."""
    if not CONFORMANCE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the conformance corpus is missing: expected it at {CONFORMANCE}")
        pytest.skip(f"the conformance corpus is not at {CONFORMANCE}")
    return CONFORMANCE


needs_corpus = pytest.mark.usefixtures("conformance")


@dataclass(frozen=True)
class Expect:
    """What one corpus file yields, as a reader sees it.

    ``slos``: "name (indicator kind)"; ``skipped``: "name: reason"; ``problems``: as printed,
    ``file:document:field: message``.
    """

    slos: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def _yielded(catalogue: SloCatalogue) -> Expect:
    return Expect(
        slos=tuple(f"{s.name} ({s.indicator_kind})" for s in catalogue.slos),
        skipped=tuple(f"{name}: {reason}" for _, name, reason in catalogue.skipped),
        problems=tuple(sorted(str(p) for p in catalogue.problems)),
    )


def _no_slo(kind: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{name}: {kind} document: defines no SLO" for name in names)


PENDING = "not read yet (issue 13)"

EXPECTED: dict[str, Expect] = {
    # OpenSLO's own examples (openslo/v1): every SLO loads; other kinds are skipped by name.
    "openslo/budgeting-method--occurences-slo.yaml": Expect(slos=("search-slo (threshold)",)),
    "openslo/budgeting-method--ratio-timeslices.yaml": Expect(slos=("main-page (ratio)",)),
    "openslo/budgeting-method--timeslices-slo.yaml": Expect(slos=("service-availability (ratio)",)),
    "openslo/readme--inline-sli-slo.yaml": Expect(slos=("foo-slo (ratio)",)),
    "openslo/readme-08-alertpolicy.yaml": Expect(skipped=_no_slo("AlertPolicy", "AlertPolicy")),
    "openslo/readme-09-alertpolicy.yaml": Expect(skipped=_no_slo("AlertPolicy", "AlertPolicy")),
    "openslo/readme-11-alertcondition.yaml": Expect(skipped=_no_slo("AlertCondition", "cpu-usage-breach")),
    "openslo/readme-13-alertnotificationtarget.yaml": Expect(
        skipped=_no_slo("AlertNotificationTarget", "OnCallDevopsMailNotification")
    ),
    "openslo/readme-14-alertnotificationtarget.yaml": Expect(
        skipped=_no_slo("AlertNotificationTarget", "OnCallDevopsSlackNotification")
    ),
    "openslo/treat-low-traffic-as-equally-important--timeslices-slo.yaml": Expect(
        slos=("service-availability (ratio)",)
    ),
    # oslo's test inputs: lists of documents, v1alpha and v2alpha, and deliberately invalid files.
    "oslo/format__list-of-services.yaml": Expect(skipped=_no_slo("Service", "my-service-1", "my-service-2")),
    "oslo/format__two-documents.yaml": Expect(
        skipped=_no_slo("Service", "my-service-1", "my-service-2", "my-service-3")
    ),
    "oslo/validate__invalid-apiversion.yaml": Expect(
        problems=(
            "oslo/validate__invalid-apiversion.yaml:1:apiVersion: unsupported version 'foo': expected "
            "openslo/v1, openslo/v1alpha, openslo.com/v2alpha, prometheus/v1 or sloth.slok.dev/v1",
        )
    ),
    "oslo/validate__mix__1.yaml": Expect(skipped=_no_slo("Service", "example service")),
    # oslo rejects the unknown spec.markdown; a Service defines no SLO and is skipped whole.
    "oslo/validate__unknown-field.yaml": Expect(skipped=_no_slo("Service", "my-rad service")),
    "oslo/validate__v1.yaml": Expect(
        slos=("web-availability (ratio)",), skipped=_no_slo("Service", "example-service", "example service")
    ),
    # 'ratio' is Timeslices without timeSliceTarget (which v1alpha requires) nor a slice length
    # (which v1alpha cannot express): refused by name, never computed with a guessed slice.
    "oslo/validate__v1alpha.yaml": Expect(
        slos=("my-amazing-slo (threshold)",),
        skipped=_no_slo("Service", "my-rad service", "this"),
        problems=(
            "oslo/validate__v1alpha.yaml:3:spec.objectives[0].timeSliceTarget: "
            "required for Timeslices: a number in (0, 1]",
            "oslo/validate__v1alpha.yaml:3:spec.objectives[0].timeSliceWindow: "
            "required for Timeslices: openslo/v1alpha has no field for the length of a slice, "
            "so add timeSliceWindow (a duration such as 1m) as openslo/v1 defines it",
        ),
    ),
    "oslo/validate__v2alpha.yaml": Expect(
        slos=("web-availability (ratio)",), skipped=_no_slo("Service", "example-service", "example service")
    ),
    # Sloth's examples: prometheus/v1, its Kubernetes form, its openslo/v1alpha, plugins.
    "sloth/contrib-denominator-corrected.yaml": Expect(slos=("svc01-slo1 (ratio)",)),
    "sloth/getting-started.yml": Expect(slos=("myservice-requests-availability (ratio)",)),
    "sloth/home-wifi.yml": Expect(
        slos=("home-wifi-good-wifi-client-satisfaction (ratio)", "home-wifi-risk-wifi-client-satisfaction (ratio)")
    ),
    "sloth/k8s-getting-started.yml": Expect(slos=("myservice-requests-availability (ratio)",)),
    "sloth/k8s-home-wifi.yml": Expect(
        slos=("home-wifi-good-wifi-client-satisfaction (ratio)", "home-wifi-risk-wifi-client-satisfaction (ratio)")
    ),
    "sloth/k8s-multifile.yml": Expect(
        slos=("myservice-requests-availability (ratio)", "myservice2-requests-availability (ratio)")
    ),
    "sloth/kubernetes-apiserver.yml": Expect(
        slos=("k8s-apiserver-requests-availability (ratio)", "k8s-apiserver-requests-latency (ratio)")
    ),
    "sloth/multifile.yml": Expect(
        slos=("myservice-requests-availability (ratio)", "myservice2-requests-availability (ratio)")
    ),
    "sloth/no-alerts.yml": Expect(slos=("myapp-http-availability (ratio)",)),
    "sloth/openslo-getting-started.yml": Expect(slos=("sloth-slo-my-service (ratio)",)),
    "sloth/openslo-kubernetes-apiserver.yml": Expect(
        slos=("requests-availability-openslo (ratio)", "requests-latency-openslo (ratio)")
    ),
    "sloth/plugin-getting-started.yml": Expect(slos=("myservice-requests-availability (plugin)",)),
    "sloth/raw-home-wifi.yml": Expect(slos=("home-wifi-wifi-client-satisfaction (raw)",)),
    "sloth/slo-plugin-getting-started.yml": Expect(slos=("myservice-requests-availability (ratio)",)),
    "sloth/victoria-metrics.yml": Expect(
        slos=("foo-bar-grpc-latency-percentile-90 (ratio)", "foo-bar-grpc-latency-percentile-99 (ratio)")
    ),
}

NOT_YET = {
    "oslo/format__list-of-services.yaml",
    "oslo/format__two-documents.yaml",
    "oslo/validate__invalid-apiversion.yaml",
    "oslo/validate__mix__1.yaml",
    "oslo/validate__v1.yaml",
    "oslo/validate__v1alpha.yaml",
    "oslo/validate__v2alpha.yaml",
    "sloth/contrib-denominator-corrected.yaml",
    "sloth/k8s-getting-started.yml",
    "sloth/k8s-home-wifi.yml",
    "sloth/k8s-multifile.yml",
}


def _load(path: Path) -> SloCatalogue:
    return load_slo_files([path], display_root=CONFORMANCE)


@needs_corpus
def test_every_spec_file_in_the_corpus_has_an_expectation():
    found = {f"{folder}/{p.name}" for folder in SPEC_FOLDERS for p in spec_files(CONFORMANCE / folder)}
    assert sorted(found - set(EXPECTED)) == [], "add an expectation for each of these files to EXPECTED"
    assert sorted(set(EXPECTED) - found) == [], "these files are no longer in the corpus: remove their expectation"


@needs_corpus
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=PENDING)) if n in NOT_YET else n for n in EXPECTED],
)
def test_each_conformance_file_yields_what_its_expectation_says(name):
    assert _yielded(_load(CONFORMANCE / name)) == EXPECTED[name]


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
