"""SLO specs as their authors wrote them: the OpenSLO, oslo and Sloth conformance corpus.

The corpus lives in ``../shared/conformance`` (see its README) and is never copied here. Each
of its spec files has an expectation below: the SLOs it yields (with their indicator kind), the
documents it skips (with the reason) and the problems it gives (exactly as printed). A file
added to the corpus without an expectation fails the suite, so nobody assumes it loads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from srelib.ingest.specs import SloCatalogue, load_slo_files, parse_duration, spec_files
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


def _load(path: Path) -> SloCatalogue:
    return load_slo_files([path], display_root=CONFORMANCE)


@needs_corpus
def test_every_spec_file_in_the_corpus_has_an_expectation():
    found = {f"{folder}/{p.name}" for folder in SPEC_FOLDERS for p in spec_files(CONFORMANCE / folder)}
    assert sorted(found - set(EXPECTED)) == [], "add an expectation for each of these files to EXPECTED"
    assert sorted(set(EXPECTED) - found) == [], "these files are no longer in the corpus: remove their expectation"


@needs_corpus
@pytest.mark.parametrize("name", list(EXPECTED))
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


def _spec(tmp_path: Path, text: str) -> SloCatalogue:
    path = tmp_path / "slos.yaml"
    path.write_text(text, encoding="utf-8")
    return load_slo_files([path], display_root=tmp_path)


V1_SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata: {{name: {name}, labels: {labels}}}
spec:
  service: web
  budgetingMethod: {method}
  timeWindow: [{{duration: 30d, isRolling: true}}]
  objectives: [{objective}]
"""


def _v1(name: str = "web", labels: str = "{}", method: str = "Occurrences", objective: str = "{target: 0.99}") -> str:
    return V1_SLO.format(name=name, labels=labels, method=method, objective=objective)


def test_a_list_of_documents_is_read_item_by_item_and_numbered_in_file_order(tmp_path):
    items = "".join("- " + _v1(name).replace("\n", "\n  ").rstrip() + "\n" for name in ("a", "b"))
    catalogue = _spec(tmp_path, items + "---\n" + _v1("c", objective="{target: 2}") + "---\n- just text\n")
    assert [(s.name, s.source) for s in catalogue.slos] == [("a", "slos.yaml#1"), ("b", "slos.yaml#2")]
    assert sorted(str(p) for p in catalogue.problems) == [
        "slos.yaml:3:spec.objectives[0].target: 2 is out of range: a target lies in (0, 1]",
        "slos.yaml:4:: document is not a mapping",
    ]


@needs_corpus
def test_oslo_files_holding_lists_number_their_documents_across_list_items_and_separators():
    skipped = _load(CONFORMANCE / "oslo" / "format__two-documents.yaml").skipped
    assert [name for _, name, _ in skipped] == ["my-service-1", "my-service-2", "my-service-3"]
    slos = _load(CONFORMANCE / "oslo" / "validate__v1alpha.yaml")
    assert [s.source for s in slos.slos] == ["oslo/validate__v1alpha.yaml#4"]  # after 2 list items and 'ratio'


def test_list_valued_labels_are_joined_for_display_and_the_first_team_owns_the_slo(tmp_path):
    slo = _spec(tmp_path, _v1(labels="{team: [payments, checkout], env: [prod], tier: 1, pci: true}")).slos[0]
    assert slo.team == "payments"
    assert slo.labels == {"team": "payments, checkout", "env": "prod", "tier": "1", "pci": "true"}


