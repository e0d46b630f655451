"""SLI buckets from a real Prometheus (Debian's ``prometheus``, on 127.0.0.1) over its HTTP API.

The server's data is backfilled with ``promtool tsdb create-blocks-from openmetrics`` from
counters whose per-minute increments are known, so every ingested bucket can be checked
exactly. ``.ci/run`` installs the package; a developer machine without it skips these tests,
CI (``CI`` set) fails instead.
"""

from __future__ import annotations

import http.server
import json
import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from srelib.config import Workbench
from srelib.sources import load_config, read_sources
from tests.conftest import INCIDENT_COLUMNS, make_workbench, write_csv

T0 = datetime(2026, 10, 1, tzinfo=UTC)
MINUTES = 180
SCRAPE = 15  # seconds between backfilled samples

CHECKOUT_GOOD = 'sum(increase(http_requests_total{service="checkout",code!~"5.."}[1m]))'
CHECKOUT_TOTAL = 'sum(increase(http_requests_total{service="checkout"}[1m]))'


def _known_series() -> dict[str, list[tuple[int, int]]]:
    """Per service, each minute's (good, total) requests; multiples of 4 spread evenly over the minute."""
    rng = random.Random(20261001)
    series: dict[str, list[tuple[int, int]]] = {}
    for service in ("checkout", "search"):
        minutes = []
        for m in range(MINUTES):
            if service == "search" and 60 <= m < 65:
                minutes.append((0, 0))  # zero traffic
                continue
            bad = 4 * rng.choice([0, 0, 0, 1, 3]) if not 100 <= m < 110 else 4 * rng.randint(20, 40)
            good = 4 * rng.randint(50, 400)
            minutes.append((good, good + bad))
        series[service] = minutes
    return series


KNOWN = _known_series()


def _openmetrics() -> str:
    """Counters sampled every 15 s: minute m's increments land at m+15 s, +30 s, +45 s and +60 s."""
    lines = ["# HELP http_requests Requests served.", "# TYPE http_requests counter"]
    for service, minutes in KNOWN.items():
        for code, pick in (("200", lambda g, t: g), ("500", lambda g, t: t - g)):
            value = 100_000  # far from zero: no extrapolation towards a counter start
            start = int(T0.timestamp())
            lines.append(f'http_requests_total{{service="{service}",code="{code}"}} {value} {start}')
            for m, (good, total) in enumerate(minutes):
                for quarter in range(1, 4 + 1):
                    value += pick(good, total) // 4
                    ts = start + m * 60 + quarter * SCRAPE
                    lines.append(f'http_requests_total{{service="{service}",code="{code}"}} {value} {ts}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus on 127.0.0.1 serving the backfilled counters; its URL."""
    binary, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if binary is None or promtool is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is not installed: .ci/run installs Debian's prometheus package")
        pytest.skip("Debian's prometheus package is not installed (apt-get install prometheus)")
    root = tmp_path_factory.mktemp("prometheus")
    (root / "series.om").write_text(_openmetrics(), encoding="utf-8")
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(root / "series.om"), str(root / "tsdb")],
        check=True,
        capture_output=True,
    )
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n", encoding="utf-8")
    port = _free_port()
    log = (root / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'tsdb'}",
            "--storage.tsdb.retention.time=100y",  # the backfilled data is older than the default 15 days
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("prometheus did not start:\n" + (root / "prometheus.log").read_text()[-2000:])
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _workbench(root: Path, sources: list[dict]) -> Workbench:
    workbench = make_workbench(root, {"checkout": "payments", "search": "search"})
    data = root / "data"
    data.mkdir()
    write_csv(
        data / "incidents.csv",
        INCIDENT_COLUMNS,
        [
            dict(
                incident_id="INC-1",
                title="Checkout errors",
                service="checkout",
                severity="SEV2",
                started_at="2026-10-01T01:40:00Z",
                resolved_at="2026-10-01T01:50:00Z",
            )
        ],
    )
    openslo = {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": "checkout-availability"},
        "spec": {
            "service": "checkout",
            "budgetingMethod": "Occurrences",
            "timeWindow": [{"duration": "28d", "isRolling": True}],
            "indicator": {
                "metadata": {"name": "checkout-requests"},
                "spec": {
                    "ratioMetric": {
                        "good": {"metricSource": {"type": "Prometheus", "spec": {"query": CHECKOUT_GOOD}}},
                        "total": {"metricSource": {"type": "Prometheus", "spec": {"query": CHECKOUT_TOTAL}}},
                    }
                },
            },
            "objectives": [{"target": 0.995}],
        },
    }
    (data / "slos.yaml").write_text(yaml.safe_dump(openslo, sort_keys=False), encoding="utf-8")
    sloth = {
        "version": "prometheus/v1",
        "service": "search",
        "labels": {"team": "search"},
        "slos": [
            {
                "name": "requests-availability",
                "objective": 99.9,
                "sli": {
                    "events": {
                        "error_query": 'sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}]))',
                        "total_query": 'sum(rate(http_requests_total{service="search"}[{{.window}}]))',
                    }
                },
            }
        ],
    }
    (root / "sloth").mkdir()
    (root / "sloth" / "search.yaml").write_text(yaml.safe_dump(sloth, sort_keys=False), encoding="utf-8")
    _write_sources(root, sources)
    return workbench


