"""SLI buckets from a real Prometheus (Debian's ``prometheus``, on 127.0.0.1) over its HTTP API.

The server's data is backfilled with ``promtool tsdb create-blocks-from openmetrics`` from
counters whose per-minute increments are known, so every ingested bucket can be checked
exactly. ``.ci/run`` installs the package; a developer machine without it skips these tests,
CI (``CI`` set) fails instead.
"""

from __future__ import annotations

import http.server
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb
import httpx
import pytest
import yaml

from srelib.config import Workbench
from srelib.errors import Problem
from srelib.ingest.sources import load_config, read_sources
from srelib.ingest.sources.base import Extract
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
    from srelib.ingest.sources.base import Extract, SourceContext
    from srelib.ingest.sources.prometheus import Prometheus, PrometheusOptions
    from srelib.ingest.specs import load_slo_files

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


# ---------------------------------------------------------------- an answer is not trusted (fast: a fake server)


class FakePrometheus:
    """A server on 127.0.0.1 answering every GET with ``answer(query parameters, path)`` → (status,
    headers, body chunks). It records each request's Authorization header and counts the bytes it
    got out before the client hung up. Bounded: at most 600 polls of 0.2 s, and it stops when told."""

    def __init__(self, answer: Callable[[dict[str, str], str], tuple[int, dict[str, str], Iterable[bytes]]]):
        self.authorizations: list[str | None] = []
        self.sent = 0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.authorizations.append(self.headers.get("Authorization"))
                status, headers, chunks = answer(dict(parse_qsl(urlsplit(self.path).query)), self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        fake.sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 0.2
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        for _ in range(600):
            if self._stop.is_set():
                return
            self.server.handle_request()

    def __enter__(self) -> FakePrometheus:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.server.server_close()


def _matrix(times: Iterable[float], metric: dict[str, str] | None = None) -> tuple[int, dict[str, str], list[bytes]]:
    values = [[t, "5"] for t in times]
    body = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": metric or {}, "values": values}]},
    }
    return 200, {"Content-Type": "application/json"}, [json.dumps(body).encode()]


def _extract(tmp_path: Path, source: dict) -> Extract:
    """Read the configured sources in this process; the Prometheus source's extract."""
    workbench = _workbench(tmp_path, [source])
    extracts = read_sources(
        load_config(tmp_path / "params" / "sources.yaml"), tmp_path, workbench.data_path, workbench.warehouse_path
    )
    return next(e for e in extracts if e.table == "sli")


HOUR = _prometheus_source("URL", 60)  # a 1-hour request: samples asked at 00:01 ... 01:00, every 60 s
ASKED_FIRST, ASKED_LAST = int((T0 + timedelta(minutes=1)).timestamp()), int((T0 + timedelta(minutes=60)).timestamp())


def test_samples_outside_the_requested_range_are_refused_naming_the_series_and_the_time(tmp_path: Path) -> None:
    """A faulty or spoofed server answering a 1-hour request with 100,000 buckets rewrites nothing."""
    history = [ASKED_LAST - 60 * k for k in reversed(range(100_000))]  # the hour asked, and 69 days before it
    with FakePrometheus(lambda params, path: _matrix(history)) as fake:
        _workbench(tmp_path, [{**HOUR, "url": fake.url}])
        result = _srelib(tmp_path, "ingest")
    assert result.returncode == 2, result.stdout + result.stderr
    first = datetime.fromtimestamp(history[0], UTC).isoformat().replace("+00:00", "Z")
    assert (
        "prometheus::checkout-availability.total: the answer has 99940 sample(s) at times that were not asked for, "
        f"the first at {first} (asked: 2026-10-01T00:01:00Z to 2026-10-01T01:00:00Z, every 60s): a faulty or "
        "spoofed server; nothing from it is kept (query: " in result.stderr
    )
    assert "prometheus::search-requests-availability.total: the answer has 99940 sample(s)" in result.stderr
    assert "nothing was written" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "warehouse" / "test.duckdb").exists()


@pytest.mark.parametrize(
    ("times", "said"),
    [
        (
            [ASKED_FIRST, ASKED_LAST + 60],
            "1 sample(s) at times that were not asked for, the first at 2026-10-01T01:01:00Z",
        ),
        (
            [ASKED_FIRST, ASKED_FIRST + 30],
            "1 sample(s) at times that were not asked for, the first at 2026-10-01T00:01:30Z",
        ),
        ([ASKED_FIRST, ASKED_FIRST], "the answer repeats the sample at 2026-10-01T00:01:00Z"),
    ],
    ids=["after-the-end", "between-steps", "repeated"],
)
def test_a_sample_not_asked_for_or_given_twice_is_refused(tmp_path: Path, times: list[int], said: str) -> None:
    with FakePrometheus(lambda params, path: _matrix(times, {"job": "api"})) as fake:
        extract = _extract(tmp_path, {**HOUR, "url": fake.url, "slos": ["checkout-availability"]})
    assert [(p.column, said in p.message) for p in extract.problems] == [("checkout-availability.total", True)]
    assert extract.records == []