def test_a_label_that_is_not_text_is_a_problem_naming_it(tmp_path):
    catalogue = _spec(tmp_path, _v1(labels="{team: {name: payments}}"))
    assert [str(p) for p in catalogue.problems] == ["slos.yaml:1:metadata.labels.team: expected text or a list of text"]
    assert catalogue.slos == []


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("[team, payments]", "slos.yaml:1:metadata.labels: expected a mapping, got list"),
        ("{team: [[payments]]}", "slos.yaml:1:metadata.labels.team: expected text or a list of text"),
        ("{team: [{name: payments}]}", "slos.yaml:1:metadata.labels.team: expected text or a list of text"),
    ],
)
def test_labels_are_a_mapping_of_text_or_lists_of_text(tmp_path, labels, expected):
    catalogue = _spec(tmp_path, _v1(labels=labels))
    assert [str(p) for p in catalogue.problems] == [expected]
    assert catalogue.slos == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("metadata: {", "metadata: {displayName: {a: 1}, "),
            "slos.yaml:1:metadata.displayName: expected text, got a mapping",
        ),
        (
            ("  service: web\n", "  service: web\n  description: [a, b]\n"),
            "slos.yaml:1:spec.description: expected text, got a list",
        ),
    ],
)
def test_a_display_name_or_description_that_is_not_text_is_a_problem_naming_it(tmp_path, change, expected):
    catalogue = _spec(tmp_path, _v1().replace(*change))
    assert [str(p) for p in catalogue.problems] == [expected]
    assert catalogue.slos == []


def test_a_display_name_or_description_written_as_a_number_reads_as_text(tmp_path):
    text = (
        _v1()
        .replace("metadata: {", "metadata: {displayName: 2026, ")
        .replace("  service: web\n", "  service: web\n  description: 42\n")
    )
    slo = _spec(tmp_path, text).slos[0]
    assert (slo.display_name, slo.description) == ("2026", "42")


def test_a_sloth_description_that_is_not_text_is_a_problem_naming_it(tmp_path):
    sloth = """\
version: prometheus/v1
service: web
labels: {owner: payments}
slos:
  - name: availability
    objective: 99.9
    description: {text: nope}
    sli: {raw: {error_ratio_query: "x"}}
"""
    catalogue = _spec(tmp_path, sloth)
    assert [str(p) for p in catalogue.problems] == ["slos.yaml:1:slos[0].description: expected text, got a mapping"]
    assert catalogue.slos == []


@needs_corpus
def test_oslo_v1_slo_with_list_labels_belongs_to_its_first_team():
    slo = _load(CONFORMANCE / "oslo" / "validate__v1.yaml").slos[0]
    assert (slo.team, slo.labels) == ("team-a", {"env": "prod", "team": "team-a, team-b"})
    assert (slo.budgeting_method, slo.time_slice_target, slo.time_slice_window) == ("Timeslices", 0.95, "1m")


@needs_corpus
def test_openslo_v2alpha_slo_maps_onto_the_same_model_as_v1():
    v1 = _load(CONFORMANCE / "oslo" / "validate__v1.yaml").slos[0]
    v2 = _load(CONFORMANCE / "oslo" / "validate__v2alpha.yaml").slos[0]
    assert v2.spec_format == "openslo.com/v2alpha"
    assert (v2.good_query, v2.total_query) == (v1.good_query, v1.total_query)
    same = ("target", "budgeting_method", "time_window", "time_slice_target", "time_slice_window", "service")
    assert [getattr(v2, f) for f in same] == [getattr(v1, f) for f in same]
    assert (v2.team, v2.labels) == ("team-a", {"env": "prod", "team": "team-a"})


def test_v2alpha_slo_may_refer_to_an_sli_document_by_name(tmp_path):
    text = """\
apiVersion: openslo.com/v2alpha
kind: SLI
metadata: {name: web-ratio}
spec:
  ratioMetric:
    good: {dataSourceRef: prom, spec: {query: good_total}}
    total: {dataSourceRef: prom, spec: {query: all_total}}
---
apiVersion: openslo.com/v2alpha
kind: SLO
metadata: {name: web}
spec: {service: web, sliRef: web-ratio, budgetingMethod: Occurrences, objectives: [{target: 0.99}]}
---
apiVersion: openslo.com/v2alpha
kind: SLO
metadata: {name: api}
spec: {service: api, sliRef: missing, budgetingMethod: Occurrences, objectives: [{target: 0.99}]}
"""
    catalogue = _spec(tmp_path, text)
    assert [(s.name, s.good_query, s.total_query) for s in catalogue.slos] == [("web", "good_total", "all_total")]
    assert [str(p) for p in catalogue.problems] == [
        "slos.yaml:3:spec.sliRef: no openslo.com/v2alpha SLI document named 'missing'"
    ]