def _write_sources(root: Path, sources: list[dict]) -> None:
    body = {"sources": [{"kind": "sloth", "path": "sloth"}, *sources]}
    (root / "params" / "sources.yaml").write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")


def _prometheus_source(url: str, end_minute: int, **options: object) -> dict:
    return {
        "kind": "prometheus",
        "url": url,
        "bucket": "1m",
        "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=end_minute)).isoformat(),
        "lag": "0s",
        **options,
    }


def _srelib(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    srelib = Path(os.sys.executable).parent / "srelib"
    return subprocess.run([str(srelib), *args], cwd=root, capture_output=True, text=True, timeout=120)


def _expected(minutes: range) -> list[tuple[str, datetime, int, int]]:
    rows = []
    for slo, service in (("checkout-availability", "checkout"), ("search-requests-availability", "search")):
        for m in minutes:
            good, total = KNOWN[service][m]
            rows.append((slo, (T0 + timedelta(minutes=m)).replace(tzinfo=None), good, total))
    return sorted(rows)


def _warehouse_rows(workbench: Workbench) -> list[tuple[str, datetime, int, int]]:
    with duckdb.connect(str(workbench.warehouse_path), read_only=True) as con:
        return sorted(con.execute('SELECT slo, "timestamp", good, total FROM sli').fetchall())


def test_ingested_buckets_equal_the_known_series_and_later_runs_fetch_only_what_is_new(
    tmp_path: Path, prometheus: str
) -> None:
    workbench = _workbench(tmp_path, [_prometheus_source(prometheus, 120)])

    first = _srelib(tmp_path, "ingest")
    assert first.returncode == 0, first.stderr
    assert "checkout-availability: 120 buckets from 2026-10-01T00:00:00Z to 2026-10-01T02:00:00Z" in first.stderr
    assert "search-requests-availability: 120 buckets" in first.stderr
    assert _warehouse_rows(workbench) == _expected(range(120))

    # An hour later: only the new hour is asked for, and nothing is duplicated.
    _write_sources(tmp_path, [_prometheus_source(prometheus, 180)])
    second = _srelib(tmp_path, "ingest")
    assert second.returncode == 0, second.stderr
    assert "checkout-availability: 60 buckets from 2026-10-01T02:00:00Z to 2026-10-01T03:00:00Z" in second.stderr
    assert "sli" in second.stdout and "60 sli" not in second.stdout  # 2 SLOs × 60 buckets
    assert "120 sli" in second.stdout
    assert _warehouse_rows(workbench) == _expected(range(180))

    # Nothing new: nothing fetched, the SLI table unchanged.
    third = _srelib(tmp_path, "ingest")
    assert third.returncode == 0, third.stderr
    assert "checkout-availability: up to date (last bucket 2026-10-01T02:59:00Z)" in third.stderr
    assert _warehouse_rows(workbench) == _expected(range(180))

    # The metrics see exactly the known events: attainment = Σgood / Σtotal over the month.
    metrics = _srelib(tmp_path, "metrics", "--period", "2026-10", "--json")
    assert metrics.returncode == 0, metrics.stderr
    good = sum(g for g, _ in KNOWN["search"])
    total = sum(t for _, t in KNOWN["search"])
    slo = json.loads(metrics.stdout)["slos"]["search-requests-availability"]
    assert slo["attainment"] == pytest.approx(good / total, abs=1e-8)  # --json rounds to 8 decimals


def test_long_ranges_are_fetched_in_chunks_with_the_same_result(tmp_path: Path, prometheus: str) -> None:
    workbench = _workbench(tmp_path, [_prometheus_source(prometheus, 90, max_points=7)])
    extracts = read_sources(
        load_config(tmp_path / "params" / "sources.yaml"), tmp_path, workbench.data_path, workbench.warehouse_path
    )
    rows = sorted(
        (r["slo"], datetime.fromisoformat(r["timestamp"]).replace(tzinfo=None), int(r["good"]), int(r["total"]))
        for e in extracts
        for r in e.records
    )
    assert rows == _expected(range(90))


def test_without_start_the_lookback_before_end_is_fetched(tmp_path: Path, prometheus: str) -> None:
    source = _prometheus_source(prometheus, 180, lookback="30m")
    del source["start"]
    workbench = _workbench(tmp_path, [source])
    extracts = read_sources(
        load_config(tmp_path / "params" / "sources.yaml"), tmp_path, workbench.data_path, workbench.warehouse_path
    )
    stamps = sorted({r["timestamp"] for e in extracts for r in e.records})
    assert stamps[0] == "2026-10-01T02:30:00+00:00" and stamps[-1] == "2026-10-01T02:59:00+00:00"


def _ingest_fails_leaving_the_warehouse_alone(tmp_path: Path, prometheus: str, source: dict) -> str:
    """Ingest once from the real server, then again with ``source``: exit 2, warehouse byte-identical."""
    workbench = _workbench(tmp_path, [_prometheus_source(prometheus, 60)])
    assert _srelib(tmp_path, "ingest").returncode == 0
    before = workbench.warehouse_path.read_bytes()
    _write_sources(tmp_path, [source])
    result = _srelib(tmp_path, "ingest")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing was written" in result.stderr
    assert workbench.warehouse_path.read_bytes() == before
    return result.stderr


def test_a_prometheus_that_is_down_is_a_clear_error_and_changes_nothing(tmp_path: Path, prometheus: str) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    message = _ingest_fails_leaving_the_warehouse_alone(tmp_path, prometheus, _prometheus_source(down, 120))
    assert f"prometheus::url: cannot reach Prometheus at {down}" in message
    assert message.count("cannot reach") == 1  # said once, not once per SLO and query


def test_a_query_prometheus_rejects_names_the_slo_and_the_query(tmp_path: Path, prometheus: str) -> None:
    source = _prometheus_source(
        prometheus, 120, queries={"checkout-availability": {"good": "sum(rate(", "total": CHECKOUT_TOTAL}}
    )
    message = _ingest_fails_leaving_the_warehouse_alone(tmp_path, prometheus, source)
    assert "prometheus::checkout-availability.good: Prometheus answered HTTP 400 bad_data" in message
    assert "(query: sum(rate()" in message


def test_a_query_returning_several_series_asks_for_aggregation(tmp_path: Path, prometheus: str) -> None:
    by_code = 'increase(http_requests_total{service="checkout"}[1m])'
    source = _prometheus_source(
        prometheus, 120, queries={"checkout-availability": {"good": CHECKOUT_GOOD, "total": by_code}}
    )
    message = _ingest_fails_leaving_the_warehouse_alone(tmp_path, prometheus, source)
    assert "checkout-availability.total: the query returned 2 series; aggregate it to one, e.g. sum(...)" in message


def test_a_server_that_is_not_prometheus_is_a_clear_error(tmp_path: Path, prometheus: str) -> None:
    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Proxy)
    server.timeout = 0.2
    stop = threading.Event()

    def serve() -> None:  # bounded: at most 600 polls of 0.2 s, and it stops when told
        for _ in range(600):
            if stop.is_set():
                return
            server.handle_request()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        message = _ingest_fails_leaving_the_warehouse_alone(tmp_path, prometheus, _prometheus_source(url, 120))
        assert f"prometheus::url: {url} answered HTTP 502 without a Prometheus API response" in message
    finally:
        stop.set()
        thread.join(timeout=5)
        server.server_close()


