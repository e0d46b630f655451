"""Charts as the dashboards redraw them: the spec the reports validate, drawn without validating again."""

from __future__ import annotations

import json
import re
from pathlib import Path

import altair as alt

from srelib.period import Period
from srelib.present import charts
from srelib.run.summary_cache import SummaryCache
from tests.conftest import ingest_small, make_workbench


def test_a_dashboard_draws_the_spec_a_report_validates(tmp_path: Path):
    bench = make_workbench(tmp_path, {"api": "platform"})
    incident = dict(incident_id="I1", service="api", severity="SEV2", started_at="2026-10-01T10:00:00Z")
    ingest_small(bench, [dict(incident, resolved_at="2026-10-01T11:30:00Z")], sli_at="2026-10-01T10:00:00Z")
    summary = SummaryCache(bench).get(Period.parse("2026-10", "UTC"), None)
    for build in (charts.incidents_by_severity, charts.time_to_resolve, charts.slo_status_grid):
        chart = build(summary)
        assert chart is not None, build.__name__
        drawn = charts.drawn(chart).data
        shown = json.loads(re.search(r"var spec = (.*);\n", drawn).group(1))
        assert shown == json.loads(json.dumps(chart.to_dict(), sort_keys=True))  # validated against the schema
        tooltips = shown["encoding"]["tooltip"]
        assert tooltips and all(t["field"] and t["type"] for t in tooltips)


def test_tooltips_given_as_shorthand_are_the_channels_altair_would_make():
    assert charts._tooltip("period:O", alt.Tooltip("shown:N", title="time")) == [
        alt.Tooltip("period:O"),
        alt.Tooltip("shown:N", title="time"),
    ]
    frame = alt.Chart(alt.Data(values=[{"period": "a"}])).mark_bar()
    assert (
        frame.encode(tooltip=charts._tooltip("period:O", "n:Q")).to_dict()
        == frame.encode(tooltip=["period:O", "n:Q"]).to_dict()
    )


def test_the_chart_libraries_are_built_once_and_kept_whole_between_processes(tmp_path: Path, monkeypatch):
    import vl_convert

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    charts.javascript_bundle.cache_clear()
    built = charts.javascript_bundle()
    kept = list((tmp_path / "srelib").glob("vega-bundle-vl-convert-*-vega-lite-*.js"))
    assert len(kept) == 1 and kept[0].read_text().endswith(charts.BUNDLE_END)
    assert built == vl_convert.javascript_bundle(None, vl_version=alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0])
    charts.javascript_bundle.cache_clear()
    assert charts.javascript_bundle() == built  # read back
    kept[0].write_text(built[:1000])  # cut short (a full disk, a copy interrupted): built again
    charts.javascript_bundle.cache_clear()
    assert charts.javascript_bundle() == built and kept[0].read_text() == built + charts.BUNDLE_END
    charts.javascript_bundle.cache_clear()
