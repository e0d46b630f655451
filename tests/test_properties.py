"""Property-based tests: random and hostile input gives problems, never crashes.

The parsers see text written by people and by other tools: every input either loads or is
rejected with :class:`~srelib.errors.InputError` (file, row, column, message), whatever it is.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from srelib.errors import InputError, Problem, PrometheusError
from srelib.ingest.sources.base import SourceContext
from srelib.ingest.sources.prometheus import Prometheus, PrometheusOptions
from srelib.ingest.specs import load_slo_files
from srelib.ingest.validate import validate_directory
from tests.conftest import INCIDENT_COLUMNS, slo_document, write_csv, write_slos

SETTINGS = settings(deadline=None)  # examples per test: the profile in tests/conftest.py

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Documents shaped like SLO specs, with random values where the fields are.
openslo_like = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["openslo/v1", "openslo/v1alpha", "openslo/v2", None]),
        "kind": st.sampled_from(["SLO", "SLI", "Service", "AlertPolicy", "Nope", None]),
        "metadata": st.one_of(json_like, st.fixed_dictionaries({"name": scalars})),
        "spec": st.one_of(
            json_like,
            st.fixed_dictionaries(
                {
                    "service": scalars,
                    "budgetingMethod": st.one_of(scalars, st.sampled_from(["Occurrences", "Timeslices"])),
                    "timeWindow": json_like,
                    "indicator": json_like,
                    "indicatorRef": scalars,
                    "objectives": st.one_of(
                        json_like, st.lists(st.dictionaries(st.sampled_from(["target", "targetPercent"]), scalars))
                    ),
                }
            ),
        ),
    }
)
sloth_like = st.fixed_dictionaries(
    {
        "version": st.just("prometheus/v1"),
        "service": scalars,
        "labels": json_like,
        "slos": st.one_of(
            json_like,
            st.lists(st.fixed_dictionaries({"name": scalars, "objective": scalars, "sli": json_like}), max_size=3),
        ),
    }
)


def _spec_problems(text: str | bytes) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "slos.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        catalogue = load_slo_files([path])
    for problem in catalogue.problems:
        assert problem.file == "slos.yaml" or problem.file.endswith("slos.yaml")
        assert problem.message
    for slo in catalogue.slos:
        assert 0 < slo.target <= 1
    return catalogue.problems


@SETTINGS
@given(st.lists(st.one_of(openslo_like, sloth_like, json_like), min_size=1, max_size=4))
def test_slo_spec_documents_of_any_shape_load_or_are_reported(documents):
    try:
        text = yaml.safe_dump_all(documents, allow_unicode=True)
    except yaml.YAMLError:
        return
    _spec_problems(text)


@SETTINGS
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_any_bytes_as_an_slo_spec_file_are_reported_not_crashed(content):
    _spec_problems(content)


cell = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=25),
    st.sampled_from(["2026-10-01T10:00:00Z", "2026-10-01T10:00:00", "-1", "1.5", "NaN", "1e309", "SEV1", ""]),
)


@SETTINGS
@given(
    st.lists(st.fixed_dictionaries({c: cell for c in INCIDENT_COLUMNS}), min_size=1, max_size=5),
    st.lists(st.fixed_dictionaries({c: cell for c in ("timestamp", "slo", "good", "total")}), min_size=1, max_size=5),
)
def test_canonical_files_with_random_cells_load_or_list_their_problems(incidents, buckets):
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        write_csv(directory / "incidents.csv", INCIDENT_COLUMNS, incidents)
        write_csv(directory / "sli.csv", ["timestamp", "slo", "good", "total"], buckets)
        write_slos(directory, [slo_document("api-availability", "api", 0.99)])
        try:
            dataset = validate_directory(directory)
        except InputError as exc:
            assert exc.problems
            assert all(p.file in ("incidents.csv", "sli.csv", "slos.yaml") for p in exc.problems)
            return
        dataset.con.close()


# A Prometheus answer can be anything a proxy or an old server sends: parse it or say why not.
answers = st.one_of(
    json_like.map(json.dumps),
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["success", "error", None]),
            "data": st.one_of(
                json_like,
                st.fixed_dictionaries(
                    {
                        "resultType": st.sampled_from(["matrix", "vector", "scalar"]),
                        "result": st.lists(
                            st.fixed_dictionaries(
                                {"metric": json_like, "values": st.lists(st.tuples(scalars, scalars), max_size=3)}
                            ),
                            max_size=2,
                        ),
                    }
                ),
            ),
        }
    ).map(json.dumps),
    st.text(max_size=50),
)


@SETTINGS
@given(answers, st.sampled_from([200, 400, 422, 500, 503]))
def test_any_prometheus_answer_is_parsed_or_reported(body, status):
    from datetime import datetime

    transport = httpx.MockTransport(lambda request: httpx.Response(status, text=body))
    adapter = Prometheus(PrometheusOptions(url="http://prometheus.invalid"), SourceContext(Path(".")))
    adapter.step = 60
    options = PrometheusOptions(url="http://prometheus.invalid")
    with httpx.Client(transport=transport, base_url=options.url) as client:
        try:
            values = adapter._query_range(
                client, options, "up", datetime(2026, 10, 1), datetime(2026, 10, 1, 1), "total"
            )
        except PrometheusError as exc:
            assert exc.message
            return
        except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
            raise AssertionError(f"unhandled answer {body!r}: {exc!r}") from exc
    assert all(isinstance(k, int) and isinstance(v, float) for k, v in values.items())