def test_configuration_problems_are_reported_per_option(tmp_path: Path, prometheus: str) -> None:
    source = {
        "kind": "prometheus",
        "url": "127.0.0.1:9090",
        "bucket": "soon",
        "start": "2026-10-01T00:00:00",
        "slos": ["no-such-slo"],
    }
    message = _ingest_fails_leaving_the_warehouse_alone(tmp_path, prometheus, source)
    assert "prometheus::url: Value error, expected an http:// or https:// address" in message
    assert "prometheus::bucket:" in message
    assert "prometheus::start: Value error, timestamp has no UTC offset" in message


def test_slos_whose_specs_have_no_queries_are_named_with_the_reason(tmp_path: Path, conformance: Path) -> None:
    from srelib.slo_spec import load_slo_files
    from srelib.sources.base import Extract, SourceContext
    from srelib.sources.prometheus import Prometheus, PrometheusOptions

    slos = load_slo_files([conformance / "sloth" / "plugin-getting-started.yml"])
    options = PrometheusOptions(url="http://127.0.0.1:9")
    adapter = Prometheus(options, SourceContext(tmp_path, slos=slos))
    extract = Extract("sli", tmp_path, "prometheus")
    assert adapter._slos(options, extract) == []
    assert extract.problems == []
    assert extract.notes == [
        "not fetched: SLO 'myservice-requests-availability' "
        "(an SLI by Sloth plugin: its SLI rows must come from elsewhere)"
    ]