def _huge(declare_length: bool) -> Callable[[dict[str, str], str], tuple[int, dict[str, str], Iterable[bytes]]]:
    """A 68 MB matrix, streamed 1 MB at a time (the size that took 860 MB of memory to parse)."""
    sample = f'[{ASKED_FIRST},"1"],'.encode()
    chunk = sample * (1024 * 1024 // len(sample))
    head = b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":['
    tail = f'[{ASKED_FIRST},"1"]]}}]}}}}'.encode()
    size = len(head) + 68 * len(chunk) + len(tail)

    def answer(params: dict[str, str], path: str) -> tuple[int, dict[str, str], Iterable[bytes]]:
        headers = {"Content-Type": "application/json", **({"Content-Length": str(size)} if declare_length else {})}
        return 200, headers, itertools.chain([head], itertools.repeat(chunk, 68), [tail])

    return answer


MEASURED_INGEST = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)  # MB the ingest used at most
sys.exit(done.returncode)
"""


@pytest.mark.parametrize("declare_length", [False, True], ids=["streamed", "declared"])
def test_an_answer_larger_than_max_response_mb_is_refused_unread(tmp_path: Path, declare_length: bool) -> None:
    with FakePrometheus(_huge(declare_length)) as fake:
        _workbench(tmp_path, [{**HOUR, "url": fake.url, "slos": ["checkout-availability"]}])
        srelib = str(Path(sys.executable).parent / "srelib")
        result = subprocess.run(
            [sys.executable, "-c", MEASURED_INGEST, srelib, "ingest"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "prometheus::checkout-availability.total: the answer is larger than 8 MB (max_response_mb), and was not read"
        in result.stderr
    )
    assert fake.sent < 30 * 1024 * 1024  # 8 MB read, the rest never left the server but for socket buffers
    assert int(result.stdout.split()[-1]) < 400  # MB; parsing the whole answer took 860


def test_max_response_mb_is_the_limit(tmp_path: Path) -> None:
    times = range(ASKED_FIRST, ASKED_LAST + 1, 60)
    with FakePrometheus(lambda params, path: _matrix(times)) as fake:
        small = _extract(tmp_path / "a", {**HOUR, "url": fake.url, "max_response_mb": 0.001})  # 1 kB < 60 samples
        enough = _extract(tmp_path / "b", {**HOUR, "url": fake.url, "max_response_mb": 0.01})
    assert {p.column for p in small.problems} == {"checkout-availability.total", "search-requests-availability.total"}
    assert all("larger than 0.001 MB (max_response_mb)" in p.message for p in small.problems)
    assert enough.problems == [] and len(enough.records) == 2 * 60


def test_a_bearer_token_over_plain_http_is_refused_unless_allow_insecure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_TOKEN", "t0ken-abc-123")
    times = range(ASKED_FIRST, ASKED_LAST + 1, 60)
    with FakePrometheus(lambda params, path: _matrix(times)) as fake:
        source = {**HOUR, "url": fake.url, "bearer_token_env": "PROMETHEUS_TOKEN"}
        refused = _extract(tmp_path / "a", source)
        assert fake.authorizations == []  # nothing was sent
        login = _extract(tmp_path / "b", {**HOUR, "url": fake.url.replace("://", "://prom:pa55w0rd@")})
        allowed = _extract(tmp_path / "c", {**source, "allow_insecure": True})
    assert refused.problems == [
        Problem(
            "prometheus",
            None,
            "bearer_token_env",
            "the bearer token ($PROMETHEUS_TOKEN) would cross the network unencrypted (http://): use https://, or "
            "set allow_insecure: true in this source's entry of params/sources.yaml (a trusted network only)",
        )
    ]
    assert [(p.column, p.message.split(" would")[0]) for p in login.problems] == [("url", "the login in the URL")]
    assert allowed.problems == [] and len(allowed.records) == 2 * 60
    assert "warning: the bearer token ($PROMETHEUS_TOKEN) is sent unencrypted over http:// (allow_insecure: true)" in (
        allowed.notes
    )
    assert set(fake.authorizations) == {"Bearer t0ken-abc-123"}


def test_what_a_server_echoes_never_shows_the_token_the_login_or_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, password, tenant = "t0ken-abc-123-xyz", "pa55w0rd-secret", "tenant-7f3e9a1b2c"
    monkeypatch.setenv("PROMETHEUS_TOKEN", token)

    def echo(params: dict[str, str], path: str) -> tuple[int, dict[str, str], list[bytes]]:
        error = f"token rejected: {path} with {token!r}; see http://prom:{password}@proxy.internal/{tenant}"
        body = {"status": "error", "errorType": "unauthorized", "error": error}
        return 401, {"Content-Type": "application/json"}, [json.dumps(body).encode()]

    with FakePrometheus(echo) as fake:
        url = fake.url.replace("://", f"://prom:{password}@") + f"/{tenant}"
        source = {**HOUR, "url": url, "bearer_token_env": "PROMETHEUS_TOKEN", "allow_insecure": True}
        extract = _extract(tmp_path / "echo", source)
    down = f"http://prom:{password}@127.0.0.1:{_free_port()}/{tenant}"
    unreachable = _extract(tmp_path / "down", {**source, "url": down})
    said = " ".join(p.message for p in extract.problems + unreachable.problems)
    assert "Prometheus answered HTTP 401 unauthorized: token rejected: ***" in said
    assert f"cannot reach Prometheus at http://***@127.0.0.1:{down.split(':')[3].split('/')[0]}/***: " in said
    for secret in (token, password, tenant):
        assert secret not in said


def test_a_url_httpx_cannot_parse_is_a_problem_that_does_not_quote_it(tmp_path: Path) -> None:
    # A '/' in the password ends the authority early: httpx would say "Invalid port: 'pa55'".
    extract = _extract(tmp_path, {**HOUR, "url": "https://prom:pa55/w0rd@prometheus.internal:9090"})
    assert extract.problems == [
        Problem("prometheus", None, "url", "Value error, not a valid URL (a login in it must be percent-encoded)")
    ]