V1ALPHA_SLICES = """\
apiVersion: openslo/v1alpha
kind: SLO
metadata: {{name: checkout}}
spec:
  service: checkout
  budgetingMethod: {method}
  timeWindows: [{{count: 28, unit: Day, isRolling: true}}]
  objectives:
    - target: 0.99
      {slices}
      ratioMetrics:
        good: {{source: prometheus, queryType: promql, query: good}}
        total: {{source: prometheus, queryType: promql, query: total}}
"""


def test_v1alpha_timeslices_carry_their_slice_target_and_window_when_given(tmp_path):
    text = V1ALPHA_SLICES.format(method="Timeslices", slices="timeSliceTarget: 0.95\n      timeSliceWindow: 5m")
    slo = _spec(tmp_path, text).slos[0]
    assert (slo.time_slice_target, slo.time_slice_window, slo.time_slice_seconds) == (0.95, "5m", 300)
    assert (slo.time_window.duration, slo.good_query, slo.spec_format) == ("28d", "good", "openslo/v1alpha")
    ratio = _spec(tmp_path, V1ALPHA_SLICES.format(method="RatioTimeslices", slices="timeSliceWindow: 1h")).slos[0]
    assert (ratio.budgeting_method, ratio.time_slice_target, ratio.time_slice_window) == ("RatioTimeslices", None, "1h")


def test_v1alpha_timeslices_without_a_slice_window_are_refused_by_name(tmp_path):
    catalogue = _spec(tmp_path, V1ALPHA_SLICES.format(method="Timeslices", slices="timeSliceTarget: 0.95"))
    assert catalogue.slos == []
    assert [str(p) for p in catalogue.problems] == [
        "slos.yaml:1:spec.objectives[0].timeSliceWindow: required for Timeslices: openslo/v1alpha has no field "
        "for the length of a slice, so add timeSliceWindow (a duration such as 1m) as openslo/v1 defines it"
    ]


def test_a_slice_window_written_as_a_number_is_in_minutes(tmp_path):
    slo = _spec(tmp_path, _v1(method="RatioTimeslices", objective="{target: 0.99, timeSliceWindow: 5}")).slos[0]
    assert (slo.time_slice_window, slo.time_slice_seconds) == ("5m", 300)  # OpenSLO v1, "Notes (Objectives)"


def test_an_unknown_field_in_an_slo_spec_or_its_objective_is_a_problem_with_the_nearest_name(tmp_path):
    text = _v1(objective="{target: 0.99, timeSliceWindows: 5m}").replace("budgetingMethod", "budgetingMetod")
    catalogue = _spec(tmp_path, text)
    assert catalogue.slos == []
    assert [str(p) for p in catalogue.problems] == [
        "slos.yaml:1:spec.budgetingMetod: unknown field in an openslo/v1 SLO: did you mean 'budgetingMethod'?",
        "slos.yaml:1:spec.objectives[0].timeSliceWindows: unknown field in an openslo/v1 SLO: "
        "did you mean 'timeSliceWindow'?",
    ]


