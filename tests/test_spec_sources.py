"""SLO specs kept outside the data directory: ``kind: openslo`` and ``kind: sloth`` sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from srelib.errors import InputError
from srelib.ingest.sources import load_config, read_sources
from srelib.ingest.validate import validate_directory
from tests.conftest import CONFORMANCE, INCIDENT_COLUMNS, slo_document, write_csv, write_slos
from tests.test_slo_spec import EXPECTED, conformance, needs_corpus  # noqa: F401 (conformance: a fixture)


def _sources(root: Path, *entries: dict) -> list:
    path = root / "params" / "sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"sources": list(entries)}), encoding="utf-8")
    return read_sources(load_config(path), root)


def _data_with_specs_elsewhere(directory: Path, slo: str) -> Path:
    """A data directory without slos.yaml: the specs come from sources."""
    directory.mkdir(parents=True)
    incident = dict(
        incident_id="INC-1",
        title="Checkout errors",
        service="checkout",
        severity="SEV2",
        started_at="2026-10-01T09:00:00Z",
    )
    write_csv(directory / "incidents.csv", INCIDENT_COLUMNS, [incident])
    write_csv(
        directory / "sli.csv",
        ["timestamp", "slo", "good", "total"],
        [dict(timestamp="2026-10-01T10:00:00Z", slo=slo, good=9, total=10)],
    )
    return directory


def _relative(problem: object) -> str:
    return str(problem).removeprefix(f"{CONFORMANCE}/")


@needs_corpus
def test_openslo_oslo_and_sloth_folders_as_sources_read_the_whole_conformance_corpus(tmp_path):
    extracts = _sources(
        tmp_path,
        {"kind": "openslo", "path": str(CONFORMANCE / "openslo")},
        {"kind": "openslo", "path": str(CONFORMANCE / "oslo")},
        {"kind": "sloth", "path": str(CONFORMANCE / "sloth")},
    )
    assert [str(p) for e in extracts for p in e.problems] == []  # each document is in a source of its format
    files = [f for e in extracts for f in e.spec_files]
    assert sorted(f"{f.parent.name}/{f.name}" for f in files) == sorted(EXPECTED)
    data = _data_with_specs_elsewhere(tmp_path / "data", "myservice-requests-availability")
    with pytest.raises(InputError) as caught:
        validate_directory(data, extracts)
    # Each problem is reported once, as the file's expectation says; the corpus's examples
    # also reuse names across files, and read together those are duplicates.
    found = [_relative(p) for p in caught.value.problems]
    assert [p for p in found if " is defined twice " not in p] == sorted(
        p for e in EXPECTED.values() for p in e.problems
    )
    assert {p.split(": ", 1)[1].split(" is defined twice")[0] for p in found if " is defined twice " in p} == {
        "SLO 'service-availability'",
        "SLO 'web-availability'",
        "SLO 'myservice-requests-availability'",
        "SLO 'myservice2-requests-availability'",
        "SLO 'home-wifi-good-wifi-client-satisfaction'",
        "SLO 'home-wifi-risk-wifi-client-satisfaction'",
    }


@needs_corpus
def test_the_corpus_without_repeated_names_or_invalid_files_is_one_valid_catalogue(tmp_path):
    chosen, names = [], set()
    for file, expected in EXPECTED.items():
        slos = {s.split(" (")[0] for s in expected.slos}
        if not expected.problems and not slos & names:
            chosen.append(file)
            names |= slos
    extracts = _sources(
        tmp_path,
        *({"kind": "sloth" if f.startswith("sloth/") else "openslo", "path": str(CONFORMANCE / f)} for f in chosen),
    )
    dataset = validate_directory(
        _data_with_specs_elsewhere(tmp_path / "data", "myservice-requests-availability"), extracts
    )
    assert {s.name for s in dataset.slos.slos} == names
    assert {"svc01-slo1", "web-availability", "myservice-requests-availability"} <= names  # k8s, oslo, Sloth
    assert dataset.row_counts["sli"] == 1


def test_a_spec_source_of_the_wrong_kind_is_reported_per_document(tmp_path):
    (tmp_path / "specs").mkdir()
    write_slos(tmp_path / "specs", [slo_document("checkout-availability", "checkout", 0.99)])
    sloth = tmp_path / "specs" / "sloth.yaml"
    sloth.write_text(yaml.safe_dump({"version": "prometheus/v1", "service": "x", "slos": []}), encoding="utf-8")
    extracts = _sources(tmp_path, {"kind": "openslo", "path": "specs"})
    found = [str(p) for e in extracts for p in e.problems]
    assert found == [
        "specs/sloth.yaml:1:version: kind: openslo sources read openslo/v1, openslo/v1alpha or openslo.com/v2alpha, "
        "not 'prometheus/v1'"
    ]
    with pytest.raises(InputError):
        validate_directory(_data_with_specs_elsewhere(tmp_path / "data", "checkout-availability"), extracts)


KUBERNETES_SLOTH = {
    "apiVersion": "sloth.slok.dev/v1",
    "kind": "PrometheusServiceLevel",
    "metadata": {"name": "checkout"},
    "spec": {
        "service": "checkout",
        "slos": [{"name": "availability", "objective": 99, "sli": {"events": {"errorQuery": "e", "totalQuery": "t"}}}],
    },
}


def test_a_sloth_source_reads_the_kubernetes_form(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "checkout.yml").write_text(yaml.safe_dump(KUBERNETES_SLOTH), encoding="utf-8")
    extracts = _sources(tmp_path, {"kind": "sloth", "path": "specs"})
    assert [p for e in extracts for p in e.problems] == []
    dataset = validate_directory(_data_with_specs_elsewhere(tmp_path / "data", "checkout-availability"), extracts)
    assert [(s.name, s.target, s.bad_query) for s in dataset.slos.slos] == [("checkout-availability", 0.99, "e")]


def test_each_document_in_the_wrong_source_or_of_an_unknown_version_is_reported_once(tmp_path):
    (tmp_path / "specs").mkdir()
    documents = [{"apiVersion": "openslo/v1", "kind": "Service", "metadata": {"name": "checkout"}}]
    documents += [KUBERNETES_SLOTH, {"apiVersion": "sloth.slok.dev/v2", "kind": "PrometheusServiceLevel"}]
    (tmp_path / "specs" / "mixed.yaml").write_text(yaml.safe_dump(documents), encoding="utf-8")  # one list
    extracts = _sources(tmp_path, {"kind": "openslo", "path": "specs"})
    with pytest.raises(InputError) as caught:
        validate_directory(_data_with_specs_elsewhere(tmp_path / "data", "checkout-availability"), extracts)
    assert sorted(str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems) == [
        "specs/mixed.yaml:2:apiVersion: kind: openslo sources read openslo/v1, openslo/v1alpha or "
        "openslo.com/v2alpha, not 'sloth.slok.dev/v1'",
        "specs/mixed.yaml:3:apiVersion: unsupported version 'sloth.slok.dev/v2': expected openslo/v1, "
        "openslo/v1alpha, openslo.com/v2alpha, prometheus/v1 or sloth.slok.dev/v1",
    ]


def test_spec_sources_that_do_not_exist_or_are_empty_are_problems(tmp_path):
    (tmp_path / "empty").mkdir()
    extracts = _sources(tmp_path, {"kind": "sloth", "path": "nowhere"}, {"kind": "openslo", "path": "empty"})
    assert [str(p) for e in extracts for p in e.problems] == [
        "nowhere::: no such file or folder",
        "empty::: folder has no .yaml or .yml files",
    ]


def test_a_data_directory_without_slos_yaml_is_valid_when_a_source_supplies_the_specs(tmp_path):
    (tmp_path / "specs").mkdir()
    write_slos(tmp_path / "specs", [slo_document("checkout-availability", "checkout", 0.99)])
    extracts = _sources(tmp_path, {"kind": "openslo", "path": "specs/slos.yaml"})
    dataset = validate_directory(_data_with_specs_elsewhere(tmp_path / "data", "checkout-availability"), extracts)
    assert [s.name for s in dataset.slos.slos] == ["checkout-availability"]
    with pytest.raises(InputError):  # without the source, the sli rows name an SLO nobody defines
        validate_directory(tmp_path / "data")


def test_source_paths_are_required_for_file_sources_but_not_for_prometheus(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - kind: pagerduty\n  - kind: prometheus\n    url: http://127.0.0.1:9\n")
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == ["sources.yaml::sources[0].path: a pagerduty source needs a path"]