def test_unknown_fields_outside_what_decides_the_figures_are_ignored(tmp_path):
    text = _v1().replace("metadata: {", "metadata: {annotations: {vendor.io/x: y}, owner: z, ")
    text += "---\napiVersion: openslo/v1\nkind: Service\nmetadata: {name: web}\nspec: {markdown: anything}\n"
    catalogue = _spec(tmp_path, text)
    assert ([s.name for s in catalogue.slos], catalogue.problems) == (["web"], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: [openslo/v1]\nkind: SLO\n",
            "slos.yaml:1:apiVersion: unsupported version ['openslo/v1']: expected openslo/v1, openslo/v1alpha, "
            "openslo.com/v2alpha, prometheus/v1 or sloth.slok.dev/v1",
        ),
        (
            "apiVersion: openslo/v1\nmetadata: {name: x}\n",
            "slos.yaml:1:kind: required field is missing: expected SLO, SLI, Service, DataSource, AlertPolicy, "
            "AlertCondition, AlertNotificationTarget or BudgetAdjustment",
        ),
        (
            "apiVersion: sloth.slok.dev/v1\nspec: {service: x, slos: []}\n",
            "slos.yaml:1:kind: required field is missing: expected PrometheusServiceLevel",
        ),
        (
            "apiVersion: openslo/v1alpha\nmetadata: {name: x}\n",
            "slos.yaml:1:kind: required field is missing: expected SLO, Service, DataSource, AlertPolicy, "
            "AlertCondition or AlertNotificationTarget",
        ),
        (
            "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevelList\n",
            "slos.yaml:1:kind: unsupported sloth.slok.dev/v1 kind 'PrometheusServiceLevelList': "
            "expected PrometheusServiceLevel",
        ),
        (
            "apiVersion: openslo/v1alpha\nkind: SLI\n",
            "slos.yaml:1:kind: unsupported openslo/v1alpha kind 'SLI': expected SLO, Service, DataSource, "
            "AlertPolicy, AlertCondition or AlertNotificationTarget",
        ),
    ],
)
def test_unknown_versions_and_kinds_are_named(tmp_path, text, expected):
    assert [str(p) for p in _spec(tmp_path, text).problems] == [expected]


@needs_corpus
@pytest.mark.parametrize("name", ["getting-started", "home-wifi", "multifile"])
def test_sloth_kubernetes_form_gives_the_same_slos_as_prometheus_v1(name):
    plain = _load(CONFORMANCE / "sloth" / f"{name}.yml").slos
    kubernetes = _load(CONFORMANCE / "sloth" / f"k8s-{name}.yml").slos
    assert [replace(s, source="", description=None) for s in kubernetes] == [
        replace(s, source="", description=None) for s in plain
    ]
    assert kubernetes[0].spec_format == "prometheus/v1"  # Sloth's queries: rates, as in prometheus/v1


def test_sloth_kubernetes_form_spelt_as_prometheus_v1_is_a_problem_naming_the_field(tmp_path):
    text = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: checkout}
spec:
  service: checkout
  slos:
    - name: availability
      objective: 99.9
      sli: {events: {error_query: bad, total_query: all}}
"""
    assert [str(p) for p in _spec(tmp_path, text).problems] == [
        "slos.yaml:1:spec.slos[0].sli.events.errorQuery: required field is missing",
        "slos.yaml:1:spec.slos[0].sli.events.totalQuery: required field is missing",
    ]


@needs_corpus
def test_sloth_plugin_slis_load_without_queries():
    slo = _load(CONFORMANCE / "sloth" / "plugin-getting-started.yml").slos[0]
    assert (slo.indicator_kind, slo.good_query, slo.bad_query, slo.total_query) == ("plugin", None, None, None)
    assert (slo.target, slo.team) == (0.999, "myteam")  # Sloth: the owner label when there is no team


def test_a_30_day_window_is_43200_minutes_so_its_budget_at_999_is_43_2():
    from srelib.ingest.specs import SloSpec, TimeWindow
    from srelib.metrics.slo import error_budget

    slo = SloSpec(name="x", service="s", target=0.999, time_window=TimeWindow("30d"))
    assert slo.time_window.minutes == 43_200
    assert error_budget(slo.target, slo.time_window.minutes) == pytest.approx(43.2)  # docs/metrics.md


def test_durations():
    assert parse_duration("5m").total_seconds() == 300
    assert parse_duration("28d").days == 28
    assert parse_duration("1M").days == 30
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


@pytest.mark.parametrize(
    ("objectives", "expected"),
    [(7, "spec.objectives: expected a list, got int"), ([], "spec.objectives: SLO has no objectives")],
)
def test_objectives_of_the_wrong_shape_are_one_problem(tmp_path, objectives, expected):
    from tests.conftest import slo_document, write_slos

    document = slo_document("x", "s", 0.99)
    document["spec"]["objectives"] = objectives
    path = write_slos(tmp_path, [document])
    assert [str(p) for p in load_slo_files([path], display_root=tmp_path).problems] == [f"slos.yaml:1:{expected}"]
